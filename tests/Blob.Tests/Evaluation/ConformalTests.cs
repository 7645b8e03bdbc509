using Blob.Evaluation;

namespace Blob.Tests.Evaluation;

/// <summary>Split conformal prediction: the quantile, the scores and sets by hand, and the coverage guarantee on synthetic data.</summary>
public class ConformalTests
{
    [Theory]
    [InlineData(9, 0.1, 9)]     // ⌈10 · 0.9⌉ = 9: exactly n
    [InlineData(99, 0.1, 90)]
    [InlineData(100, 0.1, 91)]  // ⌈90.9⌉
    [InlineData(10, 0.2, 9)]    // ⌈8.8⌉
    [InlineData(19, 0.05, 19)]
    public void TheFiniteSampleRankIsTheCeilingOfNPlusOneTimesOneMinusAlpha(int n, double alpha, int rank) =>
        Assert.Equal(rank, Conformal.QuantileRank(n, alpha));

    [Theory]
    [InlineData(8, 0.1)]  // ⌈9 · 0.9⌉ = 9 > 8
    [InlineData(18, 0.05)]
    [InlineData(0, 0.5)]
    public void TooFewCalibrationExamplesForAlphaGiveSetsOfEveryClass(int n, double alpha)
    {
        Assert.Null(Conformal.QuantileRank(n, alpha));
        var probs = Enumerable.Range(0, n).Select(_ => new[] { 0.9, 0.05, 0.05 }).ToArray();
        var t = Conformal.Calibrate(ConformalScore.Lac, probs, new int[n], alpha, new Random(1));
        Assert.True(t.AllClasses);
        Assert.Equal([0, 1, 2], Conformal.AnswerSet(t, [0.9, 0.05, 0.05], 0.5));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void AnAlphaOutsideZeroToOneIsRefused(double alpha) => Assert.Throws<ArgumentException>(() => Conformal.QuantileRank(10, alpha));

    /// <summary>Nine calibration examples whose true answers have p = 0.1 … 0.9: LAC scores 0.9 … 0.1; at α = 0.1 the 9th smallest, 0.9.</summary>
    [Fact]
    public void LacsThresholdIsTheRankedCalibrationScore()
    {
        var probs = Enumerable.Range(1, 9).Select(i => new[] { i / 10.0, 1 - i / 10.0 }).ToArray();
        var t = Conformal.Calibrate(ConformalScore.Lac, probs, new int[9], 0.1, new Random(1));
        Assert.Equal(0.9, t.Threshold, 12);
        // at α = 0.5: ⌈10 · 0.5⌉ = 5th smallest of 0.1 … 0.9 = 0.5
        Assert.Equal(0.5, Conformal.Calibrate(ConformalScore.Lac, probs, new int[9], 0.5, new Random(1)).Threshold, 12);
    }

    [Fact]
    public void ALacSetHoldsTheClassesAtLeastOneMinusTheThresholdProbable()
    {
        var t = new ConformalThreshold(ConformalScore.Lac, 0.1, 100, 0.75);
        Assert.Equal([2, 0], Conformal.AnswerSet(t, [0.3, 0.1, 0.4, 0.2], 0)); // p ≥ 0.25, most probable first
        Assert.Empty(Conformal.AnswerSet(t with { Threshold = 0.5 }, [0.3, 0.3, 0.4], 0)); // LAC may say nothing
    }

    [Fact]
    public void ApsScoresTheMassRankedAboveTheAnswerPlusAUniformShareOfItsOwn()
    {
        Assert.Equal(0.8 + 0.25 * 0.2, Conformal.ApsScore([0.2, 0.5, 0.3], 0, 0.25), 14);
        Assert.Equal(0.5 * 0.5, Conformal.ApsScore([0.2, 0.5, 0.3], 1, 0.5), 14);
        // equal probabilities: the lower index ranks first
        Assert.Equal(0.4 + 0.5 * 0.4, Conformal.ApsScore([0.4, 0.4, 0.2], 1, 0.5), 14);
        Assert.Equal(0.5 * 0.4, Conformal.ApsScore([0.4, 0.4, 0.2], 0, 0.5), 14);
    }

    [Fact]
    public void AnApsSetIsAPrefixOfTheRankedClasses()
    {
        var t = new ConformalThreshold(ConformalScore.Aps, 0.1, 100, 0.7);
        // ranked 1 (0.5), 2 (0.3), 0 (0.2); with u = 0.5: scores 0.25, 0.65, 0.9
        Assert.Equal([1, 2], Conformal.AnswerSet(t, [0.2, 0.5, 0.3], 0.5));
    }

    [Fact]
    public void AnApsSetIsNeverEmpty()
    {
        var random = new Random(7);
        var t = new ConformalThreshold(ConformalScore.Aps, 0.5, 100, 0.01); // below almost every top class's u·p
        for (int i = 0; i < 1000; i++)
        {
            var p = Synthetic.RandomDistribution(random, 5, 3);
            var set = Conformal.AnswerSet(t, p, random.NextDouble());
            Assert.NotEmpty(set);
            Assert.Equal(Metrics.ArgMax(p), set[0]);
        }
        // and when calibrated at a large α on real-looking data
        var (probs, labels) = Synthetic.Calibrated(new Random(3), 300, 4, 1);
        var aps = Conformal.Calibrate(ConformalScore.Aps, probs, labels, 0.6, new Random(1));
        Assert.All(Conformal.AnswerSets(aps, probs, new Random(2)), s => Assert.NotEmpty(s));
    }

    [Fact]
    public void TheSameSeedGivesTheSameApsSets()
    {
        var (probs, labels) = Synthetic.Calibrated(new Random(3), 200, 4, 1);
        var t = Conformal.Calibrate(ConformalScore.Aps, probs, labels, 0.1, new Random(5));
        Assert.Equal(t, Conformal.Calibrate(ConformalScore.Aps, probs, labels, 0.1, new Random(5)));
        Assert.Equal(Conformal.AnswerSets(t, probs, new Random(9)), Conformal.AnswerSets(t, probs, new Random(9)));
    }

    /// <summary>
    /// The guarantee: over many random calibration/test splits of exchangeable data, the coverage of each split lies in
    /// its band (its conditional coverage is Beta(k, n + 1 − k), then binomial over the m test examples), and the mean
    /// over splits is k/(n + 1) within its standard error (the scores are continuous: LAC's by the probabilities, APS's by u).
    /// </summary>
    [Theory]
    [InlineData(ConformalScore.Lac, 500, 0.1)]
    [InlineData(ConformalScore.Aps, 500, 0.1)]
    [InlineData(ConformalScore.Lac, 10, 0.2)] // k = 9 of 11: 0.818, where ⌈n(1 − α)⌉ would give 0.727
    [InlineData(ConformalScore.Aps, 10, 0.2)]
    public void CoverageOverRandomSplitsIsWithinItsBinomialBand(ConformalScore score, int n, double alpha)
    {
        const int splits = 400, m = 400;
        var random = new Random(11);
        int k = Conformal.QuantileRank(n, alpha)!.Value;
        double expected = k / (n + 1.0);
        double betaVariance = k * (n + 1.0 - k) / ((n + 1.0) * (n + 1.0) * (n + 2.0));
        double splitSd = Math.Sqrt(betaVariance + expected * (1 - expected) / m);
        var coverages = new List<double>();
        for (int s = 0; s < splits; s++)
        {
            var (probs, labels) = Synthetic.Calibrated(random, n + m, 4, 1.5);
            var t = Conformal.Calibrate(score, probs[..n], labels[..n], alpha, random);
            coverages.Add(Conformal.Statistics(Conformal.AnswerSets(t, probs[n..], random), labels[n..]).Coverage);
        }
        Assert.InRange(coverages.Average(), expected - 4 * splitSd / Math.Sqrt(splits), expected + 4 * splitSd / Math.Sqrt(splits));
        Assert.True(expected >= 1 - alpha);
        Assert.True(coverages.Count(c => Math.Abs(c - expected) <= 3 * splitSd) >= 0.97 * splits,
            $"{coverages.Count(c => Math.Abs(c - expected) > 3 * splitSd)} of {splits} splits outside ±3 sd");
    }

    /// <summary>A model that sees more of the answer (a larger signal on the true class's logit) needs smaller sets for the same coverage.</summary>
    [Theory]
    [InlineData(ConformalScore.Lac)]
    [InlineData(ConformalScore.Aps)]
    public void SetsShrinkAsTheModelImproves(ConformalScore score)
    {
        var sizes = new List<double>();
        foreach (var signal in new[] { 0.5, 1.5, 3.0, 5.0 })
        {
            var random = new Random(21);
            var (probs, labels) = Synthetic.Informative(random, 4000, 5, signal);
            var t = Conformal.Calibrate(score, probs[..2000], labels[..2000], 0.1, random);
            var stats = Conformal.Statistics(Conformal.AnswerSets(t, probs[2000..], random), labels[2000..]);
            // APS keeps the top class even where its threshold would not: a sharp model's sets cover more than asked
            Assert.InRange(stats.Coverage, 0.87, score == ConformalScore.Lac ? 0.93 : 1);
            sizes.Add(stats.MeanSize);
        }
        for (int i = 1; i < sizes.Count; i++) Assert.True(sizes[i] < sizes[i - 1], $"mean set sizes {string.Join(", ", sizes)}");
        Assert.True(sizes[^1] < 1.5 && sizes[0] > 3, $"mean set sizes {string.Join(", ", sizes)}");
    }

    [Fact]
    public void StatisticsCountCoverageSizeSingletonsAndEmptySets()
    {
        int[][] sets = [[0], [1, 2], [], [2, 0, 1]];
        var s = Conformal.Statistics(sets, [0, 0, 1, 1]);
        Assert.Equal(new SetStatistics(4, 0.5, 1.5, 0.25, 0.25), s);
    }
}

/// <summary>Synthetic classification data whose probabilities are known.</summary>
static class Synthetic
{
    public static double[] RandomDistribution(Random random, int classes, double scale) =>
        Softmax(Enumerable.Range(0, classes).Select(_ => scale * Gaussian(random)).ToArray());

