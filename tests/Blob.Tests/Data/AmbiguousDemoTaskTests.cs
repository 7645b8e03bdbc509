using Blob.Data;

namespace Blob.Tests.Data;

/// <summary>
/// The demo's task with ambiguous reviews: the stated fraction of ambiguous reviews in each split, clear reviews
/// labelled by their opinion word, the ambiguous ones by a fair coin in training and with both labels in evaluation,
/// balanced labels, the same task for the same seed.
/// </summary>
public class AmbiguousDemoTaskTests
{
    static readonly TaskData Task = AmbiguousDemoTask.Generate();
    static IEnumerable<Example> All => Task.Train.Concat(Task.Eval);

    /// <summary>Whether <paramref name="count"/> is within four standard deviations of a Binomial(n, p) count's mean.</summary>
    static bool WithinBinomialBand(int count, int n, double p) =>
        Math.Abs(count - n * p) <= 4 * Math.Sqrt(n * p * (1 - p));

    [Fact]
    public void ItHasTheStatedSizesAndOneSentencePerExample()
    {
        Assert.Equal(AmbiguousDemoTask.Name, Task.Name);
        Assert.Equal(320, Task.Train.Count);
        Assert.Equal(400, Task.Eval.Count);
        Assert.All(All, e => Assert.Null(e.TextPair));
        Assert.Equal(All.Count(), All.Select(e => e.Id).Distinct().Count());
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.3)]
    [InlineData(0.6)]
    public void EachSplitHasTheStatedFractionOfAmbiguousReviews(double fraction)
    {
        var task = AmbiguousDemoTask.Generate(ambiguousFraction: fraction);
        foreach (var split in new[] { task.Train, task.Eval })
        {
            // ambiguous slots come in pairs: the fraction of the pairs, rounded down, twice over
            Assert.Equal(2 * (int)Math.Floor(split.Count / 2 * fraction + 1e-9), split.Count(AmbiguousDemoTask.IsAmbiguous));
        }
        // the demo's task: 70% of 400 evaluation examples and of 320 training reviews
        Assert.Equal(280, Task.Eval.Count(AmbiguousDemoTask.IsAmbiguous));
        Assert.Equal(224, Task.Train.Count(AmbiguousDemoTask.IsAmbiguous));
    }

    [Fact]
    public void ClearReviewsAreLabelledByTheirOpinionWordAndBalanced()
    {
        foreach (var split in new[] { Task.Train, Task.Eval })
        {
            var clear = split.Where(e => !AmbiguousDemoTask.IsAmbiguous(e)).ToList();
            Assert.NotEmpty(clear);
            Assert.All(clear, e => Assert.Equal(AmbiguousDemoTask.RuleLabel(e), e.Label));
            Assert.Equal(clear.Count / 2, clear.Count(e => e.Label == 1));
        }
        Assert.All(All.Where(AmbiguousDemoTask.IsAmbiguous), e => Assert.Null(AmbiguousDemoTask.RuleLabel(e)));
    }

    [Fact]
    public void AmbiguousTrainingReviewsAreLabelledByAFairCoin()
    {
        var ambiguous = Task.Train.Where(AmbiguousDemoTask.IsAmbiguous).ToList();
        int positive = ambiguous.Count(e => e.Label == 1);
        Assert.InRange(positive, 1, ambiguous.Count - 1);
        Assert.True(WithinBinomialBand(positive, ambiguous.Count, 0.5), $"{positive} of {ambiguous.Count} labelled positive");
        // over many reviews the coin is fair: a larger task's ambiguous labels stay within the band too
        var large = AmbiguousDemoTask.Generate(train: 20000, eval: 2).Train.Where(AmbiguousDemoTask.IsAmbiguous).ToList();
        Assert.True(WithinBinomialBand(large.Count(e => e.Label == 1), large.Count, 0.5));
        Assert.True(WithinBinomialBand(Task.Train.Count(e => e.Label == 1), Task.Train.Count, 0.5));
    }

    [Fact]
    public void EveryAmbiguousEvaluationReviewAppearsOnceWithEachLabel()
    {
        var ambiguous = Task.Eval.Where(AmbiguousDemoTask.IsAmbiguous).ToList();
        Assert.NotEmpty(ambiguous);
        for (int i = 0; i < Task.Eval.Count; i++)
        {
            if (!AmbiguousDemoTask.IsAmbiguous(Task.Eval[i])) continue;
            var (first, second) = (Task.Eval[i], Task.Eval[i + 1]);
            Assert.Equal(first.Text, second.Text);
            Assert.Equal(1 - first.Label, second.Label);
            i++;
        }
        Assert.Equal(Task.Eval.Count / 2, Task.Eval.Count(e => e.Label == 1));
    }

    [Fact]
    public void TheSameSeedGivesTheSameTaskAndAnotherSeedAnother()
    {
        Assert.Equal(Task.Train, AmbiguousDemoTask.Generate().Train);
        Assert.Equal(Task.Eval, AmbiguousDemoTask.Generate().Eval);
        Assert.NotEqual(Task.Train, AmbiguousDemoTask.Generate(seed: 7).Train);
        Assert.NotEqual(Task.Eval, AmbiguousDemoTask.Generate(seed: 7).Eval);
    }

    [Fact]
    public void TheTuningVariantTrainsOnTheSameReviewsAndEvaluatesOnOthers()
    {
        var tuning = AmbiguousDemoTask.GenerateTuning();
        Assert.Equal(AmbiguousDemoTask.TuningName, tuning.Name);
        Assert.Equal(Task.Train, tuning.Train);
        Assert.Equal(AmbiguousDemoTask.TuningEval, tuning.Eval.Count);
        Assert.Equal(2 * (int)Math.Floor(tuning.Eval.Count / 2 * AmbiguousDemoTask.AmbiguousFraction + 1e-9), tuning.Eval.Count(AmbiguousDemoTask.IsAmbiguous));
        // its own draws: the reported evaluation split's reviews are not its first 400
        Assert.NotEqual(Task.Eval.Select(e => e.Text), tuning.Eval.Take(Task.Eval.Count).Select(e => e.Text));
    }
}
