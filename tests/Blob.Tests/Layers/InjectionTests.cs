using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Layers;

/// <summary>A two-layer toy network with Hugging Face-like names, to test injection without a checkpoint.</summary>
sealed class ToyBlock : nn.Module<Tensor, Tensor>
{
    public AdaptableLinear q_proj, v_proj, o_proj;
    public ToyBlock() : base("ToyBlock")
    {
        q_proj = new AdaptableLinear(6, 6); v_proj = new AdaptableLinear(6, 6); o_proj = new AdaptableLinear(6, 6);
        RegisterComponents();
        using var _ = no_grad();
        foreach (var p in parameters()) p.copy_(randn(p.shape));
    }
    public override Tensor forward(Tensor x) => o_proj.forward(q_proj.forward(x).tanh() + v_proj.forward(x));
}

public class InjectionTests
{
    [Fact]
    public void InjectsByNameLikePeftAndFreezesTheBase()
    {
        manual_seed(0);
        var model = new ToyBlock();
        var names = AdapterInjection.Inject(model, ["q_proj", "v_proj"],
            (layer, _) => new BlobAdapter(layer.InFeatures, layer.OutFeatures, 2, 16, new BlobOptions()));
        Assert.Equal(["q_proj", "v_proj"], names.OrderBy(n => n));
        Assert.Null(model.o_proj.Adapter);
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToHashSet();
        Assert.Contains("q_proj.adapter.lora_A", trainable);
        Assert.Contains("q_proj.adapter.lora_A_rho", trainable);
        Assert.Contains("v_proj.adapter.lora_B", trainable);
        Assert.DoesNotContain("q_proj.weight", trainable);
        Assert.Throws<BlobException>(() => AdapterInjection.Inject(model, ["k_proj"], (l, _) => new LoraAdapter(6, 6, 2, 2)));
        Assert.True(AdapterInjection.Matches("model.layers.0.self_attn.q_proj", "q_proj"));
        Assert.False(AdapterInjection.Matches("model.layers.0.self_attn.qq_proj", "q_proj"));
        Assert.True(AdapterInjection.Matches("model.layers.10.self_attn.q_proj", @"re:.*layers\.1\d\..*q_proj"));
    }

    [Fact]
    public void GradientsReachMGAndBButNeverW0()
    {
        manual_seed(1);
        var model = new ToyBlock();
        AdapterInjection.Inject(model, ["q_proj", "v_proj"],
            (layer, _) => new BlobAdapter(layer.InFeatures, layer.OutFeatures, 2, 16, new BlobOptions()));
        // one step so B ≠ 0 and the gradient reaches M and G through B
        foreach (var (_, a) in AdapterInjection.Adapters(model)) using (no_grad()) ((BlobAdapter)a).lora_B.normal_(0, 0.1);
        var loss = model.forward(randn(5, 6)).square().sum() + AdapterInjection.TotalKl(model);
        loss.backward();
        var blob = (BlobAdapter)model.q_proj.Adapter!;
        foreach (var p in new[] { blob.lora_A, blob.lora_A_rho, blob.lora_B })
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0);
        Assert.Null(model.q_proj.weight.grad);
        Assert.Null(model.o_proj.weight.grad);
    }

    [Fact]
    public void MergedAndUnmergedMeanPathsAgree()
    {
        manual_seed(2);
        var model = new ToyBlock();
        AdapterInjection.Inject(model, ["q_proj", "v_proj", "o_proj"],
            (layer, _) => new BlobAdapter(layer.InFeatures, layer.OutFeatures, 3, 16, new BlobOptions()));
        foreach (var (_, a) in AdapterInjection.Adapters(model)) using (no_grad()) ((BlobAdapter)a).lora_B.normal_(0, 0.5);
        AdapterInjection.SetSampling(model, false);
        var x = randn(4, 6);
        using var _ = no_grad();
        var before = model.forward(x);
        var w0 = model.q_proj.weight.clone();
        AdapterInjection.MergeAll(model);
        Assert.True(model.q_proj.IsMerged);
        Assert.True(allclose(model.forward(x), before, atol: 1e-5));
        AdapterInjection.UnmergeAll(model);
        Assert.True(allclose(model.q_proj.weight, w0, atol: 1e-6));
        Assert.True(allclose(model.forward(x), before, atol: 1e-5));
    }

    [Fact]
    public void LoraMergeMatchesAndDropoutAtInferenceIsStochastic()
    {
        manual_seed(3);
        var lora = new LoraAdapter(6, 4, rank: 2, alpha: 4, dropout: 0.5);
        using (no_grad()) lora.lora_B.normal_();
        var x = randn(3, 6);
        lora.eval();
        using var _ = no_grad();
        Assert.True(allclose(lora.forward(x), x.matmul(lora.MeanDeltaWeight().t()), atol: 1e-5));
        lora.DropoutAtInference = true;
        Assert.False(allclose(lora.forward(x), lora.forward(x)));
    }
}
