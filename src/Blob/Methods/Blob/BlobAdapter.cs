using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// The BLoB layer (paper Sec. 3). LoRA's A becomes Gaussian, A ~ N(M, Ω²) with Ω = G∘G; B stays deterministic.
/// Names from the paper: M (mean of A, stored as "lora_A" so the mean adapter is a plain PEFT LoRA), G (stored as
/// "lora_A_rho", as in the official code), B ("lora_B"), σp (PriorStd), ε (InitEpsilon).
///
/// Forward with sampling on, per example x with fresh Rademacher signs s ∈ {±1}^in and t ∈ {±1}^r (flipout, Eq. 12):
///     Δ(x) = (α/r) · B · ( M·x + [ (E∘Ω)·(x∘s) ]∘t ),   E ~ N(0, I) of shape [r, in], drawn once per call.
/// Each example thus sees its own pseudo-independent sample of A at the cost of two extra rank-r products.
/// Sampling off: Δ(x) = (α/r) · B·M·x.
/// With <see cref="SampleCount"/> = S &gt; 1 (batched N-sample prediction), x holds S replicas of the batch and E is
/// drawn S times, [S, r, in]: replica s uses E_s, and every row keeps its own signs, as S separate calls would.
/// </summary>
public sealed class BlobAdapter : Adapter, IVariationalAdapter, ISampleBatchedAdapter
{
    public Parameter lora_A;      // M
    public Parameter lora_A_rho;  // G
    public Parameter lora_B;      // B (or the mean of B without asymmetric Bayesianization)
    public Parameter? lora_B_rho; // G of B, only without asymmetric Bayesianization
    public readonly BlobOptions Options;
    public override int Rank { get; }
    public override double Scaling { get; }

    public bool Sample { get; set; } = true;

    public int SampleCount { get; set; } = 1;

    public bool DrawsSamples => Sample;

    /// <summary>The generator the weight samples and signs are drawn from; null: torch's default one.</summary>
    public Generator? Generator { get; set; }

    /// <param name="generator">The generator of the initial M and G; null: torch's default one.</param>
    public BlobAdapter(long inFeatures, long outFeatures, int rank, double alpha, BlobOptions options, Generator? generator = null) : base(nameof(BlobAdapter))
    {
        Options = options;
        Rank = rank;
        Scaling = alpha / rank;
        int r = rank;
        lora_A = new Parameter(empty(r, inFeatures));
        lora_A_rho = new Parameter(empty(r, inFeatures));
        lora_B = new Parameter(zeros(outFeatures, r));
        using (no_grad())
        {
            double bound = options.MeanInit == MeanInit.Paper ? Math.Sqrt(6.0 / inFeatures) : 1.0 / Math.Sqrt(inFeatures);
            lora_A.uniform_(-bound, bound, generator);
            InitStd(lora_A_rho, generator);
            if (!options.Asymmetric)
            {
                lora_B_rho = new Parameter(empty(outFeatures, r));
                InitStd(lora_B_rho, generator);
            }
        }
        RegisterComponents();
    }

    /// <summary>G ~ U(ε/√2, ε) under Ω = G²; under softplus, G is set so that Ω has the same initial distribution.</summary>
    void InitStd(Tensor g, Generator? generator)
    {
        double eps = Options.InitEpsilon;
        g.uniform_(eps / Math.Sqrt(2), eps, generator);
        if (Options.Std == StdParameterization.Softplus) g.pow_(2).expm1_().log_(); // ρ = softplus⁻¹(G²)
    }

    public double PriorStd => Options.PriorStd;

    /// <summary>Ω, the standard deviation of A.</summary>
    public Tensor StdA() => StdOf(lora_A_rho);

    /// <summary>The standard deviation of B without asymmetric Bayesianization: the paper's scaled matrix, Ω_B / 100.</summary>
    public Tensor? StdB() => lora_B_rho is null ? null : StdOf(lora_B_rho).div(100);

    Tensor StdOf(Tensor g) => Options.Std == StdParameterization.Square ? g.square() : nn.functional.softplus(g);

    public override Tensor forward(Tensor x)
    {
        x = x.to(lora_A.dtype);
        var h = x.matmul(lora_A.t()); // M·x, [..., r]
        if (Sample) h = h + FlipoutNoise(x, StdA(), lora_A.shape);
        var z = h.matmul(lora_B.t());
        if (Sample && StdB() is { } stdB) z = z + FlipoutNoise(h, stdB, lora_B.shape);
        return z.mul(Scaling);
    }

    /// <summary>
    /// [(E∘Ω)·(x∘s)]∘t for every example (or token) of x, with E drawn once for the call (once per replica when
    /// <see cref="SampleCount"/> &gt; 1).
    /// </summary>
    Tensor FlipoutNoise(Tensor x, Tensor std, long[] weightShape)
    {
        int samples = SampleCount;
        if (samples == 1)
        {
            var delta = randn(weightShape, dtype: x.dtype, device: x.device, generator: Generator).mul_(std); // E∘Ω, [outDim, inDim]
            var s = RademacherSigns(x, weightShape[1]);
            var t = RademacherSigns(x, weightShape[0]);
            return x.mul(s).matmul(delta.t()).mul_(t);
        }
        var deltas = randn([samples, weightShape[0], weightShape[1]], dtype: x.dtype, device: x.device, generator: Generator).mul_(std); // [S, out, in]
        var signsIn = RademacherSigns(x, weightShape[1]);
        var signsOut = RademacherSigns(x, weightShape[0]);
        var noise = SampleBatching.PerSample(x.mul(signsIn), samples).matmul(deltas.transpose(1, 2)); // [S, B·…, out]
        return SampleBatching.Unstack(noise, x).mul_(signsOut);
    }

    /// <summary>±1 with probability ½ each, shaped to broadcast over x: one vector per example or per token.</summary>
    Tensor RademacherSigns(Tensor x, long width)
    {
        var shape = x.shape.ToArray();
        shape[^1] = width;
        if (Options.Flipout == FlipoutScope.Example)
            for (int d = 1; d < shape.Length - 1; d++) shape[d] = 1;
        return empty(shape, dtype: x.dtype, device: x.device).bernoulli_(0.5, Generator).mul_(2).sub_(1);
    }

    /// <summary>KL(q(A) ‖ N(0, σp²)) by Eq. 11 (plus B's term without asymmetric Bayesianization).</summary>
    public Tensor Kl()
    {
        Func<Tensor, Tensor, double, Tensor> kl = Options.StableKl ? GaussianKl.SumStable : GaussianKl.Sum;
        var total = kl(lora_A, StdA(), Options.PriorStd);
        if (StdB() is { } stdB) total = total + kl(lora_B, stdB, Options.PriorStd);
        return total;
    }

    public IEnumerable<Parameter> StdParameters => lora_B_rho is null ? [lora_A_rho] : [lora_A_rho, lora_B_rho];

    public override Tensor MeanDeltaWeight() => lora_B.matmul(lora_A).mul(Scaling);
}
