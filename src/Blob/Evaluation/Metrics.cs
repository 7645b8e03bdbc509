namespace Blob.Evaluation;

/// <summary>One bin of a reliability diagram: confidences in [Lower, Upper), how many, their accuracy and mean confidence.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double Accuracy, double Confidence);

/// <summary>The four numbers the paper reports for a set of predictions, and the area under the risk–coverage curve.</summary>
public sealed record MetricSet(int Count, double Accuracy, double Ece, double Nll, double Brier, double Aurc);

/// <summary>
/// The risk–coverage curve of selective classification, one point per number of examples kept: the examples ranked by
/// confidence (the top probability), most confident first, and at rank k (1-based) Coverage[k−1] = k/n and Risk[k−1]
/// the error rate of the k most confident. Confidence[k−1] and Correct[k−1] describe the example ranked k, and
/// Index[k−1] is its position in the input, so a point can be traced back to its example.
/// </summary>
public sealed record RiskCoverageCurve(int[] Index, double[] Confidence, bool[] Correct, double[] Coverage, double[] Risk)
{
    /// <summary>The area under the curve: the mean of <see cref="Risk"/> (see <see cref="Metrics.Aurc"/>).</summary>
    public double Aurc => Risk.Average();

    /// <summary>One line per rank: "rank,coverage,risk,confidence,correct,index" (rank 1 is the most confident).</summary>
    public string ToCsv()
    {
        var sb = new System.Text.StringBuilder("rank,coverage,risk,confidence,correct,index\n");
        var c = System.Globalization.CultureInfo.InvariantCulture;
        for (int k = 0; k < Risk.Length; k++)
            sb.Append(c, $"{k + 1},{Coverage[k]:R},{Risk[k]:R},{(double.IsFinite(Confidence[k]) ? Confidence[k].ToString("R", c) : "")},{(Correct[k] ? 1 : 0)},{Index[k]}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Calibration metrics on predicted probabilities (one row per example, one column per class) and true labels,
/// as torchmetrics computes them (Appendix B.2 of the paper).
/// </summary>
public static class Metrics
{
    public const int DefaultBins = 15;

    /// <summary>Probabilities are clamped to this before the log, so a confident mistake costs a finite NLL.</summary>
    public const double MinProbability = 1e-12;

    /// <summary>
    /// Stops an evaluation whose prediction is not finite (a NaN or infinite probability), naming the set and the
    /// first such example: its metrics would be reported as a result ("ACC 50.00 ECE NaN") though they mean nothing.
    /// </summary>
    public static void RequireFinite(double[][] probabilities, string where)
    {
        for (int i = 0; i < probabilities.Length; i++)
            if (probabilities[i].Any(p => !double.IsFinite(p)))
                throw new BlobException($"{where}: the prediction for example {i + 1} of {probabilities.Length} is not finite " +
                                        $"([{string.Join(", ", probabilities[i].Select(p => p.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}]); the model or adapter computes NaN or infinity");
    }

    public static MetricSet Evaluate(double[][] probs, int[] labels, int bins = DefaultBins) =>
        new(labels.Length, Accuracy(probs, labels), Ece(probs, labels, bins), Nll(probs, labels), Brier(probs, labels), Aurc(probs, labels));

    /// <summary>
    /// The risk–coverage curve (Geifman and El-Yaniv, 2017): examples sorted by confidence κ_i = max_c p_ic, descending;
    /// ties broken by the example's index (the earlier first), and a confidence that is not a number ranked last. The
    /// loss of an example is the 0/1 error of its top-1 class (<see cref="ArgMax"/>, as <see cref="Accuracy"/>).
    /// </summary>
    public static RiskCoverageCurve RiskCoverage(double[][] probs, int[] labels)
    {
        Check(probs, labels);
        int n = labels.Length;
        var confidence = probs.Select(p => p[ArgMax(p)]).ToArray();
        var order = Enumerable.Range(0, n).ToArray();
        // descending confidence, NaN last, ties by index: a total order, so the sort's stability does not matter
        Array.Sort(order, (a, b) =>
        {
            double ca = confidence[a], cb = confidence[b];
            int byConfidence = double.IsNaN(ca) ? (double.IsNaN(cb) ? 0 : 1) : double.IsNaN(cb) ? -1 : cb.CompareTo(ca);
            return byConfidence != 0 ? byConfidence : a.CompareTo(b);
        });
        var correct = order.Select(i => ArgMax(probs[i]) == labels[i]).ToArray();
        var coverage = new double[n];
        var risk = new double[n];
        int errors = 0;
        for (int k = 0; k < n; k++)
        {
            if (!correct[k]) errors++;
            coverage[k] = (k + 1) / (double)n;
            risk[k] = errors / (double)(k + 1);
        }
        return new RiskCoverageCurve(order, order.Select(i => confidence[i]).ToArray(), correct, coverage, risk);
    }

    /// <summary>
    /// Area under the risk–coverage curve (Geifman, Uziel and El-Yaniv, 2019), lower is better:
    /// AURC = (1/n) Σ_{k=1..n} r_k, with r_k = (1/k) Σ_{j=1..k} [ŷ_σ(j) ≠ y_σ(j)] the selective risk of the k most
    /// confident examples (σ: the order of <see cref="RiskCoverage"/>). A fraction (0..1) like the error rate;
    /// 0 when every example is right. With m errors among n, ranking all the right ones first gives the smallest
    /// possible value, (1/n)·[m − (n − m)(H_n − H_{n−m})], and all the wrong ones first the largest,
    /// (1/n)·[m + m(H_n − H_m)], where H_k = Σ_{j=1..k} 1/j.
    /// </summary>
    public static double Aurc(double[][] probs, int[] labels) => RiskCoverage(probs, labels).Aurc;

    /// <summary>The fraction of examples whose top-1 class (the first one on ties) is the label.</summary>
    public static double Accuracy(double[][] probs, int[] labels) =>
        Mean(probs, labels, (p, y) => ArgMax(p) == y ? 1.0 : 0.0);

    /// <summary>Mean of −log p(label).</summary>
    public static double Nll(double[][] probs, int[] labels) =>
        Mean(probs, labels, (p, y) => -Math.Log(Math.Max(p[y], MinProbability)));

    /// <summary>Mean over examples of the sum over classes of (p − one-hot)².</summary>
    public static double Brier(double[][] probs, int[] labels) =>
        Mean(probs, labels, (p, y) => p.Select((q, c) => (q - (c == y ? 1 : 0)) * (q - (c == y ? 1 : 0))).Sum());

    /// <summary>Expected calibration error: Σ over bins of (count / n) · |accuracy − mean confidence|.</summary>
    public static double Ece(double[][] probs, int[] labels, int bins = DefaultBins)
    {
        var reliability = ReliabilityBins(probs, labels, bins);
        double n = labels.Length;
        return reliability.Sum(b => b.Count / n * Math.Abs(b.Accuracy - b.Confidence));
    }

    /// <summary>
    /// Equal-width bins on the top-1 confidence, binned as torchmetrics does (torch.bucketize(right=True) − 1 on
    /// float32 linspace(0, 1, bins + 1)): bin i holds [edge i, edge i+1). A confidence of exactly 1 falls past the
    /// last edge into a bin of its own, [1, 1], which torchmetrics counts too; it is listed only when non-empty.
    /// </summary>
    public static IReadOnlyList<ReliabilityBin> ReliabilityBins(double[][] probs, int[] labels, int bins = DefaultBins)
    {
        Check(probs, labels);
        var edges = Edges(bins);
        var count = new int[bins + 1];
        var correct = new double[bins + 1];
        var confidence = new double[bins + 1];
        for (int i = 0; i < labels.Length; i++)
        {
            int top = ArgMax(probs[i]);
            double conf = probs[i][top];
            int b = BinOf(conf, edges);
            count[b]++;
            confidence[b] += conf;
            correct[b] += top == labels[i] ? 1 : 0;
        }
        return Enumerable.Range(0, bins + 1)
            .Where(b => b < bins || count[b] > 0)
            .Select(b => new ReliabilityBin(edges[b], edges[Math.Min(b + 1, bins)], count[b],
                count[b] == 0 ? 0 : correct[b] / count[b], count[b] == 0 ? 0 : confidence[b] / count[b]))
            .ToList();
    }

    /// <summary>Bin edges as torch.linspace computes them in float32 (from both ends towards the middle).</summary>
    static double[] Edges(int bins)
    {
        float step = 1f / bins;
        return Enumerable.Range(0, bins + 1)
            .Select(i => (double)(i < (bins + 1) / 2 ? i * step : 1f - (bins - i) * step)).ToArray();
    }

    /// <summary>The index of the last edge not above conf (0 below the first edge; bins for conf ≥ 1).</summary>
    static int BinOf(double conf, double[] edges)
    {
        int b = 0;
        while (b + 1 < edges.Length && edges[b + 1] <= conf) b++;
        return b;
    }

    public static int ArgMax(double[] p)
    {
        int best = 0;
        for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
        return best;
    }

    static double Mean(double[][] probs, int[] labels, Func<double[], int, double> perExample)
    {
        Check(probs, labels);
        double sum = 0;
        for (int i = 0; i < labels.Length; i++) sum += perExample(probs[i], labels[i]);
        return sum / labels.Length;
    }

    static void Check(double[][] probs, int[] labels)
    {
        if (probs.Length != labels.Length)
            throw new ArgumentException($"{probs.Length} probability rows for {labels.Length} labels");
        if (labels.Length == 0) throw new ArgumentException("no examples");
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] < 0 || labels[i] >= probs[i].Length)
                throw new ArgumentException($"example {i}: label {labels[i]} outside its {probs[i].Length} classes");
    }
}
