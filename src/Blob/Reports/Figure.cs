using Blob.Runtime;
using ScottPlot;

namespace Blob.Reports;

/// <summary>
/// What the report pictures share: a colour per method (the same method gets the same colour in every picture of a
/// comparison, by its position), panels stacked with aligned data areas, and atomic PNG writes.
/// </summary>
static class Figure
{
    static readonly ScottPlot.Palettes.Category10 Palette = new();

    public static Color MethodColor(int index) => Palette.GetColor(index);

    /// <summary>
    /// Panels stacked top to bottom in one PNG, each given its share of the height (<paramref name="heights"/>,
    /// relative). Every panel gets the same fixed margins, so their data areas (and x axes) line up.
    /// </summary>
    public static void SaveStacked(string path, int width, int height, IReadOnlyList<Plot> panels, IReadOnlyList<double> heights)
    {
        var cells = new List<(double X, double Y, double W, double H)>();
        double total = heights.Sum(), top = 0;
        foreach (var h in heights)
        {
            cells.Add((0, top, 1, h / total));
            top += h / total;
        }
        Save(path, width, height, panels, cells);
    }

    /// <summary>Panels in a grid, row by row, all of one size.</summary>
    public static void SaveGrid(string path, int width, int height, IReadOnlyList<Plot> panels, int columns)
    {
        int rows = (panels.Count + columns - 1) / columns;
        var cells = Enumerable.Range(0, panels.Count)
            .Select(i => ((double)(i % columns) / columns, (double)(i / columns) / rows, 1.0 / columns, 1.0 / rows)).ToList();
        Save(path, width, height, panels, cells);
    }

    /// <summary>A ScottPlot multiplot whose panels sit in the given fractions of the figure (x, y from the top left, width, height).</summary>
    static void Save(string path, int width, int height, IReadOnlyList<Plot> panels, IReadOnlyList<(double X, double Y, double W, double H)> cells)
    {
        var multiplot = new Multiplot();
        multiplot.Reset(panels[0]); // a new multiplot holds one plot of its own
        foreach (var panel in panels.Skip(1)) multiplot.AddPlot(panel);
        multiplot.Layout = new FractionLayout(cells);
        AtomicFile.Write(path, temp => multiplot.SavePng(temp, width, height));
    }

    sealed class FractionLayout(IReadOnlyList<(double X, double Y, double W, double H)> cells) : IMultiplotLayout
    {
        public PixelRect[] GetSubplotRectangles(SubplotCollection subplots, PixelRect figure) =>
            cells.Select(c => new PixelRect(
                (float)(figure.Left + c.X * figure.Width), (float)(figure.Left + (c.X + c.W) * figure.Width),
                (float)(figure.Top + (c.Y + c.H) * figure.Height), (float)(figure.Top + c.Y * figure.Height))).ToArray();
    }

    /// <summary>The same margins for every stacked panel (left wide enough for a count's tick labels), so the x axes align.</summary>
    public static void AlignedMargins(Plot plot, bool title, bool xLabel) =>
        plot.Layout.Fixed(new PixelPadding(left: 72, right: 20, bottom: xLabel ? 50 : 12, top: title ? 38 : 10));

    public static void SavePng(Plot plot, string path, int width, int height) =>
        AtomicFile.Write(path, temp => plot.SavePng(temp, width, height));
}
