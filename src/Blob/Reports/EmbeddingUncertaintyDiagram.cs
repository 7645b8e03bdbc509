using System.Globalization;
using Blob.Evaluation;
using ScottPlot;

namespace Blob.Reports;

/// <summary>One method's per-example embedding variances (<see cref="EmbeddingVariance"/>), its seeds pooled.</summary>
/// <param name="Method">The name in the picture (BLoB, MCD, ...).</param>
/// <param name="ColorIndex">The method's position in the comparison, which picks its colour (<see cref="Figure.MethodColor"/>),
/// so that it matches the other pictures even where one-pass methods have no series.</param>
/// <param name="Rows">Its examples.</param>
public sealed record EmbeddingVarianceSeries(string Method, int ColorIndex, IReadOnlyList<EmbeddingVarianceRow> Rows);

/// <summary>
/// The embedding-uncertainty figure (paper Appendix C.4) as PNG: per method, the distribution of the final embedding's
/// variance over the N samples for its correct and for its incorrect answers, side by side — a box (quartiles,
/// whiskers to the furthest point within 1.5 IQR) over the points themselves, the median written above it. A method
/// whose uncertainty means something has larger variances on its wrong answers. The y axis is logarithmic when the
/// variances span more than two decades. Written atomically.
/// </summary>
public static class EmbeddingUncertaintyDiagram
{
    /// <summary>The picture's name in a comparison's folder.</summary>
    public const string FileName = "embedding-uncertainty.png";
    /// <summary>The picture's height in pixels (its width grows with the number of methods).</summary>
    public const int Height = 560;

    /// <summary>Draws <paramref name="series"/> (in the order given) to <paramref name="path"/>; a method takes 240 pixels of width.</summary>
    public static void Save(string path, string title, IReadOnlyList<EmbeddingVarianceSeries> series)
    {
        var all = series.SelectMany(s => s.Rows.Select(r => r.Variance)).Where(double.IsFinite).ToArray();
        bool log = UseLogScale(all);
        double floor = log ? all.Where(v => v > 0).Min() / 10 : 0; // a variance of 0 sits a decade below the smallest
        double Y(double v) => log ? Math.Log10(Math.Max(v, floor)) : v;

        var plot = new Plot();
        plot.Title(title);
        plot.YLabel(log ? "embedding variance over the samples (log scale)" : "embedding variance over the samples", size: 14);
        var ticks = new List<(double Position, string Label)>();
        var jitter = new Random(12345);
        double top = double.NegativeInfinity, bottom = double.PositiveInfinity;
        for (int i = 0; i < series.Count; i++)
        {
            var color = Figure.MethodColor(series[i].ColorIndex);
            foreach (var (correct, offset) in new[] { (true, -0.21), (false, 0.21) })
            {
                double x = i + offset;
                var ys = series[i].Rows.Where(r => r.Correct == correct && double.IsFinite(r.Variance)).Select(r => Y(r.Variance)).ToArray();
                ticks.Add((x, $"{series[i].Method}\n{(correct ? "correct" : "incorrect")} ({ys.Length})"));
                if (ys.Length == 0) continue;
                var q = Quartiles(ys);
                var fill = correct ? color.WithAlpha(0.55) : color.WithAlpha(0.15);
                var box = new Box
                {
                    Position = x, Width = 0.34, BoxMin = q.Lower, BoxMax = q.Upper, BoxMiddle = q.Median,
                    WhiskerMin = q.WhiskerMin, WhiskerMax = q.WhiskerMax,
                };
                plot.Add.Boxes([box]);
                box.FillColor = fill; // after adding: the plot gives a new box the palette's next colour
                box.LineColor = color;
                box.LineWidth = correct ? 2 : 1.5f;
                var points = plot.Add.ScatterPoints(ys.Select(_ => x + (jitter.NextDouble() - 0.5) * 0.22).ToArray(), ys);
                points.Color = correct ? color.WithAlpha(0.8) : Colors.Black.WithAlpha(0.55);
                points.MarkerSize = 4;
                points.MarkerShape = correct ? MarkerShape.FilledCircle : MarkerShape.OpenCircle;
                top = Math.Max(top, ys.Max());
                bottom = Math.Min(bottom, ys.Min());
                var median = plot.Add.Text($"median {Number(log ? Math.Pow(10, q.Median) : q.Median)}", x, q.WhiskerMax);
                median.LabelAlignment = Alignment.LowerCenter;
                median.LabelFontSize = 11;
                median.LabelOffsetY = -4;
            }
        }
        if (double.IsInfinity(top)) { top = 1; bottom = 0; }
        double span = Math.Max(top - bottom, log ? 1 : Math.Abs(top) * 0.1 + 1e-12);
        plot.Axes.SetLimits(-0.6, series.Count - 0.4, log ? bottom - 0.08 * span : Math.Min(0, bottom), top + 0.15 * span);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(t => t.Position).ToArray(), ticks.Select(t => t.Label).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        if (log)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                IntegerTicksOnly = true, MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                LabelFormatter = y => "1E" + Math.Round(y).ToString("0", CultureInfo.InvariantCulture), // one style for every decade
            };
        else
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Number };
        plot.Layout.Fixed(new PixelPadding(left: 90, right: 20, bottom: 56, top: 38));
        Figure.SavePng(plot, path, Math.Max(640, 120 + 240 * series.Count), Height);
    }

    /// <summary>
    /// Whether the y axis should be logarithmic: the positive values span more than two decades (max/min &gt; 100).
    /// </summary>
    public static bool UseLogScale(IReadOnlyCollection<double> values)
    {
        var positive = values.Where(v => v > 0 && double.IsFinite(v)).ToArray();
        return positive.Length > 1 && positive.Max() / positive.Min() > 100;
    }

    /// <summary>A box's numbers: quartiles (linear interpolation between order statistics) and Tukey's whiskers.</summary>
    public readonly record struct BoxNumbers(double Lower, double Median, double Upper, double WhiskerMin, double WhiskerMax);

    /// <summary>
    /// The quartiles of <paramref name="values"/> (not empty), by linear interpolation between order statistics
    /// (position p·(n − 1), as NumPy's default), and the whiskers: the furthest values within 1.5 IQR of the box.
    /// </summary>
    public static BoxNumbers Quartiles(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        var sorted = values.Order().ToArray();
        double At(double p)
        {
            double position = p * (sorted.Length - 1);
            int below = (int)Math.Floor(position);
            int above = Math.Min(below + 1, sorted.Length - 1);
            return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
        }
        double lower = At(0.25), median = At(0.5), upper = At(0.75), reach = 1.5 * (upper - lower);
        return new BoxNumbers(lower, median, upper,
            sorted.First(v => v >= lower - reach), sorted.Last(v => v <= upper + reach));
    }

    static string Number(double v) =>
        v == 0 ? "0" : Math.Abs(v) >= 0.01 && Math.Abs(v) < 1000 ? v.ToString("G3", CultureInfo.InvariantCulture)
        : v.ToString("0.0E+0", CultureInfo.InvariantCulture);
}
