namespace Blob.Evaluation;

/// <summary>One bin of a reliability diagram: confidences in [Lower, Upper), how many, their accuracy and mean confidence.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double Accuracy, double Confidence);

/// <summary>The four numbers the paper reports for a set of predictions.</summary>
public sealed record MetricSet(int Count, double Accuracy, double Ece, double Nll, double Brier);

/// <summary>
/// Calibration metrics on predicted probabilities (one row per example, one column per class) and true labels,
/// as torchmetrics computes them (Appendix B.2 of the paper).
/// </summary>
public static class Metrics
{
    public const int DefaultBins = 15;

    /// <summary>Probabilities are clamped to this before the log, so a confident mistake costs a finite NLL.</summary>
    public const double MinProbability = 1e-12;

    public static MetricSet Evaluate(double[][] probs, int[] labels, int bins = DefaultBins) =>
        new(labels.Length, Accuracy(probs, labels), Ece(probs, labels, bins), Nll(probs, labels), Brier(probs, labels));

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
