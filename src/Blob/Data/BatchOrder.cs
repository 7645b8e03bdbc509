namespace Blob.Data;

/// <summary>
/// The order a whole split is read in when every example is visited once and the order does not matter to the result
/// (prediction, the Laplace curvature): batches of similar length, shortest first, so that little of a batch is
/// padding (on the paper's evaluation sets about half the padded tokens of data order). Ties keep the data's order,
/// so the batches depend on the data alone.
/// </summary>
public static class BatchOrder
{
    /// <summary>The indices 0 … Count − 1 in batches of at most <paramref name="size"/>, grouped by <see cref="IBatchSource.Length"/>.</summary>
    public static IEnumerable<int[]> ByLength(IBatchSource data, int size)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "batch size must be at least 1");
        var order = Enumerable.Range(0, data.Count).OrderBy(data.Length).ToArray(); // OrderBy is stable
        for (int from = 0; from < order.Length; from += size)
            yield return order[from..Math.Min(order.Length, from + size)];
    }
}
