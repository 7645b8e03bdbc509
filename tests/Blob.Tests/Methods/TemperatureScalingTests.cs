using Blob.Evaluation;
using Blob.Methods;

namespace Blob.Tests.Methods;

public class TemperatureScalingTests
{
    /// <summary>
    /// Every example says 0.9 for class 0 and three in four are class 0: the NLL-optimal calibrated confidence is 3/4,
    /// 0.9^β / (0.9^β + 0.1^β) = 3/4 gives 9^β = 3, so T = 1/β = ln 9 / ln 3 = 2, and the NLL is then H(3/4).
    /// </summary>
    [Fact]
    public void FitsTheClosedFormTemperature()
    {
        var probs = Enumerable.Repeat(new[] { 0.9, 0.1 }, 4).ToArray();
        int[] labels = [0, 0, 0, 1];
        double t = TemperatureScaling.FitTemperature(probs, labels);
        Assert.Equal(Math.Log(9) / Math.Log(3), t, 8);
        double entropy = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        Assert.Equal(entropy, Metrics.Nll(TemperatureScaling.Apply(probs, t), labels), 8);
    }

    /// <summary>An underconfident model (right every time at 0.6) is sharpened: T below 1 and a lower NLL.</summary>
    [Fact]
    public void SharpensAnUnderconfidentModel()
    {
        var probs = new[] { new[] { 0.6, 0.3, 0.1 }, new[] { 0.2, 0.6, 0.2 }, new[] { 0.1, 0.3, 0.6 }, new[] { 0.55, 0.45, 0.0 } };
        int[] labels = [0, 1, 2, 0];
        var calibration = new TemperatureScaling().Fit(probs, labels);
        double t = (double)calibration.Parameters()["temperature"]!;
        Assert.True(t < 1, $"T = {t}");
        Assert.True(Metrics.Nll(calibration.Apply(probs), labels) < Metrics.Nll(probs, labels));
    }

    [Fact]
    public void NeverChangesAnAnswerAndKeepsRowsNormalised()
    {
        var random = new Random(3);
        var probs = Enumerable.Range(0, 200).Select(_ =>
        {
            var w = Enumerable.Range(0, 4).Select(_ => Math.Pow(random.NextDouble(), 3)).ToArray();
            return w.Select(x => x / w.Sum()).ToArray();
        }).ToArray();
        var labels = Enumerable.Range(0, 200).Select(_ => random.Next(4)).ToArray();
        foreach (double t in new[] { 0.25, 1.0, 3.7, TemperatureScaling.FitTemperature(probs, labels) })
        {
            var scaled = TemperatureScaling.Apply(probs, t);
            Assert.Equal(Metrics.Accuracy(probs, labels), Metrics.Accuracy(scaled, labels));
            Assert.All(scaled, row => Assert.Equal(1.0, row.Sum(), 12));
            Assert.All(probs.Zip(scaled), x => Assert.Equal(Metrics.ArgMax(x.First), Metrics.ArgMax(x.Second)));
        }
        // T = 1 is the identity
        Assert.All(probs.Zip(TemperatureScaling.Apply(probs, 1)), x => Assert.All(x.First.Zip(x.Second), p => Assert.Equal(p.First, p.Second, 12)));
    }

    /// <summary>A perfectly separated validation split wants T → 0: the fit stops at the searched range and says so.</summary>
    [Fact]
    public void ASeparableSplitStopsAtTheRangeAndSaysSo()
    {
        var calibration = new TemperatureScaling().Fit([[0.8, 0.2], [0.3, 0.7]], [0, 1]);
        Assert.Equal(TemperatureScaling.MinTemperature, (double)calibration.Parameters()["temperature"]!);
        Assert.Contains("end of the searched range", calibration.Note);
    }

    [Fact]
    public void ReadsBackWhatItSaved()
    {
        var kind = new TemperatureScaling();
        var fitted = kind.Fit([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]], [0, 0, 0, 1]);
        var read = kind.Read(fitted.Parameters(), "calibration.json");
        Assert.Equal(fitted.Apply([[0.7, 0.3]])[0], read.Apply([[0.7, 0.3]])[0]);
        var bad = new System.Text.Json.Nodes.JsonObject { ["temperature"] = -1.0 };
        var e = Assert.Throws<BlobException>(() => kind.Read(bad, "x/calibration.json"));
        Assert.StartsWith("x/calibration.json: ", e.Message);
    }
}
