using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Tests.Layers;
using Blob.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

/// <summary>A network over float features seen as a classifier; sequence inputs [b, T, in] sum their tokens' outputs.</summary>
sealed class FeatureClassifier(nn.Module<Tensor, Tensor> net) : IClassifier
{
    public nn.Module Module => net;
    public Tensor ClassLogits(Batch batch)
    {
        var y = net.forward(batch.InputIds);
        return y.dim() == 3 ? y.sum(1) : y;
    }
}

/// <summary>Float features [N, in] or [N, T, in] with labels, carried in the batch's InputIds.</summary>
sealed class FeatureSource(Tensor features, Tensor labels, int classes, Func<int, int>? length = null) : IBatchSource
{
    public int Count => (int)features.shape[0];
    public int NumClasses => classes;
    /// <summary>Every example's tokens are real (no padding); <paramref name="length"/> can claim other lengths, to reorder batches.</summary>
    public int Length(int index) => length?.Invoke(index) ?? 1;
    public Batch Make(IReadOnlyList<int> indices, Device device)
    {
        var index = tensor(indices.Select(i => (long)i).ToArray());
        var x = features.index_select(0, index).to(device);
        long tokens = x.dim() == 3 ? x.shape[1] : 1;
        return new Batch(x, ones([x.shape[0], tokens], ScalarType.Int64), null, labels.index_select(0, index));
    }
}

/// <summary>A single adaptable linear layer as a network: logits = W0·x + b + Δ(x).</summary>
sealed class LinearNet : nn.Module<Tensor, Tensor>
{
    public AdaptableLinear head;
    public LinearNet(int inFeatures, int classes) : base("LinearNet")
    {
        head = new AdaptableLinear(inFeatures, classes);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => head.forward(x);
}

public class LaplaceTests(ITestOutputHelper output)
{
    static readonly Device Cpu = CPU;

