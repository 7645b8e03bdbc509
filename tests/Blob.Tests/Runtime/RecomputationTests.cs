using Blob.Runtime;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Blob.Tests.Runtime;

public class RecomputationTests
{
    /// <summary>Attention with dropout: what libtorch's CPU path runs in training (its mask is random).</summary>
    static Tensor Attention(Tensor[] x) => F.scaled_dot_product_attention(x[0], x[1], x[2], x[3], 0.3);

    /// <summary>q, k, v [2, 3, 5, 4] and an additive padding mask hiding the last key of the second example.</summary>
    static Tensor[] Inputs()
    {
        using var generator = new Generator(11);
        var qkv = Enumerable.Range(0, 3).Select(_ => randn([2, 3, 5, 4], generator: generator)).ToArray();
        var mask = zeros(2, 1, 1, 5);
        mask[1, 0, 0, 4] = float.MinValue;
        qkv[0].requires_grad = true; // k takes no gradient, as a frozen projection of a frozen input
        qkv[2].requires_grad = true;
        return [.. qkv, mask];
    }

    /// <summary>Output, the gradients of q and v, and the next random numbers, starting from seed 5.</summary>
    static (Tensor Y, Tensor Dq, Tensor Dv, Tensor Next) Step(Func<Tensor[], Tensor> attention)
    {
        var x = Inputs();
        manual_seed(5);
        var y = attention(x);
        using var weights = linspace(-1, 1, y.numel()).view(y.shape);
        (y * weights).sum().backward();
        Assert.Null(x[1].grad);
        return (y.detach(), x[0].grad!, x[2].grad!, rand(4));
    }

    static void AssertBitwiseEqual(Tensor expected, Tensor actual, string what) =>
        Assert.True(expected.eq(actual).all().item<bool>(), $"{what} differs");

    [Fact]
    public void OutputGradientsAndTheRandomStreamAreThoseOfThePlainFunction()
    {
        var plain = Step(Attention);
        var recomputed = Step(x => Recomputation.Apply(Attention, x));
        AssertBitwiseEqual(plain.Y, recomputed.Y, "the output");
        AssertBitwiseEqual(plain.Dq, recomputed.Dq, "the gradient of q");
        AssertBitwiseEqual(plain.Dv, recomputed.Dv, "the gradient of v");
        AssertBitwiseEqual(plain.Next, recomputed.Next, "the random stream after backward");
        // and dropout did draw: another seed gives another output
        manual_seed(6);
        Assert.False(plain.Y.eq(Attention(Inputs()).detach()).all().item<bool>());
    }

    [Fact]
    public void BackwardRunsTheFunctionAgainAndAPassWithoutGradientsRunsItOnce()
    {
        int calls = 0;
        Tensor Counted(Tensor[] x) { calls++; return Attention(x); }

        var x = Inputs();
        var y = Recomputation.Apply(Counted, x);
        Assert.Equal(1, calls);
        y.sum().backward();
        Assert.Equal(2, calls);

        calls = 0;
        using (no_grad())
        {
            var plain = Recomputation.Apply(Counted, Inputs());
            Assert.False(plain.requires_grad);
        }
        Assert.Equal(1, calls);
    }
}
