using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Layers;

public class FastDropoutTests
{
    [Fact]
    public void TheVectorisedMaskIsTheGeneratorWrittenPlainly()
    {
        using var scope = NewDisposeScope();
        const double p = 0.1;
        long n = 3 * (1 << 16) + 37;   // several chunks and a ragged tail
        manual_seed(11);
        ulong seed = FastDropout.NextSeed();
        manual_seed(11);
        var mask = FastDropout.Mask([n], p).data<float>().ToArray();
        manual_seed(11);
        var keep16 = FastDropout.KeepMask([n], p, ScalarType.BFloat16).to(ScalarType.Float32).data<float>().ToArray();
        float scale = (float)(1 / (1 - p));
        for (long i = 0; i < n; i++)
        {
            bool kept = FastDropout.Kept(seed, i, p);
            Assert.Equal(kept ? scale : 0f, mask[i]);
            Assert.Equal(kept ? 1f : 0f, keep16[i]);
        }
        double fraction = mask.Count(m => m != 0) / (double)n;
        Assert.InRange(fraction, 0.9 - 0.003, 0.9 + 0.003);
    }

    [Fact]
    public void MasksFollowTheSeedAndDifferBetweenDraws()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var a = FastDropout.Mask([1000], 0.5);
        var b = FastDropout.Mask([1000], 0.5);
        manual_seed(3);
        var again = FastDropout.Mask([1000], 0.5);
        Assert.True(a.eq(again).all().item<bool>());
        Assert.False(a.eq(b).all().item<bool>());
    }

    [Fact]
    public void DropoutIsXTimesTheMaskAndItsGradientTheMask()
    {
        using var scope = NewDisposeScope();
        var x = randn(64, 33).requires_grad_(true);
        manual_seed(7);
        var y = FastDropout.Apply(x, 0.25, training: true);
        manual_seed(7);
        var mask = FastDropout.Mask([64, 33], 0.25);
        Assert.True(y.eq(x * mask).all().item<bool>());
        y.sum().backward();
        Assert.True(x.grad!.eq(mask).all().item<bool>());
        using var eval = FastDropout.Apply(x, 0.25, training: false);
        Assert.True(eval.eq(x).all().item<bool>());
        // a bfloat16 x gives float32: its values times the float32 mask, unrounded
        var low = x.detach().to(ScalarType.BFloat16);
        manual_seed(7);
        var dropped = FastDropout.Apply(low, 0.25, training: true);
        Assert.Equal(ScalarType.Float32, dropped.dtype);
        Assert.True(dropped.eq(low.to(ScalarType.Float32) * mask).all().item<bool>());
    }

    [Fact]
    public void AModuleSwitchedToLibtorchsDropoutDrawsLibtorchsMasks()
    {
        using var scope = NewDisposeScope();
        var module = new FastDropoutModule(0.25);
        module.train();
        var x = ones(64, 33);
        FastDropout.Use(module, fast: false);
        manual_seed(7);
        var y = module.forward(x);
        manual_seed(7);
        Assert.True(y.eq(nn.functional.dropout(x, 0.25, true)).all().item<bool>());
        FastDropout.Use(module, fast: true);
        manual_seed(7);
        var fast = module.forward(x);
        manual_seed(7);
        Assert.True(fast.eq(x * FastDropout.Mask([64, 33], 0.25)).all().item<bool>());
    }

    /// <summary>The choice is the model's: every dropout in it, the attention's and the adapters' included, and no other model's.</summary>
    [Fact]
    public void UseSwitchesEveryDropoutOfOneModel()
    {
        var model = MiniLm.Load(numLabels: 2, seed: 1);
        var other = new FastDropoutModule(0.1);
        new MethodOptions { Kind = MethodRegistry.Mcd, Rank = 2, Alpha = 4, Targets = ["query", "value"] }.Apply(model);
        var masks = model.modules().OfType<IDropoutMasks>().ToList();
        Assert.Contains(masks, m => m is LoraAdapter);
        Assert.Contains(masks, m => m is BertSelfAttention);
        Assert.Contains(masks, m => m is FastDropoutModule);
        Assert.All(masks, m => Assert.True(m.UseFastDropout)); // the default
        FastDropout.Use(model, fast: false);
        Assert.All(masks, m => Assert.False(m.UseFastDropout));
        Assert.True(other.UseFastDropout);
        model.Dispose();
    }
}
