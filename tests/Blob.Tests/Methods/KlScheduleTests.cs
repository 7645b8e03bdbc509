using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;

namespace Blob.Tests.Methods;

public class KlScheduleTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    [InlineData(316)]
    [InlineData(5000)]
    public void PaperWeightsSumToOneOverACycle(long m)
    {
        double sum = 0;
        for (long i = 1; i <= m; i++) sum += KlSchedule.Weight(i, m, KlWeighting.Paper);
        Assert.Equal(1.0, sum, 12);
        // geometric: each weight doubles the previous one
        if (m >= 2) Assert.Equal(2.0, KlSchedule.Weight(m, m) / KlSchedule.Weight(m - 1, m), 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(316)]
    public void CodeWeightsSumToOneMinusTheirMissingTerm(long m)
    {
        double sum = 0;
        for (long i = 1; i <= m; i++) sum += KlSchedule.Weight(i, m, KlWeighting.Code);
        // Σ_{i=1..M} 2^i / (2^(M+1) − 1) = (2^(M+1) − 2) / (2^(M+1) − 1)
        double expected = 1 - 1 / (Math.Pow(2, m + 1) - 1);
        Assert.Equal(expected, sum, 12);
    }

    [Fact]
    public void StaysFiniteAndNormalisedForAMillionBatches()
    {
        const long m = 1_000_000;
        double sum = 0;
        for (long i = 1; i <= m; i++)
        {
            double w = KlSchedule.Weight(i, m);
            Assert.True(double.IsFinite(w) && w >= 0);
            sum += w;
        }
        Assert.Equal(1.0, sum, 9);
        Assert.Equal(0.5, KlSchedule.Weight(m, m), 9); // the last step of a cycle carries half the weight
        Assert.True(double.IsFinite(KlSchedule.Weight(m, m, KlWeighting.Code)));
    }

    [Fact]
    public void CycleRestartsEveryMSteps()
    {
        Assert.Equal(KlSchedule.Weight(3, 10), KlSchedule.Weight(13, 10));
        Assert.Equal(KlSchedule.Weight(10, 10), KlSchedule.Weight(20, 10));
        Assert.Equal(0.1, KlSchedule.Weight(7, 10, KlWeighting.Uniform), 15);
    }

    // Expected values from the official code's expression int(100 * N ** (math.pi / 8) / processes / batch_size),
    // evaluated independently in Python for the paper's training-set sizes.
    [Theory]
    [InlineData(640, 4, 316)]   // WinoGrande-S
    [InlineData(2558, 4, 544)]  // WinoGrande-M
    [InlineData(1119, 4, 393)]  // ARC-Challenge
    [InlineData(2251, 4, 518)]  // ARC-Easy
    [InlineData(4957, 4, 706)]  // OpenBookQA
    [InlineData(9427, 4, 909)]  // BoolQ
    [InlineData(2490, 32, 67)]  // RTE, RoBERTa batch 32
    [InlineData(3668, 32, 78)]  // MRPC
    public void PseudoRescalingMatchesTheOfficialCode(long examples, int batch, long expected) =>
        Assert.Equal(expected, KlSchedule.PseudoRescaledBatches(examples, batch));
}
