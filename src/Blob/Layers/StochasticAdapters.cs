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
}
