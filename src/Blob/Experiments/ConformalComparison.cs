using Blob.Evaluation;
using Blob.Reports;

namespace Blob.Experiments;

/// <summary>One finished run of a comparison, as the guarantee tables read it: its method's name, its seed and its folder.</summary>
public sealed record ComparedRun(string Method, int Seed, string Dir);

/// <summary>
/// A comparison's guarantees, computed after the fact from the predictions its runs' folders keep (nothing is
/// retrained or predicted again): each run's conformal.json (<see cref="RunConformal"/>); table-conformal.md/.csv, the
/// coverage, mean set size and singleton fraction of LAC and APS per split and method; conformal-coverage.png and
/// conformal-set-size.png (dev); and, with --ood sets, table-ood-detection.md/.csv, the AUROC and FPR at 95% TPR of
/// telling each OOD set's questions from dev's (<see cref="OodDetection"/>) by 1 − max probability, predictive entropy
/// and mutual information (recorded per example by the methods that sample; n/a for the others and for predictions
/// written before it was recorded), with ood-roc.png.
/// </summary>
public static class ConformalComparison
{
    /// <summary>The α of the coverage picture's points (target coverage 0.5 … 0.98).</summary>
    static readonly double[] CoverageAlphas = [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5];

    static readonly SeedColumn[] ConformalColumns =
    [
        new("LAC coverage", 100, 1), new("LAC size"), new("LAC singletons", 100, 1),
        new("APS coverage", 100, 1), new("APS size"), new("APS singletons", 100, 1),
    ];

    static readonly SeedColumn[] DetectionColumns =
    [
        new("AUROC 1−max p", 100, 1), new("FPR95 1−max p", 100, 1), new("AUROC entropy", 100, 1), new("FPR95 entropy", 100, 1),
        new("AUROC MI", 100, 1), new("FPR95 MI", 100, 1),
    ];

    /// <summary>Writes every run's conformal.json and the comparison's tables and pictures into <paramref name="dir"/>; returns the paths written.</summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<ComparedRun> runs, IReadOnlyList<string> oodTasks, string dir, double alpha, string task)
    {
        var written = new List<string>();
        var methods = runs.Select(r => r.Method).Distinct().ToList();
        var conformal = runs.Select(r => RunConformal.Compute(r.Dir, alpha, oodTasks)).ToList();
        foreach (var (run, c) in runs.Zip(conformal)) c.Save(run.Dir);

        var table = new SeedTable("Split", ConformalColumns);
        foreach (var split in oodTasks.Select(t => RunFiles.OutOfDistribution(t).Name).Prepend(RunFiles.Dev.Name))
            foreach (var method in methods)
            {
                var seeds = runs.Zip(conformal).Where(x => x.First.Method == method)
                    .Select(x => x.Second.Splits.FirstOrDefault(s => s.Split == split)).OfType<ConformalSplit>()
                    .Select(s => new double?[] { s.Lac.Coverage, s.Lac.MeanSize, s.Lac.Singletons, s.Aps.Coverage, s.Aps.MeanSize, s.Aps.Singletons }).ToList();
                if (seeds.Count > 0) table.Add(split, method, seeds);
            }
        var calibration = conformal.Select(c => c.CalibrationCount).Distinct().Order();
        table.Save(Path.Combine(dir, "table-conformal.md"), Path.Combine(dir, "table-conformal.csv"),
        [
            $"{task}: split conformal answer sets at α = {Num(alpha)} (target coverage {Num(100 * (1 - alpha))}%), calibrated on each run's validation split (n = {string.Join("/", calibration)}); quantile ⌈(n+1)(1−α)⌉/n",
            "coverage: the fraction of questions whose set holds the true answer; size: the mean number of answers in a set; singletons: the fraction of sets with one answer",
            "LAC: the answers with 1 − p at most the threshold (a set may be empty); APS: the most probable answers until their cumulative probability, the last one's randomised (seeded), passes the threshold, never empty",
            "the guarantee holds where the questions are exchangeable with the validation split's (dev); an ood-TASK row shows what is left of it under distribution shift",
            .. conformal.Any(c => c.Lac.AllClasses) ? ["a validation split too small for α gives sets of every class"] : Array.Empty<string>(),
        ]);
        written.AddRange([Path.Combine(dir, "table-conformal.md"), Path.Combine(dir, "table-conformal.csv")]);

        var loaded = runs.Select(r => (Run: r, Validation: Load(r.Dir, RunFiles.Validation), Dev: Load(r.Dir, RunFiles.Dev))).ToList();
        var coverage = methods.Select(method => Coverage(method, loaded.Where(x => x.Run.Method == method && x.Dev is not null)
            .Select(x => (x.Validation!.Value, x.Dev!.Value)).ToList())).ToList();
        ConformalDiagram.SaveCoverage(Path.Combine(dir, "conformal-coverage.png"), $"{task} dev, mean over seeds", coverage);
        var sizes = methods.Select(method => SetSizes(method, runs.Where(r => r.Method == method).ToList(), alpha)).ToList();
        ConformalDiagram.SaveSetSizes(Path.Combine(dir, "conformal-set-size.png"), $"{task} dev, α = {Num(alpha)}, seeds pooled", sizes);
        written.AddRange([Path.Combine(dir, "conformal-coverage.png"), Path.Combine(dir, "conformal-set-size.png")]);

        if (oodTasks.Count > 0) written.AddRange(WriteDetection(runs, methods, oodTasks, dir, task));
        return written;
    }

