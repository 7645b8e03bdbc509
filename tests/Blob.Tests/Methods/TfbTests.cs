using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Tests.Layers;
using Blob.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

public class TfbTests
{
    /// <summary>A toy model whose LoRA adapters have learnt something (B ≠ 0), as after MLE training.</summary>
    static (ToyBlock Model, ToyClassifier Classifier) TrainedLora()
    {
        var (model, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 3, Alpha = 6 });
        using (no_grad())
            foreach (var (_, a) in AdapterInjection.Adapters(model)) ((LoraAdapter)a).lora_B.normal_(0, 0.3);
        return (model, classifier);
    }

    [Fact]
    public void TheRotationLeavesTheUpdateBATheSame()
    {
        var (model, _) = TrainedLora();
        var before = AdapterInjection.Adapters(model).Select(a => a.Adapter.MeanDeltaWeight().detach().clone()).ToList();
        var layers = TfbFit.Rotate(model);
        var after = AdapterInjection.Adapters(model).Select(a => a.Adapter.MeanDeltaWeight()).ToList();
        Assert.Equal(before.Count, layers.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.IsType<BlobAdapter>(layers[i].Adapter);
            Assert.True(before[i].allclose(after[i], rtol: 1e-5, atol: 1e-6), $"layer {i}: B′·A′ differs from B·A");
            // B′ = U·D has orthogonal columns of lengths D (the singular values, descending)
            var b = layers[i].Adapter.lora_B.detach();
            var gram = b.t().matmul(b);
            Assert.True(gram.allclose(diag(layers[i].D.square()), rtol: 1e-4, atol: 1e-5));
        }
        foreach (var (_, d) in layers) d.Dispose();
    }

    [Fact]
    public void ASmallerBetaGivesTheRowsOfAProportionalStandardDeviations()
    {
        var (model, _) = TrainedLora();
        var layers = TfbFit.Rotate(model);
        TfbFit.SetBeta(layers, 0.05);
        var (adapter, d) = layers[0];
        var std = adapter.StdA().detach();                // Ω = G², [r, in]
        var expected = (0.05 / (d + 1e-6)).unsqueeze(1).expand_as(std);
        Assert.True(std.allclose(expected, rtol: 1e-5));
        foreach (var (_, s) in layers) s.Dispose();
    }

    [Fact]
    public void TheChosenBetaMeetsTheThresholdAndTheNextLargerTriedDoesNot()
    {
        var (_, classifier) = TrainedLora();
        var anchors = new ToyData(64, seed: 11);
        var fit = TfbFit.Fit(classifier, anchors, batchSize: 32, CPU);
        Assert.InRange(fit.Beta, TfbFit.MinBeta, TfbFit.MaxBeta);
        Assert.True(fit.Change <= TfbFit.Threshold, $"β = {fit.Beta}: NLL change {fit.Change} above the threshold");
        // This toy's adapters are large, so the threshold binds: a slightly larger β was tried and refused.
        Assert.NotNull(fit.Rejected);
        Assert.True(fit.Rejected > fit.Beta && fit.Rejected - fit.Beta <= (TfbFit.MaxBeta - TfbFit.MinBeta) / Math.Pow(2, TfbFit.Iterations - 1) + 1e-12);
        Assert.True(ChangeAt(classifier, anchors, fit.Rejected!.Value) > TfbFit.Threshold);
        Assert.True(ChangeAt(classifier, anchors, fit.Beta) <= TfbFit.Threshold);
    }

    /// <summary>The fit draws its candidates' samples from a fixed seed and leaves the caller's random stream as it was.</summary>
    [Fact]
    public void TheFitLeavesTheGlobalRandomStreamAsItFoundIt()
    {
        var (_, classifier) = TrainedLora();
        TorchSharp.torch.manual_seed(123);
        using var expected = TorchSharp.torch.rand(5);
        TorchSharp.torch.manual_seed(123);
        TfbFit.Fit(classifier, new ToyData(32, seed: 11), batchSize: 32, CPU);
        using var drawn = TorchSharp.torch.rand(5);
        Assert.True(drawn.allclose(expected, rtol: 0, atol: 0));
    }

    /// <summary>The fit draws from a generator of its own, seeded 0 before each candidate: the numbers the global generator
    /// seeded 0 gives, so the change it reports is, to the last bit, the one measured with that generator.</summary>
    [Fact]
    public void TheFitsOwnGeneratorGivesTheNumbersOfTheGlobalOneSeededZero()
    {
        var anchors = new ToyData(64, seed: 11);
        var (_, fitted) = TrainedLora();
        var fit = TfbFit.Fit(fitted, anchors, batchSize: 32, CPU);
        var (_, classifier) = TrainedLora(); // the same model again, rotated as the fit rotates it
        var layers = TfbFit.Rotate(classifier.Module);
        Assert.Equal(fit.Change, ChangeAt(classifier, anchors, fit.Beta, layers));
        foreach (var (_, d) in layers) d.Dispose();
    }

    /// <summary>The relative NLL change at β, measured as the fit measures it (the rotated model's own predictions).</summary>
    static double ChangeAt(ToyClassifier classifier, IBatchSource anchors, double beta, IReadOnlyList<(BlobAdapter, Tensor)>? rotated = null)
    {
        var layers = AdapterInjection.Adapters(classifier.Module).Select(a => (BlobAdapter)a.Adapter).ToList();
        var d = layers.Select(a => a.lora_B.detach().square().sum(new long[] { 0 }).sqrt()).ToList(); // ‖columns of B′‖ = D
        var pairs = rotated ?? layers.Zip(d).ToList();
        TfbFit.SetBeta(pairs, 0);
        var reference = BayesianPrediction.Predict(classifier, anchors, 0, 32, CPU);
        var labels = reference.Select(p => Array.IndexOf(p, p.Max())).ToArray();
        double nll0 = -reference.Select((p, i) => Math.Log(p[labels[i]] + 1e-12)).Average();
        TfbFit.SetBeta(pairs, beta);
        manual_seed(0);
        var sampled = BayesianPrediction.Predict(classifier, anchors, 1, 32, CPU);
        double nll = -sampled.Select((p, i) => Math.Log(p[labels[i]] + 1e-12)).Average();
        return Math.Abs(nll - nll0) / nll0;
    }
}
