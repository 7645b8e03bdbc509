using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Experiments;
using Blob.Runtime;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob bench`: the cost of BLoB against plain LoRA on the same model and the same batches, or (--compare precision)
/// of LoRA in float32 against LoRA with the frozen base in bfloat16. Step time is measured side by side in one
/// process, in alternating blocks of steps (so load on a shared machine hits both alike), and reported as the ratio of
/// medians; peak memory is measured in a fresh child process per side (peak resident set, VmHWM), as the ratio of peaks
/// and of the growth over the loaded model. Tokens per second are counted on real tokens.
/// </summary>
public static class BenchCommand
{
    /// <summary>One side of the comparison: a method at a precision.</summary>
    sealed record Arm(string Label, FineTuningMethod Kind, Precision Precision);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder or Hub id (default the built-in MiniLM)", DefaultValueFactory = _ => ModelZoo.BuiltIn };
        var task = new Option<string>("--task") { Description = "Task whose batches are used", DefaultValueFactory = _ => DemoTask.Name };
        var batch = new Option<int>("--batch-size") { Description = "Examples per training step", DefaultValueFactory = _ => 16 }.AtLeast(1);
        // A block's first step is warm-up and not timed; fewer than 5 steps or 2 rounds measure noise, not a ratio.
        var steps = new Option<int>("--steps") { Description = "Steps per block (at least 5; the first of each block is not timed)", DefaultValueFactory = _ => 10 }.AtLeast(5);
        var rounds = new Option<int>("--rounds") { Description = "Alternating blocks per side (at least 2)", DefaultValueFactory = _ => 4 }.AtLeast(2);
        var dataRoot = new Option<string?>("--data-root") { Description = "Folder with the benchmark files (default ../shared/data)" };
        var compare = new Option<string>("--compare") { Description = "methods (LoRA against BLoB) or precision (LoRA in fp32 against bf16)", DefaultValueFactory = _ => "methods" }.OneOf("methods", "precision");
        var precision = ExperimentOptions.PrecisionOf("With --compare methods, the precision of both");
        var child = new Option<int?>("--child") { Hidden = true };
        var command = new Command("bench", "Benchmark BLoB against LoRA, or bf16 against fp32: step-time and peak-memory ratios, tokens per second");
        foreach (var o in new Option[] { model, task, batch, steps, rounds, dataRoot, compare, precision, child }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var spec = new ExperimentSpec { Model = ModelSource.Resolve(p.GetValue(model)!, revision: null), Task = p.GetValue(task)!, DataRoot = p.GetValue(dataRoot), Device = "cpu" };
            var arms = Arms(p.GetValue(compare)!, Precisions.Parse(p.GetValue(precision)!));
            int batchSize = p.GetValue(batch), n = p.GetValue(steps);
            if (p.GetValue(child) is { } index) return Child(spec, arms[index], batchSize, n * 2);

            Console.WriteLine($"model {spec.Model}, task {spec.Task}, batch {batchSize}, {p.GetValue(rounds)} alternating blocks of {n} steps, " +
                              $"{arms[0].Label} against {arms[1].Label}" +
                              (arms[0].Precision == arms[1].Precision ? $" in {Precisions.Name(Precisions.Resolve(arms[0].Precision, CPU))}" : "") +
                              $"; load average {LoadAverage()}");
            var benches = arms.Select(a => Setup(spec, a, batchSize, n)).ToArray();
            var times = arms.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < p.GetValue(rounds); r++)
                for (int i = 0; i < arms.Length; i++)
                    times[i].AddRange(TimeBlock(benches[i]));
            double tokensPerStep = benches[0].TokensPerStep;
            double first = Median(times[0]), second = Median(times[1]);
            string loadAfterTiming = LoadAverage();
            var memory = arms.Select((_, i) => MeasureChild(p, i)).ToArray();

            bool methods = arms[1].Kind == MethodRegistry.Blob;
            string a = arms[0].Label, b = arms[1].Label;
            Console.WriteLine($"step time   {a} {first * 1000:F1} ms   {b} {second * 1000:F1} ms   ratio {b}/{a} {second / first:F3}" +
                              (methods ? "  (paper ~1.15, goal <= 1.10)" : ""));
            Console.WriteLine($"spread      {a} {Spread(times[0])}   {b} {Spread(times[1])}  (quartiles of {times[0].Count} timed steps each)");
            Console.WriteLine($"tokens/s    {a} {tokensPerStep / first:F0}   {b} {tokensPerStep / second:F0}");
            var (ap, al) = memory[0];
            var (bp, bl) = memory[1];
            Console.WriteLine($"peak RSS    {a} {ap:F0} MiB   {b} {bp:F0} MiB   ratio {bp / ap:F3}" + (methods ? "  (paper 1.03-1.13, goal <= 1.05)" : ""));
            Console.WriteLine($"training growth over the loaded model   {a} {ap - al:F0} MiB   {b} {bp - bl:F0} MiB   ratio {(bp - bl) / Math.Max(1, ap - al):F3}");
            Console.WriteLine($"load average after timing {loadAfterTiming}");
            return 0;
        });
        return command;
    }

    static Arm[] Arms(string compare, Precision precision) => compare == "precision"
        ? [new("fp32", MethodRegistry.Mle, Precision.Fp32), new("bf16", MethodRegistry.Mle, Precision.Bf16)]
        : [new("LoRA", MethodRegistry.Mle, precision), new("BLoB", MethodRegistry.Blob, precision)];

    sealed record Bench(Trainer Trainer, double TokensPerStep);

    static Bench Setup(ExperimentSpec spec, Arm arm, int batchSize, int steps)
    {
        var task = Experiment.LoadTask(spec);
        manual_seed(1);
        var tm = ModelZoo.Load(spec.Model, task, CPU, 1, arm.Precision);
        var method = new MethodOptions { Kind = arm.Kind, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
        method.Apply(tm.Model.Module);
        var data = new TextBatchSource(task, task.Train, tm.Tokenizer, 128);
        var options = new TrainingOptions { Method = method, Steps = steps, BatchSize = batchSize, Seed = 1, WarmupRatio = 0 };
        var trainer = new Trainer(tm.Classifier, data, options, CPU);
        double tokens = Enumerable.Range(0, steps).Average(s =>
        {
            using var scope = NewDisposeScope();
            return data.Make(trainer.BatchIndices(s), CPU).AttentionMask.sum().item<long>();
        });
        return new Bench(trainer, tokens);
    }

    /// <summary>/proc/loadavg's 1, 5 and 15 minute averages: how busy the shared machine was.</summary>
    static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Seconds per step of one block, without its first step (warm-up).</summary>
    static List<double> TimeBlock(Bench bench)
    {
        var stamps = new List<double>();
        var clock = Stopwatch.StartNew();
        bench.Trainer.Train(onStep: _ => stamps.Add(clock.Elapsed.TotalSeconds));
        return stamps.Zip(stamps.Skip(1), (a, b) => b - a).ToList();
    }

    static double Median(List<double> xs) => Quantile(xs, 0.5);

    /// <summary>The q-quantile, interpolating linearly between order statistics.</summary>
    static double Quantile(List<double> xs, double q)
    {
        var s = xs.Order().ToList();
        double at = q * (s.Count - 1);
        int lo = (int)Math.Floor(at), hi = (int)Math.Ceiling(at);
        return s[lo] + (s[hi] - s[lo]) * (at - lo);
    }

    static string Spread(List<double> xs) => $"{Quantile(xs, 0.25) * 1000:F1}–{Quantile(xs, 0.75) * 1000:F1} ms";

    /// <summary>Runs this command again in a fresh process for one side and reads its peak memory.</summary>
    static (double Peak, double Loaded) MeasureChild(ParseResult p, int arm)
    {
        // Same program, same arguments: under `dotnet Blob.Cli.dll`, argument 0 (the assembly) is passed on too.
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        bool viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet";
        foreach (var a in Environment.GetCommandLineArgs().Skip(viaDotnet ? 0 : 1)) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--child");
        info.ArgumentList.Add(arm.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("{")) ?? throw new BlobException($"bench child for side {arm + 1} failed (exit {process.ExitCode})");
        using var doc = JsonDocument.Parse(line);
        return (doc.RootElement.GetProperty("peak_mib").GetDouble(), doc.RootElement.GetProperty("loaded_mib").GetDouble());
    }

    static int Child(ExperimentSpec spec, Arm arm, int batchSize, int steps)
    {
        var bench = Setup(spec, arm, batchSize, steps);
        double loaded = Rss("VmRSS");
        bench.Trainer.Train();
        Console.WriteLine(JsonSerializer.Serialize(new { peak_mib = Rss("VmHWM"), loaded_mib = loaded }));
        return 0;
    }

    /// <summary>A field of /proc/self/status in MiB (Linux).</summary>
    static double Rss(string field)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(field + ":"))
                   ?? throw new BlobException($"/proc/self/status has no {field} (peak memory is measured on Linux)");
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }
}
