using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Tests.Layers;
using Blob.Tests.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

/// <summary>
/// N-sample prediction draws k weight samples per forward call (the batch repeated k times, replica s
/// using sample s). It must give the distribution of k separate passes. The statistical checks compare the two
/// paths' sample moments within 5 standard errors of their difference: with the hundred or so statistics of a test, the
/// chance that a correct implementation fails any of them is about 100 × 5.7·10⁻⁷ (two-sided normal tail at 5σ),
/// while a wrong distribution (a shared E across replicas, a wrong scale of Ω, correlated masks) moves them by many
/// standard errors at these sample sizes. Seeds are fixed, so the tests are deterministic.
/// </summary>
public class BatchedSamplingTests
{
    const double Z = 5;

    /// <summary>Per-sample outputs [n, examples·out] of the adapter for x [examples, in]: n calls, or n/k calls of k replicas.</summary>
    static double[][] Draws(Adapter adapter, Tensor x, int n, int k)
    {
        var rows = new List<double[]>();
        using var _ = no_grad();
        ((ISampleBatchedAdapter)adapter).SampleCount = k;
        try
        {
            for (int i = 0; i < n; i += k)
            {
                using var scope = NewDisposeScope();
                var input = k == 1 ? x : x.repeat(k, 1, 1);
                var y = adapter.forward(input).reshape(k, -1).to(ScalarType.Float64); // [k, examples·out]
                var flat = y.data<double>().ToArray();
                int width = (int)y.shape[1];
                for (int s = 0; s < k; s++) rows.Add(flat.AsSpan(s * width, width).ToArray());
            }
        }
        finally { ((ISampleBatchedAdapter)adapter).SampleCount = 1; }
        return rows.ToArray();
    }

    static double Mean(IEnumerable<double> xs) => xs.Average();

    /// <summary>Asserts that two samples of a statistic's per-draw terms have the same mean within Z standard errors.</summary>
    static void SameMean(double[] a, double[] b, string what)
    {
        double ma = Mean(a), mb = Mean(b);
        double va = a.Sum(v => (v - ma) * (v - ma)) / (a.Length - 1), vb = b.Sum(v => (v - mb) * (v - mb)) / (b.Length - 1);
        double se = Math.Sqrt(va / a.Length + vb / b.Length);
        Assert.True(Math.Abs(ma - mb) <= Z * se + 1e-12, $"{what}: {ma:G6} against {mb:G6}, {Math.Abs(ma - mb) / se:F1} standard errors apart");
    }

    static double[] Column(double[][] rows, int j) => rows.Select(r => r[j]).ToArray();

    static double[] Centred(double[] xs) { double m = Mean(xs); return xs.Select(v => v - m).ToArray(); }

    /// <summary>
    /// Same mean, variance and cross-example moments per output, and replicas of one call independent: the correlation
    /// of neighbouring draws, of their values and of their squares (a shared E under flipout's random signs shows in
    /// the squares only), is within Z/√n of 0.
    /// </summary>
    static void SameDistribution(double[][] sequential, double[][] batched, int k, string name)
    {
        int width = sequential[0].Length;
        for (int j = 0; j < width; j++)
        {
            var a = Column(sequential, j); var b = Column(batched, j);
            SameMean(a, b, $"{name} output {j}, mean");
            var ca = Centred(a); var cb = Centred(b);
            SameMean(ca.Select(v => v * v).ToArray(), cb.Select(v => v * v).ToArray(), $"{name} output {j}, variance");
        }
        // Examples of one sample share its weights: the moments across outputs (examples) within a draw must agree.
        for (int j = 1; j < width; j++)
        {
            var a0 = Centred(Column(sequential, 0)); var aj = Centred(Column(sequential, j));
            var b0 = Centred(Column(batched, 0)); var bj = Centred(Column(batched, j));
            SameMean(a0.Zip(aj, (u, v) => u * v).ToArray(), b0.Zip(bj, (u, v) => u * v).ToArray(), $"{name} outputs 0 and {j}, covariance");
            SameMean(a0.Zip(aj, (u, v) => u * u * v * v).ToArray(), b0.Zip(bj, (u, v) => u * u * v * v).ToArray(), $"{name} outputs 0 and {j}, co-moment of squares");
        }
        // Replicas s and s + 1 of one call (draws 2m and 2m + 1 with k even) are independent.
        Assert.True(k % 2 == 0);
        int pairs = batched.Length / 2;
        for (int j = 0; j < width; j++)
        {
            var c = Centred(Column(batched, j));
            var sq = Centred(c.Select(v => v * v).ToArray());
            foreach (var (series, what) in new[] { (c, "values"), (sq, "squares") })
            {
                double num = 0, d1 = 0, d2 = 0;
                for (int m = 0; m < pairs; m++) { num += series[2 * m] * series[2 * m + 1]; d1 += series[2 * m] * series[2 * m]; d2 += series[2 * m + 1] * series[2 * m + 1]; }
                double corr = num / Math.Sqrt(d1 * d2);
                Assert.True(Math.Abs(corr) <= Z / Math.Sqrt(pairs), $"{name} output {j}: replicas correlated in their {what}, r = {corr:F3} over {pairs} pairs");
            }
        }
    }

