using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Models;
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
/// Then the memory the goals are stated for, again a fresh child process per phase: training each side, and BLoB's
/// N = 10 prediction, on batches of the task's 32 longest examples cut to 256 tokens.
/// </summary>
public static class BenchCommand
{
    /// <summary>One side of the comparison: a method at a precision, with an encoder's attention recomputed in backward or kept.</summary>
    internal sealed record Arm(string Label, FineTuningMethod Kind, Precision Precision, bool RecomputeAttention = true);

    /// <summary>What a child process measures: the bench's own steps, or training or prediction at the goals' size.</summary>
    internal enum Phase { Steps, Train, Predict }

    /// <summary>The goals' size: MiniLM training and N = 10 prediction at batch 32 × 256 tokens, 3 steps of training.</summary>
    internal const int GoalBatch = 32, GoalLength = 256, GoalSteps = 3, GoalSamples = 10;
    const double TrainingGoalMiB = 2.5e9 / (1 << 20), PredictionGoalMiB = 1.5e9 / (1 << 20);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model folder or Hub id (default the built-in MiniLM)", DefaultValueFactory = _ => ModelZoo.BuiltIn };
        var task = new Option<string>("--task") { Description = "Task whose batches are used", DefaultValueFactory = _ => DemoTask.Name };
        var batch = new Option<int>("--batch-size") { Description = "With --compare: examples per training step", DefaultValueFactory = _ => 16 }.AtLeast(1);
        // A block's first step is warm-up and not timed; fewer than 5 steps or 2 rounds measure noise, not a ratio.
        var steps = new Option<int?>("--steps") { Description = "Steps per block (at least 5; the first of each block is not timed; default 6 for the report, 10 with --compare)" }.AtLeast(5);
        var rounds = new Option<int?>("--rounds") { Description = "Alternating blocks per side (at least 2; default 3 for the report, 4 with --compare)" }.AtLeast(2);
        var dataRoot = new Option<string?>("--data-root") { Description = "Folder with the benchmark files (default ../shared/data)" };
        var compare = new Option<string?>("--compare")
        {
            Description = "Instead of the report, two sides at --batch-size on 128-token batches: methods (LoRA against BLoB), precision (LoRA in fp32 against bf16), " +
                          "attention (LoRA with an encoder's attention kept for backward against recomputed there); prediction (BLoB's N = 10 prediction, one pass per sample against k samples per forward call, each over one pass); " +
                          "order (one-pass prediction of the evaluation examples in batches of 32, in the data's order against grouped by length); " +
                          "or laplace (LAP's K-FAC fit over training examples, a backward pass per class against the fewest that give the same factors)",
        }.Must(v => v is null || v is "methods" or "precision" or "attention" or "prediction" or "order" or "laplace",
            "expected methods, precision, attention, prediction, order or laplace");
        var examples = new Option<int>("--examples") { Description = "With --compare prediction or order, evaluation examples predicted per timing; with laplace, training examples fitted", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var precision = ExperimentOptions.PrecisionOf("The report's headline precision (its JSON's unsuffixed keys); with --compare methods or prediction, the precision of both");
        var tokensPerCall = new Option<long?>("--tokens-per-call") { Description = "Tokens one forward call of batched N-sample prediction may hold (default: the library's)" }
            .Must(v => v is null || v >= 1, "must be at least 1");
        var json = new Option<bool>("--json") { Description = "Report: end with one line holding a JSON object of every figure (bf16_speedup, fp32_fraction_of_peak, ...)" };
        var child = new Option<int?>("--child") { Hidden = true };
        var phase = new Option<Phase>("--child-phase") { Hidden = true };
        var command = new Command("bench", "The performance report (LoRA and BLoB in fp32 and bf16: step time, FLOP/s against the machine's peak, N = 10 prediction, peak memory), or --compare two sides");
        foreach (var o in new Option[] { model, task, batch, steps, rounds, dataRoot, compare, precision, examples, tokensPerCall, json, child, phase }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var spec = new ExperimentSpec { Model = ModelSource.Resolve(p.GetValue(model)!, revision: null), Task = p.GetValue(task)!, DataRoot = p.GetValue(dataRoot), Device = "cpu" };
            long budget = p.GetValue(tokensPerCall) ?? BayesianPrediction.DefaultTokensPerCall;
            string? mode = p.GetValue(compare);
            if (mode == "prediction" && p.GetValue(child) is null)
                return PredictionTiming(spec, p.GetValue(precision), p.GetValue(examples), p.GetValue(rounds) ?? 2, budget);
            if (mode == "order")
                return OrderTiming(spec, p.GetValue(precision), p.GetValue(examples), p.GetValue(rounds) ?? 3);
            if (mode == "laplace")
                return LaplaceTiming(spec, p.GetValue(precision), p.GetValue(examples), p.GetValue(rounds) ?? 3);
            var arms = mode is null ? BenchReport.Arms : Arms(mode, p.GetValue(precision));
            int batchSize = p.GetValue(batch), n = p.GetValue(steps) ?? (mode is null ? 6 : 10), blocks = p.GetValue(rounds) ?? (mode is null ? 3 : 4);
            if (p.GetValue(child) is { } index) return p.GetValue(phase) switch
            {
                Phase.Train => GoalTrainingChild(spec, arms[index]),
                Phase.Predict => GoalPredictionChild(spec, arms[index].Precision, budget),
                _ => Child(spec, arms[index], batchSize, n * 2),
            };
            if (mode is null) return BenchReport.Run(p, spec, blocks, n, p.GetValue(json), Precisions.Resolve(p.GetValue(precision), CPU), budget);

            Console.WriteLine($"model {spec.Model}, task {spec.Task}, batch {batchSize}, {blocks} alternating blocks of {n} steps, " +
                              $"{arms[0].Label} against {arms[1].Label}" +
                              (arms[0].Precision == arms[1].Precision ? $" in {Precisions.Name(Precisions.Resolve(arms[0].Precision, CPU))}" : "") +
                              $"; load average {LoadAverage()}");
            var benches = arms.Select(a => Setup(spec, a, n, (task, tm) => new TextBatchSource(task, task.Train, tm.Tokenizer, 128), batchSize)).ToArray();
            var times = arms.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < blocks; r++)
                for (int i = 0; i < arms.Length; i++)
                    times[i].AddRange(TimeBlock(benches[i]));
            double tokensPerStep = benches[0].TokensPerStep;
            double first = Median(times[0]), second = Median(times[1]);
            string loadAfterTiming = LoadAverage();
            var memory = arms.Select((_, i) => MeasureChild(p, i, Phase.Steps)).ToArray();

            bool methods = arms[1].Kind == MethodRegistry.Blob;
            string a = arms[0].Label, b = arms[1].Label;
            Console.WriteLine($"step time   {a} {first * 1000:F1} ms   {b} {second * 1000:F1} ms   ratio {b}/{a} {second / first:F3}" +
                              (methods ? "  (paper ~1.15, goal <= 1.10)" : ""));
            Console.WriteLine($"spread      {a} {Spread(times[0])}   {b} {Spread(times[1])}  (quartiles of {times[0].Count} timed steps each)");
            Console.WriteLine($"tokens/s    {a} {tokensPerStep / first:F0}   {b} {tokensPerStep / second:F0}");
            var (ap, al, _, _) = memory[0];
            var (bp, bl, _, _) = memory[1];
            Console.WriteLine($"peak RSS    {a} {ap:F0} MiB   {b} {bp:F0} MiB   ratio {bp / ap:F3}" + (methods ? "  (paper 1.03-1.13, goal <= 1.05)" : ""));
            Console.WriteLine($"training growth over the loaded model   {a} {ap - al:F0} MiB   {b} {bp - bl:F0} MiB   ratio {(bp - bl) / Math.Max(1, ap - al):F3}");
            Console.WriteLine($"load average after timing {loadAfterTiming}");
            PrintGoalMemory(p, arms);
            Console.WriteLine($"load average at the end {LoadAverage()}");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Peak RSS of training each side and of BLoB's N = 10 prediction (once per precision the sides use) at the goals'
    /// size, each in a fresh process.
    /// </summary>
    static void PrintGoalMemory(ParseResult p, Arm[] arms)
    {
        var training = arms.Select((_, i) => MeasureChild(p, i, Phase.Train)).ToArray();
        var predictors = arms.Select((a, i) => (a, i)).DistinctBy(x => x.a.Precision).ToArray();
        var prediction = predictors.Select(x => MeasureChild(p, x.i, Phase.Predict)).ToArray();
        Console.WriteLine($"peak RSS at batch {GoalBatch} × {training[0].Length} tokens (the task's {GoalBatch} longest examples; a fresh process each; allocator {training[0].Allocator}):");
        Console.WriteLine($"  training {GoalSteps} steps   " + string.Join("   ", arms.Select((a, i) => $"{a.Label} {training[i].Peak:F0} MiB")) +
                          $"   (goal <= {TrainingGoalMiB:F0} MiB = 2.5 GB)");
        Console.WriteLine($"  N = {GoalSamples} prediction   " +
                          string.Join("   ", predictors.Select((x, k) => $"BLoB{PrecisionLabel(arms, x.a)} {prediction[k].Peak:F0} MiB")) +
                          $"   (goal <= {PredictionGoalMiB:F0} MiB = 1.5 GB)");
    }

    /// <summary>" bf16" where the sides differ in precision, else nothing.</summary>
    static string PrecisionLabel(Arm[] arms, Arm arm) =>
        arms.Select(a => a.Precision).Distinct().Count() > 1 ? $" {arm.Label}" : "";

    static Arm[] Arms(string compare, Precision precision) => compare switch
    {
        "precision" => [new("fp32", MethodRegistry.Mle, Precision.Fp32), new("bf16", MethodRegistry.Mle, Precision.Bf16)],
        "attention" => [new("kept", MethodRegistry.Mle, precision, RecomputeAttention: false), new("recomputed", MethodRegistry.Mle, precision)],
        _ => [new("LoRA", MethodRegistry.Mle, precision), new("BLoB", MethodRegistry.Blob, precision)],
    };

    /// <summary>One side ready to time: its trainer, its model and data, and the real tokens of a step.</summary>
    internal sealed record Bench(Trainer Trainer, double TokensPerStep, TaskModel Model, TextBatchSource Data);

    /// <summary>The task and its model with the method's adapters, seeded as every side is.</summary>
    static (TaskData Task, TaskModel Model, MethodOptions Method) Load(ExperimentSpec spec, FineTuningMethod kind, Precision precision,
        bool recomputeAttention = true)
    {
        var task = Experiment.LoadTask(spec);
        manual_seed(1);
        var tm = ModelZoo.Load(spec.Model, task, CPU, 1, precision);
        if (tm.Model is BertForSequenceClassification encoder) encoder.Encoder.RecomputeAttention = recomputeAttention;
        if (tm.Model is BertForMultipleChoice choices) choices.Encoder.RecomputeAttention = recomputeAttention;
        var method = new MethodOptions { Kind = kind, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
        method.Apply(tm.Model.Module);
        return (task, tm, method);
    }

    /// <summary>A side's trainer for this many steps on the data made from the task and model (batch size: all of it, by default).</summary>
    internal static Bench Setup(ExperimentSpec spec, Arm arm, int steps, Func<TaskData, TaskModel, TextBatchSource> makeData, int? batchSize = null)
    {
        var (task, tm, method) = Load(spec, arm.Kind, arm.Precision, arm.RecomputeAttention);
        var data = makeData(task, tm);
        batchSize ??= data.Count;
        var options = new TrainingOptions { Method = method, Steps = steps, BatchSize = batchSize.Value, Seed = 1, WarmupRatio = 0 };
        var trainer = new Trainer(tm.Classifier, data, options, CPU);
        double tokens = Enumerable.Range(0, steps).Average(s =>
        {
            using var scope = NewDisposeScope();
            return data.Make(trainer.BatchIndices(s), CPU).AttentionMask.sum().item<long>();
        });
        return new Bench(trainer, tokens, tm, data);
    }

    /// <summary>/proc/loadavg's 1, 5 and 15 minute averages: how busy the shared machine was.</summary>
    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>Seconds per step of one block, without its first step (warm-up).</summary>
    internal static List<double> TimeBlock(Bench bench)
    {
        var stamps = new List<double>();
        var clock = Stopwatch.StartNew();
        bench.Trainer.Train(onStep: _ => stamps.Add(clock.Elapsed.TotalSeconds));
        return stamps.Zip(stamps.Skip(1), (a, b) => b - a).ToList();
    }

    internal static double Median(List<double> xs) => Quantile(xs, 0.5);

    /// <summary>The q-quantile, interpolating linearly between order statistics.</summary>
    static double Quantile(List<double> xs, double q)
    {
        var s = xs.Order().ToList();
        double at = q * (s.Count - 1);
        int lo = (int)Math.Floor(at), hi = (int)Math.Ceiling(at);
        return s[lo] + (s[hi] - s[lo]) * (at - lo);
    }

    internal static string Spread(List<double> xs) => $"{Quantile(xs, 0.25) * 1000:F1}–{Quantile(xs, 0.75) * 1000:F1} ms";

    /// <summary>What a child reports: its peak and loaded RSS in MiB, the longest batch's tokens and its allocator.</summary>
    internal sealed record ChildMemory(double Peak, double Loaded, long Length, string Allocator);

    /// <summary>Runs this command again in a fresh process for one side and phase and reads its peak memory.</summary>
    internal static ChildMemory MeasureChild(ParseResult p, int arm, Phase phase)
    {
        // Same program, same arguments: under `dotnet Blob.Cli.dll`, argument 0 (the assembly) is passed on too.
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true };
        bool viaDotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet";
        foreach (var a in Environment.GetCommandLineArgs().Skip(viaDotnet ? 0 : 1)) info.ArgumentList.Add(a);
        info.ArgumentList.Add("--child");
        info.ArgumentList.Add(arm.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add("--child-phase");
        info.ArgumentList.Add(phase.ToString());
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("{"))
                   ?? throw new BlobException($"bench child ({phase}) for side {arm + 1} failed (exit {process.ExitCode})");
        return JsonSerializer.Deserialize<ChildMemory>(line)!;
    }

    static int Child(ExperimentSpec spec, Arm arm, int batchSize, int steps)
    {
        var bench = Setup(spec, arm, steps, (task, tm) => new TextBatchSource(task, task.Train, tm.Tokenizer, 128), batchSize);
        double loaded = Rss("VmRSS");
        bench.Trainer.Train();
        return Report(loaded, 0);
    }

    /// <summary>Training one side for a few steps on batches of the goals' size.</summary>
    static int GoalTrainingChild(ExperimentSpec spec, Arm arm)
    {
        var (task, tm, method) = Load(spec, arm.Kind, arm.Precision, arm.RecomputeAttention);
        var data = Longest(task, tm);
        var options = new TrainingOptions { Method = method, Steps = GoalSteps, BatchSize = GoalBatch, Seed = 1, WarmupRatio = 0 };
        double loaded = Rss("VmRSS");
        new Trainer(tm.Classifier, data, options, CPU).Train();
        return Report(loaded, Enumerable.Range(0, data.Count).Max(data.Length));
    }

    /// <summary>BLoB's N = 10 prediction of the same examples, in batches of the goals' size.</summary>
    static int GoalPredictionChild(ExperimentSpec spec, Precision precision, long tokensPerCall)
    {
        var (task, tm, _) = Load(spec, MethodRegistry.Blob, precision);
        var data = Longest(task, tm);
        double loaded = Rss("VmRSS");
        BayesianPrediction.Predict(tm.Classifier, data, GoalSamples, GoalBatch, CPU, tokensPerCall: tokensPerCall);
        return Report(loaded, Enumerable.Range(0, data.Count).Max(data.Length));
    }

    /// <summary>
    /// BLoB's N = 10 prediction timed against one pass (N = 1) in the same process, in alternating rounds: one forward
    /// pass per sample (sequential) and k samples per forward call for k = 2, 5, 10 and the automatic choice
    /// (<see cref="BayesianPrediction.SamplesPerCall"/>), on the task's first evaluation examples (cut to
    /// <see cref="GoalLength"/> tokens) in batches of <see cref="GoalBatch"/>.
    /// </summary>
    static int PredictionTiming(ExperimentSpec spec, Precision precision, int examples, int rounds, long tokensPerCall)
    {
        var (task, tm, _) = Load(spec, MethodRegistry.Blob, precision);
        // Trained-like adapters: B = 0 would make every sample's update vanish after the first product.
        using (no_grad())
            foreach (var (_, adapter) in AdapterInjection.Adapters(tm.Model.Module))
                if (adapter is BlobAdapter b) b.lora_B.normal_(0, 0.02);
        var sets = new (string Name, IBatchSource Data)[]
        {
            ($"{Math.Min(examples, task.Eval.Count)} evaluation examples", new TextBatchSource(task, task.Eval.Take(examples).ToList(), tm.Tokenizer, GoalLength)),
        };
        var variants = new (string Name, int Samples, int? PerCall)[]
        {
            ("one pass (N = 1)", 1, 1), ("N = 10 sequential", 10, 1), ("N = 10, k = 2", 10, 2), ("N = 10, k = 5", 10, 5),
            ("N = 10, k = 10", 10, 10), ("N = 10, automatic", 10, null),
        };
        Console.WriteLine($"model {spec.Model}, task {spec.Task}, BLoB in {Precisions.Name(Precisions.Resolve(precision, CPU))}, " +
                          $"{rounds} alternating rounds, TokensPerCall {tokensPerCall}; load average {LoadAverage()}");
        foreach (var (name, data) in sets)
        {
            int longest = Enumerable.Range(0, data.Count).Max(data.Length);
            using (var scope = NewDisposeScope())
            {
                var first = data.Make(Enumerable.Range(0, Math.Min(GoalBatch, data.Count)).ToArray(), CPU);
                int auto = BayesianPrediction.SamplesPerCall(tm.Classifier, first, GoalSamples, tokensPerCall);
                Console.WriteLine($"{name}: batches of {GoalBatch}, longest {longest} tokens, first batch {first.InputIds.shape[0]} × {first.InputIds.shape[1]}; automatic k = {auto}");
            }
            foreach (var k in new[] { 1, 2, 5, 10 }) BayesianPrediction.Predict(tm.Classifier, data, k, GoalBatch, CPU, samplesPerCall: k); // warm-up: one call of each shape
            var times = variants.Select(_ => new List<double>()).ToArray();
            for (int r = 0; r < rounds; r++)
                for (int i = 0; i < variants.Length; i++)
                {
                    var clock = Stopwatch.StartNew();
                    BayesianPrediction.Predict(tm.Classifier, data, variants[i].Samples, GoalBatch, CPU, samplesPerCall: variants[i].PerCall, tokensPerCall: tokensPerCall);
                    times[i].Add(clock.Elapsed.TotalSeconds);
                }
            double one = Median(times[0]);
            for (int i = 0; i < variants.Length; i++)
                Console.WriteLine($"  {variants[i].Name,-22} {Median(times[i]) * 1000,9:F0} ms   over one pass {Median(times[i]) / one,6:F2}   " +
                                  $"(quartiles {Spread(times[i])})");
            Console.WriteLine($"  prediction_n10_over_one_pass {Median(times[^1]) / one:F2} (sequential {Median(times[1]) / one:F2})");
        }
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// One-pass prediction (LoRA, N = 0) of the task's first evaluation examples (cut to <see cref="GoalLength"/> tokens)
    /// in batches of <see cref="GoalBatch"/>: in the data's order against grouped by length (<see cref="BatchOrder"/>,
    /// what prediction does), in alternating rounds in one process; prints the padded tokens of each and the time ratio.
    /// </summary>
    static int OrderTiming(ExperimentSpec spec, Precision precision, int examples, int rounds)
    {
        var (task, tm, _) = Load(spec, MethodRegistry.Mle, precision);
        var data = new TextBatchSource(task, task.Eval.Take(examples).ToList(), tm.Tokenizer, GoalLength);
        var sides = new (string Name, IBatchSource Data)[] { ("data order", new InDataOrder(data)), ("by length", data) };
        long Padded(IBatchSource d) => BatchOrder.ByLength(d, GoalBatch).Sum(b => (long)b.Length * b.Max(data.Length));
        Console.WriteLine($"model {spec.Model}, task {spec.Task}, {data.Count} evaluation examples, batches of {GoalBatch}, " +
                          $"{Precisions.Name(Precisions.Resolve(precision, CPU))}, {rounds} alternating rounds; load average {LoadAverage()}");
        var answers = sides.Select(side => BayesianPrediction.Predict(tm.Classifier, side.Data, 0, GoalBatch, CPU)).ToArray(); // warm-up
        double gap = answers[0].Zip(answers[1]).Max(x => x.First.Zip(x.Second).Max(v => Math.Abs(v.First - v.Second)));
        var times = sides.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < sides.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                BayesianPrediction.Predict(tm.Classifier, sides[i].Data, 0, GoalBatch, CPU);
                times[i].Add(clock.Elapsed.TotalSeconds);
            }
        for (int i = 0; i < sides.Length; i++)
            Console.WriteLine($"  {sides[i].Name,-12} {Median(times[i]) * 1000,9:F0} ms  (quartiles {Spread(times[i])}), {Padded(sides[i].Data):N0} padded tokens");
        Console.WriteLine($"  by_length_over_data_order {Median(times[1]) / Median(times[0]):F2} (padded tokens {(double)Padded(data) / Padded(sides[0].Data):F2}); " +
                          $"largest probability difference {gap:G2}");
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// LAP's K-FAC fit (prior precision fixed, so only the curvature is timed) over the task's first training examples
    /// (cut to <see cref="GoalLength"/> tokens), with a backward pass per class against the fewest passes
    /// (<see cref="LaplaceLora.HessianRoots"/>), in alternating rounds in one process; prints the time ratio and the
    /// largest difference between the two sides' factors, relative to each factor's largest entry.
    /// </summary>
    static int LaplaceTiming(ExperimentSpec spec, Precision precision, int examples, int rounds)
    {
        var (task, tm, _) = Load(spec, MethodRegistry.Map, precision);
        using (no_grad()) // a trained B, so that every factor is non-zero
        using (var g = new Generator(1))
            foreach (var (name, b) in tm.Classifier.Module.named_parameters().Where(x => x.name.EndsWith("lora_B")))
                b.copy_(randn(b.shape, generator: g).mul_(0.01));
        var data = new TextBatchSource(task, task.Train.Take(examples).ToList(), tm.Tokenizer, GoalLength);
        var options = new LaplaceOptions { PriorPrecision = 1 };
        Console.WriteLine($"model {spec.Model}, task {spec.Task} ({task.Labels.Count} classes), {data.Count} training examples, " +
                          $"batches of {options.BatchSize}, {Precisions.Name(Precisions.Resolve(precision, CPU))}, {rounds} alternating rounds; load average {LoadAverage()}");
        var sides = new[] { true, false };
        var warmUp = new TextBatchSource(task, task.Train.Take(4).ToList(), tm.Tokenizer, GoalLength);
        foreach (bool side in sides) LaplaceLora.Fit(tm.Classifier, warmUp, options, CPU, passPerClass: side).Dispose();
        var times = sides.Select(_ => new List<double>()).ToArray();
        double gap = 0;
        for (int r = 0; r < rounds; r++)
        {
            var fits = new LaplaceLora[sides.Length];
            for (int i = 0; i < sides.Length; i++)
            {
                var clock = Stopwatch.StartNew();
                fits[i] = LaplaceLora.Fit(tm.Classifier, data, options, CPU, passPerClass: sides[i]);
                times[i].Add(clock.Elapsed.TotalSeconds);
            }
            gap = Math.Max(gap, fits[0].Blocks.Zip(fits[1].Blocks).Max(b => RelativeGap(b.First.OutputFactor, b.Second.OutputFactor)));
            foreach (var fit in fits) fit.Dispose();
        }
        for (int i = 0; i < sides.Length; i++)
            Console.WriteLine($"  {(sides[i] ? "pass per class" : "fewest passes"),-15} {Median(times[i]) * 1000,9:F0} ms  (quartiles {Spread(times[i])})");
        Console.WriteLine($"  fewest_over_per_class {Median(times[1]) / Median(times[0]):F2}; largest output-factor difference {gap:G2} of the factor's largest entry");
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    static double RelativeGap(Tensor expected, Tensor actual)
    {
        using var _ = NewDisposeScope();
        double scale = expected.abs().max().item<float>();
        return scale == 0 ? 0 : (expected - actual).abs().max().item<float>() / scale;
    }

    /// <summary>A source read in its own order: every example reports one length, so <see cref="BatchOrder"/> keeps the data's order.</summary>
    sealed class InDataOrder(IBatchSource data) : IBatchSource
    {
        public int Count => data.Count;
        public int NumClasses => data.NumClasses;
        public int Length(int index) => 0;
        public Batch Make(IReadOnlyList<int> indices, Device device) => data.Make(indices, device);
    }

    /// <summary>The task's <see cref="GoalBatch"/> longest training examples, cut to <see cref="GoalLength"/> tokens.</summary>
    internal static TextBatchSource Longest(TaskData task, TaskModel tm)
    {
        var all = new TextBatchSource(task, task.Train, tm.Tokenizer, GoalLength);
        var longest = Enumerable.Range(0, all.Count).OrderByDescending(all.Length).Take(GoalBatch).Select(i => task.Train[i]).ToList();
        return new TextBatchSource(task, longest, tm.Tokenizer, GoalLength);
    }

    /// <summary>The child's one JSON line (see <see cref="ChildMemory"/>).</summary>
    static int Report(double loaded, long length)
    {
        Console.WriteLine(JsonSerializer.Serialize(new ChildMemory(Rss("VmHWM"), loaded, length, NativeAllocator.Name)));
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
