using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>
/// Root-mean-square layer norm (TorchSharp 0.107 has none): x · rsqrt(mean(x²) + eps), computed in float32, cast
/// back to the input dtype, then scaled by the weight, exactly as transformers' LlamaRMSNorm does.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    readonly double _eps;

    public RmsNorm(long dim, double eps, ScalarType dtype = ScalarType.Float32) : base(nameof(RmsNorm))
    {
        weight = new Parameter(ones(dim, dtype), requires_grad: false);
        _eps = eps;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * (x32.pow(2).mean([-1], keepdim: true) + _eps).rsqrt();
        return (weight * normed.to(x.dtype)).MoveToOuterDisposeScope();
    }
}
