using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>
/// The frozen linear layer of a pretrained model, z = W0·x + b, with a slot for an adapter that adds a low-rank
/// update: z = W0·x + b + Δ(x). Every linear layer of our model definitions is one of these, so that injecting LoRA
/// or BLoB by module name (as PEFT does) only fills the slot. The parameters keep the Hugging Face names
/// "weight" [out, in] and "bias"; the adapter's own parameters appear under "adapter.".
/// </summary>
public sealed class AdaptableLinear : nn.Module<Tensor, Tensor>
{
    public Parameter weight;
    public Parameter? bias;
    Adapter? _adapter;
    bool _merged;

    public long InFeatures => weight.shape[1];
    public long OutFeatures => weight.shape[0];

    public AdaptableLinear(long inFeatures, long outFeatures, bool hasBias = true, ScalarType dtype = ScalarType.Float32)
        : base(nameof(AdaptableLinear))
    {
        weight = new Parameter(zeros(outFeatures, inFeatures, dtype), requires_grad: false);
        bias = hasBias ? new Parameter(zeros(outFeatures, dtype), requires_grad: false) : null;
        RegisterComponents();
    }

    /// <summary>The adapter in the slot, or null. Setting it registers it as the child module "adapter".</summary>
    public Adapter? Adapter
    {
        get => _adapter;
        set
        {
            if (_merged) throw new InvalidOperationException("unmerge the adapter before replacing it");
            _adapter = value;
            if (_internal_submodules.ContainsKey("adapter")) _internal_submodules.Remove("adapter");
            if (value is not null) register_module("adapter", value);
        }
    }

    /// <summary>
    /// Called with every input x before the product, or null (the default: nothing is called). For reading what the
    /// layer sees, such as a classification head's input (Methods' FinalEmbeddings); x belongs to the caller's dispose
    /// scope, so a probe that keeps it must copy it out of the scope.
    /// </summary>
    public Action<Tensor>? InputProbe { get; set; }

    /// <summary>Whether forward adds an adapter's update (there is one, and it is not merged).</summary>
    public bool HasActiveAdapter => _adapter is not null && !_merged;

    /// <summary>True while the adapter's mean update is folded into the weight (fast deterministic inference).</summary>
    public bool IsMerged => _merged;

    /// <summary>
    /// W0·x + b runs in the dtype W0 is stored in (bfloat16 in bf16 precision, where it is about 4× faster on CPUs with
    /// avx512_bf16) and returns in x's dtype (float32), so that the adapter's float32 Δ(x) is added unrounded: adding
    /// it in bfloat16 would keep only 8 significant bits of the update the adapter learns.
    /// </summary>
    public override Tensor forward(Tensor x)
    {
        InputProbe?.Invoke(x);
        var z = BaseForward(x);
        if (_adapter is null || _merged) return z;
        return AddUpdate(z, x);
    }

    /// <summary>z + Δ(x), in float32 where the update is float32 (z in bfloat16 is widened first, exactly).</summary>
    Tensor AddUpdate(Tensor z, Tensor x)
    {
        var delta = _adapter!.forward(x);   // not disposed here: an adapter's observer may hold it (Laplace)
        if (delta.dtype == z.dtype) return z + delta;
        using var wide = z.to(delta.dtype);
        return wide + delta;
    }

    /// <summary>
    /// Several layers on the same float32 x, their weights in bfloat16: one product against the weights stacked
    /// ([Σ out, in], concatenated afresh each call, so a merge is seen), x cast once, and in backward one product for
    /// x's gradient, accumulated inside it (the separate layers' gradients were each rounded to bfloat16 and then
    /// summed). A layer with an active adapter returns float32, z + Δ(x) as <see cref="forward"/>; one without returns
    /// its product in bfloat16, for a consumer that rounds it to bfloat16 anyway. Otherwise (float32 weights, a
    /// missing bias, a different dtype) each layer's forward.
    /// </summary>
    public static Tensor[] ForwardTogether(IReadOnlyList<AdaptableLinear> layers, Tensor x)
    {
        var dtype = layers[0].weight.dtype;
        if (dtype == x.dtype || layers.Any(l => l.bias is null || l.weight.dtype != dtype || l.bias.dtype != dtype || l.InFeatures != layers[0].InFeatures))
            return layers.Select(l => l.forward(x)).ToArray();
        using var weight = cat(layers.Select(l => (Tensor)l.weight).ToArray(), 0);
        using var bias = cat(layers.Select(l => (Tensor)l.bias!).ToArray(), 0);
        using var xLow = x.to(dtype);
        using var z = nn.functional.linear(xLow, weight, bias);
        var parts = z.split(layers.Select(l => l.OutFeatures).ToArray(), -1);
        var result = new Tensor[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            if (l._adapter is null || l._merged) { result[i] = parts[i]; continue; }
            result[i] = l.AddUpdate(parts[i], x);
            parts[i].Dispose();
        }
        return result;
    }

    /// <summary>The frozen product W0·x + b, in the weight's dtype, cast back to x's.</summary>
    Tensor BaseForward(Tensor x)
    {
        if (x.dtype == weight.dtype) return nn.functional.linear(x, weight, bias);
        using var xBase = x.to(weight.dtype);
        using var z = nn.functional.linear(xBase, weight, bias);
        return z.to(x.dtype);
    }

    /// <summary>W ← W + ΔW_mean: afterwards forward() is the adapter's mean path at the cost of a plain linear layer.
    /// A bfloat16 weight keeps ΔW only to its 8 significant bits.</summary>
    public void Merge()
    {
        if (_adapter is null || _merged) return;
        using var _ = no_grad();
        using var delta = _adapter.MeanDeltaWeight();
        weight.add_(delta.to(weight.dtype));
        _merged = true;
    }

    /// <summary>Undoes <see cref="Merge"/> (exactly in float32 up to rounding).</summary>
    public void Unmerge()
    {
        if (_adapter is null || !_merged) return;
        using var _ = no_grad();
        using var delta = _adapter.MeanDeltaWeight();
        weight.sub_(delta.to(weight.dtype));
        _merged = false;
    }
}

/// <summary>
/// A low-rank update Δ(x) added to a frozen linear layer's output. Each method's adapter lives in its folder under Methods/.
/// </summary>
public abstract class Adapter : nn.Module<Tensor, Tensor>
{
    protected Adapter(string name) : base(name) { }

    /// <summary>The update of the weight at the mean of the adapter's distribution, ΔW = scaling·B·A (or B·M), [out, in].</summary>
    public abstract Tensor MeanDeltaWeight();

    /// <summary>r, the rank of the update.</summary>
    public abstract int Rank { get; }

    /// <summary>The factor the low-rank product is multiplied by, α / r.</summary>
    public abstract double Scaling { get; }

    /// <summary>Dropout on the adapter's input (PEFT's lora_dropout); 0 unless the adapter has one.</summary>
    public virtual double Dropout => 0;
}
