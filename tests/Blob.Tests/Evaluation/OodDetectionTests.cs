using Blob.Evaluation;

namespace Blob.Tests.Evaluation;

/// <summary>AUROC, FPR at 95% TPR and the ROC curve against hand-computed cases, ties included.</summary>
public class OodDetectionTests
{
    [Fact]
    public void PerfectlySeparatedScoresGiveAurocOneAndNoFalsePositives()
    {
        var r = OodDetection.Detect([0.1, 0.2, 0.3], [0.5, 0.9]);
        Assert.Equal(new DetectionResult(1, 0), r);
    }

    [Fact]
    public void ReversedScoresGiveAurocZeroAndEveryInDistributionQuestionFlagged() =>
        Assert.Equal(new DetectionResult(0, 1), OodDetection.Detect([0.5, 0.9], [0.1, 0.2, 0.3]));

    [Fact]
    public void AllScoresTiedIsChance() => Assert.Equal(new DetectionResult(0.5, 1), OodDetection.Detect([0.4, 0.4], [0.4, 0.4, 0.4]));

    /// <summary>
    /// ID 0.1, 0.4, 0.4, 0.7; OOD 0.4, 0.8. OOD 0.4 beats 0.1, ties two 0.4s (½ each), loses to 0.7: 2; OOD 0.8 beats all
    /// four: 4; AUROC = 6/8. 95% of two OOD questions needs both flagged: t = 0.4 flags three of four ID ones.
    /// </summary>
    [Fact]
    public void AHandComputedCaseWithTies()
    {
        double[] id = [0.1, 0.4, 0.4, 0.7], ood = [0.4, 0.8];
        Assert.Equal(0.75, OodDetection.Auroc(id, ood), 14);
        Assert.Equal(0.75, OodDetection.FprAtTpr(id, ood, 0.95), 14);
        Assert.Equal(0, OodDetection.FprAtTpr(id, ood, 0.5), 14); // t = 0.8 flags one OOD question and no ID one (0.7 is below)
        Assert.Equal(0.5, OodDetection.FprAtTpr([0.1, 0.4, 0.8, 0.9], ood, 0.5), 14); // ID's 0.8 ties the threshold: flagged
    }

    /// <summary>Twenty OOD questions: 95% is 19 of them, so the threshold is the 19th highest OOD score.</summary>
    [Fact]
    public void FprAt95TprUsesTheNineteenthOfTwentyOodScores()
    {
        var ood = Enumerable.Range(1, 20).Select(i => (double)i).ToArray(); // 19th highest: 2
        double[] id = [0, 1.5, 1.9, 2, 2.5, 30, 0.5, 1, 1.1, 1.2];
        Assert.Equal(3 / 10.0, OodDetection.FprAtTpr(id, ood, 0.95), 14); // 2, 2.5, 30
    }

    [Fact]
    public void AurocEqualsTheCountOverAllPairsOnRandomScoresWithTies()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 20; trial++)
        {
            var id = Enumerable.Range(0, 30 + trial).Select(_ => Math.Round(random.NextDouble(), 1)).ToArray();
            var ood = Enumerable.Range(0, 17).Select(_ => Math.Round(random.NextDouble() * 1.3, 1)).ToArray();
            double pairs = ood.Sum(o => id.Sum(i => o > i ? 1.0 : o == i ? 0.5 : 0));
            Assert.Equal(pairs / (id.Length * ood.Length), OodDetection.Auroc(id, ood), 12);
            // the ROC curve's trapezoidal area is the same number (a tie is a diagonal step: half credit)
            var (fpr, tpr) = OodDetection.Roc(id, ood);
            double area = 0;
            for (int k = 1; k < fpr.Length; k++) area += (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2;
            Assert.Equal(pairs / (id.Length * ood.Length), area, 12);
            Assert.Equal((0.0, 0.0, 1.0, 1.0), (fpr[0], tpr[0], fpr[^1], tpr[^1]));
        }
    }

    [Fact]
    public void AScoreThatIsNotANumberCountsAsTheMostUncertain()
    {
        Assert.Equal(1, OodDetection.Auroc([0.1, 0.2], [double.NaN]));
        Assert.True(double.IsNaN(OodDetection.OneMinusMaxProbability([double.NaN, 0.5])));
        Assert.Equal(0.3, OodDetection.OneMinusMaxProbability([0.7, 0.2, 0.1]), 14);
    }

    [Fact]
    public void NoScoresOnEitherSideIsRefused() => Assert.Throws<ArgumentException>(() => OodDetection.Auroc([], [0.5]));
}
