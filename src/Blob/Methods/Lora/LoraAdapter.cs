using Blob.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Plain LoRA (Hu et al.): Δ(x) = (α/r) · B·A·dropout(x), with A [r, in] initialised as PEFT does (Kaiming-uniform,
/// a = √5, i.e. U(−1/√in, 1/√in)) and B [out, r] = 0, so training starts at the pretrained model.
/// With <see cref="DropoutAtInference"/> the dropout stays on in eval mode: that is MC dropout, and then
/// <see cref="Sample"/> switches it off for the mean prediction (N = 0). Dropout masks are drawn per element, so S
/// replicas of a batch in one call (batched N-sample prediction, <see cref="SampleCount"/>) get S independent masks
/// with nothing to change.
/// </summary>
public sealed class LoraAdapter : Adapter, ISampleBatchedAdapter, IDropoutMasks
{
    public Parameter lora_A;
    public Parameter lora_B;
    public override int Rank { get; }
    public override double Scaling { get; }
    public override double Dropout { get; }

    /// <summary>MC dropout: keep sampling dropout masks at evaluation time.</summary>
    public bool DropoutAtInference { get; set; }

    public bool Sample { get; set; } = true;

    public bool UseFastDropout { get; set; } = true;

    /// <summary>Replicas per call; the forward is the same for any value (masks are drawn per element).</summary>
    public int SampleCount { get; set; } = 1;

    public bool DrawsSamples => Dropout > 0 && Sample && (training || DropoutAtInference);

    /// <summary>
    /// Sees each forward's input x (after dropout) and output Δ(x); null except while the Laplace approximation reads
    /// the inputs and output gradients of the LoRA matrices (K-FAC and the GLM predictive need both).
    /// </summary>
    public Action<Tensor, Tensor>? Observer { get; set; }

    public LoraAdapter(long inFeatures, long outFeatures, int rank, double alpha, double dropout = 0.0)
        : base(nameof(LoraAdapter))
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), "LoRA rank must be at least 1");
        Rank = rank;
        Scaling = alpha / rank;
        Dropout = dropout;
        lora_A = new Parameter(empty(rank, inFeatures));
        lora_B = new Parameter(zeros(outFeatures, rank));
        using (no_grad()) nn.init.kaiming_uniform_(lora_A, Math.Sqrt(5));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        x = x.to(lora_A.dtype);
        if (Dropout > 0 && Sample) x = FastDropout.Apply(x, Dropout, training || DropoutAtInference, UseFastDropout);
        var delta = x.matmul(lora_A.t()).matmul(lora_B.t()).mul(Scaling);
        Observer?.Invoke(x, delta);
        return delta;
    }

    public override Tensor MeanDeltaWeight() => lora_B.matmul(lora_A).mul(Scaling);
}
