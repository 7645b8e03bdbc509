using System.CommandLine;
using System.Text.Json;
using Blob.Data;
using Blob.Experiments;
using Blob.Methods;
using Blob.Models;
using Blob.Runtime;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob bench` without --compare: the project's performance report, every figure measured in this one run on this
/// machine. On one batch of the task's 32 longest training examples cut to 256 tokens (RTE's are that long):
/// the matrix-product peak of each precision (best of several products at the model's own shapes); the training step
/// of LoRA and BLoB in fp32 and bf16, timed in alternating blocks so that load on a shared machine hits all alike, with
/// tokens/s, model FLOPs (<see cref="StepFlops"/>) per second and that as a fraction of the same precision's peak;
/// BLoB's N = 10 prediction against one pass, on the task's first 64 evaluation examples at their own lengths (where
/// batched sampling, <see cref="BayesianPrediction"/>, draws several samples per forward call); peak RSS of training and of N = 10 prediction, a fresh process each.
/// --json adds one JSON object as the last line, with named keys for tracking.
/// </summary>
static class BenchReport
{
    /// <summary>The sides, in the order their blocks alternate (the children of <see cref="BenchCommand"/> index them).</summary>
    public static readonly BenchCommand.Arm[] Arms =
    [
        new("LoRA fp32", MethodRegistry.Mle, Precision.Fp32), new("BLoB fp32", MethodRegistry.Blob, Precision.Fp32),
        new("LoRA bf16", MethodRegistry.Mle, Precision.Bf16), new("BLoB bf16", MethodRegistry.Blob, Precision.Bf16),
    ];

    public static int Run(ParseResult p, ExperimentSpec spec, int rounds, int steps, bool json, Precision headline, long tokensPerCall)
    {
        var report = new SortedDictionary<string, object>(StringComparer.Ordinal);
        Console.WriteLine($"model {spec.Model}, task {spec.Task}; {rounds} alternating blocks of {steps} steps per side; " +
                          $"allocator {NativeAllocator.Name}; load average {BenchCommand.LoadAverage()}");
        var benches = Arms.Select(a => BenchCommand.Setup(spec, a, steps, BenchCommand.Longest)).ToArray();
        var data = benches[0].Data;
        int batch = data.Count, length = Enumerable.Range(0, data.Count).Max(data.Length);
        Console.WriteLine($"batch {batch} × {length} tokens (the task's {batch} longest training examples, cut to {BenchCommand.GoalLength})" +
                          (length < BenchCommand.GoalLength ? $"; the goals are stated for {BenchCommand.GoalBatch} × {BenchCommand.GoalLength}: use --task rte" : ""));
        report["batch"] = batch;
        report["tokens"] = length;

        // 1. The matrix-product peak of each precision, at this model's shapes.
        var settings = (benches[0].Model.Model as BertForSequenceClassification)?.Encoder.Settings;
        var peak = new Dictionary<Precision, double>();
        if (settings is not null)
        {
            foreach (var precision in new[] { Precision.Fp32, Precision.Bf16 })
                peak[precision] = MatmulPeak(batch * length, settings.HiddenSize, settings.IntermediateSize, precision == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
            Console.WriteLine($"matrix-product peak   fp32 {peak[Precision.Fp32] / 1e9:F0} GFLOP/s   bf16 {peak[Precision.Bf16] / 1e9:F0} GFLOP/s   " +
                              $"(best of 5 at [{batch * length}×{settings.HiddenSize}]·[{settings.HiddenSize}×{settings.HiddenSize}], ·[{settings.HiddenSize}×{settings.IntermediateSize}], [{batch * length}×{settings.IntermediateSize}]·[{settings.IntermediateSize}×{settings.HiddenSize}])");
            report["fp32_peak_gflops"] = Math.Round(peak[Precision.Fp32] / 1e9, 1);
            report["bf16_peak_gflops"] = Math.Round(peak[Precision.Bf16] / 1e9, 1);
        }
        else Console.WriteLine("matrix-product peak and FLOPs: counted for BERT-family encoders only");

        // 2. Training steps, alternating blocks.
        var times = Arms.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < Arms.Length; i++)
                times[i].AddRange(BenchCommand.TimeBlock(benches[i]));
        var median = times.Select(BenchCommand.Median).ToArray();
        double flops = settings is null ? double.NaN : StepFlops.TrainingStep(benches[0].Model.Model.Module, settings, batch, length);
        if (settings is not null) Console.WriteLine($"model FLOPs a training step: {flops / 1e9:F1} GFLOP (matrix products; forward and backward)");
        for (int i = 0; i < Arms.Length; i++)
        {
            var a = Arms[i];
            string achieved = settings is null ? "" : $"   {flops / median[i] / 1e9:F0} GFLOP/s = {100 * flops / median[i] / peak[a.Precision]:F0}% of the {Precisions.Name(a.Precision)} peak";
            Console.WriteLine($"step  {a.Label,-10} {median[i] * 1000,8:F1} ms  (quartiles {BenchCommand.Spread(times[i])})   {benches[i].TokensPerStep / median[i],6:F0} tokens/s{achieved}");
        }
        double Ratio(int x, int y) => median[x] / median[y];
        Console.WriteLine($"BLoB / LoRA step time   fp32 {Ratio(1, 0):F3}   bf16 {Ratio(3, 2):F3}   (paper ~1.15, goal <= 1.05)");
        Console.WriteLine($"bf16 speed-up (LoRA fp32 / LoRA bf16 step time)   {Ratio(0, 2):F2}×   (goal >= 2)");
        report["bf16_speedup"] = Math.Round(Ratio(0, 2), 3);
        report["blob_lora_time_ratio_fp32"] = Math.Round(Ratio(1, 0), 3);
        report["blob_lora_time_ratio_bf16"] = Math.Round(Ratio(3, 2), 3);
        for (int i = 0; i < Arms.Length; i++) report[$"step_ms_{Key(Arms[i])}"] = Math.Round(median[i] * 1000, 1);
        if (settings is not null)
        {
            report["fp32_fraction_of_peak"] = Math.Round(flops / median[0] / peak[Precision.Fp32], 3);
            report["bf16_fraction_of_peak"] = Math.Round(flops / median[2] / peak[Precision.Bf16], 3);
            report["step_gflop"] = Math.Round(flops / 1e9, 1);
        }
        Console.WriteLine($"load average after timing {BenchCommand.LoadAverage()}");

        // 3. BLoB's N = 10 prediction against one pass (the mean weights), in each precision, alternating, on the task's
        // first evaluation examples as an evaluation sees them (their own lengths, in batches of 32).
        var task = Experiment.LoadTask(spec);
        var evaluation = task.Eval.Take(PredictionExamples).ToList();
        int longestEval = 0;
        foreach (int i in new[] { 1, 3 })
        {
            var eval = new TextBatchSource(task, evaluation, benches[i].Model.Tokenizer, BenchCommand.GoalLength);
            longestEval = Enumerable.Range(0, eval.Count).Max(eval.Length);
            var (one, ten) = (new List<double>(), new List<double>());
            for (int r = 0; r < 2; r++)
            {
                one.Add(TimePrediction(benches[i].Model, eval, 0, tokensPerCall));
                ten.Add(TimePrediction(benches[i].Model, eval, BenchCommand.GoalSamples, tokensPerCall));
            }
            double ratio = BenchCommand.Median(ten) / BenchCommand.Median(one);
            Console.WriteLine($"prediction {Arms[i].Label} ({eval.Count} evaluation examples, up to {longestEval} tokens, batches of {BenchCommand.GoalBatch}): " +
                              $"one pass {BenchCommand.Median(one) * 1000:F0} ms, N = {BenchCommand.GoalSamples} {BenchCommand.Median(ten) * 1000:F0} ms, ratio {ratio:F2}   (goal <= 6)");
            report[$"prediction_n10_over_one_pass_{Precisions.Name(Arms[i].Precision)}"] = Math.Round(ratio, 3);
        }

        // 4. Peak memory, a fresh process each.
        var train = Arms.Select((_, i) => BenchCommand.MeasureChild(p, i, BenchCommand.Phase.Train)).ToArray();
        var predict = new[] { 1, 3 }.ToDictionary(i => Arms[i].Precision, i => BenchCommand.MeasureChild(p, i, BenchCommand.Phase.Predict));
        Console.WriteLine($"peak RSS, training {BenchCommand.GoalSteps} steps (goal <= 2,384 MiB = 2.5 GB):   " +
                          string.Join("   ", Arms.Select((a, i) => $"{a.Label} {train[i].Peak:F0} MiB")));
        Console.WriteLine($"peak RSS, BLoB N = {BenchCommand.GoalSamples} prediction (goal <= 1,431 MiB = 1.5 GB):   " +
                          string.Join("   ", predict.Select(x => $"{Precisions.Name(x.Key)} {x.Value.Peak:F0} MiB")));
        Console.WriteLine($"BLoB / LoRA peak RSS   fp32 {train[1].Peak / train[0].Peak:F3}   bf16 {train[3].Peak / train[2].Peak:F3}   (paper 1.03-1.13, goal <= 1.03)");
        for (int i = 0; i < Arms.Length; i++) report[$"train_peak_rss_mib_{Key(Arms[i])}"] = Math.Round(train[i].Peak);
        foreach (var (precision, m) in predict) report[$"predict_peak_rss_mib_{Precisions.Name(precision)}"] = Math.Round(m.Peak);
        report["blob_lora_memory_ratio_fp32"] = Math.Round(train[1].Peak / train[0].Peak, 3);
        report["blob_lora_memory_ratio_bf16"] = Math.Round(train[3].Peak / train[2].Peak, 3);

        // The headline keys: the figures at the precision a run uses by default (--precision).
        string h = Precisions.Name(headline);
        int lora = headline == Precision.Bf16 ? 2 : 0;
        report["headline_precision"] = h;
        report["blob_lora_time_ratio"] = report[$"blob_lora_time_ratio_{h}"];
        report["blob_lora_memory_ratio"] = report[$"blob_lora_memory_ratio_{h}"];
        report["prediction_n10_over_one_pass"] = report[$"prediction_n10_over_one_pass_{h}"];
        report["train_peak_rss_mib"] = Math.Round(Math.Max(train[lora].Peak, train[lora + 1].Peak));
        report["predict_peak_rss_mib"] = Math.Round(predict[headline].Peak);
        report["load_average_end"] = BenchCommand.LoadAverage();
        Console.WriteLine($"load average at the end {BenchCommand.LoadAverage()}");
        if (json) Console.WriteLine(JsonSerializer.Serialize(report));
        return 0;
    }

    /// <summary>"lora_fp32", "blob_bf16".</summary>
    static string Key(BenchCommand.Arm a) => $"{(a.Kind == MethodRegistry.Mle ? "lora" : a.Kind.Name)}_{Precisions.Name(a.Precision)}";

    /// <summary>How many of the task's evaluation examples the prediction timing predicts.</summary>
    const int PredictionExamples = 64;

    /// <summary>Seconds for one prediction of the data with N samples (0: one pass with the mean weights).</summary>
    static double TimePrediction(TaskModel model, TextBatchSource data, int samples, long tokensPerCall)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        BayesianPrediction.Predict(model.Classifier, data, samples, BenchCommand.GoalBatch, CPU, tokensPerCall: tokensPerCall);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The best FLOP/s of 5 timings of each of the encoder's three product shapes ([T×h]·[h×h], [T×h]·[h×i],
    /// [T×i]·[i×h]) in the given dtype, after one warm-up each.
    /// </summary>
    static double MatmulPeak(long rows, long hidden, long intermediate, ScalarType dtype)
    {
        double best = 0;
        foreach (var (k, n) in new[] { (hidden, hidden), (hidden, intermediate), (intermediate, hidden) })
        {
            using var scope = NewDisposeScope();
            var a = randn(rows, k).to(dtype);
            var b = randn(k, n).to(dtype);
            using (a.matmul(b)) { }
            for (int i = 0; i < 5; i++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                using (a.matmul(b)) { }
                best = Math.Max(best, 2.0 * rows * k * n / clock.Elapsed.TotalSeconds);
            }
        }
        return best;
    }
}
