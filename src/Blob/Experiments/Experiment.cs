using System.Text.Json;
using System.Text.Json.Serialization;
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

/// <summary>
/// One fine-tuning run: which model, which task, which method and settings. Its defaults, and those of the records it
/// holds (<see cref="TrainingOptions"/>, <see cref="MethodOptions"/> and the methods' sections), are the only ones:
/// the command line takes its defaults from here. Its canonical JSON (<see cref="SettingsJson"/>) is the run's
/// settings.json (<see cref="RunSettings"/>).
/// </summary>
public sealed record ExperimentSpec
{
    public string Model { get; init; } = ModelZoo.BuiltIn;
    /// <summary>A registry name (rte, mrpc, obqa, ...), a built-in generated task ("demo-facts", "demo-ambiguous", "demo-ambiguous-tuning", "demo-noisy"), or "custom" with the three files below.</summary>
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
    public Precision Precision { get; init; } = Precision.Auto;
    /// <summary>Use only the first N training / evaluation examples (after a fixed shuffle shared by all runs).</summary>
    public int? MaxTrain { get; init; }
    public int? MaxEval { get; init; }
    /// <summary>Tasks to evaluate the trained adapter on as well (the paper's OBQA → ARC, MMLU protocol).</summary>
    public IReadOnlyList<string> OodTasks { get; init; } = [];
    /// <summary>
    /// The blind protocol: this fraction of the training split (after --max-train) is held out as the validation split
    /// (<see cref="ValidationSplit"/>), on which settings are chosen; 0 = none, training uses the whole split.
    /// </summary>
    public double ValidationFraction { get; init; }
    /// <summary>Which splits the run evaluates; null = the validation split where there is one, else dev.</summary>
    [ChangesNoResult] // a run trained for the validation table is the same run when the dev table asks for it
    public EvaluatedSplits? Evaluate { get; init; }
    /// <summary>
    /// A post-hoc calibration fitted on the validation split and applied to every evaluated split (<see cref="RunCalibration"/>);
    /// null: none. Not a setting of the run: it adds calibrated results beside the raw ones and changes none of them.
    /// </summary>
    [JsonConverter(typeof(CalibratorNameConverter)), ChangesNoResult]
    public Calibrator? Calibrate { get; init; }

    /// <summary>
    /// Whether the run also evaluates its mean weights (N = 0) beside its N samples: a method that reports both
    /// (<see cref="FineTuningMethod.ReportsMeanPrediction"/>) predicting with N &gt; 0.
    /// </summary>
    [JsonIgnore]
    public bool ReportsMean => Training.Method.Kind.ReportsMeanPrediction && (EvalSamples ?? Training.Method.DefaultSamples) > 0;

    /// <summary>
    /// <see cref="Evaluate"/> resolved: a run with a validation split does not look at dev unless asked to; a calibrated
    /// run evaluates its validation split as well as dev, since the calibration is fitted there.
    /// </summary>
    [JsonIgnore]
    public EvaluatedSplits Splits
    {
        get
        {
            var splits = Evaluate ?? (ValidationFraction > 0 ? EvaluatedSplits.Validation : EvaluatedSplits.Dev);
            bool calibrated = Calibrate is not null && ValidationFraction > 0;
            return splits == EvaluatedSplits.Dev && calibrated ? EvaluatedSplits.Both : splits;
        }
    }
}

/// <summary>
/// Which splits a run evaluates: the reported one (the task's dev or test split, with the out-of-distribution sets), the
/// validation split, or both. It changes no result, only which are computed: a run trained for a validation table is
/// reused for the dev table (its training is done; only dev is evaluated).
/// </summary>
public enum EvaluatedSplits { Dev, Validation, Both }

