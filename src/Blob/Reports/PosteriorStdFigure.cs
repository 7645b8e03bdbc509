using Blob.Training;
using ScottPlot;

namespace Blob.Reports;

/// <summary>
/// How the posterior's standard deviations grow during training, as one PNG from a run's <see cref="PosteriorStdLog"/>:
/// over the optimiser steps, the median of A's entries' standard deviations (BLoB's Ω = G²), the bands holding the
/// middle 50% and 90% of them, their maximum, and the prior's σp as a dashed line, on a log scale (Ω starts near ε²,
/// orders of magnitude below σp). Written atomically.
/// </summary>
public static class PosteriorStdFigure
{
    /// <summary>The picture's name in a run's folder.</summary>
    public const string FileName = "posterior-std.png";
    public const int Width = 720, Height = 480;

    /// <summary>Writes the picture of <paramref name="rows"/> (at least one) to <paramref name="path"/>.</summary>
    public static void Save(string path, string title, IReadOnlyList<PosteriorStdRow> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("no rows to draw", nameof(rows));
        var plot = new Plot();
        plot.Title($"{title}: posterior standard deviations of A", size: 14);
        plot.XLabel("step");
        plot.YLabel("standard deviation (log scale)");
        double[] steps = rows.Select(r => (double)r.Step).ToArray();
        static double[] Log(IEnumerable<double> v) => v.Select(x => Math.Log10(Math.Max(x, 1e-12))).ToArray();
        var color = Figure.MethodColor(0);

        var outer = plot.Add.FillY(steps, Log(rows.Select(r => r.P95)), Log(rows.Select(r => r.P05)));
        outer.FillColor = color.WithAlpha(0.18);
        outer.LineColor = Colors.Transparent;
        outer.LegendText = "5–95%";
        var inner = plot.Add.FillY(steps, Log(rows.Select(r => r.P75)), Log(rows.Select(r => r.P25)));
        inner.FillColor = color.WithAlpha(0.35);
        inner.LineColor = Colors.Transparent;
        inner.LegendText = "25–75%";
        var median = plot.Add.ScatterLine(steps, Log(rows.Select(r => r.Median)));
        median.Color = color;
        median.LineWidth = 2;
        median.LegendText = "median";
        var max = plot.Add.ScatterLine(steps, Log(rows.Select(r => r.Max)));
        max.Color = color;
        max.LineWidth = 1;
        max.LinePattern = LinePattern.Dotted;
        max.LegendText = "max";
        var prior = plot.Add.HorizontalLine(Math.Log10(rows[^1].PriorStd));
        prior.Color = Colors.Gray;
        prior.LinePattern = LinePattern.Dashed;
        prior.LineWidth = 1.5f;
        prior.LegendText = $"prior σp = {rows[^1].PriorStd:0.###}";
        if (steps.Length == 1) { median.MarkerSize = 6; max.MarkerSize = 4; }

        double top = Math.Log10(Math.Max(rows.Max(r => r.Max), rows[^1].PriorStd)), bottom = Math.Log10(Math.Max(rows.Min(r => r.Min), 1e-12));
        plot.Axes.SetLimitsY(Math.Floor(bottom * 2) / 2, Math.Ceiling(top * 2) / 2 + 0.1);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => Math.Pow(10, y).ToString("0.####################", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.ShowLegend(Alignment.UpperLeft);
        Figure.SavePng(plot, path, Width, Height);
    }
}
