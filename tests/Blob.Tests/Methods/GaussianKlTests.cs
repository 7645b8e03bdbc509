using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

public class GaussianKlTests
{
    [Fact]
    public void SumEqualsEquation11ElementByElement()
    {
        manual_seed(1);
        var mean = randn(4, 5, dtype: ScalarType.Float64);
        var std = rand(4, 5, dtype: ScalarType.Float64).add(0.01);
        const double priorStd = 0.2;
        double byHand = 0;
        var m = mean.data<double>().ToArray();
        var s = std.data<double>().ToArray();
        for (int i = 0; i < m.Length; i++)
            byHand += Math.Log(priorStd) - Math.Log(s[i]) + (s[i] * s[i] + m[i] * m[i]) / (2 * priorStd * priorStd) - 0.5;
        Assert.Equal(byHand, GaussianKl.Sum(mean, std, priorStd).item<double>(), 9);
        Assert.Equal(byHand / m.Length, GaussianKl.Mean(mean, std, priorStd).item<double>(), 9); // BBB's form
    }

    [Fact]
    public void BayesByBackpropUsesTheSameKlAveraged()
    {
        manual_seed(2);
        using var bbb = new Blob.Methods.BbbAdapter(6, 5, rank: 3, alpha: 3, priorStd: 0.7);
        var std = TorchSharp.torch.nn.functional.softplus(bbb.lora_A_rho);
        double byHand = 0;
        var m = bbb.lora_A.data<float>().ToArray();
        var s = std.data<float>().ToArray();
        for (int i = 0; i < m.Length; i++) byHand += GaussianKl.Scalar(m[i], s[i], 0.7);
        Assert.Equal(byHand / m.Length, bbb.Kl().item<float>(), 4);
    }

    [Fact]
    public void IsZeroAtThePriorAndPositiveElsewhere()
    {
        Assert.Equal(0.0, GaussianKl.Scalar(0, 0.2, 0.2), 15);
        Assert.True(GaussianKl.Scalar(0.1, 0.2, 0.2) > 0);
        Assert.True(GaussianKl.Scalar(0, 0.05, 0.2) > 0);
        Assert.Equal(0.0, GaussianKl.Sum(zeros(3, 3), full(3, 3, 0.2), 0.2).item<float>(), 5);
    }

    [Fact]
    public void StableVariantDiffersOnlyByItsEpsilon()
    {
        var mean = tensor(new[] { 0.3, -0.1 });
        var std = tensor(new[] { 0.02, 0.5 });
        double exact = GaussianKl.Sum(mean, std, 0.2).item<double>();
        double stable = GaussianKl.SumStable(mean, std, 0.2).item<double>();
        Assert.Equal(exact, stable, 2); // 1e-6 against σ ≥ 0.02 moves the logs by < 1e-4
        Assert.True(double.IsFinite(GaussianKl.SumStable(zeros(1), zeros(1), 0.2).item<double>()));
    }
}
