using Blob.Data;

namespace Blob.Tests.Data;

/// <summary>
/// The demo's noisy-label task: true labels balanced, each label flipped at the stated rate (within a binomial band),
/// the same task for the same seed.
/// </summary>
public class NoisyDemoTaskTests
{
    static readonly TaskData Task = NoisyDemoTask.Generate();
    static IEnumerable<Example> All => Task.Train.Concat(Task.Eval);

    /// <summary>Whether <paramref name="count"/> is within four standard deviations of a Binomial(n, p) count's mean.</summary>
    static bool WithinBinomialBand(int count, int n, double p) =>
        Math.Abs(count - n * p) <= 4 * Math.Sqrt(n * p * (1 - p));

    [Fact]
    public void ItHasTheStatedSizesAndOneSentencePerExample()
    {
        Assert.Equal(NoisyDemoTask.Name, Task.Name);
        Assert.Equal(400, Task.Train.Count);
        Assert.Equal(1000, Task.Eval.Count);
        Assert.All(All, e => Assert.Null(e.TextPair));
        Assert.Equal(All.Count(), All.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public void TheTrueLabelsAreBalancedInEachSplit()
    {
        Assert.Equal(Task.Train.Count / 2, Task.Train.Count(e => NoisyDemoTask.TrueLabel(e) == 1));
        Assert.Equal(Task.Eval.Count / 2, Task.Eval.Count(e => NoisyDemoTask.TrueLabel(e) == 1));
    }

    [Fact]
    public void LabelsAreFlippedAtTheStatedRateInTrainingAndEvaluation()
    {
        foreach (var split in new[] { Task.Train, Task.Eval })
        {
            int flipped = split.Count(e => e.Label != NoisyDemoTask.TrueLabel(e));
            Assert.True(flipped > 0);
            Assert.True(WithinBinomialBand(flipped, split.Count, NoisyDemoTask.NoiseRate),
                $"{flipped} of {split.Count} labels flipped; expected about {NoisyDemoTask.NoiseRate * split.Count}");
            // a symmetric flip keeps the given labels balanced too, up to the same binomial noise
            Assert.True(WithinBinomialBand(split.Count(e => e.Label == 1), split.Count, 0.5));
        }
    }

    [Fact]
    public void TheSameSeedGivesTheSameTaskAndAnotherSeedAnother()
    {
        Assert.Equal(Task.Train, NoisyDemoTask.Generate().Train);
        Assert.Equal(Task.Eval, NoisyDemoTask.Generate().Eval);
        Assert.NotEqual(Task.Train, NoisyDemoTask.Generate(seed: 7).Train);
    }
}