/// <summary>
/// What a run produced: Result is the reported split's (dev's) result where dev was evaluated, else the validation
/// split's; Validation is the validation split's (null without one); Probabilities and Labels go with Result.
/// </summary>
public sealed record ExperimentResult(RunResult Result, IReadOnlyList<RunResult> OutOfDistribution,
    double[][] Probabilities, int[] Labels, TimeSpan TrainTime, TimeSpan EvalTime, RunResult? Validation = null)
{
    /// <summary>The calibrated results (--calibrate: validation, dev, each out-of-distribution set), in that order; empty without.</summary>
    public IReadOnlyList<RunResult> Calibrated { get; init; } = [];
}

/// <summary>
/// Runs an experiment end to end: load → inject the method's adapters → train (checkpointed, resumable) → N-sample
/// prediction → metrics, written to the output folder: result.json, predictions.json, reliability.png, the
/// training checkpoint, the per-step training-log.csv and its training-curves.png, TensorBoard event files
/// (tensorboard/: the training log's, <see cref="TrainingLog"/>, and the metrics', <see cref="RunEvents"/>) and, for
/// methods that sample, embedding-variance.csv
/// (<see cref="EmbeddingVariance"/>). Every file is written atomically.
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
        if (spec.Calibrate is { } calibrate && task.Validation.Count == 0)
            throw new BlobException($"--calibrate {calibrate.Name}: there is no validation split to fit on; carve one with --validation-fraction");
        var settings = RunSettings.Of(spec, task);
        RunFolder.Prepare(outputDir, settings, existing);
        bool resume = existing == ExistingRun.Resume;

        manual_seed(training.Seed);
        using var scope = NewDisposeScope(); // the run's tensors, and (below) its model, die with the run
        var tm = ModelZoo.Load(spec.Model, task, device, training.Seed, spec.Precision);
        using var model = tm.Model.Module;
        var method = tm.WithDefaults(training.Method);
        training = training with { Method = method };
        var adapted = method.Apply(tm.Model.Module);
        log?.Invoke($"{tm.Description}; {method.Kind.DisplayName} adapters on {adapted.Count} layers; " +
                    $"{task.Train.Count} training{(task.Validation.Count > 0 ? $", {task.Validation.Count} validation" : "")} and {task.Eval.Count} evaluation examples");

        var train = new TextBatchSource(task, task.Train, tm.Tokenizer, training.MaxLength);
        if (train.TruncationNote("training") is { } truncation) log?.Invoke(truncation);
        var trainer = new Trainer(tm.Classifier, train, training, device, settings.Fingerprint);
        var logPath = Path.Combine(outputDir, TrainingLog.FileName);
        var trained = trainer.Train(Path.Combine(outputDir, "checkpoint"), resume, onStep, cancel, logPath);
        TrainingCurves.Save(Path.Combine(outputDir, TrainingCurves.FileName),
            $"{task.Name}: {method.Kind.DisplayName} (seed {training.Seed})", TrainingLog.Read(logPath));
        var stdPath = Path.Combine(outputDir, PosteriorStdLog.FileName);
        if (File.Exists(stdPath) && PosteriorStdLog.Read(stdPath) is { Count: > 0 } stdRows)
            PosteriorStdFigure.Save(Path.Combine(outputDir, PosteriorStdFigure.FileName), $"{task.Name}: {method.Kind.DisplayName}", stdRows);

        method.Kind.Save(tm.Model, method, Path.Combine(outputDir, "adapter"));
        NativeAllocator.ReleaseFreePages(); // training's pages, before prediction's (see there)

        // Every split's N weight samples start from the RNG state training left (restored by a resumption too), so a
        // split's numbers do not depend on which other splits this run evaluates. A split whose files a resumed run
        // already holds is read back, not evaluated again; the predictor (for Laplace, a fit) is made only when needed.
        using var afterTraining = random.get_rng_state();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Predictor? predictor = null, meanPredictor = null;
        try
        {
            Predictor Predictor() => predictor ??= method.Kind.Predictor(
                new PredictionSetup(tm.Classifier, train, method, spec.EvalSamples, spec.EvalBatchSize, device, log, cancel));
            // a method that samples and reports its mean weights too (BLoB at N = 0 beside N = 10): one more pass per split
            bool withMean = spec.ReportsMean;
            Predictor MeanPredictor() => meanPredictor ??= method.Kind.Predictor(
                new PredictionSetup(tm.Classifier, train, method, 0, spec.EvalBatchSize, device, log, cancel));
            var evaluated = new List<(RunFiles, RunResult)>();
            (RunResult, double[][], int[]) EvaluateSplit(TaskData set, IReadOnlyList<Example> examples, RunFiles files, IClassifier classifier, string? note = null)
            {
                var split = files.Exists(outputDir) ? files.Load(outputDir) : EvaluateAnew(set, examples, files, classifier, note, Predictor(), method.Kind.Name);
                evaluated.Add((files, split.Item1));
                if (withMean && (files == RunFiles.Dev || files == RunFiles.Validation))
                {
                    var mean = RunFiles.MeanOf(files)!;
                    evaluated.Add((mean, mean.Exists(outputDir) ? mean.Load(outputDir).Item1
                        : EvaluateAnew(set, examples, mean, classifier, note, MeanPredictor(), RunFiles.MeanMethod(method.Kind.Name)).Item1));
                }
                RunEvents.Write(outputDir, trained.Steps, evaluated); // every split's metrics so far, beside the training log's stream
                return split;
            }
            (RunResult, double[][], int[]) EvaluateAnew(TaskData set, IReadOnlyList<Example> examples, RunFiles files, IClassifier classifier, string? note,
                Predictor by, string methodName)
            {
                random.set_rng_state(afterTraining);
                var (r, p, l, variance, mutualInformation) = Evaluate(set, examples, tm, classifier, by, training, trained, Labelled(onPredict, set.Name), note,
                    withEmbeddingVariance: files.EmbeddingVariance is not null);
                r = r with { Method = methodName, TrainSeconds = Math.Round(trained.Elapsed.TotalSeconds, 1), EvalSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1), Split = files.Split };
                files.Save(outputDir, r, p, l, $"{set.Name}{files.Caption}: {method.Kind.DisplayName} (seed {training.Seed})", method.Kind.DisplayName,
                    variance, mutualInformation);
                clock.Restart();
                NativeAllocator.ReleaseFreePages();
                return (r, p, l);
            }

            RunResult? validation = null;
            if (spec.Splits != EvaluatedSplits.Dev)
                validation = EvaluateSplit(task, task.Validation, RunFiles.Validation, tm.Classifier,
                    $"validation split: {task.Validation.Count} of the training split's examples held out (fraction {spec.ValidationFraction}, label-stratified), not trained on").Item1;
            if (spec.Splits == EvaluatedSplits.Validation)
                return Calibrated(new ExperimentResult(validation!, [], [], [], trained.Elapsed, clock.Elapsed, validation));

            var (result, probs, labels) = EvaluateSplit(task, task.Eval, RunFiles.Dev, tm.Classifier);
            // Each OOD result is saved as soon as it is computed, so a failure or Ctrl-C in a later set loses none.
            var ood = new List<RunResult>();
            foreach (var name in spec.OodTasks)
            {
                var oodTask = Subsample(Tasks.Load(name, spec.DataRoot, task.Kind), 0, spec.MaxEval);
                var classifier = ModelZoo.ClassifierFor(tm, task, oodTask); // a decoder scores the OOD task's own answers
                ood.Add(EvaluateSplit(oodTask, oodTask.Eval, RunFiles.OutOfDistribution(name), classifier,
                    $"out-of-distribution: trained on {task.Name}" + ScoringNote(task, oodTask)).Item1);
            }
            return Calibrated(new ExperimentResult(result, ood, probs, labels, trained.Elapsed, TimeSpan.FromSeconds(result.EvalSeconds ?? 0), validation));

            // --calibrate: fitted on the validation split's predictions, applied to every split this run evaluated
            ExperimentResult Calibrated(ExperimentResult r)
            {
                if (spec.Calibrate is not { } calibrator) return r;
                var splits = evaluated.Select(e => e.Item1).Where(f => f == RunFiles.Validation || f == RunFiles.Dev || f.Result.StartsWith("ood-")).ToList();
                RunCalibration.Apply(outputDir, calibrator, splits);
                return r with { Calibrated = splits.Select(f => RunCalibration.FilesOf(f)).Where(f => f.Exists(outputDir)).Select(f => f.Load(outputDir).Item1).ToList() };
            }
        }
        finally { predictor?.Dispose(); meanPredictor?.Dispose(); }
    }

    /// <summary>
    /// Evaluates a saved adapter (ours or PEFT's) on the spec's task and its OOD tasks. The method is the one that saved
    /// the adapter (<see cref="MethodRegistry.OfSavedAdapter"/>: BLoB and BBB predict with N samples, MC dropout with N
    /// dropout masks, an ensemble's members are combined), or <paramref name="applying"/>, a post-hoc method (Laplace)
    /// fitted on the task's training split over a saved LoRA. Each task's result goes to <paramref name="onResult"/>
    /// as soon as it is computed, before the next task is evaluated.
    /// </summary>
    public static IReadOnlyList<RunResult> EvaluateAdapter(ExperimentSpec spec, string adapterDir, FineTuningMethod? applying = null,
        Action<string>? log = null, Action<RunResult>? onResult = null, Action<PredictionProgress>? onPredict = null,
        CancellationToken cancel = default)
    {
        var device = Devices.Parse(spec.Device);
        var task = LoadSubsampledTask(spec);
        var saved = MethodRegistry.OfSavedAdapter(adapterDir);
        if (applying is { AppliesToTrainedLora: false })
            throw new BlobException($"--method {applying.Name} trains its own adapters; only {string.Join(", ", MethodRegistry.All.Where(m => m.AppliesToTrainedLora).Select(m => m.Name))} apply to a saved adapter");
        if (applying is not null && saved != MethodRegistry.Mle)
            throw new BlobException($"{adapterDir}: a {saved.DisplayName} adapter; --method {applying.Name} applies to a plain LoRA adapter only");
        var method = applying ?? saved;
        var evalSets = new List<(TaskData Task, string? Note)> { (task, null) };
        foreach (var name in spec.OodTasks)
            evalSets.Add((Subsample(Tasks.Load(name, spec.DataRoot, task.Kind), 0, spec.MaxEval), $"out-of-distribution: adapter evaluated on {name}"));

        using var scope = NewDisposeScope(); // the evaluation's tensors, and its model, die with it
        var tm = ModelZoo.Load(spec.Model, task, device, spec.Training.Seed, spec.Precision);
        using var model = tm.Model.Module;
        var options = method.Load(tm.Model, adapterDir, spec.Training.Method with { Kind = method });
        // before any prediction, so that a task the model cannot answer fails at once
        var classifiers = evalSets.Select(set => ModelZoo.ClassifierFor(tm, task, set.Task)).ToList();
        var train = new TextBatchSource(task, task.Train, tm.Tokenizer, spec.Training.MaxLength);
        manual_seed(spec.Training.Seed); // the N weight samples come from the seed: evaluating twice gives the same numbers
        using var predictor = method.Predictor(new PredictionSetup(tm.Classifier, train, options, spec.EvalSamples, spec.EvalBatchSize, device, log, cancel));
        // a calibration: --calibrate fits one on the validation split now; else the one saved with the adapter, if any
        var calibration = RunCalibration.Load(adapterDir);
        if (spec.Calibrate is { } calibrator)
        {
            if (task.Validation.Count == 0)
                throw new BlobException($"--calibrate {calibrator.Name}: there is no validation split to fit on; carve one with --validation-fraction");
            var validation = new TextBatchSource(task, task.Validation, tm.Tokenizer, spec.Training.MaxLength);
            calibration = calibrator.Fit(predictor.Predict(tm.Classifier, validation, Labelled(onPredict, $"{task.Name} (validation)")), validation.Labels);
            log?.Invoke($"{task.Name} (validation split, {task.Validation.Count} examples): {calibration.Note}");
            manual_seed(spec.Training.Seed); // the evaluation's samples as without --calibrate
        }
        var results = new List<RunResult>();
        for (int i = 0; i < evalSets.Count; i++)
        {
            var (set, oodNote) = evalSets[i];
            var data = new TextBatchSource(set, set.Eval, tm.Tokenizer, spec.Training.MaxLength);
            if (data.TruncationNote("evaluation") is { } truncation) log?.Invoke($"{set.Name}: {truncation}");
            var probs = predictor.Predict(classifiers[i], data, Labelled(onPredict, set.Name));
            Metrics.RequireFinite(probs, $"{set.Name} with the adapter {adapterDir}");
            var notes = new List<string> { $"model: {tm.Description}", $"adapter: {adapterDir}; {predictor.Note}" };
            if (set.Note is { } n) notes.Add(n);
            if (!string.IsNullOrEmpty(oodNote + ScoringNote(task, set))) notes.Add(oodNote + ScoringNote(task, set));
            var result = RunResult.From(set.Name, method.Name, (int)spec.Training.Seed, Metrics.Evaluate(probs, data.Labels), notes);
            results.Add(result);
            onResult?.Invoke(result);
            if (calibration is null) continue;
            var calibrated = RunResult.From(set.Name, RunCalibration.MethodName(method.Name, calibration.Kind), (int)spec.Training.Seed,
                Metrics.Evaluate(calibration.Apply(probs), data.Labels), [.. notes, calibration.Note]);
            results.Add(calibrated);
            onResult?.Invoke(calibrated);
        }
        return results;
    }

    /// <summary>
    /// One split's prediction and metrics; a predictor that samples also records, from the same passes, each example's
    /// mutual information and, with <paramref name="withEmbeddingVariance"/>, its final-embedding variance (null otherwise).
    /// </summary>
    static (RunResult, double[][], int[], double[]? EmbeddingVariance, double[]? MutualInformation) Evaluate(TaskData task,
        IReadOnlyList<Example> examples, TaskModel tm, IClassifier classifier, Predictor predictor, TrainingOptions training,
        TrainingResult trained, Action<PredictionProgress>? progress, string? note = null, bool withEmbeddingVariance = false)
    {
        var data = new TextBatchSource(task, examples, tm.Tokenizer, training.MaxLength);
        double[][] probs;
        double[]? variance = null, mutualInformation = null;
        if (predictor.PredictSampled is { } sampled)
            (probs, mutualInformation, variance) = sampled(classifier, data,
                withEmbeddingVariance && FinalEmbeddings.Head(classifier.Module) is not null, progress);
        else probs = predictor.Predict(classifier, data, progress);
        Metrics.RequireFinite(probs, task.Name);
        var labels = data.Labels;
        var notes = new List<string>
        {
            $"model: {tm.Description}",
            $"method: {training.Method.Kind.DisplayName}, rank {training.Method.Rank}, alpha {training.Method.Alpha}; {predictor.Note}",
            $"training: {trained.Steps} steps of {training.ExamplesPerStep} examples, lr {training.LearningRate}",
        };
        if (task.Note is { } n) notes.Add(n);
        if (data.TruncationNote("evaluation") is { } truncation) notes.Add(truncation);
        if (note is not null) notes.Add(note);
        return (RunResult.From(task.Name, training.Method.Kind.Name, (int)training.Seed,
            Metrics.Evaluate(probs, labels), notes), probs, labels, variance, mutualInformation);
    }

    /// <summary>
    /// The spec's task as a run sees it: loaded, cut to --max-train / --max-eval, then its validation split carved from
    /// the training split (--validation-fraction). Refuses an --evaluate that asks for a validation split there is not.
    /// </summary>
    public static TaskData LoadSubsampledTask(ExperimentSpec spec)
    {
        var task = Subsample(LoadTask(spec), spec.MaxTrain, spec.MaxEval);
        if (spec.ValidationFraction == 0)
            return spec.Splits == EvaluatedSplits.Dev ? task
                : throw new BlobException($"--evaluate {spec.Splits.ToString().ToLowerInvariant()}: there is no validation split; carve one with --validation-fraction");
        if (!(spec.ValidationFraction > 0 && spec.ValidationFraction < 1))
            throw new BlobException($"--validation-fraction {spec.ValidationFraction}: must be above 0 and below 1");
        var carved = ValidationSplit.Apply(task, spec.ValidationFraction);
        if (carved.Validation.Count == 0 || carved.Train.Count == 0)
            throw new BlobException($"--validation-fraction {spec.ValidationFraction}: of {task.Train.Count} training examples it leaves " +
                                    $"{carved.Train.Count} to train on and {carved.Validation.Count} to validate on; both need some");
        return carved;
    }

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
        if (spec.Task == NoisyDemoTask.Name) return NoisyDemoTask.Generate();
        if (spec.Task == AmbiguousDemoTask.Name) return AmbiguousDemoTask.Generate();
        if (spec.Task == AmbiguousDemoTask.TuningName) return AmbiguousDemoTask.GenerateTuning();
        if (spec.Task == "custom")
        {
            if (spec.CustomMapping is null || spec.CustomTrain is null || spec.CustomEval is null)
                throw new BlobException("a custom task needs --mapping, --train-file and --eval-file");
            return CustomTask.Load(spec.CustomMapping, spec.CustomTrain, spec.CustomEval);
        }
        // an encoder reads BoolQ as a pair and the multiple-choice tasks as (question, choice) pairs
        return Tasks.Load(spec.Task, spec.DataRoot, Tasks.KindFor(spec.Task, ModelZoo.IsEncoder(spec.Model)));
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

    /// <summary>
    /// A split's predictions file: labels, probabilities and, for a method that samples, each example's mutual
    /// information over the samples ("mutual_information"; files without it, older ones included, are read the same).
    /// Numbers that are not finite (a diverged model's) are written as null, which JSON allows, and read back as NaN.
    /// </summary>
    public static void SavePredictions(string path, double[][] probabilities, int[] labels, double[]? mutualInformation = null)
    {
        if (mutualInformation is not null && mutualInformation.Length != labels.Length)
            throw new ArgumentException($"{mutualInformation.Length} mutual informations for {labels.Length} examples");
        AtomicFile.WriteAllText(path, mutualInformation is null
            ? JsonSerializer.Serialize(new { labels, probabilities }, PredictionJson)
            : JsonSerializer.Serialize(new { labels, probabilities, mutual_information = mutualInformation }, PredictionJson));
    }

    static readonly JsonSerializerOptions PredictionJson = new() { Converters = { new NonFiniteAsNullConverter() } };

    public static (double[][] Probabilities, int[] Labels) LoadPredictions(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var labels = doc.RootElement.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var probs = doc.RootElement.GetProperty("probabilities").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(Number).ToArray()).ToArray();
        return (probs, labels);
    }

    /// <summary>The file's per-example mutual information, or null where it records none (a one-pass method, or an older file).</summary>
    public static double[]? LoadMutualInformation(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        if (!doc.RootElement.TryGetProperty("mutual_information", out var values)) return null;
        var mutualInformation = values.EnumerateArray().Select(Number).ToArray();
        int examples = doc.RootElement.GetProperty("labels").GetArrayLength();
        if (mutualInformation.Length != examples)
            throw new BlobException($"{path}: {mutualInformation.Length} mutual information values for {examples} examples");
        return mutualInformation;
    }

    static double Number(JsonElement v) => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble();
}
