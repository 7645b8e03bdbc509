using Blob.Layers;
namespace Blob.Methods;

/// <summary>
/// The weight λ_i of the KL term at training step i (paper Appendix B.1, Eq. 70): a cycle of M steps whose weights
/// sum to 1, rising geometrically so the model first fits the data and then pays the complexity cost.
/// M is the dataset's pseudo-rescaled number of mini-batches (see <see cref="KlSchedule.PseudoRescaledBatches"/>).
/// </summary>
public enum KlWeighting
{
    /// <summary>λ_i = 2^(i−1) / (2^M − 1), i = 1..M: geometric and summing to exactly 1 as Eq. 70 requires.
    /// (The paper prints 2^i / (2^M − 1), which sums to 2; this is the normalised form.)</summary>
    Paper,
    /// <summary>The official code: λ_i = 2^i / (2^(M+1) − 1), which sums to 1 − 1/(2^(M+1) − 1).</summary>
    Code,
    /// <summary>No re-weighting (the ablation "w/o RW"): λ_i = 1/M.</summary>
    Uniform,
}

public static class KlSchedule
{
    /// <summary>
    /// λ for 1-based training step <paramref name="step"/> (counted on across epochs; the cycle restarts every M steps).
    /// Written as 2^(i−M−1)/(1 − 2^−(M+1)) and the like, so it stays finite for any M (2^M alone overflows at M = 1024).
    /// </summary>
    public static double Weight(long step, long m, KlWeighting weighting = KlWeighting.Paper)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), "M must be at least 1");
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), "steps count from 1");
        long i = (step - 1) % m + 1; // 1..M
        return weighting switch
        {
            KlWeighting.Paper => Math.Pow(2, i - 1 - m) / (1 - Math.Pow(2, -m)),
            KlWeighting.Code => Math.Pow(2, i - m - 1) / (1 - Math.Pow(2, -(m + 1))),
            KlWeighting.Uniform => 1.0 / m,
            _ => throw new ArgumentOutOfRangeException(nameof(weighting)),
        };
    }

    /// <summary>
    /// Dataset pseudo-rescaling (Appendix B.1, as the official code computes it):
    /// M = ⌊100 · N^(π/γ) / (batch size · processes)⌋, with N training examples and γ = 8. Small datasets get a longer
    /// KL cycle than their epoch, large ones a shorter one. WinoGrande-S (640 examples, batch 4): M = 316.
    /// </summary>
    public static long PseudoRescaledBatches(long examples, int batchSize, double gamma = 8, int processes = 1)
    {
        if (examples < 1 || batchSize < 1) throw new ArgumentOutOfRangeException(nameof(examples), "need examples and a batch size");
        double m = 100 * Math.Pow(examples, Math.PI / gamma) / processes / batchSize;
        return Math.Max(1, (long)Math.Floor(m));
    }
}
