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
/// Reliability diagrams as PNG (ScottPlot): the accuracy in each confidence bin against the diagonal of perfect
/// calibration, the ECE (×100) in the title. Files are written atomically.
/// </summary>
public static class ReliabilityDiagram
{
    public const int Width = 640, Height = 600;

    /// <summary>One method: a bar per non-empty bin at the bin's accuracy.</summary>
    public static void Save(string path, string title, ReliabilitySeries series)
    {
        var plot = NewPlot($"{title}: {series.Method}, ECE {Percent(series.Ece)}");
        var bars = series.Bins.Where(b => b.Count > 0 && b.Upper > b.Lower)
            .Select(b => new Bar
            {
                Position = (b.Lower + b.Upper) / 2,
                Value = b.Accuracy,
                Size = (b.Upper - b.Lower) * 0.95,
                FillColor = Colors.SteelBlue.WithAlpha(0.8),
                LineColor = Colors.Navy,
            })
            .ToList();
        plot.Add.Bars(bars).LegendText = "accuracy per confidence bin";
        plot.ShowLegend(Alignment.UpperLeft);
        SaveAtomically(plot, path);
    }

    /// <summary>Several methods on one chart: accuracy against mean confidence for each non-empty bin, as lines.</summary>
    public static void SaveOverlay(string path, string title, IReadOnlyList<ReliabilitySeries> series)
    {
        var plot = NewPlot(title);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var bins = series[i].Bins.Where(b => b.Count > 0).ToList();
            var line = plot.Add.Scatter(bins.Select(b => b.Confidence).ToArray(), bins.Select(b => b.Accuracy).ToArray());
            line.Color = palette.GetColor(i);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            line.LegendText = $"{series[i].Method} (ECE {Percent(series[i].Ece)})";
        }
        plot.ShowLegend(Alignment.UpperLeft);
        SaveAtomically(plot, path);
    }

    static Plot NewPlot(string title)
    {
        var plot = new Plot();
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.Color = Colors.Gray;
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.LegendText = "perfect calibration";
        plot.Title(title);
        plot.XLabel("Confidence");
        plot.YLabel("Accuracy");
        plot.Axes.SetLimits(0, 1, 0, 1);
        return plot;
    }

    static void SaveAtomically(Plot plot, string path) =>
        AtomicFile.Write(path, temp => plot.SavePng(temp, Width, Height));

    static string Percent(double ece) => (ece * 100).ToString("F2", CultureInfo.InvariantCulture);
}
