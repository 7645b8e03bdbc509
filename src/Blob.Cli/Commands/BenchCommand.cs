using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Blob.Data;
using Blob.Experiments;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob bench`: the cost of BLoB against plain LoRA on the same model and the same batches. Step time is measured side
/// by side in one process, in alternating blocks of steps (so load on a shared machine hits both alike), and reported
/// as the ratio of medians; peak memory is measured in a fresh child process per method (peak resident set, VmHWM),
/// as the ratio of peaks and of the growth over the loaded model. Tokens per second are counted on real tokens.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model (default the built-in MiniLM)", DefaultValueFactory = _ => ModelZoo.BuiltIn };
        var task = new Option<string>("--task") { Description = "Task whose batches are used", DefaultValueFactory = _ => DemoTask.Name };
        var batch = new Option<int>("--batch-size") { Description = "Examples per training step", DefaultValueFactory = _ => 16 }.AtLeast(1);
        // A block's first step is warm-up and not timed; fewer than 5 steps or 2 rounds measure noise, not a ratio.
        var steps = new Option<int>("--steps") { Description = "Steps per block (at least 5; the first of each block is not timed)", DefaultValueFactory = _ => 10 }.AtLeast(5);
        var rounds = new Option<int>("--rounds") { Description = "Alternating blocks per method (at least 2)", DefaultValueFactory = _ => 4 }.AtLeast(2);
        var dataRoot = new Option<string?>("--data-root") { Description = "Folder with the benchmark files (default ../shared/data)" };
        var child = new Option<string?>("--child") { Hidden = true };
        var command = new Command("bench", "Benchmark BLoB against LoRA: step-time and peak-memory ratios, tokens per second");
        foreach (var o in new Option[] { model, task, batch, steps, rounds, dataRoot, child }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var spec = new ExperimentSpec { Model = p.GetValue(model)!, Task = p.GetValue(task)!, DataRoot = p.GetValue(dataRoot), Device = "cpu" };
            int batchSize = p.GetValue(batch), n = p.GetValue(steps);
            if (p.GetValue(child) is { } method) return Child(spec, MethodOptions.Parse(method), batchSize, n * 2);

            Console.WriteLine($"model {spec.Model}, task {spec.Task}, batch {batchSize}, {p.GetValue(rounds)} alternating blocks of {n} steps");
            var lora = Setup(spec, MethodKind.Mle, batchSize, n);
            var blob = Setup(spec, MethodKind.Blob, batchSize, n);
            var times = new Dictionary<MethodKind, List<double>> { [MethodKind.Mle] = [], [MethodKind.Blob] = [] };
            for (int r = 0; r < p.GetValue(rounds); r++)
                foreach (var (kind, trainer) in new[] { (MethodKind.Mle, lora), (MethodKind.Blob, blob) })
                    times[kind].AddRange(TimeBlock(trainer));
            double tokensPerStep = lora.TokensPerStep;
            double loraMedian = Median(times[MethodKind.Mle]), blobMedian = Median(times[MethodKind.Blob]);

            var memory = new Dictionary<MethodKind, (double Peak, double Loaded)>();
            foreach (var kind in new[] { MethodKind.Mle, MethodKind.Blob }) memory[kind] = MeasureChild(p, kind);

            Console.WriteLine($"step time   LoRA {loraMedian * 1000:F1} ms   BLoB {blobMedian * 1000:F1} ms   ratio {blobMedian / loraMedian:F3}  (paper ~1.15, goal <= 1.10)");
            Console.WriteLine($"spread      LoRA {Spread(times[MethodKind.Mle])}   BLoB {Spread(times[MethodKind.Blob])}  (quartiles of {times[MethodKind.Mle].Count} timed steps each)");
            Console.WriteLine($"tokens/s    LoRA {tokensPerStep / loraMedian:F0}   BLoB {tokensPerStep / blobMedian:F0}");
            var (lp, ll) = memory[MethodKind.Mle];
            var (bp, bl) = memory[MethodKind.Blob];
            Console.WriteLine($"peak RSS    LoRA {lp:F0} MiB   BLoB {bp:F0} MiB   ratio {bp / lp:F3}  (paper 1.03-1.13, goal <= 1.05)");
            Console.WriteLine($"training growth over the loaded model   LoRA {lp - ll:F0} MiB   BLoB {bp - bl:F0} MiB   ratio {(bp - bl) / Math.Max(1, lp - ll):F3}");
            return 0;
        });
        return command;
    }

    sealed record Bench(Trainer Trainer, double TokensPerStep);

    static Bench Setup(ExperimentSpec spec, MethodKind kind, int batchSize, int steps)
    {
        var task = Experiment.LoadTask(spec);
        manual_seed(1);
        var tm = ModelZoo.Load(spec.Model, task, CPU, 1);
        var method = new MethodOptions { Kind = kind, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
        MethodSetup.Apply(tm.Model.Module, method);
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

    /// <summary>Runs this command again in a fresh process for one method and reads its peak memory.</summary>
    static (double Peak, double Loaded) MeasureChild(ParseResult p, MethodKind kind)
    {
        // Same program, same arguments: under `dotnet Blob.Cli.dll`, argument 0 (the assembly) is passed on too.
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        bool viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet";
        foreach (var a in Environment.GetCommandLineArgs().Skip(viaDotnet ? 0 : 1)) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--child");
        info.ArgumentList.Add(kind.ToString().ToLowerInvariant());
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("{")) ?? throw new BlobException($"bench child for {kind} failed (exit {process.ExitCode})");
        using var doc = JsonDocument.Parse(line);
        return (doc.RootElement.GetProperty("peak_mib").GetDouble(), doc.RootElement.GetProperty("loaded_mib").GetDouble());
    }

    static int Child(ExperimentSpec spec, MethodKind kind, int batchSize, int steps)
    {
        var bench = Setup(spec, kind, batchSize, steps);
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
