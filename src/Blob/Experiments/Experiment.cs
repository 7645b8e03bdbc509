using System.Text.Json;
using Blob.Layers;
using Blob.Methods;
using Blob.Data;
using Blob.Evaluation;
using Blob.Reports;
using Blob.Runtime;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Experiments;

/// <summary>One fine-tuning run: which model, which task, which method and settings.</summary>
public sealed record ExperimentSpec
{
    public string Model { get; init; } = ModelZoo.BuiltIn;
    /// <summary>A registry name (rte, mrpc, obqa, ...), "demo-facts", or "custom" with the three files below.</summary>
    public string Task { get; init; } = DemoTask.Name;
    public string? DataRoot { get; init; }
    public string? CustomMapping { get; init; }
    public string? CustomTrain { get; init; }
    public string? CustomEval { get; init; }
    public TrainingOptions Training { get; init; } = new();
    /// <summary>N of the Bayesian prediction; null = the method's default (10 for Bayesian methods, else 0).</summary>
    public int? EvalSamples { get; init; }
    public int EvalBatchSize { get; init; } = 64;
    public string Device { get; init; } = "auto";
    /// <summary>The frozen base's matrix products in float32 or bfloat16 (<see cref="Runtime.Precision"/>).</summary>
    public Precision Precision { get; init; } = Precision.Fp32;
    /// <summary>Use only the first N training / evaluation examples (after a fixed shuffle shared by all runs).</summary>
    public int? MaxTrain { get; init; }
    public int? MaxEval { get; init; }
    /// <summary>Tasks to evaluate the trained adapter on as well (the paper's OBQA → ARC, MMLU protocol).</summary>
    public IReadOnlyList<string> OodTasks { get; init; } = [];
    /// <summary>LAP: the Laplace approximation over the last LoRA layer only (else all).</summary>
    public bool LaplaceLastLayer { get; init; }
}

public sealed record ExperimentResult(RunResult Result, IReadOnlyList<RunResult> OutOfDistribution,
    double[][] Probabilities, int[] Labels, TimeSpan TrainTime, TimeSpan EvalTime);

/// <summary>
/// How a trained model predicts: class probabilities [examples][classes] of the data, read through the classifier (the
/// network's view of one task's answers), telling <paramref name="progress"/> how far it has got.
/// </summary>
public delegate double[][] PredictFunction(IClassifier classifier, IBatchSource data, Action<PredictionProgress>? progress);