    /// <summary>logits = W0·x + b + (α/r)·B·A·x, in float64, with a "trained" (non-zero) B.</summary>
    static LinearNet LinearModel(int inFeatures, int classes, int rank)
    {
        var model = new LinearNet(inFeatures, classes);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape));
        model.head.Adapter = new LoraAdapter(inFeatures, classes, rank, alpha: 2 * rank);
        RandomiseB(model);
        model.to(ScalarType.Float64);
        return model;
    }

    /// <summary>The toy block (tanh between layers) with LoRA on q_proj (rank 1) and v_proj (rank 2), float64.</summary>
    static ToyBlock ToyModel()
    {
        var model = new ToyBlock();
        AdapterInjection.Inject(model, ["q_proj", "v_proj"],
            (layer, name) => new LoraAdapter(layer.InFeatures, layer.OutFeatures, name == "q_proj" ? 1 : 2, alpha: 4));
        RandomiseB(model);
        using (no_grad()) model.o_proj.weight.mul_(0.2); // keep the softmax away from saturation, where the GGN vanishes
        model.to(ScalarType.Float64);
        return model;
    }

    static void RandomiseB(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (_, adapter) in AdapterInjection.Adapters(model)) ((LoraAdapter)adapter).lora_B.normal_(0, 0.5);
    }

    static FeatureSource Data(long[] shape, int classes)
    {
        var x = randn(shape, ScalarType.Float64);
        return new FeatureSource(x, randint(classes, [shape[0]], ScalarType.Int64), classes);
    }

    static List<Parameter> LoraParameters(nn.Module model) => AdapterInjection.Adapters(model)
        .SelectMany(a => new[] { ((LoraAdapter)a.Adapter).lora_A, ((LoraAdapter)a.Adapter).lora_B }).ToList();

    /// <summary>J [C, P]: the gradients of one example's logits wrt the parameters, row-major, one backward pass per class.</summary>
    static Tensor DenseJacobian(Tensor logitsRow, IList<Parameter> parameters)
    {
        var rows = new List<Tensor>();
        for (int c = 0; c < logitsRow.shape[0]; c++)
        {
            var grads = autograd.grad([logitsRow[c]], parameters.Cast<Tensor>().ToList(), retain_graph: true);
            rows.Add(cat(grads.Select(g => g.flatten()).ToList(), 0));
        }
        return stack(rows, 0);
    }

    /// <summary>The dense GGN Σ_n Jₙᵀ (diag pₙ − pₙpₙᵀ) Jₙ of the parameters over a batch.</summary>
    static Tensor DenseGgn(IClassifier classifier, Batch batch, IList<Parameter> parameters)
    {
        var logits = classifier.ClassLogits(batch);
        Tensor? sum = null;
        for (int n = 0; n < batch.Size; n++)
        {
            var j = DenseJacobian(logits[n], parameters);
            var p = logits[n].detach().softmax(0);
            var h = diag(p) - p.outer(p);
            var ggn = j.t().matmul(h).matmul(j);
            sum = sum is null ? ggn : sum + ggn;
        }
        return sum!;
    }

    static Tensor KfacBlock(KroneckerBlock block, long n) => kron(block.OutputFactor, block.InputFactor).mul(n);

    void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        double scale = Math.Max(1, expected.abs().max().item<double>());
        double error = (expected - actual).abs().max().item<double>();
        output.WriteLine($"max |difference| {error:g3} (largest entry {scale:g3})");
        Assert.True(error <= tolerance * scale, $"max |difference| {error:g3} exceeds {tolerance * scale:g3}");
    }

    [Fact]
    public void OneExampleKroneckerFactorsEqualTheDenseGgnBlockOfALinearModel()
    {
        manual_seed(10);
        OneExampleKroneckerFactorsEqualTheDenseGgnBlock(classes: 3);
        OneExampleKroneckerFactorsEqualTheDenseGgnBlock(classes: 2); // one backward pass instead of two
    }

    void OneExampleKroneckerFactorsEqualTheDenseGgnBlock(int classes)
    {
        var model = LinearModel(inFeatures: 4, classes: classes, rank: 2);
        var classifier = new FeatureClassifier(model);
        var data = Data([1, 4], classes);
        using var lap = LaplaceLora.Fit(classifier, data, new LaplaceOptions { PriorPrecision = 1 }, Cpu);

        var parameters = LoraParameters(model);
        for (int m = 0; m < 2; m++)
        {
            var dense = DenseGgn(classifier, data.Make([0], Cpu), [parameters[m]]);
            Assert.True(dense.abs().max().item<double>() > 1e-3, "the GGN block should not vanish");
            AssertClose(dense, KfacBlock(lap.Blocks[m], lap.DataCount), 1e-10);
        }
        Assert.Equal(ScalarType.Float64, lap.Blocks[0].InputFactor.dtype);

        // with two examples K-FAC is an approximation: the same comparison must see the difference
        var two = Data([2, 4], classes);
        using var lap2 = LaplaceLora.Fit(classifier, two, new LaplaceOptions { PriorPrecision = 1 }, Cpu);
        var dense2 = DenseGgn(classifier, two.Make([0, 1], Cpu), [parameters[0]]);
        double gap = (dense2 - KfacBlock(lap2.Blocks[0], 2)).abs().max().item<double>();
        output.WriteLine($"two examples: K-FAC differs from the dense GGN by up to {gap:g3}");
        Assert.True(gap > 1e-4);
    }

    /// <summary>The fit's directions square to the softmax Hessian diag(p) − ppᵀ (two classes: one direction), or to its diagonal.</summary>
    [Theory]
    [InlineData(2, false, 1)]
    [InlineData(5, false, 5)]
    [InlineData(4, true, 1)]
    public void HessianRootsSquareToTheSoftmaxHessian(int classes, bool independentChoices, int passes)
    {
        manual_seed(16);
        var p = randn([3, classes], ScalarType.Float64).mul(2).softmax(-1);
        var roots = LaplaceLora.HessianRoots(p, independentChoices);
        Assert.Equal(passes, roots.Length);
        for (int n = 0; n < 3; n++)
        {
            var hessian = diag(p[n]) - p[n].outer(p[n]);
            var expected = independentChoices ? diag(hessian.diagonal()) : hessian;
            var sum = roots.Select(d => independentChoices ? diag(d[n].square()) : d[n].outer(d[n])).Aggregate((a, b) => a + b);
            AssertClose(expected, sum, 1e-14);
        }
    }

    [Fact]
    public void OneExampleKroneckerFactorsEqualTheDenseGgnBlocksOfANonlinearNetwork()
    {
        manual_seed(11);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var data = Data([1, 6], 6);
        using var lap = LaplaceLora.Fit(classifier, data, new LaplaceOptions { PriorPrecision = 1 }, Cpu);

        var parameters = LoraParameters(model);
        Assert.Equal(4, lap.Blocks.Count);
        for (int m = 0; m < 4; m++)
        {
            var dense = DenseGgn(classifier, data.Make([0], Cpu), [parameters[m]]);
            Assert.True(dense.abs().max().item<double>() > 1e-4, "the GGN block should not vanish");
            AssertClose(dense, KfacBlock(lap.Blocks[m], 1), 1e-10);
        }
    }

    [Fact]
    public void GlmPredictiveCovarianceEqualsTheDenseJSigmaJt()
    {
        manual_seed(12);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var train = Data([5, 3, 6], 6);   // 5 examples of 3 tokens
        const double delta = 0.7;
        using var lap = LaplaceLora.Fit(classifier, train, new LaplaceOptions { PriorPrecision = delta }, Cpu);

        // Σ = (blockdiag(N·Ḡ⊗Ā) + δI)⁻¹, formed densely
        var precision = block_diag(lap.Blocks.Select(b => KfacBlock(b, lap.DataCount)).ToArray());
        precision += eye(precision.shape[0], dtype: ScalarType.Float64) * delta;
        var sigma = linalg.inv(precision);
        double denseLogDet = linalg.slogdet(precision).Item2.item<double>();
        Assert.Equal(denseLogDet, lap.Blocks.Sum(b => b.LogDetPrecision(lap.DataCount, delta)), 1e-8);

        var test = Data([4, 3, 6], 6).Make([0, 1, 2, 3], Cpu);
        var (mean, covariance) = lap.LogitDistribution(test);
        var logits = classifier.ClassLogits(test);
        AssertClose(logits.detach(), mean, 1e-12);
        var parameters = LoraParameters(model);
        for (int n = 0; n < 4; n++)
        {
            var j = DenseJacobian(logits[n], parameters);
            AssertClose(j.matmul(sigma).matmul(j.t()), covariance[n], 1e-9);
        }
    }

    [Fact]
    public void TunedPriorPrecisionMaximisesTheMarginalLikelihood()
    {
        manual_seed(13);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var train = Data([20, 6], 6);
        using var lap = LaplaceLora.Fit(classifier, train, new LaplaceOptions(), Cpu);

        double tuned = lap.PriorPrecision, best = lap.LogMarginalLikelihood(tuned);
        output.WriteLine($"δ* = {tuned:g6}: log marginal likelihood {best:f6}; at δ = 1: {lap.LogMarginalLikelihood(1.0):f6}; " +
                         $"at 1.02δ*: {lap.LogMarginalLikelihood(tuned * 1.02):f6}; at δ*/1.02: {lap.LogMarginalLikelihood(tuned / 1.02):f6}");
        Assert.InRange(tuned, 1e-5, 1e5);
        Assert.True(best > lap.LogMarginalLikelihood(1.0), $"tuned δ = {tuned}: {best} vs {lap.LogMarginalLikelihood(1.0)} at δ = 1");
        Assert.True(best > lap.LogMarginalLikelihood(tuned * 1.02));
        Assert.True(best > lap.LogMarginalLikelihood(tuned / 1.02));
        foreach (var logDelta in Enumerable.Range(-60, 121).Select(i => i / 10.0))
            Assert.True(best >= lap.LogMarginalLikelihood(Math.Exp(logDelta)) - 1e-9);
    }

    /// <summary>
    /// The fit batches its examples by length (shortest first) and 32 at a time: the factors are sums over examples, so
    /// neither the batch size nor the order changes them beyond rounding, and the tuned prior precision is the same.
    /// </summary>
    [Fact]
    public void FactorsDoNotDependOnTheBatchingOfTheFit()
    {
        manual_seed(15);
        var model = ToyModel();
        RandomiseB(model);
        var classifier = new FeatureClassifier(model);
        var train = Data([11, 3, 6], 6);
        var features = train.Make(Enumerable.Range(0, 11).ToArray(), Cpu);
        using var one = LaplaceLora.Fit(classifier, train, new LaplaceOptions { BatchSize = 1 }, Cpu);
        var shuffled = new FeatureSource(features.InputIds, features.Labels, 6, length: i => (i * 7) % 5);
        foreach (var size in new[] { 3, 32 })
        {
            using var other = LaplaceLora.Fit(classifier, shuffled, new LaplaceOptions { BatchSize = size }, Cpu);
            for (int m = 0; m < one.Blocks.Count; m++)
            {
                AssertClose(one.Blocks[m].InputFactor, other.Blocks[m].InputFactor, 1e-5);
                AssertClose(one.Blocks[m].OutputFactor, other.Blocks[m].OutputFactor, 1e-5);
            }
            Assert.Equal(one.LogLikelihood, other.LogLikelihood, 9);
            Assert.Equal(one.PriorPrecision, other.PriorPrecision, 4);
        }
    }

    [Fact]
    public void FactorsArePerLoraMatrix()
    {
        manual_seed(14);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var train = Data([7, 2, 6], 6);
        using var lap = LaplaceLora.Fit(classifier, train, new LaplaceOptions { PriorPrecision = 1, BatchSize = 3 }, Cpu);

        // q_proj: rank 1, v_proj: rank 2, both 6 → 6
        Assert.Equal(["q_proj.lora_A", "q_proj.lora_B", "v_proj.lora_A", "v_proj.lora_B"], lap.Blocks.Select(b => b.Name));
        long[][] inputShapes = [[6, 6], [1, 1], [6, 6], [2, 2]], outputShapes = [[1, 1], [6, 6], [2, 2], [6, 6]];
        for (int m = 0; m < 4; m++)
        {
            Assert.Equal(inputShapes[m], lap.Blocks[m].InputFactor.shape);
            Assert.Equal(outputShapes[m], lap.Blocks[m].OutputFactor.shape);
        }
        Assert.Equal(6 + 6 + 12 + 12, lap.ParameterCount);
        Assert.Equal(7, lap.DataCount);

        using var last = LaplaceLora.Fit(classifier, train, new LaplaceOptions { PriorPrecision = 1, Subset = LaplaceSubset.LastLayer }, Cpu);
        Assert.Equal(["v_proj.lora_A", "v_proj.lora_B"], last.Blocks.Select(b => b.Name));
        AssertClose(lap.Blocks[2].InputFactor, last.Blocks[0].InputFactor, 1e-12);
        AssertClose(lap.Blocks[3].OutputFactor, last.Blocks[1].OutputFactor, 1e-12);
    }

    [Fact]
    public void HugePriorPrecisionGivesTheMapSoftmaxAndSmallOneLessConfidence()
    {
        manual_seed(15);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var train = Data([10, 6], 6);
        var test = Data([6, 6], 6);
        double[][] map;
        using (no_grad())
        {
            var p = classifier.ClassLogits(test.Make(Enumerable.Range(0, 6).ToArray(), Cpu)).softmax(-1);
            map = Enumerable.Range(0, 6).Select(i => p[i].data<double>().ToArray()).ToArray();
        }

        foreach (bool probit in new[] { false, true })
        {
            using var sharp = LaplaceLora.Fit(classifier, train, new LaplaceOptions { PriorPrecision = 1e12, Probit = probit }, Cpu);
            var probabilities = sharp.PredictProbabilities(test, batchSize: 4, Cpu);
            Assert.Equal(6, probabilities.Length);
            for (int i = 0; i < 6; i++)
                for (int c = 0; c < 6; c++) Assert.Equal(map[i][c], probabilities[i][c], 1e-5);
        }

        using var broad = LaplaceLora.Fit(classifier, train, new LaplaceOptions { PriorPrecision = 1e-2, Samples = 20_000 }, Cpu);
        var spread = broad.PredictProbabilities(test, batchSize: 6, Cpu);
        Assert.All(spread, row => Assert.Equal(1.0, row.Sum(), 1e-9));
        output.WriteLine($"mean top-1 probability: MAP {map.Average(r => r.Max()):f4}, LAP with δ = 0.01 {spread.Average(r => r.Max()):f4}");
        Assert.True(spread.Average(r => r.Max()) < map.Average(r => r.Max()), "a broad posterior should be less confident");
    }

    /// <summary>
    /// The sampled prediction is the same numbers as the plain one (the same draws: each fit seeds its own generator),
    /// with each example's mutual information over the Monte Carlo logits: none where the posterior is a point, some
    /// where it is broad. The probit approximation draws no samples: its predictor records none.
    /// </summary>
    [Fact]
    public void MonteCarloPredictionRecordsEachExamplesMutualInformation()
    {
        manual_seed(16);
        var model = ToyModel();
        var classifier = new FeatureClassifier(model);
        var train = Data([10, 6], 6);
        var test = Data([6, 6], 6);
        foreach (var (precision, informative) in new[] { (1e12, false), (1e-2, true) })
        {
            var options = new LaplaceOptions { PriorPrecision = precision, Samples = 2_000 };
            using var plain = LaplaceLora.Fit(classifier, train, options, Cpu);
            using var sampled = LaplaceLora.Fit(classifier, train, options, Cpu);
            var expected = plain.PredictProbabilities(test, batchSize: 4, Cpu);
            var prediction = sampled.PredictSampled(test, batchSize: 4, Cpu);
            Assert.Equal(expected, prediction.Probabilities);
            Assert.Null(prediction.EmbeddingVariance);
            Assert.All(prediction.MutualInformation, mi => Assert.True(informative ? mi > 0 : mi < 1e-6, $"{mi} at prior precision {precision}"));
            if (informative) Assert.True(prediction.MutualInformation.Average() > 1e-3, string.Join(" ", prediction.MutualInformation));
        }
        var setup = new PredictionSetup(classifier, train, new MethodOptions { Kind = MethodRegistry.Lap, Laplace = new LaplaceOptions { PriorPrecision = 1, Probit = true } }, null, 4, Cpu);
        using var probit = MethodRegistry.Lap.Predictor(setup);
        Assert.Null(probit.PredictSampled);
    }
}
