using Blob.Layers;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// KL divergence of a diagonal Gaussian posterior q = N(μ, σ²) to a zero-mean isotropic Gaussian prior p = N(0, σp²),
/// summed over elements (paper Eq. 11):
///     KL = Σ [ log σp − log σ + (σ² + μ²) / (2σp²) − 1/2 ].
/// Theorem 3.2 shows this low-rank KL on A equals the KL of the full weight's low-rank Gaussians, so it is all BLoB needs.
/// </summary>
public static class GaussianKl
{
    /// <summary>Eq. 11 in the tensors' own precision (BLoB).</summary>
    public static Tensor Sum(Tensor mean, Tensor std, double priorStd) => PerElement(mean, std, priorStd).sum();

    /// <summary>Eq. 11 averaged over the elements instead of summed (Bayes by Backprop, as Bayesian-Torch's kl_div).</summary>
    public static Tensor Mean(Tensor mean, Tensor std, double priorStd) => PerElement(mean, std, priorStd).mean();

    static Tensor PerElement(Tensor mean, Tensor std, double priorStd)
    {
        double logPrior = Math.Log(priorStd), twoVar = 2 * priorStd * priorStd;
        return logPrior - std.log() + (std.square() + mean.square()) / twoVar - 0.5;
    }

    /// <summary>
    /// The official code's variant: computed in float64 with 1e-6 added inside both logs and to the denominator.
    /// Slightly biased for tiny σ, but never infinite.
    /// </summary>
    public static Tensor SumStable(Tensor mean, Tensor std, double priorStd)
    {
        const double eps = 1e-6;
        using var m = mean.to(ScalarType.Float64);
        using var s = std.to(ScalarType.Float64);
        return (Math.Log(priorStd + eps) - (s + eps).log() + (s.square() + m.square()) / (2 * priorStd * priorStd + eps) - 0.5).sum();
    }

    /// <summary>Eq. 11 for one scalar element; the closed form tests compare against.</summary>
    public static double Scalar(double mean, double std, double priorStd) =>
        Math.Log(priorStd) - Math.Log(std) + (std * std + mean * mean) / (2 * priorStd * priorStd) - 0.5;
}
