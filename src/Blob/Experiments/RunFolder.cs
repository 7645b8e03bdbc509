using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Training;
using Blob.Evaluation;
using Blob.Reports;

namespace Blob.Experiments;

/// <summary>What to do when a run's output folder already holds a run (a result or a checkpoint).</summary>
public enum ExistingRun
{
    /// <summary>Stop with an error naming what is there: nothing is replaced by accident.</summary>
    Refuse,
    /// <summary>Continue it (from its checkpoint), provided it was made with the same settings.</summary>
    Resume,
    /// <summary>Delete the run's files, then start afresh.</summary>
    Overwrite,
}

/// <summary>
/// The files one evaluated split writes in a run's folder: its risk–coverage curve (<see cref="Metrics.RiskCoverage"/>
/// as CSV: rank, coverage, risk, confidence, correct, index), its predictions and its reliability diagram, then its
/// result (written last, so that a result file means the split is complete). Out-of-distribution sets write the same
/// but for the embedding variance. Runs written before the curve was recorded lack it, and out-of-distribution results
/// written before their predictions were (<paramref name="PredictionsOptional"/>: kept OBQA records, which no adapter is
/// left to evaluate again) lack those: both still count as complete.
/// </summary>
public sealed record RunFiles(string Result, string? Predictions = null, string? Diagram = null, string? Split = null, string? RiskCoverage = null,
    string? EmbeddingVariance = null, bool PredictionsOptional = false)
{
    public static readonly RunFiles Dev = new(RunFolder.Result, RunFolder.Predictions, "reliability.png", RiskCoverage: "risk-coverage.csv",
        EmbeddingVariance: Evaluation.EmbeddingVariance.FileName);
    public static readonly RunFiles Validation = new("validation.json", "validation-predictions.json", "validation-reliability.png", "validation",
        "validation-risk-coverage.csv", "validation-" + Evaluation.EmbeddingVariance.FileName);

    /// <summary>
    /// A split's prediction with the mean weights (N = 0) by a method that samples and reports both
    /// (<see cref="FineTuningMethod.ReportsMeanPrediction"/>): its result and predictions, under "mean-".
    /// </summary>
    public static readonly RunFiles MeanDev = new("mean-" + RunFolder.Result, "mean-" + RunFolder.Predictions);
    public static readonly RunFiles MeanValidation = new("mean-validation.json", "mean-validation-predictions.json", Split: "validation");

    /// <summary>The mean-weights files of the dev or the validation split; null for an out-of-distribution set (none are written).</summary>
    public static RunFiles? MeanOf(RunFiles split) => split == Validation ? MeanValidation : split == Dev ? MeanDev : null;

    /// <summary>The method name a mean-weights result is tabulated under: "blob-n0" beside "blob" (N samples).</summary>
    public static string MeanMethod(string method) => method + "-n0";

    /// <summary>" (validation split)" for titles, or nothing for the reported split.</summary>
    public string Caption => Split is null ? "" : $" ({Split} split)";
    public static RunFiles OutOfDistribution(string task) => new($"ood-{task}.json", $"ood-{task}-predictions.json", $"ood-{task}-reliability.png",
        RiskCoverage: $"ood-{task}-risk-coverage.csv", PredictionsOptional: true);

    /// <summary>The split's name in TensorBoard tags: dev, validation, ood-TASK.</summary>
    public string Name => Result == RunFolder.Result ? "dev" : Result == "mean-" + RunFolder.Result ? "mean-dev" : Path.GetFileNameWithoutExtension(Result);

    public IEnumerable<string> Names => new[] { Result, Predictions, Diagram, RiskCoverage, EmbeddingVariance }.OfType<string>();

    public bool Exists(string dir) => File.Exists(Path.Combine(dir, Result)) && (Predictions is null || PredictionsOptional || File.Exists(Path.Combine(dir, Predictions)));

    /// <summary>The split's result and predictions (none where the split records none, or predates them).</summary>
    public (RunResult, double[][], int[]) Load(string dir)
    {
        var (probs, labels) = Predictions is null || !File.Exists(Path.Combine(dir, Predictions)) && PredictionsOptional
            ? ([], []) : Experiment.LoadPredictions(Path.Combine(dir, Predictions));
        return (RunResult.Load(Path.Combine(dir, Result)), probs, labels);
    }

    /// <summary>
    /// The rows of the split's embedding-variance CSV, or null where the run has none (a method that predicts in one
    /// pass, or a run written before the file was recorded).
    /// </summary>
    public IReadOnlyList<EmbeddingVarianceRow>? LoadEmbeddingVariance(string dir) =>
        EmbeddingVariance is not null && File.Exists(Path.Combine(dir, EmbeddingVariance))
            ? Evaluation.EmbeddingVariance.Read(Path.Combine(dir, EmbeddingVariance)) : null;

    /// <summary>
    /// Writes the split's files, its embedding variance too where <paramref name="embeddingVariance"/> is given, and the
    /// predictions with each example's <paramref name="mutualInformation"/> where given; the result last.
    /// </summary>
    public void Save(string dir, RunResult result, double[][] probs, int[] labels, string title, string method, double[]? embeddingVariance = null,
        double[]? mutualInformation = null)
    {
        if (EmbeddingVariance is not null && embeddingVariance is not null)
            AtomicFile.WriteAllText(Path.Combine(dir, EmbeddingVariance),
                Evaluation.EmbeddingVariance.ToCsv(Evaluation.EmbeddingVariance.Rows(probs, labels, embeddingVariance)));
        if (RiskCoverage is not null && labels.Length > 0)
            AtomicFile.WriteAllText(Path.Combine(dir, RiskCoverage), Metrics.RiskCoverage(probs, labels).ToCsv());
        if (Predictions is not null) Experiment.SavePredictions(Path.Combine(dir, Predictions), probs, labels, mutualInformation);
        if (Diagram is not null)
            ReliabilityDiagram.Save(Path.Combine(dir, Diagram), title, new ReliabilitySeries(method, Metrics.ReliabilityBins(probs, labels), result.Ece));
        result.Save(Path.Combine(dir, Result));
    }
}