    /// <summary>The OOD detection table and ROC picture: each OOD set against dev, per method, over the seeds that kept both predictions.</summary>
    static IEnumerable<string> WriteDetection(IReadOnlyList<ComparedRun> runs, IReadOnlyList<string> methods, IReadOnlyList<string> oodTasks, string dir, string task)
    {
        var table = new SeedTable("OOD set", DetectionColumns);
        var maxPanels = new List<(string, IReadOnlyList<RocSeries>)>();
        var entropyPanels = new List<(string, IReadOnlyList<RocSeries>)>();
        var miPanels = new List<(string, IReadOnlyList<RocSeries>)>();
        foreach (var ood in oodTasks)
        {
            var maxSeries = new List<RocSeries>();
            var entropySeries = new List<RocSeries>();
            var miSeries = new List<RocSeries>();
            foreach (var (method, color) in methods.Select((m, i) => (m, i)))
            {
                var pairs = runs.Where(r => r.Method == method)
                    .Select(r => (Id: Load(r.Dir, RunFiles.Dev), Ood: Load(r.Dir, RunFiles.OutOfDistribution(ood)),
                        IdMi: MutualInformation(r.Dir, RunFiles.Dev), OodMi: MutualInformation(r.Dir, RunFiles.OutOfDistribution(ood))))
                    .Where(x => x.Id is not null && x.Ood is not null)
                    .Select(x => (Id: x.Id!.Value.Probs, Ood: x.Ood!.Value.Probs, x.IdMi, x.OodMi)).ToList();
                if (pairs.Count == 0) continue;
                table.Add(ood, method, pairs.Select(x =>
                {
                    var byMax = Detect(x.Id, x.Ood, OodDetection.OneMinusMaxProbability);
                    var byEntropy = Detect(x.Id, x.Ood, Uncertainty.Entropy);
                    var byMi = x.IdMi is not null && x.OodMi is not null ? OodDetection.Detect(x.IdMi, x.OodMi) : null;
                    return new double?[] { byMax.Auroc, byMax.Fpr95, byEntropy.Auroc, byEntropy.Fpr95, byMi?.Auroc, byMi?.Fpr95 };
                }).ToList());
                var id = pairs.SelectMany(x => x.Id).ToArray();
                var shifted = pairs.SelectMany(x => x.Ood).ToArray();
                maxSeries.Add(Roc(method, id, shifted, OodDetection.OneMinusMaxProbability) with { ColorIndex = color });
                entropySeries.Add(Roc(method, id, shifted, Uncertainty.Entropy) with { ColorIndex = color });
                // the picture pools the seeds that recorded it on both sides
                var recorded = pairs.Where(x => x.IdMi is not null && x.OodMi is not null).ToList();
                if (recorded.Count > 0)
                    miSeries.Add(Roc(method, recorded.SelectMany(x => x.IdMi!).ToArray(), recorded.SelectMany(x => x.OodMi!).ToArray()) with { ColorIndex = color });
            }
            maxPanels.Add(($"{ood}: 1 − max p", maxSeries));
            entropyPanels.Add(($"{ood}: entropy", entropySeries));
            miPanels.Add(($"{ood}: mutual information", miSeries));
        }
        if (table.Count == 0) yield break; // no run kept its OOD predictions: nothing to detect with
        table.Save(Path.Combine(dir, "table-ood-detection.md"), Path.Combine(dir, "table-ood-detection.csv"),
        [
            $"trained on {task}: telling each OOD set's questions from {task}'s dev questions by an uncertainty score; the OOD questions are the positives",
            "AUROC: the probability that an OOD question scores more uncertain than a dev question (ties ½; 50 is chance, higher is better); FPR95: the fraction of dev questions flagged at the threshold that flags 95% of the OOD ones (lower is better)",
            "1−max p: one minus the top probability; entropy: the predictive entropy of the (averaged) probabilities; MI: the mutual information between answer and weights over the prediction's samples (how much they disagree), n/a where the predictions do not record it (a method that predicts in one pass, or runs written before it was recorded)",
            "s: the seeds that kept both the dev and the OOD set's predictions (runs older than the OOD predictions files have none)",
        ]);
        yield return Path.Combine(dir, "table-ood-detection.md");
        yield return Path.Combine(dir, "table-ood-detection.csv");
        // a row of mutual information where some method recorded it
        RocDiagram.Save(Path.Combine(dir, "ood-roc.png"),
            [.. maxPanels, .. entropyPanels, .. miPanels.Any(p => p.Item2.Count > 0) ? miPanels : []], oodTasks.Count);
        yield return Path.Combine(dir, "ood-roc.png");
    }

