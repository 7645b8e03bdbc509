using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

public class BlobAdapterTests
{
    static BlobAdapter SmallLayer(int inF, int outF, int rank, long seed, BlobOptions? options = null)
    {
        manual_seed(seed);
        var layer = new BlobAdapter(inF, outF, rank, rank, options ?? new BlobOptions());
        using (no_grad())
        {
            layer.lora_B.copy_(randn(outF, rank)); // B = 0 at init; give it values so the noise is visible
            layer.lora_A_rho.copy_(rand(rank, inF).mul(0.5).add(0.3)); // Ω = G² in [0.09, 0.64]
        }
        return layer;
    }

    [Fact]
    public void InitialisationFollowsAlgorithm1()
    {
        manual_seed(3);
        var layer = new BlobAdapter(400, 30, 8, 16, new BlobOptions { InitEpsilon = 0.05 });
        double eps = 0.05, bound = Math.Sqrt(6.0 / 400);
        Assert.InRange(layer.lora_A_rho.min().item<float>(), eps / Math.Sqrt(2) - 1e-7, eps);
        Assert.InRange(layer.lora_A_rho.max().item<float>(), eps / Math.Sqrt(2), eps + 1e-7);
        Assert.InRange(layer.lora_A.abs().max().item<float>(), 0.9 * bound, bound); // U(−√(6/n), √(6/n)) fills its range
        Assert.Equal(0f, layer.lora_B.abs().max().item<float>());
    }

    /// <summary>
    /// Theorem 3.1: with A ~ N(M, Ω²) and W = W0 + B·A, vec(W) ~ N(vec(W0 + BM), [I⊗B]·diag(vec(Ω)²)·[I⊗Bᵀ]).
    /// Samples of A are read off the layer itself: one example whose tokens are the unit vectors e_1..e_n gives
    /// the columns of B·Ã with Ã = M + (E∘Ω)∘(t sᵀ), which flipout makes a draw of q(A).
    /// </summary>
    [Fact]
    public void Theorem31_FullWeightMeanAndCovariance()
    {
        const int n = 3, m = 2, r = 2, calls = 20_000;
        var layer = SmallLayer(n, m, r, seed: 11);
        var w0 = randn(m, n, dtype: ScalarType.Float64);
        var identity = eye(n).unsqueeze(0); // one example, n tokens
        var samples = zeros(calls, m * n, dtype: ScalarType.Float64);
        using (no_grad())
            for (int c = 0; c < calls; c++)
            {
                using var _ = NewDisposeScope();
                var columns = layer.forward(identity)[0].to(ScalarType.Float64); // row j = (B·Ã)[:, j]
                var w = w0 + columns.t();
                samples[c] = w.t().reshape(-1); // vec(): stack the columns
            }

        var b = layer.lora_B.detach().to(ScalarType.Float64);
        var mMat = layer.lora_A.detach().to(ScalarType.Float64);
        var omega = layer.StdA().detach().to(ScalarType.Float64);
        var muQ = (w0 + b.matmul(mMat)).t().reshape(-1);
        var iKronB = kron(eye(n, dtype: ScalarType.Float64), b);                      // [mn, rn]
        var sigmaQ = iKronB.matmul(diag(omega.t().reshape(-1).square())).matmul(iKronB.t());

        var mean = samples.mean(new long[] { 0 });
        var centred = samples - mean;
        var cov = centred.t().matmul(centred) / (calls - 1);

        // Standard errors: of a mean, sqrt(Σii/N); of a covariance entry, sqrt((Σii·Σjj + Σij²)/N). Allow 5 of them.
        var varDiag = sigmaQ.diagonal();
        var seMean = (varDiag / calls).sqrt();
        Assert.True(((mean - muQ).abs() <= seMean * 5 + 1e-9).all().item<bool>(),
            $"mean {mean.str()} vs μ_q {muQ.str()}");
        var seCov = ((varDiag.unsqueeze(1) * varDiag.unsqueeze(0) + sigmaQ.square()) / calls).sqrt();
        Assert.True(((cov - sigmaQ).abs() <= seCov * 5 + 1e-9).all().item<bool>(),
            $"max |cov − Σq| = {(cov - sigmaQ).abs().max().item<double>()}");
        // Σq is singular (rank ≤ r·n < m·n would need m > r; here check the structure: columns of W are independent)
        Assert.Equal(0.0, sigmaQ[0, m].item<double>(), 12);
    }

