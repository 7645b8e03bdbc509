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
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void AFractionOutsideTheOpenIntervalIsRefused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Carve(Examples(10), fraction));
}
