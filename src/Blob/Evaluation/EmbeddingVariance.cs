using System.Globalization;
using System.Text;

namespace Blob.Evaluation;

/// <summary>One example of a run's embedding-variance.csv.</summary>
/// <param name="Index">The example's position in predictions.json.</param>
/// <param name="Label">Its true label.</param>
/// <param name="Predicted">The predicted label (the top averaged probability, as the accuracy counts it).</param>
/// <param name="Correct">Whether the prediction is the label.</param>
/// <param name="Variance">The variance of its final embedding over the prediction's samples (Methods' FinalEmbeddings).</param>
public sealed record EmbeddingVarianceRow(int Index, int Label, int Predicted, bool Correct, double Variance);

/// <summary>
/// Per-example embedding uncertainty (paper Appendix C.4), as a run's <c>embedding-variance.csv</c>
/// (<c>index,label,predicted,correct,variance</c>, one line per evaluated example, in predictions.json's order): how
/// much the final embedding moves over the N weight samples, to be compared between correct and incorrect answers.
/// Written only by methods that sample (BLoB, BBB, MC dropout, ensembles, TFB); one-pass methods have none.
/// </summary>
public static class EmbeddingVariance
{
    /// <summary>The file's name in a run's folder (the validation split's: validation-embedding-variance.csv).</summary>
    public const string FileName = "embedding-variance.csv";
    /// <summary>The CSV's first line.</summary>
    public const string Header = "index,label,predicted,correct,variance";

    /// <summary>The rows of a prediction: probabilities [examples][classes], labels and variances in the same order.</summary>
    public static IReadOnlyList<EmbeddingVarianceRow> Rows(double[][] probabilities, int[] labels, double[] variance)
    {
        if (probabilities.Length != labels.Length || variance.Length != labels.Length)
            throw new ArgumentException($"{probabilities.Length} predictions, {labels.Length} labels and {variance.Length} variances");
        return labels.Select((label, i) =>
        {
            int predicted = Metrics.ArgMax(probabilities[i]);
            return new EmbeddingVarianceRow(i, label, predicted, predicted == label, variance[i]);
        }).ToList();
    }

    /// <summary>The rows as CSV, <see cref="Header"/> first; the variance round-trips exactly ("R").</summary>
    public static string ToCsv(IEnumerable<EmbeddingVarianceRow> rows)
    {
        var csv = new StringBuilder(Header).Append('\n');
        var c = CultureInfo.InvariantCulture;
        foreach (var r in rows) csv.Append(c, $"{r.Index},{r.Label},{r.Predicted},{(r.Correct ? 1 : 0)},{r.Variance.ToString("R", c)}\n");
        return csv.ToString();
    }

    /// <summary>The rows of an embedding-variance.csv.</summary>
    public static IReadOnlyList<EmbeddingVarianceRow> Read(string path) =>
        File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var f = line.Split(',');
            if (f.Length != 5) throw new BlobException($"{path}: not an embedding variance line: {line}");
            var c = CultureInfo.InvariantCulture;
            return new EmbeddingVarianceRow(int.Parse(f[0], c), int.Parse(f[1], c), int.Parse(f[2], c), f[3] == "1", double.Parse(f[4], c));
        }).ToList();
}
