using Blob.Evaluation;
using Blob.Experiments;
using Blob.Methods;
using Blob.Reports;
using Blob.Runtime;
using Blob.Training;

namespace Blob.Tests.Reports;

/// <summary>
/// The pictures researchers expect: reliability diagrams (bars, gaps, diagonal, counts below),
/// risk–coverage curves per method, each run's training curves from its per-step training log (and its TensorBoard
/// file: <see cref="TensorBoardTests"/>), and the embedding-uncertainty figure (<see cref="EmbeddingUncertaintyTests"/>).
/// Set BLOB_KEEP_PLOTS=DIR to keep the PNGs for a look.
/// </summary>
public sealed class PicturesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-pictures-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Predictions of a model that is more (sharpen &lt; 1) or less overconfident, two labels.</summary>
    static (double[][] Probs, int[] Labels) Predictions(int seed, double sharpen, int n = 400)
    {
        var rng = new Random(seed);
        var probs = Enumerable.Range(0, n).Select(_ =>
        {
            double p = Math.Pow(rng.NextDouble(), sharpen) * 0.5 + 0.5;
            return rng.NextDouble() < 0.5 ? new[] { p, 1 - p } : new[] { 1 - p, p };
        }).ToArray();
        var labels = probs.Select(p => rng.NextDouble() < Math.Pow(p.Max(), 2) ? Metrics.ArgMax(p) : 1 - Metrics.ArgMax(p)).ToArray();
        return (probs, labels);
    }

    void AssertPngs(params string[] names)
    {
        foreach (var name in names)
        {
            var bytes = File.ReadAllBytes(Path.Combine(_dir, name));
            Assert.True(bytes.Length > 5000, $"{name} is only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        }
        // written atomically: nothing but the pictures is left in the folder (no temporary files)
        Assert.Equal(names.Order(), Directory.GetFiles(_dir).Select(Path.GetFileName).Order());
        if (Environment.GetEnvironmentVariable("BLOB_KEEP_PLOTS") is { } keep)
            foreach (var name in names) File.Copy(Path.Combine(_dir, name), Path.Combine(keep, name), true);
    }

    [Fact]
    public void ReliabilityDiagramsAndRiskCoverageCurvesArePngs()
    {
        var (mleP, mleL) = Predictions(3, 0.3);
        var (blobP, blobL) = Predictions(4, 1.0);
        var mle = new ReliabilitySeries(MethodRegistry.Mle.DisplayName, Metrics.ReliabilityBins(mleP, mleL), Metrics.Ece(mleP, mleL));
        var blob = new ReliabilitySeries(MethodRegistry.Blob.DisplayName, Metrics.ReliabilityBins(blobP, blobL), Metrics.Ece(blobP, blobL));
        ReliabilityDiagram.Save(Path.Combine(_dir, "reliability-blob.png"), "RTE: BLoB", blob);
        ReliabilityDiagram.SaveOverlay(Path.Combine(_dir, "reliability.png"), "RTE: reliability", [mle, blob]);
        RiskCoverageDiagram.SaveOverlay(Path.Combine(_dir, "risk-coverage.png"), "RTE: risk–coverage",
            [new(mle.Method, Metrics.RiskCoverage(mleP, mleL)), new(blob.Method, Metrics.RiskCoverage(blobP, blobL))]);
        AssertPngs("reliability-blob.png", "reliability.png", "risk-coverage.png");
    }

    [Fact]
    public void TrainingCurvesArePngsWithAndWithoutAKl()
    {
        var rows = Enumerable.Range(1, 60).Select(s => new TrainingLogRow(s, 0.7 * Math.Exp(-s / 20.0), 5e4 / s, Math.Pow(2, s % 8) / 255,
            1e-3 * Math.Min(1, s / 4.0) * (60 - s) / 60, 0.8, s * 0.5)).ToList();
        TrainingCurves.Save(Path.Combine(_dir, "training-curves.png"), "demo-facts: BLoB (seed 1)", rows);
        TrainingCurves.Save(Path.Combine(_dir, "training-curves-mle.png"), "demo-facts: MLE (seed 1)",
            rows.Select(r => r with { Kl = 0, KlWeight = 0 }).ToList());
        AssertPngs("training-curves.png", "training-curves-mle.png");
    }

    [Fact]
    public void TheTrainingLogRoundTripsExactly()
    {
        var path = Path.Combine(_dir, TrainingLog.FileName);
        var log = TrainingLog.Open(path, 0);
        log.Add(new TrainingProgress(1, 3, 0.1 + 0.2, 1e-7 / 3, 1.0 / 255, 5e-4 / 3, 0.5, TimeSpan.FromSeconds(1.23456)));
        log.Add(new TrainingProgress(2, 3, 0.25, 0, 0, 1e-4, 0.75, TimeSpan.FromSeconds(2)));
        log.Save();
        Assert.Equal(TrainingLog.Header, File.ReadLines(path).First());
        Assert.Equal(log.Rows, TrainingLog.Read(path));
        Assert.Equal([1L], TrainingLog.Open(path, 1).Rows.Select(r => r.Step)); // a resumption after step 1 keeps step 1
        Assert.Empty(TrainingLog.Open(path, 0).Rows); // a fresh run starts empty
    }

    /// <summary>
    /// A tiny demo-facts run stopped mid-way (a CancellationToken, as Ctrl-C), then resumed: its training-log.csv has
    /// every step once, in order, with the values an uninterrupted run logs (bit-exact resume), and its training curves.
    /// </summary>
    [Fact]
    public void TheTrainingLogSurvivesAResumeWithoutDuplicatedSteps()
    {
        var spec = new ExperimentSpec
        {
            Task = "demo-facts", MaxTrain = 32, MaxEval = 16, EvalSamples = 0, Device = "cpu", Precision = Precision.Fp32,
            Training = new TrainingOptions
            {
                Method = new MethodOptions { Kind = MethodRegistry.Blob },
                Steps = 8, BatchSize = 8, LearningRate = 1e-3, MaxLength = 16, Seed = 5, CheckpointEvery = 3,
            },
        };
        string straight = Path.Combine(_dir, "straight"), stopped = Path.Combine(_dir, "stopped");
        Experiment.Run(spec, straight);

        using (var cancel = new CancellationTokenSource())
        {
            // stop after step 5: the checkpoint is then at step 5, and the log was written with it
            Assert.ThrowsAny<OperationCanceledException>(() => Experiment.Run(spec, stopped,
                onStep: p => { if (p.Step == 5) cancel.Cancel(); }, cancel: cancel.Token));
        }
        Assert.Equal([1L, 2, 3, 4, 5], TrainingLog.Read(Path.Combine(stopped, TrainingLog.FileName)).Select(r => r.Step));
        // as if killed after logging steps 6 and 7 but before their checkpoint: those rows are rewritten, not repeated
        var log = File.ReadAllLines(Path.Combine(stopped, TrainingLog.FileName)).ToList();
        log.Add("6,9,9,9,9,9,9");
        log.Add("7,9,9,9,9,9,9");
        File.WriteAllLines(Path.Combine(stopped, TrainingLog.FileName), log);

        Experiment.Run(spec, stopped, ExistingRun.Resume);

        var expected = TrainingLog.Read(Path.Combine(straight, TrainingLog.FileName));
        var resumed = TrainingLog.Read(Path.Combine(stopped, TrainingLog.FileName));
        Assert.Equal(Enumerable.Range(1, 8).Select(s => (long)s), resumed.Select(r => r.Step));
        // the training accuracy counts this process's batches only, and the seconds differ: the rest is bit for bit
        Assert.Equal(expected.Select(r => r with { Seconds = 0, TrainAccuracy = 0 }), resumed.Select(r => r with { Seconds = 0, TrainAccuracy = 0 }));
        Assert.True(expected.Any(r => r.Kl > 0) && expected.Any(r => r.KlWeight > 0)); // BLoB logs its KL and λ
        // the resumed run's TensorBoard file is one file with every step once, the CSV's values (no 9s from the kill)
        var events = TensorBoardEventFile.Read(Assert.Single(TensorBoardEvents.Files(Path.Combine(stopped, TensorBoardEvents.FolderName), TrainingLog.Stream))).Scalars;
        Assert.Equal(resumed.Select(r => (r.Step, (float)r.Loss)), events.Where(e => e.Tag == "loss").Select(e => (e.Step, e.Value)));
        Assert.Equal(resumed.Select(r => (r.Step, (float)r.Kl)), events.Where(e => e.Tag == "kl").Select(e => (e.Step, e.Value)));
        foreach (var run in new[] { straight, stopped })
        {
            var png = File.ReadAllBytes(Path.Combine(run, TrainingCurves.FileName));
            Assert.True(png.Length > 5000);
            Assert.Equal((byte)'P', png[1]);
        }
    }
}