    static Tensor Input() { manual_seed(3); return randn(3, 2, 4); } // 3 examples of 2 tokens, 4 features

    [Theory]
    [InlineData(true, FlipoutScope.Example)]
    [InlineData(false, FlipoutScope.Example)] // B Gaussian too (no asymmetric Bayesianization): two flipout products
    [InlineData(true, FlipoutScope.Token)]
    public void BlobsBatchedSamplesHaveTheDistributionOfSeparatePasses(bool asymmetric, FlipoutScope flipout)
    {
        manual_seed(1);
        var adapter = new BlobAdapter(4, 2, 2, 2, new BlobOptions { Asymmetric = asymmetric, Flipout = flipout, InitEpsilon = 0.5 });
        using (no_grad()) { adapter.lora_B.normal_(0, 1); adapter.lora_B_rho?.uniform_(3, 5); }
        adapter.eval();
        var x = Input();
        const int n = 4000, k = 8;
        manual_seed(10);
        var sequential = Draws(adapter, x, n, 1);
        manual_seed(20);
        var batched = Draws(adapter, x, n, k);
        SameDistribution(sequential, batched, k, $"BLoB (asymmetric {asymmetric}, flipout {flipout})");
    }

    [Fact]
    public void BbbsBatchedSamplesHaveTheDistributionOfSeparatePasses()
    {
        manual_seed(1);
        var adapter = new BbbAdapter(4, 2, rank: 2, alpha: 2);
        using (no_grad()) { adapter.lora_B.normal_(0, 1); adapter.lora_A_rho.fill_(-0.5); }
        adapter.eval();
        var x = Input();
        const int n = 4000, k = 8;
        manual_seed(10);
        var sequential = Draws(adapter, x, n, 1);
        manual_seed(20);
        var batched = Draws(adapter, x, n, k);
        SameDistribution(sequential, batched, k, "BBB");
    }

    [Fact]
    public void ReplicasOfOneCallUseDifferentWeightSamplesAndSampleCountOneIsTheOrdinaryForward()
    {
        manual_seed(1);
        var adapter = new BbbAdapter(4, 2, rank: 2, alpha: 2);
        using (no_grad()) adapter.lora_B.normal_(0, 1);
        var x = Input();
        using var _ = no_grad();
        adapter.SampleCount = 3;
        var y = adapter.forward(x.repeat(3, 1, 1)).view(3, -1);
        Assert.False(y[0].allclose(y[1]));
        adapter.SampleCount = 1;
        manual_seed(5);
        var once = adapter.forward(x);
        manual_seed(5);
        Assert.Equal(once.data<float>().ToArray(), adapter.forward(x).data<float>().ToArray());
    }

    static MethodOptions Method(string name) => new() { Kind = MethodRegistry.Parse(name), Rank = 2, Alpha = 2, LoraDropout = name == "mcd" ? 0.3 : null };

    /// <summary>A toy model whose adapters' randomness matters: B away from 0 and, for BLoB, a large Ω.</summary>
    static (ToyBlock Model, ToyClassifier Classifier) Randomised(string method)
    {
        var (model, classifier) = Toy.Build(Method(method));
        using (no_grad())
            foreach (var (_, adapter) in AdapterInjection.Adapters(model))
                foreach (var (name, p) in adapter.named_parameters())
                    if (name == "lora_B") p.normal_(0, 1);
                    else if (name == "lora_A_rho") p.fill_(method == "blob" ? 0.8 : -0.5);
        return (model, classifier);
    }

