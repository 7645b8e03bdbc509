using System.Globalization;
using Blob.Evaluation;
using ScottPlot;

namespace Blob.Reports;

/// <summary>One method's risk–coverage curve for the overlaid diagram (its AURC is the curve's mean risk).</summary>
public sealed record RiskCoverageSeries(string Method, RiskCoverageCurve Curve);

/// <summary>
/// Risk–coverage curves as PNG (ScottPlot): x the coverage (the fraction of examples answered, most confident first),
/// y the risk (the error rate among them), one line per method, AURC (×100) in the legend. Written atomically.
/// </summary>
public static class RiskCoverageDiagram
{
    public const int Width = 640, Height = 520;

    /// <summary>One line per method (in the order given, coloured as in the reliability overlay).</summary>
    public static void SaveOverlay(string path, string title, IReadOnlyList<RiskCoverageSeries> series)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("Coverage (most confident fraction answered)");
        plot.YLabel("Risk (error rate among them)");
        double maxRisk = 0;
        for (int i = 0; i < series.Count; i++)
        {
            var curve = series[i].Curve;
            // from coverage 0 (nothing answered) at the first risk, so a line starts at the left edge
            double[] xs = [0, .. curve.Coverage], ys = curve.Risk.Length > 0 ? [curve.Risk[0], .. curve.Risk] : [];
            if (ys.Length == 0) continue;
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = Figure.MethodColor(i);
            line.LineWidth = 2;
            line.LegendText = $"{series[i].Method} (AURC {Percent(curve.Aurc)})";
            maxRisk = Math.Max(maxRisk, ys.Where(double.IsFinite).DefaultIfEmpty(0).Max());
        }
        plot.Axes.SetLimits(0, 1, 0, Math.Clamp(maxRisk * 1.15, 0.05, 1.02)); // a risk is at most 1
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Legend.FontSize = 13;
        Figure.SavePng(plot, path, Width, Height);
    }

    static string Percent(double x) => (x * 100).ToString("F2", CultureInfo.InvariantCulture);
}