    /// <summary>
    /// Flipout (Appendix A.3): every example in a batch has the output mean and variance it would have with its own
    /// sample of A, and two examples' outputs are uncorrelated; with noise shared inside one example they are not.
    /// </summary>
    [Fact]
    public void Flipout_PerExampleMomentsAndDecorrelation()
    {
        const int n = 4, m = 3, r = 2, batch = 1000, calls = 50;
        var layer = SmallLayer(n, m, r, seed: 5);
        manual_seed(6);
        var x = randn(n);
        var inputs = x.unsqueeze(0).expand(batch, n).contiguous();
        var outs = new List<Tensor>();
        using (no_grad())
            for (int c = 0; c < calls; c++) outs.Add(layer.forward(inputs).to(ScalarType.Float64));
        var z = cat(outs, 0); // [calls·batch, m]
        int count = calls * batch;

        var b = layer.lora_B.detach().to(ScalarType.Float64);
        var omega = layer.StdA().detach().to(ScalarType.Float64);
        var xd = x.to(ScalarType.Float64);
        var expectedMean = b.matmul(layer.lora_A.detach().to(ScalarType.Float64)).matmul(xd);
        // Var z_o = Σ_k B_ok² Σ_j Ω_kj² x_j²  (independent entries of A, scaling 1)
        var expectedVar = b.square().matmul(omega.square().matmul(xd.square()));

        var mean = z.mean(new long[] { 0 });
        var variance = z.var(0);
        var se = (expectedVar / count).sqrt();
        Assert.True(((mean - expectedMean).abs() <= se * 5).all().item<bool>(), $"mean {mean.str()} vs {expectedMean.str()}");
        // The sample variance of N draws has relative standard error about sqrt((κ − 1)/N) with kurtosis κ ≤ 9 here.
        var relErr = ((variance - expectedVar).abs() / expectedVar).max().item<double>();
        Assert.True(relErr < 5 * Math.Sqrt(8.0 / count), $"variance off by {relErr:P2}");

        // Pairs of neighbouring examples: correlation ~ 0 within ±5/√pairs.
        var pairs = z.reshape(-1, 2, m);
        double corr = Correlation(pairs[.., 0, 0], pairs[.., 1, 0]);
        Assert.True(Math.Abs(corr) < 5 / Math.Sqrt(count / 2.0), $"flipout correlation {corr}");

        // Shared noise: the same x twice as two tokens of ONE example get the same signs, so the outputs coincide.
        var shared = new List<Tensor>();
        using (no_grad())
            for (int c = 0; c < calls; c++) shared.Add(layer.forward(x.expand(batch, 2, n).contiguous()).to(ScalarType.Float64));
        var s = cat(shared, 0);
        Assert.True(Correlation(s[.., 0, 0], s[.., 1, 0]) > 0.99);
    }

    static double Correlation(Tensor a, Tensor b)
    {
        var ca = a - a.mean();
        var cb = b - b.mean();
        return ((ca * cb).sum() / (ca.square().sum().sqrt() * cb.square().sum().sqrt())).item<double>();
    }

    [Fact]
    public void PerTokenFlipoutDecorrelatesTokensToo()
    {
        var layer = SmallLayer(4, 3, 2, seed: 8, new BlobOptions { Flipout = FlipoutScope.Token });
        var x = randn(4);
        using var _ = no_grad();
        var z = cat(Enumerable.Range(0, 20).Select(_ => layer.forward(x.expand(500, 2, 4).contiguous())).ToList(), 0).to(ScalarType.Float64);
        Assert.True(Math.Abs(Correlation(z[.., 0, 0], z[.., 1, 0])) < 5 / Math.Sqrt(10_000));
    }

