using System.Globalization;
using ScottPlot;

namespace Blob.Reports;

/// <summary>
/// One method's ROC curve for one score and one out-of-distribution set, with its AUROC. ColorIndex keeps a method's
/// colour across panels that lack some methods; null: the series' place in its panel.
/// </summary>
public sealed record RocSeries(string Method, double[] Fpr, double[] Tpr, double Auroc)
{
    public int? ColorIndex { get; init; }
}

/// <summary>
/// ROC curves of out-of-distribution detection as PNG: one panel per (score, OOD set), x the fraction of
/// in-distribution questions flagged, y the fraction of OOD questions flagged, one line per method, AUROC (×100) in the
/// legend; the diagonal is chance.
/// </summary>
public static class RocDiagram
{
    public const int PanelWidth = 480, PanelHeight = 440;

    public static void Save(string path, IReadOnlyList<(string Title, IReadOnlyList<RocSeries> Series)> panels, int columns)
    {
        var plots = panels.Select(panel =>
        {
            var plot = new Plot();
            plot.Title(panel.Title);
            plot.XLabel("In-distribution flagged (FPR)");
            plot.YLabel("OOD flagged (TPR)");
            var chance = plot.Add.Line(0, 0, 1, 1);
            chance.Color = Colors.Black.WithAlpha(0.5);
            chance.LinePattern = LinePattern.Dashed;
            for (int i = 0; i < panel.Series.Count; i++)
            {
                var s = panel.Series[i];
                var line = plot.Add.ScatterLine(s.Fpr, s.Tpr);
                line.Color = Figure.MethodColor(s.ColorIndex ?? i);
                line.LineWidth = 2;
                line.LegendText = $"{s.Method} ({(s.Auroc * 100).ToString("F1", CultureInfo.InvariantCulture)})";
            }
            plot.Axes.SetLimits(0, 1, 0, 1);
            plot.ShowLegend(Alignment.LowerRight);
            plot.Legend.FontSize = 11;
            return plot;
        }).ToList();
        int rows = (plots.Count + columns - 1) / columns;
        Figure.SaveGrid(path, PanelWidth * Math.Min(columns, plots.Count), PanelHeight * rows, plots, Math.Min(columns, plots.Count));
    }
}