    static DetectionResult Detect(double[][] id, double[][] ood, Func<IReadOnlyList<double>, double> score) =>
        OodDetection.Detect(id.Select(p => score(p)).ToArray(), ood.Select(p => score(p)).ToArray());

    static RocSeries Roc(string method, double[][] id, double[][] ood, Func<IReadOnlyList<double>, double> score) =>
        Roc(method, id.Select(p => score(p)).ToArray(), ood.Select(p => score(p)).ToArray());

    static RocSeries Roc(string method, double[] id, double[] ood)
    {
        var (fpr, tpr) = OodDetection.Roc(id, ood);
        return new RocSeries(method, fpr, tpr, OodDetection.Auroc(id, ood));
    }

    /// <summary>A method's dev coverage at each α of <see cref="CoverageAlphas"/>, the mean over its seeds.</summary>
    static CoverageSeries Coverage(string method, IReadOnlyList<((double[][] Probs, int[] Labels) Validation, (double[][] Probs, int[] Labels) Dev)> seeds)
    {
        double Mean(ConformalScore score, double a) => seeds.Count == 0 ? double.NaN : seeds.Average(s =>
        {
            var t = Conformal.Calibrate(score, s.Validation.Probs, s.Validation.Labels, a, new Random(RunConformal.CalibrationSeed));
            return Conformal.Statistics(Conformal.AnswerSets(t, s.Dev.Probs, new Random(RunConformal.SetSeed)), s.Dev.Labels).Coverage;
        });
        return new CoverageSeries(method, CoverageAlphas.Select(a => 1 - a).ToArray(),
            CoverageAlphas.Select(a => Mean(ConformalScore.Lac, a)).ToArray(), CoverageAlphas.Select(a => Mean(ConformalScore.Aps, a)).ToArray());
    }

    /// <summary>A method's dev set sizes at α, its seeds pooled: the fraction of questions with a set of k answers.</summary>
    static SetSizeSeries SetSizes(string method, IReadOnlyList<ComparedRun> runs, double alpha)
    {
        var lac = new List<int>();
        var aps = new List<int>();
        foreach (var run in runs)
        {
            if (Load(run.Dir, RunFiles.Dev) is not { } dev) continue;
            var (l, a) = RunConformal.Calibrate(run.Dir, alpha);
            lac.AddRange(Conformal.AnswerSets(l, dev.Probs, new Random(RunConformal.SetSeed)).Select(s => s.Length));
            aps.AddRange(Conformal.AnswerSets(a, dev.Probs, new Random(RunConformal.SetSeed)).Select(s => s.Length));
        }
        double[] Histogram(List<int> xs) => xs.Count == 0 ? [] : Enumerable.Range(0, xs.Max() + 1).Select(k => xs.Count(x => x == k) / (double)xs.Count).ToArray();
        return new SetSizeSeries(method, Histogram(lac), Histogram(aps));
    }

    /// <summary>A split's kept predictions, or null where the run has none.</summary>
    static (double[][] Probs, int[] Labels)? Load(string dir, RunFiles files)
    {
        var path = Path.Combine(dir, files.Predictions!);
        if (!File.Exists(path)) return null;
        var loaded = Experiment.LoadPredictions(path);
        return loaded.Labels.Length == 0 ? null : loaded;
    }

    /// <summary>A split's per-example mutual information, or null where its predictions record none.</summary>
    static double[]? MutualInformation(string dir, RunFiles files)
    {
        var path = Path.Combine(dir, files.Predictions!);
        return File.Exists(path) ? Experiment.LoadMutualInformation(path) : null;
    }

    static string Num(double x) => x.ToString("G", System.Globalization.CultureInfo.InvariantCulture);
}