/// <summary>
/// A run's output folder: settings.json (written first), the training checkpoint, then adapter/, and each evaluated
/// split's files (<see cref="RunFiles"/>): validation.json …, result.json … (dev), ood-*.json. A run is finished when
/// every split its spec asks for (<see cref="ExperimentSpec.Splits"/>) has its files.
/// The rules that keep results honest live here: a folder's run is never replaced without <see cref="ExistingRun.Overwrite"/>,
/// and never continued or reused under other settings.
/// </summary>
public static class RunFolder
{
    public const string Result = "result.json", Predictions = "predictions.json", Checkpoint = "checkpoint";

    public static bool HasCheckpoint(string dir) => TrainingCheckpoint.Exists(Path.Combine(dir, Checkpoint));

    /// <summary>
    /// Makes the folder ready for a run with these settings, or throws a <see cref="BlobException"/> that says what is
    /// there and what to do. Resume and reuse require the recorded settings to equal these.
    /// </summary>
    public static void Prepare(string dir, RunSettings settings, ExistingRun existing)
    {
        if (existing == ExistingRun.Overwrite) Clear(dir);
        else if (Holds(dir) is { } what)
        {
            if (existing == ExistingRun.Refuse)
                throw new BlobException($"{dir} already holds {what}; continue it with --resume, replace it with --overwrite, or choose another --output");
            RequireSameSettings(dir, settings, what);
        }
        Directory.CreateDirectory(dir);
        settings.Save(dir);
    }

    /// <summary>
    /// Throws, as <see cref="Prepare"/> would for a resumption, when the folder holds a run made with other settings;
    /// writes nothing. Lets a comparison refuse such a run before any other run trains, or is submitted to a cluster.
    /// </summary>
    public static void RequireResumable(string dir, RunSettings settings)
    {
        if (Holds(dir) is { } what) RequireSameSettings(dir, settings, what);
    }

