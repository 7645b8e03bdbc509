using System.Globalization;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using ScottPlot;

namespace Blob.Reports;

/// <summary>One method's reliability curve for the overlaid diagram.</summary>
public sealed record ReliabilitySeries(string Method, IReadOnlyList<ReliabilityBin> Bins, double Ece);

/// <summary>
/// Reliability diagrams as PNG (ScottPlot), in the standard form: above, a bar per confidence bin at the bin's
/// accuracy, the gap to the bin's mean confidence shaded red, and the diagonal of perfect calibration; below, a shorter
/// panel with the number of examples in each bin. The ECE (×100) is in the legend. Files are written atomically.
/// </summary>
public static class ReliabilityDiagram
{
    public const int Width = 640, Height = 720;

    /// <summary>One method: a bar per non-empty bin at its accuracy, the gap to its mean confidence, the counts below.</summary>
    public static void Save(string path, string title, ReliabilitySeries series)
    {
        var bins = series.Bins.Where(b => b.Count > 0 && b.Upper > b.Lower).ToList();
        var (top, bottom) = Panels(title);
        var accuracy = top.Add.Bars(bins.Select(b => new Bar
        {
            Position = (b.Lower + b.Upper) / 2, Value = b.Accuracy, Size = (b.Upper - b.Lower) * 0.92,
            FillColor = Colors.SteelBlue.WithAlpha(0.85), LineColor = Colors.Navy, LineWidth = 1,
        }).ToList());
        accuracy.LegendText = $"{series.Method}: accuracy (ECE {Percent(series.Ece)})";
        // The gap: from the bin's accuracy to its mean confidence (above the bar: overconfident; inside: underconfident).
        var gap = top.Add.Bars(bins.Select(b => new Bar
        {
            Position = (b.Lower + b.Upper) / 2, ValueBase = b.Accuracy, Value = b.Confidence, Size = (b.Upper - b.Lower) * 0.92,
            FillColor = Colors.Red.WithAlpha(0.3), LineColor = Colors.Red.WithAlpha(0.8), LineWidth = 1,
        }).ToList());
        gap.LegendText = "gap to mean confidence";
        Diagonal(top);

        var counts = bottom.Add.Bars(bins.Select(b => new Bar
        {
            Position = (b.Lower + b.Upper) / 2, Value = b.Count, Size = (b.Upper - b.Lower) * 0.92,
            FillColor = Colors.Gray.WithAlpha(0.7), LineColor = Colors.DimGray, LineWidth = 1,
        }).ToList());
        CountLimits(bottom, bins.Select(b => (double)b.Count));
        Figure.SaveStacked(path, Width, Height, [top, bottom], [3, 1]);
    }

    /// <summary>Several methods on one chart: accuracy against mean confidence for each non-empty bin, as lines; below, each method's count per bin.</summary>
    public static void SaveOverlay(string path, string title, IReadOnlyList<ReliabilitySeries> series)
    {
        var (top, bottom) = Panels(title);
        Diagonal(top);
        double maxCount = 0;
        for (int i = 0; i < series.Count; i++)
        {
            var bins = series[i].Bins.Where(b => b.Count > 0).ToList();
            var line = top.Add.Scatter(bins.Select(b => b.Confidence).ToArray(), bins.Select(b => b.Accuracy).ToArray());
            line.Color = Figure.MethodColor(i);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = $"{series[i].Method} (ECE {Percent(series[i].Ece)})";

            // side by side within each bin, one bar per method
            double share = 0.9 / series.Count;
            var counts = bottom.Add.Bars(bins.Where(b => b.Upper > b.Lower).Select(b => new Bar
            {
                Position = b.Lower + (b.Upper - b.Lower) * (0.05 + share * (i + 0.5)), Value = b.Count, Size = (b.Upper - b.Lower) * share,
                FillColor = Figure.MethodColor(i).WithAlpha(0.8), LineWidth = 0,
            }).ToList());
            if (bins.Count > 0) maxCount = Math.Max(maxCount, bins.Max(b => b.Count));
        }
        CountLimits(bottom, [maxCount]);
        Figure.SaveStacked(path, Width, Height, [top, bottom], [3, 1]);
    }

    /// <summary>The accuracy panel (square-ish, legend upper left) over the shorter count panel, x axes aligned.</summary>
    static (Plot Top, Plot Bottom) Panels(string title)
    {
        var top = new Plot();
        top.Title(title);
        top.YLabel("Accuracy");
        top.Axes.SetLimits(0, 1, 0, 1);
        top.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        top.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        top.Axes.Bottom.TickLabelStyle.IsVisible = false; // the count panel below labels the shared confidence axis
        top.ShowLegend(Alignment.UpperLeft);
        top.Legend.FontSize = 13;
        Figure.AlignedMargins(top, title: true, xLabel: false);

        var bottom = new Plot();
        bottom.XLabel("Confidence");
        bottom.YLabel("Count");
        bottom.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(0.1);
        Figure.AlignedMargins(bottom, title: false, xLabel: true);
        return (top, bottom);
    }

    static void Diagonal(Plot plot)
    {
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.Color = Colors.Black.WithAlpha(0.6);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LineWidth = 1.5f;
        diagonal.LegendText = "perfect calibration";
    }

    static void CountLimits(Plot plot, IEnumerable<double> counts)
    {
        double max = counts.DefaultIfEmpty(0).Max();
        plot.Axes.SetLimits(0, 1, 0, Math.Max(1, max) * 1.1);
    }

    static string Percent(double ece) => (ece * 100).ToString("F2", CultureInfo.InvariantCulture);
}
