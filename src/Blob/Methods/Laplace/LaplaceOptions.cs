using Blob.Layers;
using Blob.Runtime;
namespace Blob.Methods;

/// <summary>Which LoRA matrices the Laplace approximation covers (Laplace-LoRA's laplace_sub).</summary>
public enum LaplaceSubset
{
    /// <summary>Every LoRA adapter of the model.</summary>
    All,
    /// <summary>Only the last adapted layer (e.g. lm_head, or the classifier head): last-layer Laplace-LoRA.</summary>
    LastLayer,
}

/// <summary>Settings of the post-hoc Laplace approximation over LoRA (LAP).</summary>
public sealed record LaplaceOptions
{
    public LaplaceSubset Subset { get; init; } = LaplaceSubset.All;
    /// <summary>The prior precision δ of N(0, δ⁻¹I) over the LoRA weights; null: tuned by maximising the marginal likelihood.</summary>
    public double? PriorPrecision { get; init; }
    /// <summary>Monte Carlo samples of the logits per example in the GLM predictive.</summary>
    public int Samples { get; init; } = 10_000;
    /// <summary>Use the probit approximation softmax(μ / √(1 + π/8·diag Σ)) instead of Monte Carlo.</summary>
    public bool Probit { get; init; }
    /// <summary>
    /// Examples per batch while fitting the factors (a matter of speed and memory only: the factors are sums), and the
    /// most per batch of the predictive, which holds as much memory per example as the fit.
    /// </summary>
    [ChangesNoResult] // the factors are sums over the examples: only the order of the additions changes
    public int BatchSize { get; init; } = 32;
    /// <summary>Seed of the Monte Carlo samples.</summary>
    public ulong Seed { get; init; }
}