    [Fact]
    public void KlGradientWithRespectToGMatchesEquation63()
    {
        const double priorStd = 0.2;
        var layer = SmallLayer(5, 3, 2, seed: 2, new BlobOptions { PriorStd = priorStd });
        var kl = layer.Kl();
        kl.backward();
        var g = layer.lora_A_rho.detach().to(ScalarType.Float64);
        // d/dG [ −log G² + G⁴ / (2σp²) ] = −2/G + 2G³/σp²   (paper Eq. 63)
        var expectedG = -2 / g + 2 * g.pow(3) / (priorStd * priorStd);
        Assert.True(allclose(layer.lora_A_rho.grad!.to(ScalarType.Float64), expectedG, rtol: 1e-4, atol: 1e-4));
        // d/dM [ M² / (2σp²) ] = M / σp²
        var expectedM = layer.lora_A.detach() / (priorStd * priorStd);
        Assert.True(allclose(layer.lora_A.grad!, expectedM, rtol: 1e-4, atol: 1e-5));
        Assert.True(layer.lora_B.grad is null || layer.lora_B.grad.abs().max().item<float>() == 0);
    }

    [Fact]
    public void KlEqualsEquation11ByHand()
    {
        var layer = SmallLayer(6, 2, 3, seed: 4, new BlobOptions { PriorStd = 0.5 });
        var m = layer.lora_A.detach().data<float>().ToArray();
        var g = layer.lora_A_rho.detach().data<float>().ToArray();
        double byHand = 0;
        for (int i = 0; i < m.Length; i++)
        {
            double omega = (double)g[i] * g[i];
            byHand += Math.Log(0.5) - Math.Log(omega) + (omega * omega + (double)m[i] * m[i]) / (2 * 0.25) - 0.5;
        }
        Assert.Equal(byHand, layer.Kl().item<float>(), 3);
    }

    [Fact]
    public void WithoutAsymmetricBayesianizationBIsRandomToo()
    {
        var layer = SmallLayer(4, 3, 2, seed: 9, new BlobOptions { Asymmetric = false });
        Assert.NotNull(layer.lora_B_rho);
        Assert.Equal(2, layer.StdParameters.Count());
        using var _ = no_grad();
        // The KL gains B's own term, Eq. 11 on (B, Ω_B).
        var klA = Blob.Methods.GaussianKl.Sum(layer.lora_A, layer.StdA(), 0.2);
        var klB = Blob.Methods.GaussianKl.Sum(layer.lora_B, layer.StdB()!, 0.2);
        Assert.Equal((klA + klB).item<float>(), layer.Kl().item<float>(), 2);
        // With no noise on A, the output still varies: the noise now comes from B.
        layer.lora_A_rho.zero_();
        var x = randn(1, 4);
        var outs = stack(Enumerable.Range(0, 200).Select(_ => layer.forward(x)).ToList());
        Assert.True(outs.std(0).max().item<float>() > 0);
    }

    [Fact]
    public void SoftplusParameterisationStartsAtTheSameStd()
    {
        manual_seed(1);
        var square = new BlobAdapter(50, 4, 8, 16, new BlobOptions());
        manual_seed(1);
        var softplus = new BlobAdapter(50, 4, 8, 16, new BlobOptions { Std = StdParameterization.Softplus });
        Assert.True(allclose(square.StdA(), softplus.StdA(), rtol: 1e-4, atol: 1e-7));
    }

    [Fact]
    public void SamplingOffIsTheMeanPath()
    {
        var layer = SmallLayer(5, 3, 2, seed: 12);
        var x = randn(7, 5);
        layer.Sample = false;
        using var _ = no_grad();
        var expected = x.matmul(layer.MeanDeltaWeight().t());
        Assert.True(allclose(layer.forward(x), expected, atol: 1e-5));
        Assert.True(allclose(layer.forward(x), layer.forward(x))); // deterministic
        layer.Sample = true;
        Assert.False(allclose(layer.forward(x), expected, atol: 1e-5));
    }
}
