using Blob.Evaluation;

namespace Blob.Tests.Evaluation;

/// <summary>The risk–coverage curve and AURC against closed forms and a hand-worked example.</summary>
public class RiskCoverageTests
{
    static double H(int k) => Enumerable.Range(1, k).Sum(j => 1.0 / j);

    /// <summary>n examples, the first <paramref name="correct"/> of them right; confidences fall with the index.</summary>
    static (double[][] Probs, int[] Labels) Ranked(int n, Func<int, bool> isRight)
    {
        var probs = Enumerable.Range(0, n).Select(i => { double c = 0.99 - 0.4 * i / n; return new[] { c, 1 - c }; }).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => isRight(i) ? 0 : 1).ToArray();
        return (probs, labels);
    }

    [Fact]
    public void AllCorrectHasNoRisk()
    {
        var (probs, labels) = Ranked(7, _ => true);
        var curve = Metrics.RiskCoverage(probs, labels);
        Assert.All(curve.Risk, r => Assert.Equal(0, r));
        Assert.Equal(0, Metrics.Aurc(probs, labels));
        Assert.Equal(1.0, curve.Coverage[^1]);
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(5, 1)]
    [InlineData(4, 4)]
    public void APerfectRankingGivesTheSmallestAurc(int n, int m)
    {
        // right ones first: r_k = 0 for k ≤ n − m, (k − (n − m)) / k after; AURC = (1/n)[m − (n − m)(H_n − H_{n−m})]
        var (probs, labels) = Ranked(n, i => i < n - m);
        double expected = (m - (n - m) * (H(n) - H(n - m))) / n;
        Assert.Equal(expected, Metrics.Aurc(probs, labels), 12);
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(5, 1)]
    public void AReversedRankingGivesTheLargestAurc(int n, int m)
    {
        // wrong ones first: r_k = 1 for k ≤ m, m / k after; AURC = (1/n)[m + m(H_n − H_m)]
        var (probs, labels) = Ranked(n, i => i >= m);
        double expected = (m + m * (H(n) - H(m))) / n;
        Assert.Equal(expected, Metrics.Aurc(probs, labels), 12);
    }

    /// <summary>
    /// Four examples, given out of order: confidences 0.6 (wrong), 0.9 (right), 0.7 (right), 0.8 (wrong).
    /// Ranked: 0.9 ✓, 0.8 ✗, 0.7 ✓, 0.6 ✗ → risks 0, 1/2, 1/3, 2/4; AURC = (0 + 1/2 + 1/3 + 1/2) / 4 = 1/3.
    /// </summary>
    [Fact]
    public void AHandWorkedExample()
    {
        double[][] probs = [[0.6, 0.4], [0.1, 0.9], [0.3, 0.7], [0.8, 0.2]];
        int[] labels = [1, 1, 1, 1];
        var curve = Metrics.RiskCoverage(probs, labels);
        Assert.Equal([1, 3, 2, 0], curve.Index);
        Assert.Equal([true, false, true, false], curve.Correct);
        Assert.Equal([0.25, 0.5, 0.75, 1.0], curve.Coverage);
        Assert.Equal(new[] { 0, 0.5, 1.0 / 3, 0.5 }, curve.Risk, (a, b) => Math.Abs(a - b) < 1e-15);
        Assert.Equal(1.0 / 3, Metrics.Aurc(probs, labels), 15);
        Assert.Equal(1.0 / 3, Metrics.Evaluate(probs, labels).Aurc, 15);

        var csv = curve.ToCsv().Split('\n');
        Assert.Equal("rank,coverage,risk,confidence,correct,index", csv[0]);
        Assert.Equal("1,0.25,0,0.9,1,1", csv[1]);
        Assert.Equal("2,0.5,0.5,0.8,0,3", csv[2]);
        Assert.Equal(6, csv.Length); // four points and the final newline
    }

    /// <summary>Ties go by index (the earlier first), and a confidence that is not a number ranks last.</summary>
    [Fact]
    public void TiesAreBrokenByIndexAndNaNRanksLast()
    {
        double[][] probs = [[double.NaN, double.NaN], [0.7, 0.3], [0.3, 0.7], [0.7, 0.3]];
        int[] labels = [0, 1, 1, 0];
        var curve = Metrics.RiskCoverage(probs, labels);
        Assert.Equal([1, 2, 3, 0], curve.Index);
        Assert.Equal([false, true, true, true], curve.Correct); // NaN's argmax is class 0, its label: right, but last
        Assert.Equal((1 + 0.5 + 1.0 / 3 + 0.25) / 4, curve.Aurc, 15);
        Assert.Equal("4,1,0.25,,1,0", curve.ToCsv().Split('\n')[4]);
    }
}
