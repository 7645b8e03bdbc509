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

/// <summary>The hyper-parameters of a BLoB layer. Defaults follow the paper (Tables 3–4).</summary>
public sealed record BlobLayerOptions
{
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
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
}
