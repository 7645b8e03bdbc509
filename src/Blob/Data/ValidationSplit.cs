namespace Blob.Data;

/// <summary>
/// The validation split of the blind protocol: a fraction of the training split held out, on which settings are chosen,
/// so that the reported split (dev) is looked at once per final configuration. It is label-stratified (each label
/// keeps its share: round(fraction × its count) of its examples are held out) and fixed: the same
/// <see cref="DeterministicSplit"/> shuffle for every method, seed and machine. Both halves keep the file's order.
/// Where examples are grouped (<see cref="Example.Group"/>: WinoGrande's twins), whole groups are held out:
/// the groups are stratified by the labels they hold (a pair of twins holds both), and round(fraction × count) of
/// each stratum's groups are held out. Without groups, each example is a group of one, and the split is the one above.
/// </summary>
public static class ValidationSplit
{
    /// <summary>The shuffle's seed; label l's examples are shuffled with seed Seed + l.</summary>
    public const ulong Seed = 20_240_915;

    /// <summary>The seed of the k-th stratum of groups holding more than one example (by their sorted labels).</summary>
    const ulong GroupSeed = Seed + 1_000_000;

    public static (List<Example> Train, List<Example> Validation) Carve(IReadOnlyList<Example> train, double fraction)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must be in (0, 1)");
        // each group: its examples' indices, in the order the groups first appear
        var groups = train.Select((e, i) => (Key: e.Group is { } g ? (true, g) : (false, $"{i}"), i))
            .GroupBy(x => x.Key, x => x.i).Select(g => g.ToArray()).ToList();
        var strata = groups.GroupBy(g => string.Join(",", g.Select(i => train[i].Label).Order())).ToList();
        var heldOut = new HashSet<int>();
        int multi = 0;
        foreach (var stratum in strata.OrderBy(s => s.First().Length).ThenBy(s => s.Key, StringComparer.Ordinal))
        {
            var members = stratum.ToList();
            int count = (int)Math.Round(fraction * members.Count, MidpointRounding.AwayFromZero);
            ulong seed = members[0].Length == 1 ? Seed + (ulong)train[members[0][0]].Label : GroupSeed + (ulong)multi++;
            foreach (var held in DeterministicSplit.Split(members, count, seed).Test) heldOut.UnionWith(held);
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
