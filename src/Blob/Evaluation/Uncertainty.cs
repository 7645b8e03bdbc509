namespace Blob.Evaluation;

/// <summary>
/// The uncertainty of one prediction from S sampled class distributions p_s (weight samples, dropout masks or ensemble
/// members), in nats: the predictive entropy H[p̄] of their mean p̄ = (1/S) Σ_s p_s (total uncertainty), the expected
/// entropy (1/S) Σ_s H[p_s] (aleatoric), and their difference, the mutual information between the answer and the
/// weights, MI = H[p̄] − (1/S) Σ_s H[p_s] (epistemic: how much the samples disagree; 0 for a single sample).
/// </summary>
public static class Uncertainty
{
    /// <summary>H[p] = −Σ_c p_c ln p_c, with 0 · ln 0 = 0: ln k for the uniform distribution over k classes, 0 for a one-hot.</summary>
    public static double Entropy(IReadOnlyList<double> p)
    {
        double h = 0;
        foreach (var q in p) if (q > 0) h -= q * Math.Log(q);
        return h;
    }

    /// <summary>p̄ = (1/S) Σ_s p_s, class by class.</summary>
    public static double[] Mean(IReadOnlyList<double[]> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("no samples");
        int classes = samples[0].Length;
        if (samples.Any(s => s.Length != classes)) throw new ArgumentException("samples with different numbers of classes");
        var mean = new double[classes];
        foreach (var s in samples)
            for (int c = 0; c < classes; c++) mean[c] += s[c];
        for (int c = 0; c < classes; c++) mean[c] /= samples.Count;
        return mean;
    }

    /// <summary>(1/S) Σ_s H[p_s].</summary>
    public static double ExpectedEntropy(IReadOnlyList<double[]> samples) => samples.Average(Entropy);

    /// <summary>
    /// MI = H[p̄] − (1/S) Σ_s H[p_s] ≥ 0 (the entropy is concave); rounding below 0 is returned as 0. Identical samples
    /// give 0; two one-hot samples on different classes give ln 2.
    /// </summary>
    public static double MutualInformation(IReadOnlyList<double[]> samples) =>
        Math.Max(0, Entropy(Mean(samples)) - ExpectedEntropy(samples));
}
