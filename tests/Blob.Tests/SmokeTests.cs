using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests;

public class SmokeTests
{
    [Fact]
    public void TorchSharpLoadsAndBackpropagates()
    {
        var x = randn(3, 3, requires_grad: true);
        var y = x.matmul(x).sum();
        y.backward();
        Assert.Equal(new long[] { 3, 3 }, x.grad!.shape);
    }
}
