using Blob.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Bayes by Backprop (Blundell et al.) on LoRA's A, the paper's BBB baseline with Bayesian-Torch's defaults:
/// A ~ N(μ, σ²) with σ = softplus(ρ), μ ~ N(0, 0.1), ρ ~ N(−3, 0.1), prior N(0, 1), one weight sample per forward
/// call shared by the batch (the reparameterisation trick, no flipout), and the KL averaged over the layer's elements.
/// B is deterministic, as in BLoB, so that the comparison isolates the parameterisation and the sampling.
/// With <see cref="SampleCount"/> = S &gt; 1 (batched N-sample prediction), S samples of A are drawn, one per replica.
/// </summary>
public sealed class BbbAdapter : Adapter, IVariationalAdapter, ISampleBatchedAdapter
{
    public Parameter lora_A;     // μ
    public Parameter lora_A_rho; // ρ
    public Parameter lora_B;
    public override int Rank => (int)lora_A.shape[0];
    public override double Scaling { get; }
    public double PriorStd { get; }

    public bool Sample { get; set; } = true;

    public int SampleCount { get; set; } = 1;

    public bool DrawsSamples => Sample;

    public BbbAdapter(long inFeatures, long outFeatures, int rank, double alpha, double priorStd = 1.0)
        : base(nameof(BbbAdapter))
    {
        Scaling = alpha / rank;
        PriorStd = priorStd;
        lora_A = new Parameter(empty(rank, inFeatures));
        lora_A_rho = new Parameter(empty(rank, inFeatures));
        lora_B = new Parameter(zeros(outFeatures, rank));
        using (no_grad())
        {
            lora_A.normal_(0, 0.1);
            lora_A_rho.normal_(-3, 0.1);
        }
        RegisterComponents();
    }

    public Tensor StdA() => nn.functional.softplus(lora_A_rho);

    public override Tensor forward(Tensor x)
    {
        x = x.to(lora_A.dtype);
        if (Sample && SampleCount > 1)
        {
            var samples = lora_A + StdA() * randn([SampleCount, lora_A.shape[0], lora_A.shape[1]], dtype: lora_A.dtype, device: lora_A.device); // [S, r, in]
            var h = SampleBatching.PerSample(x, SampleCount).matmul(samples.transpose(1, 2)); // [S, B·…, r]
            return SampleBatching.Unstack(h.matmul(lora_B.t()), x).mul(Scaling);
        }
        var a = Sample ? lora_A + StdA() * randn_like(lora_A) : (Tensor)lora_A;
        return x.matmul(a.t()).matmul(lora_B.t()).mul(Scaling);
    }

    /// <summary>Mean over elements of KL(N(μ, σ²) ‖ N(0, σp²)), as Bayesian-Torch's kl_div.</summary>
    public Tensor Kl() => GaussianKl.Mean(lora_A, StdA(), PriorStd);

    public IEnumerable<Parameter> StdParameters => [lora_A_rho];

    public override Tensor MeanDeltaWeight() => lora_B.matmul(lora_A).mul(Scaling);
}
