using Blob.Data;

namespace Blob.Tests.Data;

/// <summary>The blind protocol's validation split: label-stratified, disjoint from training, fixed.</summary>
public class ValidationSplitTests
{
    /// <summary>n examples, 30% of them labelled 1, interleaved.</summary>
    static List<Example> Examples(int n) =>
        Enumerable.Range(0, n).Select(i => new Example($"e{i}", $"text {i}", null, i % 10 < 3 ? 1 : 0)).ToList();

    [Theory]
    [InlineData(0.15)]
    [InlineData(0.5)]
    [InlineData(0.01)]
    public void EachLabelKeepsItsShareAndTheHalvesPartitionTheTrainingSplit(double fraction)
    {
        var train = Examples(1000);
        var (rest, validation) = ValidationSplit.Carve(train, fraction);
        foreach (var label in new[] { 0, 1 })
        {
            int count = train.Count(e => e.Label == label);
            Assert.Equal((int)Math.Round(fraction * count, MidpointRounding.AwayFromZero), validation.Count(e => e.Label == label));
        }
        Assert.Empty(rest.Select(e => e.Id).Intersect(validation.Select(e => e.Id)));
        Assert.Equal(train.Select(e => e.Id).Order(), rest.Concat(validation).Select(e => e.Id).Order());
        // both halves keep the file's order
        Assert.Equal(rest.Select(e => train.IndexOf(e)).Order(), rest.Select(e => train.IndexOf(e)));
        Assert.Equal(validation.Select(e => train.IndexOf(e)).Order(), validation.Select(e => train.IndexOf(e)));
    }

    [Fact]
    public void TheSplitIsFixedAndNotAPrefix()
    {
        var train = Examples(100);
        var (_, first) = ValidationSplit.Carve(train, 0.2);
        var (_, second) = ValidationSplit.Carve(train.ToList(), 0.2);
        Assert.Equal(first, second);
        Assert.NotEqual(train.Where(e => e.Label == 1).Take(6), first.Where(e => e.Label == 1)); // shuffled, not the first ones
    }

    [Fact]
    public void MrpcsValidationSplitIsStratified()
    {
        var task = Tasks.Load("mrpc");
        var carved = ValidationSplit.Apply(task, 0.15);
        Assert.Equal(task.Train.Count, carved.Train.Count + carved.Validation.Count);
        Assert.Equal(task.Eval, carved.Eval);
        double share(IEnumerable<Example> xs) => xs.Average(e => (double)e.Label);
        Assert.InRange(share(carved.Validation), share(task.Train) - 0.002, share(task.Train) + 0.002);
        Assert.InRange(carved.Validation.Count, 549, 551); // 15% of 3,668
    }

    [Theory]
    [InlineData(0.15)]
    [InlineData(0.5)]
    public void GroupsOfOneGiveTheUngroupedSplit(double fraction)
    {
        var train = Examples(1000);
        Assert.Equal(ValidationSplit.Carve(train, fraction).Validation, ValidationSplit.Carve(train, fraction, e => e.Id).Validation);
    }

    /// <summary>n twins (PREFIX-1 labelled 0, PREFIX-2 labelled 1, as WinoGrande's) and n / 4 examples alone.</summary>
    static List<Example> Twins(int n) =>
        Enumerable.Range(0, n).SelectMany(i => new[] { new Example($"q{i}-1", "a", null, 0), new Example($"q{i}-2", "b", null, 1) })
            .Concat(Enumerable.Range(0, n / 4).Select(i => new Example($"alone{i}", "c", null, i % 2))).ToList();

    [Fact]
    public void AGroupFallsOnOneSideAndEachKindOfGroupKeepsItsShare()
    {
        var train = Twins(400);
        var (rest, validation) = ValidationSplit.Carve(train, 0.15, Tasks.WinoGrandeTwins);
        var restKeys = rest.Select(Tasks.WinoGrandeTwins).ToHashSet();
        Assert.DoesNotContain(validation, e => restKeys.Contains(Tasks.WinoGrandeTwins(e)));
        Assert.Equal(60, validation.Count(e => e.Id.StartsWith('q')) / 2);   // round(0.15 × 400) pairs, both twins each
        Assert.Equal(2 * 8, validation.Count(e => e.Id.StartsWith("alone"))); // round(0.15 × 50) of each label's 50
        Assert.Equal(train.Count, rest.Count + validation.Count);
        // the example-by-example split would have split twins up
        var (flatRest, flatValidation) = ValidationSplit.Carve(train, 0.15);
        var flatKeys = flatRest.Select(Tasks.WinoGrandeTwins).ToHashSet();
        Assert.Contains(flatValidation, e => flatKeys.Contains(Tasks.WinoGrandeTwins(e)));
    }

    [Theory]
    [InlineData("3QHITW7-1", "3QHITW7")]
    [InlineData("3QHITW7-2", "3QHITW7")]
    [InlineData("3QHITW7-3", "3QHITW7-3")]
    [InlineData("plain", "plain")]
    public void AWinoGrandeTwinKeyIsTheQidWithoutItsEnding(string id, string key) =>
        Assert.Equal(key, Tasks.WinoGrandeTwins(new Example(id, "t", null, 0)));

    [Fact]
    public void WinoGrandesTwinsAreHeldOutTogether()
    {
        var task = ValidationSplit.Apply(Tasks.Load("winogrande-s"), 0.15);
        var trained = task.Train.Select(Tasks.WinoGrandeTwins).ToHashSet();
        Assert.NotEmpty(task.Validation);
        Assert.DoesNotContain(task.Validation, e => trained.Contains(Tasks.WinoGrandeTwins(e)));
        Assert.InRange(task.Validation.Count, 90, 102); // about 15% of 640
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void AFractionOutsideTheOpenIntervalIsRefused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Carve(Examples(10), fraction));
}
