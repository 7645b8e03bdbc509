using System.CommandLine;
using System.Globalization;
using Blob.Data;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob demo`: the README's main job on a fresh clone. Fine-tunes the built-in MiniLM with plain LoRA (MLE) and with
/// BLoB on the built-in task with ambiguous reviews (<see cref="AmbiguousDemoTask"/>: review sentiment where 70% of
/// the reviews are neutral and labelled by a coin flip, so a calibrated model is sure of the clear reviews and says 50% on
/// the ambiguous ones), fits a temperature to MLE on the held-out
/// validation split (MLE + TS), evaluates all three on the evaluation split (BLoB with N = 50 samples), prints their
/// accuracy, ECE and NLL and writes reliability diagrams. A few minutes on 2 CPU cores.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "Output folder", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var epochs = new Option<double>("--epochs") { Description = "Passes over the training reviews", DefaultValueFactory = _ => Epochs }.Positive();
        var seed = new Option<int>("--seed") { Description = "Seed of the training runs (the task itself is fixed)", DefaultValueFactory = _ => 1 };
        var quiet = new Option<bool>("--quiet") { Description = "Log lines instead of a progress bar" };
        var command = new Command("demo", "Fine-tune MiniLM with LoRA (MLE) and BLoB on a built-in task with ambiguous reviews and compare their calibration");
        foreach (var o in new Option[] { output, epochs, seed, quiet }) command.Options.Add(o);
        command.SetAction(p =>
        {
            string dir = p.GetValue(output)!;
            Console.WriteLine($"BLoB.NET demo: all-MiniLM-L6-v2 + LoRA rank 8; task: is this review positive? (generated; {AmbiguousDemoTask.AmbiguousFraction * 100:F0}% of " +
                              "the reviews are neutral, \"the lamp was okay\", and labelled by a coin flip: a calibrated model says 50% on those and is right on half)");
            int code = CompareCommand.Create().Parse(Arguments(dir, p.GetValue(epochs), p.GetValue(seed), p.GetValue(quiet))).Invoke();
            if (code == 0) PrintSummary(dir);
            return code;
        });
        return command;
    }

    /// <summary>The default number of epochs: long enough for plain LoRA to learn the flipped training labels by heart.</summary>
    const double Epochs = 12;

    /// <summary>BLoB's weight samples per prediction.</summary>
    const int Samples = 50;

    /// <summary>
    /// The comparison the demo runs: MLE and BLoB on the same adapters and head, one seed, a quarter of the training
    /// reviews held out as the validation split on which the temperature is fitted, and both splits evaluated.
    /// </summary>
    public static string[] Arguments(string output, double epochs, int seed, bool quiet) =>
    [
        "--task", AmbiguousDemoTask.Name, "--model", "minilm", "--methods", "mle", "blob",
        "--seeds", seed.ToString(CultureInfo.InvariantCulture),
        "--epochs", epochs.ToString(CultureInfo.InvariantCulture),
        "--batch-size", "16", "--lr", "3e-3", "--kl-lr", "0.01", "--max-length", "24",
        // BLoB's KL cycle a quarter as long as the paper's (γ = 32, not 8): about 10 steps instead of 58 on 240
        // reviews, so the KL acts many times in the run rather than a few and holds the posterior near the prior
        "--kl-gamma", "32",
        // the fresh head frozen with the method's adapter on it, for both methods (as the official BLoB code): a
        // trained head would be one more deterministic layer in which BLoB too could learn the coin flips by heart
        "--head", "adapted-frozen",
        // N = 50 prediction samples, not 10: the two copies of an ambiguous evaluation review then get the same answer
        // far more often (91% of the pairs against 77% on the tuning split), so BLoB's accuracy is not a draw of its sampling
        "--samples", Samples.ToString(CultureInfo.InvariantCulture),
        "--validation-fraction", "0.25", "--evaluate", "both", "--calibrate", "temperature",
        "--output", output, "--overwrite",
        .. quiet ? new[] { "--quiet" } : [],
    ];

    /// <summary>
    /// The three rows the demo is about, from the evaluation split's table, and what they mean in two lines, worded
    /// from this run's numbers (another seed or machine may tell another story; the lines say which).
    /// </summary>
    static void PrintSummary(string dir)
    {
        var table = File.ReadLines(Path.Combine(dir, "table.csv")).Skip(1).Select(line => line.Split(','))
            .ToDictionary(f => (Metric: f[0], Method: f[1]), f => double.Parse(f[3], CultureInfo.InvariantCulture));
        double Get(string metric, string method) => table[(metric, method)];
        Console.WriteLine();
        Console.WriteLine($"{"evaluation split",-20} {"ACC",6} {"ECE",6} {"NLL",6}");
        foreach (var (method, name) in new[] { ("mle", "MLE (plain LoRA)"), ("mle+ts", "MLE + temperature"), ("blob", $"BLoB (N = {Samples})") })
            Console.WriteLine($"{name,-20} {Get("ACC", method),6:F2} {Get("ECE", method),6:F2} {Get("NLL", method),6:F3}");

        double mle = Get("ECE", "mle"), scaled = Get("ECE", "mle+ts"), blob = Get("ECE", "blob");
        double gap = Math.Abs(Get("ACC", "mle") - Get("ACC", "blob"));
        Console.WriteLine(blob < mle
            ? $"BLoB is better calibrated than plain LoRA (ECE {blob:F1} against {mle:F1}, ×100: the gap between confidence and accuracy) at accuracy {gap:F1} points apart;"
            : $"Here BLoB is not better calibrated than plain LoRA (ECE {blob:F1} against {mle:F1}, ×100: the gap between confidence and accuracy);");
        Console.WriteLine($"a temperature fitted on held-out data (MLE + TS) does {(scaled <= blob ? "as well or better" : "less well")} here, ECE {scaled:F1}. " +
                          $"Reliability diagrams: {Path.Combine(dir, "reliability.png")}.");
    }
}
