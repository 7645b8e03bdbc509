namespace Blob.Methods;

/// <summary>How the standard deviation Ω is made positive from the trained parameter G (paper Sec. 3.3).</summary>
public enum StdParameterization
{
    /// <summary>Ω = G∘G (BLoB). The KL gradient is of order 1/G, so Ω grows quickly towards the prior.</summary>
    Square,
    /// <summary>Ω = log(1 + exp(G)) (Bayes by Backprop; the ablation "w/o RP").</summary>
    Softplus,
}

/// <summary>Initialisation of the mean M of A.</summary>
public enum MeanInit
{
    /// <summary>U(−√(6/n), √(6/n)), Algorithm 1.</summary>
    Paper,
    /// <summary>U(−1/√n, 1/√n), PEFT's Kaiming-uniform default, as the official code does.</summary>
    Peft,
}

/// <summary>Over what the flipout sign vectors are drawn afresh.</summary>
public enum FlipoutScope
{
    /// <summary>One pair of sign vectors per example (paper Eq. 12, Appendix A.3).</summary>
    Example,
    /// <summary>A pair per token position (the official code).</summary>
    Token,
}

/// <summary>
/// Everything BLoB reads (Algorithm 1, Appendix B.1): the layer's σp, ε and ablation switches, and the SGD step on λ·KL.
/// Defaults follow the paper (Tables 3–4). Rank and alpha are the method's shared options (<see cref="MethodOptions"/>).
/// </summary>
public sealed record BlobOptions
{
    /// <summary>σp, the prior standard deviation of every element of A.</summary>
    public double PriorStd { get; init; } = 0.2;
    /// <summary>ε: G starts in U(ε/√2, ε), so Ω = G² starts in [ε²/2, ε²].</summary>
    public double InitEpsilon { get; init; } = 0.05;
    public StdParameterization Std { get; init; } = StdParameterization.Square;
    /// <summary>Asymmetric Bayesianization: only A is Gaussian. Off (the ablation "w/o AB") makes B Gaussian too.</summary>
    public bool Asymmetric { get; init; } = true;
    public MeanInit MeanInit { get; init; } = MeanInit.Paper;
    public FlipoutScope Flipout { get; init; } = FlipoutScope.Example;
    /// <summary>Compute the KL as the official code does (float64, +1e-6 in the logs).</summary>
    public bool StableKl { get; init; }

    /// <summary>Learning rate of the plain SGD step on λ·KL (RoBERTa 0.002, Llama 0.01).</summary>
    public double KlLearningRate { get; init; } = 0.002;
    /// <summary>KL re-weighting: Paper (geometric, sums to 1), Code (the official code's), Uniform (ablation w/o RW).</summary>
    public KlWeighting KlWeighting { get; init; } = KlWeighting.Paper;
    /// <summary>γ of the dataset pseudo-rescaling (the KL cycle M, see <see cref="KlSchedule.PseudoRescaledBatches"/>).</summary>
    public double Gamma { get; init; } = 8;
    /// <summary>
    /// False (default, as the official code): G is updated only by the SGD step, which sees the likelihood gradient and
    /// λ·∂KL/∂G. True: G is also in AdamW with M and B.
    /// </summary>
    public bool StdInAdamW { get; init; }
}
