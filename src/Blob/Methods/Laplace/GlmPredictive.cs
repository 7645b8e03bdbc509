using Blob.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Class probabilities from the linearised (GLM) predictive f ~ N(μ, Σ_f) over the logits, Σ_f = J Σ Jᵀ.
/// </summary>
public static class GlmPredictive
{
    /// <summary>
    /// E[softmax(f)] by Monte Carlo: f_s = μ + V·√Λ·ε_s with Σ_f = V Λ Vᵀ (an eigen square root, which also accepts a
    /// singular Σ_f) and ε_s ~ N(0, I). mean [b, C], covariance [b, C, C] → [b, C].
    /// </summary>
    public static Tensor MonteCarlo(Tensor mean, Tensor covariance, int samples, Generator generator)
    {
        using var perSample = MonteCarloSamples(mean, covariance, samples, generator);
        return perSample.mean([1]);
    }

    /// <summary>softmax(f_s) of each of <see cref="MonteCarlo"/>'s samples (the same draws), [b, S, C] in float64.</summary>
    public static Tensor MonteCarloSamples(Tensor mean, Tensor covariance, int samples, Generator generator)
    {
        using var scope = NewDisposeScope();
        var (values, vectors) = linalg.eigh(covariance.to(ScalarType.Float64));
        var root = vectors.mul(values.clamp_min(0).sqrt().unsqueeze(1));                    // [b, C, C]
        var noise = randn([mean.shape[0], samples, mean.shape[1]], ScalarType.Float64, generator: generator);
        var logits = mean.to(ScalarType.Float64).unsqueeze(1) + noise.matmul(root.transpose(1, 2)); // [b, S, C]
        return logits.softmax(-1).MoveToOuterDisposeScope();
    }

    /// <summary>The probit approximation: softmax(μ_c / √(1 + π/8·Σ_cc)).</summary>
    public static Tensor Probit(Tensor mean, Tensor covariance)
    {
        using var scope = NewDisposeScope();
        var variance = covariance.to(ScalarType.Float64).diagonal(0, 1, 2);
        var scaled = mean.to(ScalarType.Float64) / (1 + Math.PI / 8 * variance).sqrt();
        return scaled.softmax(-1).MoveToOuterDisposeScope();
    }
}