/// <summary>
/// Runs an experiment end to end: load → inject the method's adapters → train (checkpointed, resumable) → N-sample
/// prediction → metrics, written to the output folder: result.json, predictions.json, reliability.png and the
/// training checkpoint. Every file is written atomically.
/// </summary>
public static class Experiment
{
    /// <param name="existing">What to do when outputDir already holds a run: refuse (the default), resume it (same
    /// settings only), or overwrite it. See <see cref="RunFolder"/>.</param>
    public static ExperimentResult Run(ExperimentSpec spec, string outputDir, ExistingRun existing = ExistingRun.Refuse,
        Action<TrainingProgress>? onStep = null, CancellationToken cancel = default, Action<string>? log = null,
        Action<PredictionProgress>? onPredict = null)
    {
        var device = Devices.Parse(spec.Device);
        var training = spec.Training;
        var task = LoadSubsampledTask(spec);
        if (task.Train.Count == 0) throw new BlobException($"task '{task.Name}' has no training examples");
        RunFolder.Prepare(outputDir, RunSettings.Of(spec, task), existing);
        bool resume = existing == ExistingRun.Resume;

        manual_seed(training.Seed);
        var tm = ModelZoo.Load(spec.Model, task, device, training.Seed, spec.Precision);
        var method = training.Method with
        {
            Targets = training.Method.Targets.Count > 0 ? training.Method.Targets : tm.DefaultTargets,
            FullyTrained = training.Method.FullyTrained.Count > 0 ? training.Method.FullyTrained : tm.FullyTrained,
        };
        training = training with { Method = method };
        var adapted = MethodSetup.Apply(tm.Model.Module, method);
        log?.Invoke($"{tm.Description}; {method.Kind} adapters on {adapted.Count} layers; " +
                    $"{task.Train.Count} training and {task.Eval.Count} evaluation examples");

        var train = new TextBatchSource(task, task.Train, tm.Tokenizer, training.MaxLength);
        if (train.TruncationNote("training") is { } truncation) log?.Invoke(truncation);
        var trainer = new Trainer(tm.Classifier, train, training, device);
        var trained = trainer.Train(Path.Combine(outputDir, "checkpoint"), resume, onStep, cancel);

        SaveAdapter(tm.Model, method, Path.Combine(outputDir, "adapter"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (predict, predictionNote) = Predictor(tm, train, method, spec, device, log, cancel);
        var (result, probs, labels) = Evaluate(task, task.Eval, tm, tm.Classifier, predict, predictionNote, training, trained,
            Labelled(onPredict, task.Name));
        var evalTime = clock.Elapsed;
        result = result with { TrainSeconds = Math.Round(trained.Elapsed.TotalSeconds, 1), EvalSeconds = Math.Round(evalTime.TotalSeconds, 1) };
        result.Save(Path.Combine(outputDir, "result.json"));
        SavePredictions(Path.Combine(outputDir, "predictions.json"), probs, labels);
        ReliabilityDiagram.Save(Path.Combine(outputDir, "reliability.png"), $"{task.Name}: {method.Kind} (seed {training.Seed})",
            new ReliabilitySeries(method.Kind.ToString().ToUpperInvariant(), Metrics.ReliabilityBins(probs, labels), result.Ece));

        // Each OOD result is saved as soon as it is computed, so a failure or Ctrl-C in a later set loses none.
        var ood = new List<RunResult>();
        foreach (var name in spec.OodTasks)
        {
            var oodTask = Subsample(Tasks.Load(name, spec.DataRoot, task.Kind), 0, spec.MaxEval);
            var classifier = ModelZoo.ClassifierFor(tm, task, oodTask); // a decoder scores the OOD task's own answers
            var (r, _, _) = Evaluate(oodTask, oodTask.Eval, tm, classifier, predict, predictionNote, training, trained,
                Labelled(onPredict, name), note: $"out-of-distribution: trained on {task.Name}" + ScoringNote(task, oodTask));
            r.Save(Path.Combine(outputDir, $"ood-{name}.json"));
            ood.Add(r);
        }
        return new ExperimentResult(result, ood, probs, labels, trained.Elapsed, evalTime);
    }

    /// <summary>
    /// Evaluates a saved adapter (ours or PEFT's) on the spec's task and its OOD tasks. The method comes from the adapter:
    /// BLoB and BBB predict with N samples, MC dropout with N dropout masks, a folder of member-* adapters is an ensemble
    /// (their probabilities averaged), and laplace = true fits the Laplace approximation on the task's training split.
    /// Each task's result goes to <paramref name="onResult"/> as soon as it is computed (for an ensemble: once the last
    /// member has predicted it), before the next task is evaluated.
    /// </summary>
    public static IReadOnlyList<RunResult> EvaluateAdapter(ExperimentSpec spec, string adapterDir, bool laplace, Action<string>? log = null,
        Action<RunResult>? onResult = null, Action<PredictionProgress>? onPredict = null, CancellationToken cancel = default)
    {
        var device = Devices.Parse(spec.Device);
        var task = LoadSubsampledTask(spec);
        var members = Directory.Exists(adapterDir)
            ? Directory.GetDirectories(adapterDir, "member-*").OrderBy(d => d, StringComparer.Ordinal).ToArray() : [];
        var folders = members.Length > 0 ? members : [adapterDir];
        var evalSets = new List<(TaskData Task, string? Note)> { (task, null) };
        foreach (var name in spec.OodTasks)
            evalSets.Add((Subsample(Tasks.Load(name, spec.DataRoot, task.Kind), 0, spec.MaxEval), $"out-of-distribution: adapter evaluated on {name}"));

        var sums = evalSets.Select(_ => (double[][]?)null).ToArray();
        var results = new List<RunResult>();
        string description = "", predictionNote = "";
        MethodKind kind = MethodKind.Mle;
        for (int f = 0; f < folders.Length; f++)
        {
            using var scope = NewDisposeScope();
            var tm = ModelZoo.Load(spec.Model, task, device, spec.Training.Seed, spec.Precision);
            PeftAdapterFormat.Load(tm.Model, folders[f]);
            // before any prediction, so that a task the model cannot answer fails at once
            var classifiers = evalSets.Select(set => ModelZoo.ClassifierFor(tm, task, set.Task)).ToList();
            var adapters = AdapterInjection.Adapters(tm.Model.Module).Select(a => a.Adapter).ToList();
            kind = members.Length > 0 ? MethodKind.Ens : laplace ? MethodKind.Lap : adapters[0] switch
            {
                BlobAdapter => MethodKind.Blob,
                BbbAdapter => MethodKind.Bbb,
                LoraAdapter { DropoutAtInference: true } => MethodKind.Mcd,
                _ => MethodKind.Mle,
            };
            var method = new MethodOptions { Kind = kind == MethodKind.Ens ? MethodKind.Mle : kind };
            var train = new TextBatchSource(task, task.Train, tm.Tokenizer, spec.Training.MaxLength);
            manual_seed(spec.Training.Seed); // the N weight samples come from the seed: evaluating twice gives the same numbers
            var (predict, note) = Predictor(tm, train, method, spec, device, log, cancel);
            description = tm.Description;
            predictionNote = members.Length > 0 ? $"ensemble of {members.Length} saved members, probabilities averaged" : note;
            for (int i = 0; i < evalSets.Count; i++)
            {
                var name = evalSets[i].Task.Name;
                var data = new TextBatchSource(evalSets[i].Task, evalSets[i].Task.Eval, tm.Tokenizer, spec.Training.MaxLength);
                if (f == 0 && data.TruncationNote("evaluation") is { } truncation) log?.Invoke($"{name}: {truncation}");
                var probs = predict(classifiers[i], data, Labelled(onPredict, members.Length > 0 ? $"{name} (member {f + 1} of {members.Length})" : name));
                sums[i] = sums[i] is null ? probs : sums[i]!.Select((row, r) => row.Select((v, c) => v + probs[r][c]).ToArray()).ToArray();
                if (f < folders.Length - 1) continue;
                var result = AdapterResult(evalSets[i].Task, evalSets[i].Note + ScoringNote(task, evalSets[i].Task), sums[i]!, folders.Length, kind, spec, description,
                    $"adapter: {adapterDir}; {predictionNote}");
                results.Add(result);
                onResult?.Invoke(result);
            }
        }
        return results;
    }

    /// <summary>The result of a saved adapter on one task, from its members' summed probabilities.</summary>
    static RunResult AdapterResult(TaskData task, string? oodNote, double[][] probabilitySums, int members, MethodKind kind,
        ExperimentSpec spec, string description, string adapterNote)
    {
        var probs = probabilitySums.Select(row => row.Select(v => v / members).ToArray()).ToArray();
        var labels = task.Eval.Select(e => e.Label).ToArray();
        var notes = new List<string> { $"model: {description}", adapterNote };
        if (task.Note is { } n) notes.Add(n);
        if (!string.IsNullOrEmpty(oodNote)) notes.Add(oodNote);
        return RunResult.From(task.Name, kind.ToString().ToLowerInvariant(), (int)spec.Training.Seed, Metrics.Evaluate(probs, labels), notes);
    }

    /// <summary>
    /// Saves the trained adapter in PEFT's layout (the mean for BLoB and BBB, with G under its own key). An ensemble is
    /// saved as one PEFT adapter per member, in member-1, member-2, ...
    /// </summary>
    public static void SaveAdapter(Blob.Models.ILanguageModel model, MethodOptions method, string dir)
    {
        if (method.Kind != MethodKind.Ens)
        {
            PeftAdapterFormat.Save(model, dir);
            return;
        }
        var layers = AdapterInjection.LinearLayers(model.Module).Where(l => l.Layer.Adapter is EnsembleAdapter).ToList();
        var ensembles = layers.Select(l => (EnsembleAdapter)l.Layer.Adapter!).ToList();
        try
        {
            for (int m = 0; m < method.EnsembleSize; m++)
            {
                for (int i = 0; i < layers.Count; i++) layers[i].Layer.Adapter = ensembles[i].members[m];
                PeftAdapterFormat.Save(model, Path.Combine(dir, $"member-{m + 1}"));
            }
        }
        finally
        {
            for (int i = 0; i < layers.Count; i++) layers[i].Layer.Adapter = ensembles[i];
        }
    }

    /// <summary>
    /// How the trained model predicts: N-sample Bayesian averaging (MLE/MAP/MCD/BBB/BLoB), the members' combination
    /// (ENS), or the Laplace approximation's linearised predictive fitted on the training set (LAP). Every prediction
    /// stops with an <see cref="OperationCanceledException"/> once <paramref name="cancel"/> is cancelled.
    /// </summary>
    public static (PredictFunction Predict, string Note) Predictor(TaskModel tm, IBatchSource train,
        MethodOptions method, ExperimentSpec spec, Device device, Action<string>? log, CancellationToken cancel = default)
    {
        switch (method.Kind)
        {
            case MethodKind.Ens:
                return ((classifier, d, progress) => BayesianPrediction.Predict(new EnsembleClassifier(classifier, method.EnsembleAveragesProbabilities),
                        d, 0, spec.EvalBatchSize, device, progress, cancel),
                    $"{method.EnsembleSize} members, {(method.EnsembleAveragesProbabilities ? "probabilities" : "logits")} averaged");
            case MethodKind.Lap:
                var laplace = Blob.Methods.LaplaceLora.Fit(tm.Classifier, train,
                    new Blob.Methods.LaplaceOptions { Subset = spec.LaplaceLastLayer ? Blob.Methods.LaplaceSubset.LastLayer : Blob.Methods.LaplaceSubset.All },
                    device, cancel);
                log?.Invoke($"Laplace: prior precision {laplace.PriorPrecision:G4} (tuned by marginal likelihood), {laplace.ParameterCount} parameters");
                return ((classifier, d, progress) => laplace.PredictProbabilities(d, spec.EvalBatchSize, device, classifier, progress, cancel),
                    $"K-FAC Laplace over {(spec.LaplaceLastLayer ? "the last LoRA layer" : "all LoRA layers")}, prior precision {laplace.PriorPrecision:G4}, GLM predictive (Monte Carlo)");
            default:
                int samples = spec.EvalSamples ?? method.DefaultSamples;
                return ((classifier, d, progress) => BayesianPrediction.Predict(classifier, d, samples, spec.EvalBatchSize, device, progress, cancel),
                    samples == 0 ? "prediction with the mean weights (N = 0)" : $"prediction averages N = {samples} samples");
        }
    }

    static (RunResult, double[][], int[]) Evaluate(TaskData task, IReadOnlyList<Example> examples, TaskModel tm, IClassifier classifier,
        PredictFunction predict, string predictionNote, TrainingOptions training,
        TrainingResult trained, Action<PredictionProgress>? progress, string? note = null)
    {
        var data = new TextBatchSource(task, examples, tm.Tokenizer, training.MaxLength);
        var probs = predict(classifier, data, progress);
        var labels = data.Labels;
        var notes = new List<string>
        {
            $"model: {tm.Description}",
            $"method: {training.Method.Kind}, rank {training.Method.Rank}, alpha {training.Method.Alpha}; {predictionNote}",
            $"training: {trained.Steps} steps of {training.ExamplesPerStep} examples, lr {training.LearningRate}",
        };
        if (task.Note is { } n) notes.Add(n);
        if (data.TruncationNote("evaluation") is { } truncation) notes.Add(truncation);
        if (note is not null) notes.Add(note);
        return (RunResult.From(task.Name, training.Method.Kind.ToString().ToLowerInvariant(), (int)training.Seed,
            Metrics.Evaluate(probs, labels), notes), probs, labels);
    }

    /// <summary>The spec's task as a run sees it: loaded, then cut to --max-train / --max-eval.</summary>
    public static TaskData LoadSubsampledTask(ExperimentSpec spec) => Subsample(LoadTask(spec), spec.MaxTrain, spec.MaxEval);

    /// <summary>"; answers scored by the tokens [A, B, C, D, E]" where a decoder answers another task's choices than its own.</summary>
    static string ScoringNote(TaskData trained, TaskData target) =>
        target.Kind == TaskKind.MultipleChoice && !target.Labels.SequenceEqual(trained.Labels)
            ? $"; answers scored by the tokens [{string.Join(", ", target.Labels)}]" : "";

    /// <summary>The progress callback with the evaluation set's name filled in (null stays null).</summary>
    static Action<PredictionProgress>? Labelled(Action<PredictionProgress>? onPredict, string task) =>
        onPredict is null ? null : p => onPredict(p with { Task = task });

    public static TaskData LoadTask(ExperimentSpec spec)
    {
        if (spec.Task == DemoTask.Name) return DemoTask.Generate();
        if (spec.Task == "custom")
        {
            if (spec.CustomMapping is null || spec.CustomTrain is null || spec.CustomEval is null)
                throw new BlobException("a custom task needs --mapping, --train-file and --eval-file");
            return CustomTask.Load(spec.CustomMapping, spec.CustomTrain, spec.CustomEval);
        }
        return Tasks.Load(spec.Task, spec.DataRoot);
    }

    /// <summary>The first N examples after a shuffle with a fixed seed, the same for every method and run seed.</summary>
    public static TaskData Subsample(TaskData task, int? maxTrain, int? maxEval)
    {
        static IReadOnlyList<Example> Take(IReadOnlyList<Example> xs, int? n)
        {
            if (n is null || n >= xs.Count) return xs;
            var copy = xs.ToArray();
            new Random(12345).Shuffle(copy);
            return copy.Take(n.Value).ToList();
        }
        return task with { Train = Take(task.Train, maxTrain), Eval = Take(task.Eval, maxEval) };
    }

    /// <summary>Probabilities that are not finite (a diverged model's) are written as null, which JSON allows, and read back as NaN.</summary>
    public static void SavePredictions(string path, double[][] probabilities, int[] labels) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new { labels, probabilities }, PredictionJson));

    static readonly JsonSerializerOptions PredictionJson = new() { Converters = { new NonFiniteAsNullConverter() } };

    public static (double[][] Probabilities, int[] Labels) LoadPredictions(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var labels = doc.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var probs = doc.RootElement.GetProperty("probabilities").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray()).ToArray();
        return (probs, labels);
    }
}
