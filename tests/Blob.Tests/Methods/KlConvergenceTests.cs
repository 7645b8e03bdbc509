using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Xunit.Abstractions;

namespace Blob.Tests.Methods;

/// <summary>Paper Appendix A.2, Fig. 2: the G² parameterisation reaches the prior far sooner than softplus.</summary>
public class KlConvergenceTests(ITestOutputHelper output)
{
    [Fact]
    public void SquareParameterisationConvergesWhereSoftplusDoesNot()
    {
        var square = KlConvergence.StepsTo99Percent(StdParameterization.Square, maxSteps: 10_000);
        var softplus = KlConvergence.StepsTo99Percent(StdParameterization.Softplus, maxSteps: 300_000);
        string Describe(KlConvergence.Result r) =>
            r.Converged ? $"99% of sigma_p after {r.Steps:N0} steps" : $"not converged after {r.Steps:N0} steps (sigma_q = {r.FinalStd:F4})";
        output.WriteLine($"Fig. 2 (paper: ~5,000 vs ~100,000): sigma_q = G^2: {Describe(square)}; sigma_q = softplus: {Describe(softplus)}");
        Console.WriteLine($"Fig. 2 (paper: ~5,000 vs ~100,000): sigma_q = G^2: {Describe(square)}; sigma_q = softplus: {Describe(softplus)}");
        Assert.True(square.Converged, $"G² did not reach 99% of σp in 10,000 steps (σ = {square.FinalStd})");
        Assert.True(softplus.Steps > 10_000, "softplus reached 99% of σp within 10,000 steps, unlike the paper's Fig. 2");
        Assert.InRange(square.Steps, 1_000, 10_000); // paper: about 5,000
    }
}
