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

    [SharedFact("data/mrpc")]
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
        var alone = train.Select(e => e with { Group = "g" + e.Id }).ToList();
        Assert.Equal(ValidationSplit.Carve(train, fraction).Validation.Select(e => e.Id),
                     ValidationSplit.Carve(alone, fraction).Validation.Select(e => e.Id));
    }

    /// <summary>n twins (PREFIX-1 labelled 0, PREFIX-2 labelled 1, as WinoGrande's, one group each) and n / 4 examples alone.</summary>
    static List<Example> Twins(int n) =>
        Enumerable.Range(0, n).SelectMany(i => new[] { new Example($"q{i}-1", "a", null, 0) { Group = $"q{i}" },
                                                       new Example($"q{i}-2", "b", null, 1) { Group = $"q{i}" } })
            .Concat(Enumerable.Range(0, n / 4).Select(i => new Example($"alone{i}", "c", null, i % 2))).ToList();

    static string Key(Example e) => e.Group ?? e.Id;

    [Fact]
    public void AGroupFallsOnOneSideAndEachKindOfGroupKeepsItsShare()
    {
        var train = Twins(400);
        var (rest, validation) = ValidationSplit.Carve(train, 0.15);
        var restKeys = rest.Select(Key).ToHashSet();
        Assert.DoesNotContain(validation, e => restKeys.Contains(Key(e)));
        Assert.Equal(60, validation.Count(e => e.Id.StartsWith('q')) / 2);   // round(0.15 × 400) pairs, both twins each
        Assert.Equal(2 * 8, validation.Count(e => e.Id.StartsWith("alone"))); // round(0.15 × 50) of each label's 50
        Assert.Equal(train.Count, rest.Count + validation.Count);
        // the same examples without their groups are split example by example, twins apart
        var (flatRest, flatValidation) = ValidationSplit.Carve(train.Select(e => e with { Group = null }).ToList(), 0.15);
        var flatKeys = flatRest.Where(e => e.Id.StartsWith('q')).Select(e => e.Id[..e.Id.LastIndexOf('-')]).ToHashSet();
        Assert.Contains(flatValidation, e => e.Id.StartsWith('q') && flatKeys.Contains(e.Id[..e.Id.LastIndexOf('-')]));
    }

    [Theory]
    [InlineData("3QHITW7-1", "qID:3QHITW7")]
    [InlineData("3QHITW7-2", "qID:3QHITW7")]
    [InlineData("3QHITW7-3", "qID:3QHITW7-3")]
    [InlineData(null, "options:Ian\u001fDennis")]
    public void AWinoGrandeTwinKeyIsTheQidWithoutItsEndingOrElseTheOptions(string? qid, string key) =>
        Assert.Equal(key, OriginalFormats.WinoGrandeTwins(qid, "Ian", "Dennis"));

    [SharedFact("data/winogrande")]
    public void WinoGrandesTwinsAreHeldOutTogether()
    {
        var task = ValidationSplit.Apply(Tasks.Load("winogrande-s"), 0.15);
        var trained = task.Train.Select(Key).ToHashSet();
        Assert.All(task.Train.Concat(task.Validation), e => Assert.NotNull(e.Group));
        Assert.NotEmpty(task.Validation);
        Assert.DoesNotContain(task.Validation, e => trained.Contains(Key(e)));
        Assert.InRange(task.Validation.Count, 90, 102); // about 15% of 640
    }

    [Fact]
    public void HubWinoGrandeWithoutQidsGroupsTwinsByTheirOptions()
    {
        string dir = Directory.CreateTempSubdirectory("blob-wg-").FullName;
        try
        {
            string train = Path.Combine(dir, "train.jsonl"), dev = Path.Combine(dir, "dev.jsonl");
            File.WriteAllLines(train, Enumerable.Range(0, 200).SelectMany(i => new[]
            {
                $$"""{"sentence": "A{{i}} helped B{{i}} because _ was kind.", "option1": "A{{i}}", "option2": "B{{i}}", "answer": "1"}""",
                $$"""{"sentence": "A{{i}} helped B{{i}} because _ was weak.", "option1": "A{{i}}", "option2": "B{{i}}", "answer": "2"}""",
            }));
            File.WriteAllLines(dev, File.ReadLines(train).Take(4));
            var task = ValidationSplit.Apply(Tasks.LoadHub("winogrande-s", train, dev), 0.15);
            var trained = task.Train.Select(Key).ToHashSet();
            Assert.Equal(2 * 30, task.Validation.Count); // round(0.15 × 200) pairs
            Assert.DoesNotContain(task.Validation, e => trained.Contains(Key(e)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void AFractionOutsideTheOpenIntervalIsRefused(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ValidationSplit.Carve(Examples(10), fraction));
}
