using Blob.Evaluation;

namespace Blob.Tests.Evaluation;

/// <summary>Predictive entropy and mutual information against closed forms.</summary>
public class UncertaintyTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(7)]
    public void TheUniformDistributionOverKHasEntropyLnK(int k) =>
        Assert.Equal(Math.Log(k), Uncertainty.Entropy(Enumerable.Repeat(1.0 / k, k).ToArray()), 14);

    [Fact]
    public void AOneHotHasNoEntropy() => Assert.Equal(0, Uncertainty.Entropy([0, 1, 0]));

    [Fact]
    public void IdenticalSamplesHaveNoMutualInformation()
    {
        double[] p = [0.2, 0.5, 0.3];
        Assert.Equal(0, Uncertainty.MutualInformation([p, p, p]), 15);
        Assert.Equal(0, Uncertainty.MutualInformation([p]), 15);
    }

    [Fact]
    public void TwoConfidentDisagreeingSamplesHaveMutualInformationLn2()
    {
        double[][] samples = [[1, 0], [0, 1]];
        Assert.Equal(Math.Log(2), Uncertainty.MutualInformation(samples), 15);
        Assert.Equal(Math.Log(2), Uncertainty.Entropy(Uncertainty.Mean(samples)), 15); // all of it epistemic
        Assert.Equal(0, Uncertainty.ExpectedEntropy(samples), 15);
    }

    /// <summary>A hand-worked mix: samples (0.5, 0.5) and (1, 0): p̄ = (0.75, 0.25), MI = H(0.75, 0.25) − ln 2 / 2.</summary>
    [Fact]
    public void AHandWorkedMixture()
    {
        double h = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));
        Assert.Equal(h - Math.Log(2) / 2, Uncertainty.MutualInformation([[0.5, 0.5], [1, 0]]), 15);
    }
}
