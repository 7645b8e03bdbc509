using System.Globalization;
using Blob.Training;
using ScottPlot;

namespace Blob.Reports;

/// <summary>
/// A run's training curves as one PNG (ScottPlot) from its <see cref="TrainingLog"/>: four panels over the optimiser
/// steps — the loss (negative log-likelihood), the KL to the prior, its weight λ and the learning rate. A method
/// without a KL shows its panels empty, saying so. Written atomically.
/// </summary>
public static class TrainingCurves
{
    /// <summary>The picture's name in a run's folder.</summary>
    public const string FileName = "training-curves.png";
    public const int Width = 960, Height = 680;

    /// <summary>Writes the four panels of <paramref name="rows"/> to <paramref name="path"/>, <paramref name="title"/> over the first.</summary>
    public static void Save(string path, string title, IReadOnlyList<TrainingLogRow> rows)
    {
        double[] steps = rows.Select(r => (double)r.Step).ToArray();
        bool hasKl = rows.Any(r => r.Kl != 0 || r.KlWeight != 0);
        var panels = new[]
        {
            Panel($"{title}: loss (NLL)", steps, rows.Select(r => r.Loss).ToArray(), Figure.MethodColor(0), true),
            Panel("KL to the prior", steps, rows.Select(r => r.Kl).ToArray(), Figure.MethodColor(1), hasKl),
            Panel("KL weight λ", steps, rows.Select(r => r.KlWeight).ToArray(), Figure.MethodColor(2), hasKl),
            Panel("learning rate", steps, rows.Select(r => r.LearningRate).ToArray(), Figure.MethodColor(3), true),
        };
        Figure.SaveGrid(path, Width, Height, panels, columns: 2);
    }

    static Plot Panel(string title, double[] steps, double[] values, Color color, bool shown)
    {
        var plot = new Plot();
        plot.Title(title, size: 14);
        plot.XLabel("step");
        if (shown && steps.Length > 0)
        {
            var line = plot.Add.ScatterLine(steps, values);
            line.Color = color;
            line.LineWidth = 1.5f;
            if (steps.Length == 1) line.MarkerSize = 6;
            var finite = values.Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
            double range = finite.Max() - finite.Min(), magnitude = finite.Max(Math.Abs);
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Tick(v, range, magnitude) };
        }
        else
        {
            double first = steps.Length > 0 ? steps[0] : 0, last = steps.Length > 1 ? steps[^1] : first + 1;
            var note = plot.Add.Text(steps.Length == 0 ? "no steps logged" : "no KL term for this method", (first + last) / 2, 0.5);
            note.LabelAlignment = Alignment.MiddleCenter;
            note.LabelFontSize = 14;
            note.LabelFontColor = Colors.Gray;
            plot.Axes.SetLimits(first, last, 0, 1);
            plot.Axes.Left.TickLabelStyle.IsVisible = false; // no values: no scale
        }
        return plot;
    }

    /// <summary>
    /// A tick label with as many digits as the panel's range needs: a KL of 157,681.2 that moves by 2, a λ of 0.0080,
    /// a learning rate of 5.0E-4 (ScottPlot's default labels repeat "157,681" or print "0" for such values).
    /// </summary>
    public static string Tick(double v, double range, double magnitude)
    {
        if (v == 0) return "0";
        if (range <= 0) range = Math.Abs(v);
        if (magnitude < 1e-3 || magnitude >= 1e6)
        {
            int significant = Math.Clamp((int)Math.Ceiling(Math.Log10(magnitude / range)) + 2, 1, 10);
            return v.ToString("0." + new string('0', significant - 1) + "E+0", CultureInfo.InvariantCulture);
        }
        int decimals = Math.Clamp((int)Math.Ceiling(-Math.Log10(range)) + 1, 0, 10);
        return v.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }
}
