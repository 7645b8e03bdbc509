using Blob.Methods;
using Blob.Reports;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Training;

public class PosteriorStdLogTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-stdlog-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static TrainingOptions Options(FineTuningMethod kind, int steps) => new()
    {
        Method = new MethodOptions { Kind = kind, Rank = 2, Alpha = 2, Blob = new BlobOptions { KlLearningRate = 0.05, PriorStd = 0.2 } },
        Steps = steps, BatchSize = 8, LearningRate = 1e-2, Seed = 3,
    };

    [Fact]
    public void QuantilesInterpolateBetweenOrderStatisticsAsNumpyDoes()
    {
        // 0, 1, …, 100 shuffled: the q-quantile is 100·q; of {1, 2, 3, 4}, the median is 2.5 and p25 1.75 (numpy: same).
        var values = Enumerable.Range(0, 101).Select(i => (double)i).Reverse().ToArray();
        var row = PosteriorStdRow.Of(7, values, 0.2);
        Assert.Equal((7L, 101L, 0.0, 5.0, 25.0, 50.0, 75.0, 95.0, 100.0, 50.0, 0.2),
            (row.Step, row.Count, row.Min, row.P05, row.P25, row.Median, row.P75, row.P95, row.Max, row.Mean, row.PriorStd));
        double[] four = [1, 2, 3, 4];
        Assert.Equal(2.5, PosteriorStdRow.Quantile(four, 0.5), 12);
        Assert.Equal(1.75, PosteriorStdRow.Quantile(four, 0.25), 12);
        Assert.Equal(3.85, PosteriorStdRow.Quantile(four, 0.95), 12);
    }

    [Fact]
    public void BlobTrainingLogsOmegaEveryStepFromItsInitialRange()
    {
        var data = new ToyData(64, seed: 2);
        var (model, c) = Toy.Build(Options(MethodRegistry.Blob, 1).Method);
        string log = Path.Combine(_dir, TrainingLog.FileName), stds = Path.Combine(_dir, PosteriorStdLog.FileName);
        new Trainer(c, data, Options(MethodRegistry.Blob, 40), CPU).Train(null, false, null, default, log);

        var rows = PosteriorStdLog.Read(stds);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.True(r.Min <= r.P05 && r.P05 <= r.P25 && r.P25 <= r.Median && r.Median <= r.P75
                                          && r.P75 <= r.P95 && r.P95 <= r.Max && r.PriorStd == 0.2));
        var adapters = Blob.Layers.AdapterInjection.Adapters(model).Select(a => (BlobAdapter)a.Adapter).ToList();
        Assert.Equal(3, adapters.Count); // q, v and o: every adapter's entries, together
        Assert.Equal(adapters.Sum(a => a.lora_A.numel()), rows[0].Count);
        // The last row is the adapters' Ω now; G starts in U(ε/√2, ε), so Ω = G² starts in [ε²/2, ε²].
        using (no_grad())
            Assert.Equal(adapters.Max(a => a.StdA().max().item<float>()), rows[^1].Max, 6);
        double eps = new BlobOptions().InitEpsilon;
        Assert.InRange(rows[0].Min, eps * eps / 2 * 0.9, eps * eps * 1.1);
        Assert.NotEqual(rows[0].Mean, rows[^1].Mean); // Ω is trained (how far it moves is what the log is for)

        string png = Path.Combine(_dir, PosteriorStdFigure.FileName);
        PosteriorStdFigure.Save(png, "toy: BLoB", rows);
        Assert.True(new FileInfo(png).Length > 1000);
    }

    [Fact]
    public void AMethodWithoutAPosteriorWritesNoLog()
    {
        var data = new ToyData(16, seed: 2);
        var (_, c) = Toy.Build(Options(MethodRegistry.Mle, 1).Method);
        new Trainer(c, data, Options(MethodRegistry.Mle, 3), CPU).Train(null, false, null, default, Path.Combine(_dir, TrainingLog.FileName));
        Assert.True(File.Exists(Path.Combine(_dir, TrainingLog.FileName)));
        Assert.False(File.Exists(Path.Combine(_dir, PosteriorStdLog.FileName)));
    }

    [Fact]
    public void AResumedRunLogsEveryStepOnceWithTheValuesOfAnUninterruptedOne()
    {
        var data = new ToyData(40, seed: 1);
        string straight = Path.Combine(_dir, "straight"), resumed = Path.Combine(_dir, "resumed");
        Directory.CreateDirectory(straight);
        Directory.CreateDirectory(resumed);
        var (_, c1) = Toy.Build(Options(MethodRegistry.Bbb, 1).Method);
        new Trainer(c1, data, Options(MethodRegistry.Bbb, 10), CPU).Train(null, false, null, default, Path.Combine(straight, TrainingLog.FileName));

        var (_, c2) = Toy.Build(Options(MethodRegistry.Bbb, 1).Method);
        var cancel = new CancellationTokenSource();
        string ckpt = Path.Combine(resumed, "checkpoint"), log = Path.Combine(resumed, TrainingLog.FileName);
        Assert.Throws<OperationCanceledException>(() => new Trainer(c2, data, Options(MethodRegistry.Bbb, 10), CPU)
            .Train(ckpt, false, p => { if (p.Step == 4) cancel.Cancel(); }, cancel.Token, log));
        var (_, c3) = Toy.Build(Options(MethodRegistry.Bbb, 1).Method);
        new Trainer(c3, data, Options(MethodRegistry.Bbb, 10), CPU).Train(ckpt, true, null, default, log);

        Assert.Equal(PosteriorStdLog.Read(Path.Combine(straight, PosteriorStdLog.FileName)),
            PosteriorStdLog.Read(Path.Combine(resumed, PosteriorStdLog.FileName)));
    }
}
