using System.Text.Json;
using System.Text.Json.Serialization;
using Blob.Evaluation;
using Blob.Runtime;

namespace Blob.Experiments;

/// <summary>One evaluated split's answer sets: LAC's and APS's statistics, for the split named (dev, ood-TASK).</summary>
public sealed record ConformalSplit(string Split, SetStatistics Lac, SetStatistics Aps);

/// <summary>
/// A finished run's conformal answer sets, computed after the fact from the predictions its folder keeps: the
/// thresholds calibrated on validation-predictions.json at level α, then the sets of dev (predictions.json) and of each
/// --ood set whose predictions the run kept (ood-TASK-predictions.json; runs that predate them have none). Written as
/// the run's conformal.json. APS's u are drawn from fixed seeds (one generator for the calibration, a fresh one per
/// split), so the same records give the same numbers.
/// </summary>
public sealed record RunConformal(double Alpha, int CalibrationCount, ConformalThreshold Lac, ConformalThreshold Aps, IReadOnlyList<ConformalSplit> Splits)
{
    public const string FileName = "conformal.json";
    public const int CalibrationSeed = 1, SetSeed = 2;

    /// <summary>The thresholds from a run's validation predictions; a <see cref="BlobException"/> naming the file when it is absent.</summary>
    public static (ConformalThreshold Lac, ConformalThreshold Aps) Calibrate(string dir, double alpha)
    {
        var path = Path.Combine(dir, RunFiles.Validation.Predictions!);
        if (!File.Exists(path))
            throw new BlobException($"{path} is missing: conformal sets are calibrated on the validation split's predictions (train with --validation-fraction and --evaluate both)");
        var (probs, labels) = Experiment.LoadPredictions(path);
        return (Conformal.Calibrate(ConformalScore.Lac, probs, labels, alpha, new Random(CalibrationSeed)),
                Conformal.Calibrate(ConformalScore.Aps, probs, labels, alpha, new Random(CalibrationSeed)));
    }

    /// <summary>Calibrates on the run's validation split and evaluates dev and each kept --ood set's predictions.</summary>
    public static RunConformal Compute(string dir, double alpha, IEnumerable<string> oodTasks)
    {
        var (lac, aps) = Calibrate(dir, alpha);
        var splits = new List<ConformalSplit>();
        foreach (var files in oodTasks.Select(RunFiles.OutOfDistribution).Prepend(RunFiles.Dev))
        {
            var path = Path.Combine(dir, files.Predictions!);
            if (!File.Exists(path)) continue;
            var (probs, labels) = Experiment.LoadPredictions(path);
            if (labels.Length == 0) continue;
            splits.Add(new ConformalSplit(files.Name,
                Conformal.Statistics(Conformal.AnswerSets(lac, probs, new Random(SetSeed)), labels),
                Conformal.Statistics(Conformal.AnswerSets(aps, probs, new Random(SetSeed)), labels)));
        }
        return new RunConformal(alpha, lac.CalibrationCount, lac, aps, splits);
    }

    /// <summary>
    /// Writes conformal.json: α, the calibration count, each threshold (null with "all_classes" where the validation
    /// split is too small for α) and each split's coverage, mean set size, singleton and empty fractions.
    /// </summary>
    public void Save(string dir)
    {
        static object Threshold(ConformalThreshold t) => new { threshold = t.AllClasses ? (double?)null : t.Threshold, all_classes = t.AllClasses };
        static object Stats(SetStatistics s) => new { count = s.Count, coverage = s.Coverage, mean_size = s.MeanSize, singletons = s.Singletons, empty = s.Empty };
        var json = new
        {
            alpha = Alpha,
            calibration = new { split = "validation", count = CalibrationCount, lac = Threshold(Lac), aps = Threshold(Aps) },
            splits = Splits.Select(s => new { split = s.Split, lac = Stats(s.Lac), aps = Stats(s.Aps) }),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(json, Indented));
    }

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>One line per split, for the console: "dev: LAC coverage 90.2%, size 2.31, singletons 12.0%; APS …".</summary>
    public IEnumerable<string> Lines()
    {
        static string Of(SetStatistics s) => FormattableString.Invariant($"coverage {s.Coverage * 100:F1}%, size {s.MeanSize:F2}, singletons {s.Singletons * 100:F1}%");
        if (Lac.AllClasses)
            yield return $"conformal α = {Alpha}: the validation split's {CalibrationCount} examples are too few for α; every set holds every class";
        foreach (var s in Splits)
            yield return $"{s.Split} at α = {Alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)}: LAC {Of(s.Lac)}; APS {Of(s.Aps)}";
    }
}
