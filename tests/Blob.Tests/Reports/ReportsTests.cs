using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using Blob.Reports;

namespace Blob.Tests.Reports;

public sealed class ReportsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("blob-reports-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static RunResult Run(string task, string method, int seed, double acc, double ece, int n = 277) =>
        new(task, method, seed, n, acc, ece, 0.5 + seed / 100.0, 0.3, task == "boolq" ? ["BoolQ: split note"] : null);

    [Fact]
    public void RunResultRoundTripsThroughJson()
    {
        var m = Metrics.Evaluate([[0.9, 0.1], [0.2, 0.8]], [0, 0]);
        var result = RunResult.From("rte", "blob", 1, m, ["n = 2"]);
        var path = Path.Combine(dir, "runs", "rte-blob-1.json");
        result.Save(path);

        var back = RunResult.Load(path);
        Assert.Equal(result with { Notes = null }, back with { Notes = null });
        Assert.Equal(["n = 2"], back.Notes!);
        var json = File.ReadAllText(path);
        Assert.Contains("\"accuracy\": 0.5", json);
        Assert.Contains("\"ece\"", json);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    /// <summary>A diverged run's NaN or infinite metric is saved (as null, with a note), not lost to an exception.</summary>
    [Fact]
    public void ANonFiniteMetricIsSavedAsNullWithANoteAndReadBackAsNaN()
    {
        var result = new RunResult("rte", "blob", 1, 277, 0.5, double.PositiveInfinity, double.NaN, 0.3, ["model: x"], TrainSeconds: 12);
        var path = Path.Combine(dir, "result.json");
        result.Save(path);

        var json = File.ReadAllText(path);
        Assert.Contains("\"nll\": null", json);
        Assert.Contains("\"ece\": null", json);
        var back = RunResult.Load(path);
        Assert.True(double.IsNaN(back.Nll));
        Assert.True(double.IsNaN(back.Ece));
        Assert.Equal(0.5, back.Accuracy);
        Assert.Equal(12, back.TrainSeconds);
        Assert.Null(back.EvalSeconds);
        Assert.Equal(["model: x", "ece is not finite (Infinity): written as null", "nll is not finite (NaN): written as null"], back.Notes!);

        back.Save(path); // saved again: the notes are not repeated
        Assert.Equal(back.Notes, RunResult.Load(path).Notes);

        var table = new ComparisonTable([back, Run("rte", "blob", 2, 0.6, 0.1)]);
        Assert.Contains("| NLL | blob | NaN ± NaN |", table.ToMarkdown());
        Assert.Contains("NLL,blob,rte,NaN,NaN,2,277", table.ToCsv().Split('\n'));
    }

    /// <summary>Predictions with NaN (and the reliability diagram drawn from them) are written too.</summary>
    [Fact]
    public void NonFinitePredictionsAreSavedAndDrawn()
    {
        double[][] probs = [[double.NaN, double.NaN], [0.8, 0.2]];
        int[] labels = [0, 0];
        var path = Path.Combine(dir, "predictions.json");
        Blob.Experiments.Experiment.SavePredictions(path, probs, labels);
        var (back, backLabels) = Blob.Experiments.Experiment.LoadPredictions(path);
        Assert.True(double.IsNaN(back[0][1]));
        Assert.Equal(0.8, back[1][0]);
        Assert.Equal(labels, backLabels);

        var m = Metrics.Evaluate(back, labels);
        Assert.True(double.IsNaN(m.Nll));
        var png = Path.Combine(dir, "reliability.png");
        ReliabilityDiagram.Save(png, "diverged", new ReliabilitySeries("BLOB", Metrics.ReliabilityBins(back, labels), m.Ece));
        Assert.True(File.Exists(png));
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        var path = Path.Combine(dir, "result.json");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, temp =>
        {
            File.WriteAllText(temp, "half");
            throw new InvalidOperationException("crash while writing");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void TableGivesMeanAndSampleStdOverSeeds()
    {
        var table = new ComparisonTable([
            Run("rte", "mle", 1, 0.74, 0.20), Run("rte", "mle", 2, 0.75, 0.21), Run("rte", "mle", 3, 0.76, 0.22),
            Run("rte", "blob", 1, 0.76, 0.09), Run("boolq", "blob", 1, 0.80, 0.03, n: 1000),
        ]);
        var acc = table.Get("ACC", "mle", "rte")!;
        Assert.Equal(75, acc.Mean, 9);
        Assert.Equal(1, acc.Std, 9);
        Assert.Equal(3, acc.Seeds);
        Assert.Equal(21, table.Get("ECE", "mle", "rte")!.Mean, 9);
        Assert.Equal(0.52, table.Get("NLL", "mle", "rte")!.Mean, 9);
        Assert.Null(table.Get("ACC", "mle", "boolq"));

        var md = table.ToMarkdown();
        Assert.Contains("| Metric | Method | rte (n=277) | boolq (n=1000) |", md);
        Assert.Contains("| ACC (×100) | mle | 75.00 ± 1.00 | – |", md);
        Assert.Contains("| ECE (×100) | blob | 9.00 (s=1) | 3.00 (s=1) |", md); // one seed: no spread to show
        Assert.Contains("| NLL | mle | 0.52 ± 0.01 | – |", md);
        Assert.Contains("- BoolQ: split note", md);

        var csv = table.ToCsv().Split('\n');
        Assert.Equal("metric,method,task,mean,std,seeds,n", csv[0]);
        Assert.Contains("ACC,mle,rte,75,1,3,277", csv);
    }

    /// <summary>A single-seed table printed "± 0.00 (s=1)", a spread and a seed count that say nothing.</summary>
    [Fact]
    public void ASingleSeedTableShowsValuesAlone()
    {
        var table = new ComparisonTable([Run("rte", "mle", 1, 0.7, 0.2), Run("rte", "blob", 1, 0.72, 0.1)]);
        var md = table.ToMarkdown();
        Assert.Contains("| ACC (×100) | mle | 70.00 |", md);
        Assert.DoesNotContain("±", md.Split("\n\n")[0]);
        Assert.DoesNotContain("(s=1)", md);
        Assert.Contains("One seed per cell", md);
        Assert.Contains("ACC,mle,rte,70,,1,277", table.ToCsv().Split('\n')); // no standard deviation, not 0
    }

    [Fact]
    public void TimesAreTabulatedOverTheRunsThatRecordedThem()
    {
        var old = new ComparisonTable([Run("rte", "mle", 1, 0.7, 0.2)]);
        Assert.DoesNotContain("Train s", old.ToMarkdown()); // results written before times were recorded

        var table = new ComparisonTable([
            Run("rte", "mle", 1, 0.7, 0.2) with { TrainSeconds = 300, EvalSeconds = 10 },
            Run("rte", "mle", 2, 0.7, 0.2) with { TrainSeconds = 320, EvalSeconds = 12 },
            Run("rte", "mle", 3, 0.7, 0.2),
            Run("rte", "blob", 1, 0.7, 0.2),
        ]);
        Assert.Equal(310, table.Get("Train s", "mle", "rte")!.Mean, 9);
        Assert.Null(table.Get("Train s", "blob", "rte"));
        var md = table.ToMarkdown();
        Assert.Contains("| Train s | mle | 310 ± 14 (s=2) |", md); // two of mle's three runs recorded a time
        Assert.Contains("| ACC (×100) | mle | 70.00 ± 0.00 |", md);
        Assert.Contains("| Eval s | blob | – |", md);
    }

    [Fact]
    public void TableFilesAreWritten()
    {
        var table = new ComparisonTable([Run("rte", "mle", 1, 0.7, 0.1)]);
        string md = Path.Combine(dir, "t.md"), csv = Path.Combine(dir, "t.csv");
        table.Save(md, csv);
        Assert.Equal(table.ToMarkdown(), File.ReadAllText(md));
        Assert.Equal(table.ToCsv(), File.ReadAllText(csv));
        Assert.Equal(2, Directory.GetFiles(dir).Length);
    }

    [Fact]
    public void ReliabilityDiagramsArePngFiles()
    {
        var rng = new Random(3);
        ReliabilitySeries Series(string method, double sharpen)
        {
            var probs = Enumerable.Range(0, 400).Select(_ =>
            {
                double p = Math.Pow(rng.NextDouble(), sharpen) * 0.5 + 0.5;
                return new[] { p, 1 - p };
            }).ToArray();
            var labels = probs.Select(p => rng.NextDouble() < Math.Pow(p[0], 2) ? 0 : 1).ToArray();
            return new ReliabilitySeries(method, Metrics.ReliabilityBins(probs, labels), Metrics.Ece(probs, labels));
        }
        var mle = Series("MLE", 0.3);
        var blob = Series("BLoB", 1.0);

        string one = Path.Combine(dir, "reliability-mle.png"), all = Path.Combine(dir, "reliability.png");
        ReliabilityDiagram.Save(one, "RTE", mle);
        ReliabilityDiagram.SaveOverlay(all, "RTE", [mle, blob]);

        foreach (var path in new[] { one, all })
        {
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 5000, $"{path} is only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        }
        Assert.Equal(2, Directory.GetFiles(dir).Length);
        var keep = Environment.GetEnvironmentVariable("BLOB_KEEP_PLOTS");
        if (keep is not null) foreach (var p in new[] { one, all }) File.Copy(p, Path.Combine(keep, Path.GetFileName(p)), true);
    }

    /// <summary>A result records the version of the tool that computed it (package version and commit); one written
    /// before that was recorded loads without it, and writing it again does not invent one.</summary>
    [Fact]
    public void AResultRecordsTheToolThatComputedIt()
    {
        Assert.NotEqual("unknown", ToolVersion.Current);
        var result = RunResult.From("rte", "blob", 1, Metrics.Evaluate([[0.6, 0.4], [0.1, 0.9]], [0, 1]));
        Assert.Equal(ToolVersion.Current, result.Tool);
        var path = Path.Combine(dir, "result.json");
        result.Save(path);
        Assert.Contains($"\"tool\": \"{ToolVersion.Current}\"", File.ReadAllText(path));
        Assert.Equal(ToolVersion.Current, RunResult.Load(path).Tool);

        var old = Path.Combine(dir, "old.json");
        File.WriteAllText(old, "{\"task\": \"rte\", \"method\": \"mle\", \"seed\": 1, \"count\": 4, \"accuracy\": 0.5, \"ece\": 0.1, \"nll\": 0.7, \"brier\": 0.4}");
        var before = RunResult.Load(old);
        Assert.Null(before.Tool);
        before.Save(old);
        Assert.DoesNotContain("tool", File.ReadAllText(old));
    }

    /// <summary>AURC is written to result.json, printed ×100 in the table; a result without it (written before) still loads.</summary>
    [Fact]
    public void AurcIsRecordedTabulatedAndOptional()
    {
        double[][] probs = [[0.6, 0.4], [0.1, 0.9], [0.3, 0.7], [0.8, 0.2]];
        var result = RunResult.From("rte", "blob", 1, Metrics.Evaluate(probs, [1, 1, 1, 1]));
        var path = Path.Combine(dir, "result.json");
        result.Save(path);
        Assert.Contains("\"aurc\": 0.333", File.ReadAllText(path));
        Assert.Equal(1.0 / 3, RunResult.Load(path).Aurc!.Value, 15);

        var old = Path.Combine(dir, "old.json");
        File.WriteAllText(old, "{\"task\": \"rte\", \"method\": \"mle\", \"seed\": 1, \"count\": 4, \"accuracy\": 0.5, \"ece\": 0.1, \"nll\": 0.7, \"brier\": 0.4}");
        var before = RunResult.Load(old);
        Assert.Null(before.Aurc);
        Assert.DoesNotContain("aurc", before.ToJson());

        var table = new ComparisonTable([RunResult.Load(path), before]);
        var md = table.ToMarkdown();
        Assert.Contains("| AURC (×100) | blob | 33.33 |", md);
        Assert.Contains("| AURC (×100) | mle | – |", md);
        Assert.Contains("AURC,blob,rte,33.33", table.ToCsv());
        Assert.DoesNotContain("AURC", new ComparisonTable([before]).ToMarkdown()); // no run has it: no row

        var nan = new RunResult("rte", "blob", 1, 4, 0.5, 0.1, 0.7, 0.4, Aurc: double.NaN);
        nan.Save(path);
        Assert.Contains("\"aurc\": null", File.ReadAllText(path));
        Assert.Contains("aurc is not finite (NaN): written as null", RunResult.Load(path).Notes!);
    }

    /// <summary>A split's files: the risk–coverage curve beside the predictions, and the result with its AURC.</summary>
    [Fact]
    public void ASplitWritesItsCurveBesideItsPredictions()
    {
        double[][] probs = [[0.6, 0.4], [0.1, 0.9], [0.3, 0.7], [0.8, 0.2]];
        int[] labels = [1, 1, 1, 1];
        var files = Blob.Experiments.RunFiles.Dev;
        var result = RunResult.From("rte", "blob", 1, Metrics.Evaluate(probs, labels));
        files.Save(dir, result, probs, labels, "title", "BLoB");
        var csv = File.ReadAllLines(Path.Combine(dir, "risk-coverage.csv"));
        Assert.Equal(5, csv.Length);
        Assert.Equal("4,1,0.5,0.6,0,0", csv[4]);

        var (back, backProbs, backLabels) = files.Load(dir);
        Assert.Equal(1.0 / 3, back.Aurc!.Value, 15);
        Assert.Equal(labels, backLabels);
        Assert.Equal(probs, backProbs);

        var ood = Blob.Experiments.RunFiles.OutOfDistribution("arc-e");
        ood.Save(dir, result, probs, labels, "title", "BLoB");
        Assert.True(File.Exists(Path.Combine(dir, "ood-arc-e-risk-coverage.csv")));
    }
}
