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
    public const string FileName = "training-curves.png";
    public const int Width = 960, Height = 680;

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
        }
        else
        {
            var note = plot.Add.Text(steps.Length == 0 ? "no steps logged" : "no KL term for this method", 0.5, 0.5);
            note.LabelAlignment = Alignment.MiddleCenter;
            note.LabelFontSize = 14;
            note.LabelFontColor = Colors.Gray;
            plot.Axes.SetLimits(0, 1, 0, 1);
        }
        return plot;
    }
}
