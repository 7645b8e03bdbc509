using Blob.Layers;
namespace Blob.Methods;

/// <summary>
/// Maximises a smooth function of the prior precision δ over log δ: a grid to bracket the best point, then
/// golden-section search inside the bracket.
/// </summary>
public static class PriorPrecisionSearch
{
    public static double Maximise(Func<double, double> objective, double min = 1e-6, double max = 1e6,
        int gridPoints = 49, double tolerance = 1e-6)
    {
        double lo = Math.Log(min), hi = Math.Log(max), step = (hi - lo) / (gridPoints - 1);
        double F(double logDelta) => objective(Math.Exp(logDelta));

        var grid = Enumerable.Range(0, gridPoints).Select(i => lo + i * step).ToArray();
        int best = Enumerable.Range(0, gridPoints).MaxBy(i => F(grid[i]));
        double a = grid[Math.Max(best - 1, 0)], b = grid[Math.Min(best + 1, gridPoints - 1)];

        double ratio = (Math.Sqrt(5) - 1) / 2;
        double c = b - ratio * (b - a), d = a + ratio * (b - a), fc = F(c), fd = F(d);
        while (b - a > tolerance)
        {
            if (fc > fd) { b = d; d = c; fd = fc; c = b - ratio * (b - a); fc = F(c); }
            else { a = c; c = d; fc = fd; d = a + ratio * (b - a); fd = F(d); }
        }
        return Math.Exp((a + b) / 2);
    }
}
