namespace Blob.Evaluation;

/// <summary>How well one uncertainty score tells out-of-distribution questions from in-distribution ones.</summary>
/// <param name="Auroc">The probability that a random OOD question scores higher than a random in-distribution one (ties count ½); 0.5 is chance.</param>
/// <param name="Fpr95">The fraction of in-distribution questions flagged as OOD at the threshold that flags 95% of the OOD ones (lower is better).</param>
public sealed record DetectionResult(double Auroc, double Fpr95);

/// <summary>
/// Out-of-distribution detection by an uncertainty score s (higher = less sure): a question is flagged as OOD when
/// s ≥ t. OOD questions are the positives: the true-positive rate at t is the fraction of OOD questions flagged, the
/// false-positive rate the fraction of in-distribution ones flagged. Scores that are not numbers count as the most
/// uncertain.
/// </summary>
public static class OodDetection
{
    /// <summary>1 − max_c p_c: the confidence turned into an uncertainty.</summary>
    public static double OneMinusMaxProbability(IReadOnlyList<double> p) => p.Any(double.IsNaN) ? double.NaN : 1 - p.Max();

    /// <summary>AUROC and FPR at 95% TPR.</summary>
    public static DetectionResult Detect(IReadOnlyList<double> inDistribution, IReadOnlyList<double> outOfDistribution) =>
        new(Auroc(inDistribution, outOfDistribution), FprAtTpr(inDistribution, outOfDistribution, 0.95));

    /// <summary>
    /// AUROC = P(s_ood &gt; s_id) + ½ P(s_ood = s_id) over all pairs (the Mann–Whitney statistic), computed from the
    /// pooled scores' mid-ranks: (R_ood − m(m+1)/2) / (m·n), R_ood the sum of the OOD scores' ranks.
    /// </summary>
    public static double Auroc(IReadOnlyList<double> inDistribution, IReadOnlyList<double> outOfDistribution)
    {
        Require(inDistribution, outOfDistribution);
        var pooled = inDistribution.Select(s => (Score: Key(s), Ood: false)).Concat(outOfDistribution.Select(s => (Score: Key(s), Ood: true)))
            .OrderBy(x => x.Score).ToArray();
        double oodRanks = 0;
        for (int start = 0; start < pooled.Length;)
        {
            int end = start;
            while (end < pooled.Length && pooled[end].Score == pooled[start].Score) end++;
            double midRank = (start + 1 + end) / 2.0; // ranks start+1 … end share their mean
            for (int i = start; i < end; i++) if (pooled[i].Ood) oodRanks += midRank;
            start = end;
        }
        double m = outOfDistribution.Count, n = inDistribution.Count;
        return (oodRanks - m * (m + 1) / 2) / (m * n);
    }

    /// <summary>
    /// The false-positive rate at the highest threshold t whose true-positive rate is at least <paramref name="tpr"/>
    /// (the smallest such FPR: both rates only grow as t falls). Tied scores are flagged together.
    /// </summary>
    public static double FprAtTpr(IReadOnlyList<double> inDistribution, IReadOnlyList<double> outOfDistribution, double tpr)
    {
        Require(inDistribution, outOfDistribution);
        var ood = outOfDistribution.Select(Key).OrderByDescending(s => s).ToArray();
        // the ⌈tpr·m⌉-th highest OOD score: flagging s ≥ it flags at least that many OOD questions
        int needed = Math.Max(1, (int)Math.Ceiling(tpr * ood.Length - 1e-9));
        double threshold = ood[needed - 1];
        return inDistribution.Count(s => Key(s) >= threshold) / (double)inDistribution.Count;
    }

    /// <summary>
    /// The ROC curve, from (0, 0) to (1, 1): one point per distinct threshold, taken from the highest score down, each
    /// (false-positive rate, true-positive rate) with every score at or above the threshold flagged.
    /// </summary>
    public static (double[] Fpr, double[] Tpr) Roc(IReadOnlyList<double> inDistribution, IReadOnlyList<double> outOfDistribution)
    {
        Require(inDistribution, outOfDistribution);
        var pooled = inDistribution.Select(s => (Score: Key(s), Ood: false)).Concat(outOfDistribution.Select(s => (Score: Key(s), Ood: true)))
            .OrderByDescending(x => x.Score).ToArray();
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        int fp = 0, tp = 0;
        for (int i = 0; i < pooled.Length; i++)
        {
            if (pooled[i].Ood) tp++; else fp++;
            if (i + 1 < pooled.Length && pooled[i + 1].Score == pooled[i].Score) continue; // ties move together
            fpr.Add(fp / (double)inDistribution.Count);
            tpr.Add(tp / (double)outOfDistribution.Count);
        }
        return (fpr.ToArray(), tpr.ToArray());
    }

    /// <summary>A score that is not a number ranks as the most uncertain.</summary>
    static double Key(double s) => double.IsNaN(s) ? double.PositiveInfinity : s;

    static void Require(IReadOnlyList<double> inDistribution, IReadOnlyList<double> outOfDistribution)
    {
        if (inDistribution.Count == 0 || outOfDistribution.Count == 0)
            throw new ArgumentException($"{inDistribution.Count} in-distribution and {outOfDistribution.Count} out-of-distribution scores: both need some");
    }
}
