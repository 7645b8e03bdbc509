using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Paper Appendix A.2, Fig. 2: gradient descent on the KL alone (no data), from σq = 0.01 towards the prior σp = 1,
/// with learning rate 0.01 and the KL weighted by 1/100 (100 mini-batches). Counts the steps until σq reaches 99% of
/// its limit σp. The paper reports about 5,000 steps for σq = G² and about 100,000 for σq = softplus(G).
/// </summary>
public static class KlConvergence
{
    public sealed record Result(StdParameterization Parameterization, long Steps, bool Converged, double FinalStd);

    public static Result StepsTo99Percent(StdParameterization parameterization, long maxSteps,
        double priorStd = 1.0, double initialStd = 0.01, double learningRate = 0.01, double klWeight = 0.01)
    {
        // G such that f(G) = initialStd.
        double g0 = parameterization == StdParameterization.Square ? Math.Sqrt(initialStd) : Math.Log(Math.Exp(initialStd) - 1);
        using var scope = NewDisposeScope();
        var g = new TorchSharp.Modules.Parameter(tensor(new[] { g0 }, dtype: ScalarType.Float64));
        var zeroMean = zeros(1, dtype: ScalarType.Float64);
        var sgd = optim.SGD(new[] { g }, learningRate);
        double target = 0.99 * priorStd, std = initialStd;
        for (long step = 1; step <= maxSteps; step++)
        {
            CollectionPoints.Reached();
            using var stepScope = NewDisposeScope();
            var sigma = Std(g, parameterization);
            var loss = GaussianKl.Sum(zeroMean, sigma, priorStd).mul(klWeight);
            sgd.zero_grad();
            loss.backward();
            sgd.step();
            std = Std(g, parameterization).item<double>();
            if (std >= target) return new Result(parameterization, step, true, std);
        }
        return new Result(parameterization, maxSteps, false, std);
    }

    static Tensor Std(Tensor g, StdParameterization p) =>
        p == StdParameterization.Square ? g.square() : nn.functional.softplus(g);
}
