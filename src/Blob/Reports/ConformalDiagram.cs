using System.Globalization;
using ScottPlot;

namespace Blob.Reports;

/// <summary>One method's empirical coverage at each target coverage 1 − α, for LAC and APS.</summary>
public sealed record CoverageSeries(string Method, double[] Target, double[] Lac, double[] Aps);

/// <summary>One method's set sizes: the fraction of questions whose LAC (APS) set holds k classes, k = 0, 1, …</summary>
public sealed record SetSizeSeries(string Method, double[] Lac, double[] Aps);

/// <summary>
/// Conformal answer sets as PNG (ScottPlot): the empirical coverage against the target 1 − α, the diagonal the
/// guarantee's reference (a method on or above it covers as promised); and histograms of the set sizes at one α, bars
/// side by side per method. LAC left, APS right; methods coloured as in the other pictures of a comparison.
/// </summary>
public static class ConformalDiagram
{
    public const int Width = 1200, Height = 560;

    public static void SaveCoverage(string path, string title, IReadOnlyList<CoverageSeries> series)
    {
        var panels = new[] { ("LAC", (Func<CoverageSeries, double[]>)(s => s.Lac)), ("APS", s => s.Aps) }.Select(p =>
        {
            var plot = new Plot();
            plot.Title($"{title}: {p.Item1}");
            plot.XLabel("Target coverage 1 − α");
            plot.YLabel("Empirical coverage");
            double low = series.SelectMany(s => s.Target.Concat(p.Item2(s))).DefaultIfEmpty(0.5).Min();
            var diagonal = plot.Add.Line(0, 0, 1, 1);
            diagonal.Color = Colors.Black.WithAlpha(0.6);
            diagonal.LinePattern = LinePattern.Dashed;
            diagonal.LegendText = "coverage = 1 − α";
            for (int i = 0; i < series.Count; i++)
            {
                var line = plot.Add.Scatter(series[i].Target, p.Item2(series[i]));
                line.Color = Figure.MethodColor(i);
                line.LineWidth = 2;
                line.MarkerSize = 5;
                line.LegendText = series[i].Method;
            }
            double from = Math.Max(0, Math.Floor(low * 20) / 20 - 0.05);
            plot.Axes.SetLimits(from, 1, from, 1.01);
            plot.ShowLegend(Alignment.LowerRight);
            return plot;
        }).ToList();
        Figure.SaveGrid(path, Width, Height, panels, 2);
    }

    public static void SaveSetSizes(string path, string title, IReadOnlyList<SetSizeSeries> series)
    {
        int sizes = series.SelectMany(s => new[] { s.Lac.Length, s.Aps.Length }).DefaultIfEmpty(1).Max();
        var panels = new[] { ("LAC", (Func<SetSizeSeries, double[]>)(s => s.Lac)), ("APS", s => s.Aps) }.Select(p =>
        {
            var plot = new Plot();
            plot.Title($"{title}: {p.Item1}");
            plot.XLabel("Set size (classes)");
            plot.YLabel("Fraction of questions");
            double share = 0.85 / Math.Max(1, series.Count);
            for (int i = 0; i < series.Count; i++)
            {
                var fractions = p.Item2(series[i]);
                var bars = plot.Add.Bars(fractions.Select((f, k) => new Bar
                {
                    Position = k - 0.425 + share * (i + 0.5), Value = f, Size = share,
                    FillColor = Figure.MethodColor(i).WithAlpha(0.85), LineWidth = 0,
                }).ToList());
                bars.LegendText = series[i].Method;
            }
            double highest = series.SelectMany(p.Item2).DefaultIfEmpty(1).Max();
            plot.Axes.SetLimits(-0.6, sizes - 0.4, 0, Math.Min(1.02, highest * 1.25));
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);
            plot.ShowLegend(Alignment.UpperRight);
            return plot;
        }).ToList();
        Figure.SaveGrid(path, Width, Height, panels, 2);
    }
}