    /// <summary>Random distributions, each label drawn from its own distribution (a perfectly calibrated model).</summary>
    public static (double[][], int[]) Calibrated(Random random, int n, int classes, double scale)
    {
        var probs = Enumerable.Range(0, n).Select(_ => RandomDistribution(random, classes, scale)).ToArray();
        var labels = probs.Select(p => Draw(random, p)).ToArray();
        return (probs, labels);
    }

    /// <summary>Uniform labels; the model's logits are Gaussian noise plus <paramref name="signal"/> on the true class.</summary>
    public static (double[][], int[]) Informative(Random random, int n, int classes, double signal)
    {
        var labels = Enumerable.Range(0, n).Select(_ => random.Next(classes)).ToArray();
        var probs = labels.Select(y => Softmax(Enumerable.Range(0, classes).Select(c => Gaussian(random) + (c == y ? signal : 0)).ToArray())).ToArray();
        return (probs, labels);
    }

    static int Draw(Random random, double[] p)
    {
        double u = random.NextDouble(), sum = 0;
        for (int c = 0; c < p.Length; c++) if ((sum += p[c]) > u) return c;
        return p.Length - 1;
    }

    static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    static double[] Softmax(double[] z)
    {
        double max = z.Max();
        var e = z.Select(x => Math.Exp(x - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }
}