    [Theory]
    [InlineData("blob")]
    [InlineData("bbb")]
    [InlineData("mcd")]
    public void BatchedPredictionAveragesToTheSequentialOnes(string method)
    {
        var (model, classifier) = Randomised(method);
        Assert.True(AdapterInjection.SamplesInBatches(model));
        var data = new ToyData(8, seed: 2);
        const int repeats = 300;
        double[][] Runs(int perCall, int seed)
        {
            manual_seed(seed);
            return Enumerable.Range(0, repeats).Select(_ =>
                BayesianPrediction.Predict(classifier, data, samples: 10, batchSize: 8, CPU, samplesPerCall: perCall).SelectMany(p => p).ToArray()).ToArray();
        }
        var sequential = Runs(1, 30);
        var batched = Runs(5, 40);
        var uneven = Runs(4, 50); // chunks of 4, 4, 2
        foreach (var other in new[] { (batched, "k = 5"), (uneven, "k = 4") })
            for (int j = 0; j < sequential[0].Length; j++)
            {
                var a = Column(sequential, j); var b = Column(other.Item1, j);
                SameMean(a, b, $"{method} {other.Item2}, probability {j}, mean over predictions");
                // The variance of a prediction (a mean of 10 samples) is that of one sample / 10 only if they are independent.
                SameMean(Centred(a).Select(v => v * v).ToArray(), Centred(b).Select(v => v * v).ToArray(), $"{method} {other.Item2}, probability {j}, variance");
            }
        Assert.All(batched, row => Assert.Equal(8.0, row.Sum(), 4)); // probabilities: each example's sum to 1
        model.Dispose();
    }

    [Theory]
    [InlineData("blob")]
    [InlineData("mcd")]
    [InlineData("mle")]
    public void MeanPredictionAndDeterministicMethodsAreUnchangedBitForBit(string method)
    {
        var (model, classifier) = Randomised(method);
        var data = new ToyData(20, seed: 2);
        // N = 0: one pass with sampling off, whatever k is asked for: exactly softmax of the model's mean logits.
        var mean = BayesianPrediction.Predict(classifier, data, samples: 0, batchSize: 8, CPU);
        Assert.Equal(mean, BayesianPrediction.Predict(classifier, data, samples: 0, batchSize: 8, CPU, samplesPerCall: 5));
        AdapterInjection.SetSampling(model, false);
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var batch = data.Make(Enumerable.Range(0, 8).ToArray(), CPU);
            var direct = nn.functional.softmax(classifier.ClassLogits(batch).to(ScalarType.Float32), 1).to(ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(direct, mean.Take(8).SelectMany(p => p).ToArray());
        }
        AdapterInjection.SetSampling(model, true);
        if (method == "mle")
        {
            // Nothing random: the automatic choice keeps one pass per sample, so N = 10 is what it was.
            Assert.False(AdapterInjection.SamplesInBatches(model));
            Assert.Equal(BayesianPrediction.Predict(classifier, data, samples: 10, batchSize: 8, CPU, samplesPerCall: 1),
                BayesianPrediction.Predict(classifier, data, samples: 10, batchSize: 8, CPU));
        }
        model.Dispose();
    }

    [Fact]
    public void TheChoiceOfSamplesPerCallFollowsTheTokenBudget()
    {
        var (model, classifier) = Randomised("blob");
        using var scope = NewDisposeScope();
        var batch = new Batch(zeros(32, 64, ScalarType.Int64), ones(32, 64), null, zeros(32, ScalarType.Int64));
        long budget = BayesianPrediction.DefaultTokensPerCall;
        Assert.Equal((int)Math.Clamp(budget / (32 * 64), 1, 10), BayesianPrediction.SamplesPerCall(classifier, batch, 10));
        Assert.Equal(4, BayesianPrediction.SamplesPerCall(classifier, batch, 10, tokensPerCall: 32 * 64 * 4 + 1)); // the caller's budget
        Assert.Equal(1, BayesianPrediction.SamplesPerCall(classifier, batch, 10, tokensPerCall: 1));
        Assert.Equal(1, BayesianPrediction.SamplesPerCall(classifier, batch, 1));
        var replicated = BayesianPrediction.Replicated(batch, 3);
        Assert.Equal([96L, 64L], replicated.InputIds.shape);
        Assert.Equal([96L], replicated.Labels.shape);
        model.Dispose();
    }
}