    /// <summary>"a finished run (result.json)" or "the checkpoint of an unfinished run"; null for a folder without a run.</summary>
    static string? Holds(string dir) =>
        Evaluated(dir) is { } file ? $"a finished run ({file})"
        : HasCheckpoint(dir) ? "the checkpoint of an unfinished run" : null;

    /// <summary>The first result file the folder holds (dev's, else the validation split's), or null.</summary>
    static string? Evaluated(string dir) =>
        new[] { RunFiles.Dev, RunFiles.Validation }.Select(f => f.Result).FirstOrDefault(f => File.Exists(Path.Combine(dir, f)));

    /// <summary>
    /// True when the folder holds a finished run made with these settings (so its result can be reused); false when it
    /// holds no finished run; a <see cref="BlobException"/> naming the differences when its settings differ.
    /// </summary>
    public static bool CanReuse(string dir, RunSettings settings)
    {
        if (Evaluated(dir) is not { } file) return false;
        RequireSameSettings(dir, settings, $"a finished run ({file})");
        // A run that lacks a split these settings ask for (stopped among the out-of-distribution sets, or trained for
        // the validation table and now asked for dev) is resumed: its training is done, only the missing splits run.
        return Expected(settings.Spec).All(files => files.Exists(dir));
    }

    /// <summary>The splits' files a finished run of this spec holds.</summary>
    static IEnumerable<RunFiles> Expected(ExperimentSpec spec)
    {
        if (spec.Splits != EvaluatedSplits.Dev) yield return RunFiles.Validation;
        if (spec.Splits != EvaluatedSplits.Dev && spec.ReportsMean) yield return RunFiles.MeanValidation;
        if (spec.Splits == EvaluatedSplits.Validation) yield break;
        yield return RunFiles.Dev;
        if (spec.ReportsMean) yield return RunFiles.MeanDev;
        foreach (var name in spec.OodTasks) yield return RunFiles.OutOfDistribution(name);
    }

    static void RequireSameSettings(string dir, RunSettings settings, string what)
    {
        var recorded = RunSettings.Load(dir)
            ?? throw new BlobException($"{dir} holds {what} that records no settings ({RunSettings.FileName}; written by an older version), so it cannot be continued or reused safely; replace it with --overwrite, or choose another --output");
        var differences = settings.DifferencesFrom(recorded);
        if (differences.Count > 0)
            throw new BlobException($"{dir} holds {what} made with other settings ({string.Join("; ", differences)}); " +
                                    "use the same options, replace it with --overwrite, or choose another --output");
    }

    /// <summary>Deletes the files a run writes (and nothing else the user may have put in the folder).</summary>
    public static void Clear(string dir)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var name in new[] { Checkpoint, Checkpoint + ".tmp", Checkpoint + ".old", "adapter", TensorBoardEvents.FolderName })
            if (Directory.Exists(Path.Combine(dir, name))) Directory.Delete(Path.Combine(dir, name), recursive: true);
        // every split's files, the mean weights' too: a split left on disk would be read back as the new run's
        foreach (var name in new[] { RunFiles.Dev, RunFiles.Validation, RunFiles.MeanDev, RunFiles.MeanValidation }.SelectMany(f => f.Names)
                     .Append(RunSettings.FileName).Append(TrainingLog.FileName).Append(TrainingCurves.FileName)
                     .Append(PosteriorStdLog.FileName).Append(PosteriorStdFigure.FileName).Append(RunConformal.FileName))
            File.Delete(Path.Combine(dir, name));
        RunCalibration.Clear(dir); // what was fitted on the old predictions
        foreach (var ood in new[] { "ood-*.json", "ood-*.csv", "ood-*.png" }.SelectMany(pattern => Directory.GetFiles(dir, pattern))) File.Delete(ood);
    }
}
