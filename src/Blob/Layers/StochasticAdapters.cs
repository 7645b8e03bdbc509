using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>An adapter whose output is random (weight samples, MC dropout) and can be made deterministic.</summary>
public interface IStochasticAdapter
{
    /// <summary>True: each forward call draws afresh (training, N-sample prediction). False: the mean path (N = 0).</summary>
    bool Sample { get; set; }
}

/// <summary>An adapter with a variational posterior over its weights: it has a KL to its prior.</summary>
public interface IVariationalAdapter : IStochasticAdapter
{
    /// <summary>KL(q ‖ prior) of this layer's random weights, a scalar tensor with gradients.</summary>
    Tensor Kl();
    /// <summary>The parameters of the standard deviations (G), which the official code updates only by SGD.</summary>
    IEnumerable<Parameter> StdParameters { get; }
    /// <summary>The posterior standard deviation of each entry of A, A's shape (BLoB's Ω = G², BBB's softplus(ρ)).</summary>
    Tensor StdA();
    /// <summary>σp, the prior's standard deviation of A's entries.</summary>
    double PriorStd { get; }
}

/// <summary>
/// A stochastic adapter that can draw several weight samples in one forward call (batched N-sample prediction). With
/// <see cref="SampleCount"/> = S &gt; 1 and sampling on, the input's leading dimension is S·B, sample-major: rows
/// s·B … s·B + B − 1 are replica s of the batch, and replica s uses weight sample s. The S samples are independent
/// draws, each shared by the examples of its replica (with per-example flipout signs where the adapter has them):
/// the distribution of S separate forward calls. S = 1 is the ordinary forward, unchanged.
/// </summary>
public interface ISampleBatchedAdapter : IStochasticAdapter
{
    /// <summary>S, the number of weight samples per forward call (1: the ordinary forward).</summary>
    int SampleCount { get; set; }

    /// <summary>True when a forward call draws random numbers now (sampling on, and the adapter is random in this mode).</summary>
    bool DrawsSamples { get; }
}

/// <summary>Helpers for adapters that draw S weight samples per call.</summary>
public static class SampleBatching
{
    /// <summary>x [S·B, …, in] seen as [S, B·…, in]: one slab of rows per weight sample.</summary>
    public static Tensor PerSample(Tensor x, int samples) => x.reshape(samples, -1, x.shape[^1]);

    /// <summary>The inverse of <see cref="PerSample"/>: [S, B·…, out] back to x's leading shape with width out.</summary>
    public static Tensor Unstack(Tensor y, Tensor like)
    {
        var shape = like.shape.ToArray();
        shape[^1] = y.shape[^1];
        return y.reshape(shape);
    }
}
