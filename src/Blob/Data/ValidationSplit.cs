namespace Blob.Data;

/// <summary>
/// The validation split of the blind protocol: a fraction of the training split held out, on which settings are chosen,
/// so that the reported split (dev) is looked at once per final configuration. It is label-stratified (each label
/// keeps its share: round(fraction × its count) of its examples are held out) and fixed: the same
/// <see cref="DeterministicSplit"/> shuffle for every method, seed and machine. Both halves keep the file's order.
/// </summary>
public static class ValidationSplit
{
    /// <summary>The shuffle's seed; label l's examples are shuffled with seed Seed + l.</summary>
    public const ulong Seed = 20_240_915;

    public static (List<Example> Train, List<Example> Validation) Carve(IReadOnlyList<Example> train, double fraction)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be in (0, 1)");
        var heldOut = new HashSet<int>();
        foreach (var label in train.Select((e, i) => (e.Label, i)).GroupBy(x => x.Label))
        {
            var indices = label.Select(x => x.i).ToList();
            int count = (int)Math.Round(fraction * indices.Count, MidpointRounding.AwayFromZero);
            heldOut.UnionWith(DeterministicSplit.Split(indices, count, Seed + (ulong)label.Key).Test);
        }
        return (train.Where((_, i) => !heldOut.Contains(i)).ToList(), train.Where((_, i) => heldOut.Contains(i)).ToList());
    }

    /// <summary>The task with its training split cut in two: Train the rest, Validation the held-out part.</summary>
    public static TaskData Apply(TaskData task, double fraction)
    {
        var (rest, validation) = Carve(task.Train, fraction);
        return task with { Train = rest, Validation = validation };
    }
}
