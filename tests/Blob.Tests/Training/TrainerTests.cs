using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Evaluation;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Training;

public class TrainerTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-trainer-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static TrainingOptions WithKlLearningRate(TrainingOptions o, double lr) =>
        o with { Method = o.Method with { Blob = o.Method.Blob with { KlLearningRate = lr } } };

    static TrainingOptions Options(FineTuningMethod kind, int steps = 12) => new()
    {
        Method = new MethodOptions { Kind = kind, Rank = 2, Alpha = 2, Blob = new BlobOptions { KlLearningRate = 1e-2 } },
        Steps = steps, BatchSize = 8, LearningRate = 1e-2, Seed = 3,
    };

    [Theory]
    [InlineData("blob")]
    [InlineData("mle")]
    [InlineData("ens")]
    public void ResumedRunEndsExactlyWhereAnUninterruptedOneDoes(string method)
    {
        var kind = MethodRegistry.Parse(method);
        var data = new ToyData(40, seed: 1);
        var (straight, c1) = Toy.Build(new MethodOptions { Kind = kind, Rank = 2, Alpha = 2 });
        new Trainer(c1, data, Options(kind), CPU).Train();
        var expected = Toy.Parameters(straight);

        string ckpt = Path.Combine(_dir, kind.ToString());
        var (first, c2) = Toy.Build(new MethodOptions { Kind = kind, Rank = 2, Alpha = 2 });
        var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new Trainer(c2, data, Options(kind), CPU)
            .Train(ckpt, onStep: p => { if (p.Step == 5) cancel.Cancel(); }, cancel: cancel.Token));
        Assert.True(TrainingCheckpoint.Exists(ckpt));

        manual_seed(999); // whatever the process did meanwhile, the checkpoint's RNG state wins
        var (second, c3) = Toy.Build(new MethodOptions { Kind = kind, Rank = 2, Alpha = 2 }); // the same base model, as a reload gives
        var result = new Trainer(c3, data, Options(kind), CPU).Train(ckpt, resume: true);
        Assert.True(result.Resumed);
        Assert.Equal(expected, Toy.Parameters(second));
    }

    [Fact]
    public void ResumingWithOtherSettingsIsRefused()
    {
        var data = new ToyData(16, seed: 1);
        string ckpt = Path.Combine(_dir, "ckpt");
        var (_, c1) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 2, Alpha = 2 });
        new Trainer(c1, data, Options(MethodRegistry.Mle, steps: 2), CPU).Train(ckpt);
        var (_, c2) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 2, Alpha = 2 });
        var e = Assert.Throws<BlobException>(() =>
            new Trainer(c2, data, Options(MethodRegistry.Mle, steps: 2) with { LearningRate = 0.5 }, CPU).Train(ckpt, resume: true));
        Assert.Contains("other settings", e.Message);
        Assert.Contains("training.learning_rate: 0.01 → 0.5", e.Message); // the fingerprint is the settings record: the change is named
    }

    [Fact]
    public void ANaNLossStopsTheRunNamingTheStep()
    {
        var data = new ToyData(16, seed: 1);
        var (model, c) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 2, Alpha = 2 });
        using (no_grad()) model.q_proj.weight[0, 0] = float.NaN;
        var e = Assert.Throws<BlobException>(() => new Trainer(c, data, Options(MethodRegistry.Mle), CPU).Train());
        Assert.Contains("step 1", e.Message);
    }

    [Fact]
    public void TrainingLowersTheLossAndBlobGrowsItsStd()
    {
        var data = new ToyData(64, seed: 2);
        var (model, c) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 });
        var blob = (BlobAdapter)model.q_proj.Adapter!;
        double stdBefore = blob.StdA().mean().item<float>();
        var losses = new List<double>();
        new Trainer(c, data, WithKlLearningRate(Options(MethodRegistry.Blob, steps: 60), 0.05), CPU)
            .Train(onStep: p => losses.Add(p.Loss));
        Assert.True(losses.TakeLast(10).Average() < losses.Take(10).Average());
        Assert.True(blob.StdA().mean().item<float>() > stdBefore); // the KL pulls Ω from ~ε² towards σp
    }

    [Fact]
    public void McDropoutWithoutDropoutEqualsMle()
    {
        var data = new ToyData(32, seed: 4);
        var (mle, c1) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 2, Alpha = 2 });
        new Trainer(c1, data, Options(MethodRegistry.Mle), CPU).Train();
        var (mcd, c2) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mcd, Rank = 2, Alpha = 2, LoraDropout = 0 });
        new Trainer(c2, data, Options(MethodRegistry.Mcd), CPU).Train();
        var p1 = BayesianPrediction.Predict(c1, data, samples: 0, batchSize: 16, CPU);
        var p2 = BayesianPrediction.Predict(c2, data, samples: 10, batchSize: 16, CPU);
        for (int i = 0; i < p1.Length; i++) Assert.Equal(p1[i], p2[i], (a, b) => Math.Abs(a - b) < 1e-6);
    }

    [Fact]
    public void AnEnsembleOfIdenticalMembersEqualsOneMember()
    {
        var data = new ToyData(16, seed: 5);
        var (ens, c) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Ens, Rank = 2, Alpha = 2, Ensemble = new EnsembleOptions { Size = 3 } });
        using (no_grad())
            foreach (var (_, a) in AdapterInjection.Adapters(ens))
            {
                var e = (EnsembleAdapter)a;
                e.members[0].lora_B.normal_();
                for (int m = 1; m < e.Size; m++)
                {
                    e.members[m].lora_A.copy_(e.members[0].lora_A);
                    e.members[m].lora_B.copy_(e.members[0].lora_B);
                }
            }
        var batch = data.Make(Enumerable.Range(0, 16).ToArray(), CPU);
        using var _ = no_grad();
        var single = c.ClassLogits(batch);
        Assert.True(allclose(new EnsembleClassifier(c, false).ClassLogits(batch), single, atol: 1e-5));
        var probs = nn.functional.softmax(new EnsembleClassifier(c, true).ClassLogits(batch), 1);
        Assert.True(allclose(probs, nn.functional.softmax(single, 1), atol: 1e-5));
    }

    [Fact]
    public void BbbKlIsTheClosedFormMeanOverElements()
    {
        manual_seed(0);
        var bbb = new BbbAdapter(5, 3, rank: 2, alpha: 2);
        var mu = bbb.lora_A.detach().data<float>().ToArray();
        var rho = bbb.lora_A_rho.detach().data<float>().ToArray();
        double sum = 0;
        for (int i = 0; i < mu.Length; i++)
        {
            double sigma = Math.Log(1 + Math.Exp(rho[i]));
            sum += Blob.Methods.GaussianKl.Scalar(mu[i], sigma, 1.0);
        }
        Assert.Equal(sum / mu.Length, bbb.Kl().item<float>(), 4);
    }

    [Fact]
    public void GroupingByLengthKeepsEveryExampleAndPutsSimilarLengthsTogether()
    {
        var lengths = Enumerable.Range(0, 1000).Select(i => (i * 37) % 101 + 1).ToArray();
        var shuffled = Enumerable.Range(0, lengths.Length).ToArray();
        new Random(5).Shuffle(shuffled);
        var grouped = Trainer.GroupedByLength(shuffled, batchSize: 8, i => lengths[i], new Random(6));

        Assert.Equal(Enumerable.Range(0, lengths.Length), grouped.Order()); // a permutation: nothing lost, nothing repeated
        int Padded(int[] order) => order.Chunk(8).Sum(b => b.Length * b.Max(i => lengths[i]));
        int real = lengths.Sum();
        Assert.True(Padded(grouped) < 1.1 * real, $"grouped batches pad {Padded(grouped)} tokens for {real}");
        Assert.True(Padded(shuffled) > 1.5 * real, $"random batches pad {Padded(shuffled)} tokens for {real}");
        Assert.NotEqual(grouped.Chunk(8).Select(b => lengths[b[0]]), grouped.Chunk(8).Select(b => lengths[b[0]]).OrderDescending()); // batch order shuffled
    }

    [Fact]
    public void TheShortBatchStaysLastWhenGrouping()
    {
        var shuffled = Enumerable.Range(0, 21).ToArray();
        var grouped = Trainer.GroupedByLength(shuffled, batchSize: 4, i => i, new Random(1));
        Assert.Equal([0], grouped[^1..]); // 21 = 5 × 4 + 1: the lone shortest example is the final, short batch
    }
}
