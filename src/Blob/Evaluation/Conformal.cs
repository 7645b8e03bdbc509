namespace Blob.Evaluation;

/// <summary>The two conformity scores of split conformal prediction for classification.</summary>
public enum ConformalScore
{
    /// <summary>Least ambiguous set-valued classifier (Sadinle, Lei and Wasserman, 2019): score 1 − p(true answer).</summary>
    Lac,
    /// <summary>Adaptive prediction sets (Romano, Sesia and Candès, 2020): the probability mass ranked above the true
    /// answer plus a uniform share u of its own (the randomised tie rule).</summary>
    Aps,
}

/// <summary>
/// A calibrated conformal predictor: the score it uses and the threshold q̂ a new example's classes are compared with.
/// Threshold is +∞ when the calibration set is too small for α (then every set holds every class); see
/// <see cref="Conformal.Calibrate"/>.
/// </summary>
public sealed record ConformalThreshold(ConformalScore Score, double Alpha, int CalibrationCount, double Threshold)
{
    /// <summary>True when n is too small for α: ⌈(n+1)(1−α)⌉ &gt; n, so no finite threshold guarantees the coverage.</summary>
    public bool AllClasses => double.IsPositiveInfinity(Threshold);
}

/// <summary>Empirical coverage of answer sets on one split: the fraction whose set holds the true answer, the mean set
/// size, and the fractions of sets with exactly one and with no class.</summary>
public sealed record SetStatistics(int Count, double Coverage, double MeanSize, double Singletons, double Empty);

/// <summary>
/// Split conformal prediction (Vovk et al. 2005; Angelopoulos and Bates, 2021): scores of the true answers on a
/// calibration split give a threshold q̂ such that, for a new example exchangeable with them, the set of classes whose
/// score is at most q̂ holds the true answer with probability at least 1 − α. q̂ is the ⌈(n+1)(1−α)⌉-th smallest of the
/// n calibration scores (the finite-sample quantile). APS draws one uniform u per example from a caller's seeded
/// <see cref="Random"/>, so the sets are reproducible.
/// </summary>
public static class Conformal
{
    /// <summary>The 1-based rank k = ⌈(n+1)(1−α)⌉ of the threshold among n sorted scores; null when k &gt; n (too few).</summary>
    public static int? QuantileRank(int n, double alpha)
    {
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentException($"alpha {alpha}: must be above 0 and below 1");
        if (n < 0) throw new ArgumentException($"{n} calibration examples");
        // a tiny tolerance so that (n+1)(1−α) that is an integer in exact arithmetic is not rounded up by one
        int k = (int)Math.Ceiling((n + 1) * (1 - alpha) - 1e-9);
        return k > n ? null : Math.Max(k, 1);
    }

    /// <summary>LAC's score of class y: 1 − p_y (a probability that is not a number scores +∞: never in a set).</summary>
    public static double LacScore(IReadOnlyList<double> p, int y) => double.IsNaN(p[y]) ? double.PositiveInfinity : 1 - p[y];

    /// <summary>
    /// APS's score of class y: the sum of the probabilities of the classes ranked above y (by probability, descending;
    /// equal probabilities by index, the lower first) plus u·p_y, with u uniform in [0, 1).
    /// </summary>
    public static double ApsScore(IReadOnlyList<double> p, int y, double u)
    {
        if (p.Any(double.IsNaN)) return double.PositiveInfinity;
        double above = 0;
        for (int c = 0; c < p.Count; c++)
            if (RankedBefore(p, c, y)) above += p[c];
        return above + u * p[y];
    }

    /// <summary>Whether class a comes before class b in the descending order of probability (ties: the lower index first).</summary>
    static bool RankedBefore(IReadOnlyList<double> p, int a, int b) => p[a] > p[b] || (p[a] == p[b] && a < b);

    /// <summary>
    /// The threshold from the calibration split's probabilities and true labels. APS draws u for each calibration
    /// example, in order, from <paramref name="random"/> (unused for LAC).
    /// </summary>
    public static ConformalThreshold Calibrate(ConformalScore score, double[][] probs, int[] labels, double alpha, Random random)
    {
        if (probs.Length != labels.Length) throw new ArgumentException($"{probs.Length} probability rows for {labels.Length} labels");
        var scores = labels.Select((y, i) => score == ConformalScore.Lac ? LacScore(probs[i], y) : ApsScore(probs[i], y, random.NextDouble())).ToArray();
        var rank = QuantileRank(scores.Length, alpha);
        if (rank is not { } k) return new ConformalThreshold(score, alpha, scores.Length, double.PositiveInfinity);
        Array.Sort(scores);
        return new ConformalThreshold(score, alpha, scores.Length, scores[k - 1]);
    }

    /// <summary>
    /// The answer set of one example, its classes in descending order of probability. LAC: every class whose score is
    /// at most q̂ (may be empty when no class is probable enough). APS: the classes, most probable first, whose score
    /// with this example's u is at most q̂, and always the most probable one, so that a set is never empty (which only
    /// raises the coverage).
    /// </summary>
    public static int[] AnswerSet(ConformalThreshold t, IReadOnlyList<double> p, double u)
    {
        var order = Enumerable.Range(0, p.Count).ToArray();
        Array.Sort(order, (a, b) => a == b ? 0 : RankedBefore(p, a, b) ? -1 : 1);
        if (t.AllClasses) return order;
        if (t.Score == ConformalScore.Lac) return order.Where(c => LacScore(p, c) <= t.Threshold).ToArray();
        return order.Where((c, rank) => rank == 0 || ApsScore(p, c, u) <= t.Threshold).ToArray();
    }

    /// <summary>The answer sets of a split's examples; APS draws one u per example, in order, from <paramref name="random"/>.</summary>
    public static int[][] AnswerSets(ConformalThreshold t, double[][] probs, Random random) =>
        probs.Select(p => AnswerSet(t, p, t.Score == ConformalScore.Aps ? random.NextDouble() : 0)).ToArray();

    /// <summary>Coverage, mean size, singleton and empty fractions of answer sets against the true labels.</summary>
    public static SetStatistics Statistics(int[][] sets, int[] labels)
    {
        if (sets.Length != labels.Length) throw new ArgumentException($"{sets.Length} sets for {labels.Length} labels");
        if (sets.Length == 0) throw new ArgumentException("no examples");
        double n = sets.Length;
        return new SetStatistics(sets.Length,
            sets.Zip(labels).Count(x => x.First.Contains(x.Second)) / n,
            sets.Average(s => (double)s.Length),
            sets.Count(s => s.Length == 1) / n,
            sets.Count(s => s.Length == 0) / n);
    }
}
