using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;

namespace Blob.Tests.Evaluation;

public class MetricsTests
{
    [SharedTheory("fixtures/metrics/calibration_reference.json")]
    [InlineData("binary_sharp")]
    [InlineData("five_way")]
    [InlineData("four_way_flat")]
    public void MatchesTorchmetrics(string name)
    {
        var root = JsonNode.Parse(File.ReadAllText(Shared.PathOf("fixtures/metrics/calibration_reference.json")))!;
        var c = root["cases"]![name]!;
        var probs = c["probs"]!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<double>()).ToArray()).ToArray();
        var labels = c["labels"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

        var m = Metrics.Evaluate(probs, labels);

        Assert.Equal(labels.Length, m.Count);
        Assert.Equal(c["acc"]!.GetValue<double>(), m.Accuracy, 1e-6);
        Assert.Equal(c["ece"]!.GetValue<double>(), m.Ece, 1e-6);
        Assert.Equal(c["nll"]!.GetValue<double>(), m.Nll, 1e-6);
        Assert.Equal(c["brier"]!.GetValue<double>(), m.Brier, 1e-6);
    }

    [Fact]
    public void PerfectPredictionsCostNothing()
    {
        double[][] probs = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
        int[] labels = [0, 1, 2];
        var m = Metrics.Evaluate(probs, labels);
        Assert.Equal(1, m.Accuracy);
        Assert.Equal(0, m.Ece, 12);
        Assert.Equal(0, m.Nll, 12);
        Assert.Equal(0, m.Brier, 12);
    }

    [Fact]
    public void UniformPredictionsHaveNllLogC()
    {
        const int classes = 4;
        var probs = Enumerable.Range(0, 8).Select(_ => Enumerable.Repeat(1.0 / classes, classes).ToArray()).ToArray();
        var labels = Enumerable.Range(0, 8).Select(i => i % classes).ToArray();
        Assert.Equal(Math.Log(classes), Metrics.Nll(probs, labels), 12);
        // Brier: (1 − 1/4)² + 3 · (1/4)² = 0.75.
        Assert.Equal(0.75, Metrics.Brier(probs, labels), 12);
        // Ties pick class 0, right for 2 of 8; confidence 0.25 everywhere: ECE = |0.25 − 0.25| = 0.
        Assert.Equal(0.25, Metrics.Accuracy(probs, labels), 12);
        Assert.Equal(0, Metrics.Ece(probs, labels), 12);
    }

    [Fact]
    public void EceWeightsEachBinByItsShare()
    {
        // Two examples at confidence 0.9 (one right), two at 0.6 (both right):
        // ECE = 0.5·|0.5 − 0.9| + 0.5·|1 − 0.6| = 0.4.
        double[][] probs = [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]];
        int[] labels = [0, 1, 0, 1];
        Assert.Equal(0.4, Metrics.Ece(probs, labels), 12);
    }

    [Fact]
    public void ReliabilityBinsFollowTorchmetricsEdges()
    {
        // 9/15 (as float32 linspace makes it) sits on an edge and goes to the bin above it (bucketize right=True);
        // exactly 1 has a bin of its own.
        double edge = (double)(1f - 6 * (1f / 15));
        double[][] probs = [[1 - edge, edge], [1.0, 0.0], [0.95, 0.05]];
        int[] labels = [1, 0, 1];
        var bins = Metrics.ReliabilityBins(probs, labels);

        Assert.Equal(16, bins.Count);
        Assert.Equal(3, bins.Sum(b => b.Count));
        var last = bins[^1];
        Assert.Equal((1.0, 1.0, 1, 1.0), (last.Lower, last.Upper, last.Count, last.Accuracy));
        Assert.Equal(1, bins[14].Count);
        Assert.Equal(0, bins[14].Accuracy);
        Assert.Equal(0.95, bins[14].Confidence, 12);
        Assert.Equal(1, bins[9].Count);
        Assert.Equal(0, bins[8].Count);
    }

    [Fact]
    public void WithoutCertainPredictionsThereAreFifteenBins()
    {
        var bins = Metrics.ReliabilityBins([[0.7, 0.3]], [0]);
        Assert.Equal(15, bins.Count);
        Assert.Equal(0, bins[0].Lower);
        Assert.Equal(1, bins[^1].Upper, 6);
    }

    [Fact]
    public void ConfidentMistakesHaveAFiniteNll()
    {
        var nll = Metrics.Nll([[1.0, 0.0]], [1]);
        Assert.True(double.IsFinite(nll));
        Assert.Equal(-Math.Log(Metrics.MinProbability), nll, 9);
    }

    [Fact]
    public void MismatchedInputsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Metrics.Accuracy([[0.5, 0.5]], [0, 1]));
        Assert.Throws<ArgumentException>(() => Metrics.Accuracy([[0.5, 0.5]], [2]));
        Assert.Throws<ArgumentException>(() => Metrics.Accuracy([], []));
    }
}
