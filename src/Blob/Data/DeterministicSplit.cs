namespace Blob.Data;

/// <summary>
/// A reproducible train/test split: a Fisher–Yates shuffle driven by SplitMix64 (the same on every machine and
/// .NET version, unlike System.Random), the first testCount items of the shuffle being the test set. Both halves
/// keep the file's order.
/// </summary>
public static class DeterministicSplit
{
    public static (List<T> Train, List<T> Test) Split<T>(IReadOnlyList<T> items, int testCount, ulong seed)
    {
        if (testCount < 0 || testCount > items.Count)
            throw new ArgumentOutOfRangeException(nameof(testCount), $"{testCount} of {items.Count} items");
        var order = Enumerable.Range(0, items.Count).ToArray();
        ulong state = seed;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = (int)(SplitMix64(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var test = order.Take(testCount).ToHashSet();
        var train = Enumerable.Range(0, items.Count).Where(i => !test.Contains(i)).Select(i => items[i]).ToList();
        var testItems = Enumerable.Range(0, items.Count).Where(test.Contains).Select(i => items[i]).ToList();
        return (train, testItems);
    }

    static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
