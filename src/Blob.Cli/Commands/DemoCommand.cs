using System.CommandLine;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob demo`: the README's main job on a fresh clone. Fine-tunes the built-in MiniLM with plain LoRA (MLE) and with
/// BLoB on the built-in same-fact task (generated, with a known ground truth), evaluates both (BLoB with N = 10
/// samples), prints the comparison and writes reliability diagrams. A few minutes on 2 CPU cores.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "Output folder", DefaultValueFactory = _ => Path.Combine("runs", "demo") };
        var epochs = new Option<double>("--epochs") { Description = "Passes over the 800 training pairs", DefaultValueFactory = _ => 6 }.Positive();
        var quiet = new Option<bool>("--quiet") { Description = "Log lines instead of a progress bar" };
        var command = new Command("demo", "Fine-tune MiniLM with LoRA (MLE) and BLoB on a built-in task and compare their calibration");
        command.Options.Add(output);
        command.Options.Add(epochs);
        command.Options.Add(quiet);
        command.SetAction(p =>
        {
            Console.WriteLine("BLoB.NET demo: all-MiniLM-L6-v2 + LoRA rank 8 on query/value, task: do two sentences state the same fact?");
            string[] args =
            [
                "--task", "demo-facts", "--model", "minilm", "--methods", "mle", "blob", "--seeds", "1",
                "--epochs", p.GetValue(epochs).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--batch-size", "16", "--lr", "1e-3", "--kl-lr", "0.01", "--max-length", "64",
                "--output", p.GetValue(output)!, "--overwrite",
                .. p.GetValue(quiet) ? new[] { "--quiet" } : [],
            ];
            return CompareCommand.Create().Parse(args).Invoke();
        });
        return command;
    }
}
