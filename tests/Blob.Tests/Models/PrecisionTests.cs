using Blob.Layers;
using Blob.Methods;
using Blob.Data;
using Blob.Experiments;
using Blob.Models;
using Blob.Runtime;
using Blob.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// --precision bf16: the frozen base's matrix products in bfloat16, everything else in float32. It must stay close to
/// float32 (the logits below), keep what is trained in float32, and leave fp32 exactly as it was.
/// </summary>
public class PrecisionTests(ITestOutputHelper output)
{
    /// <summary>A frozen layer [out 16, in 24] with a LoRA adapter whose B is not zero (so Δ(x) ≠ 0), in dtype.</summary>
    static AdaptableLinear Layer(ScalarType dtype, double scaleOfB)
    {
        manual_seed(5);
        var layer = new AdaptableLinear(24, 16);
        using (no_grad())
        {
            layer.weight.normal_();
            layer.bias!.normal_();
        }
        var adapter = new LoraAdapter(24, 16, rank: 4, alpha: 4);
        using (no_grad()) adapter.lora_B.normal_().mul_(scaleOfB);
        var stored = new AdaptableLinear(24, 16, dtype: dtype);
        using (no_grad())
        {
            stored.weight.copy_(layer.weight);
            stored.bias!.copy_(layer.bias);
        }
        stored.Adapter = adapter;
        return stored;
    }

    [Fact]
    public void Float32LayerComputesWhatItDidBefore()
    {
        using var scope = NewDisposeScope();
        var layer = Layer(ScalarType.Float32, 1.0);
        var x = randn(3, 5, 24);
        using var _ = no_grad();
        // the formula of the layer before precisions existed: z = linear(x, W, b) + Δ(x), all in float32
        var before = nn.functional.linear(x, layer.weight, layer.bias) + layer.Adapter!.forward(x);
        Assert.True(layer.forward(x).eq(before).all().item<bool>());
    }

    /// <summary>
    /// A small update Δ(x) (here about 1e-4 of W0·x) must survive: added in bfloat16 it would be rounded to W0·x's ulp
    /// (2⁻⁸ of it, far more than Δ itself). Added in float32, as it is, it is exact to float32 rounding of z.
    /// </summary>
    [Fact]
    public void Bfloat16BaseAddsTheAdapterInFloat32()
    {
        using var scope = NewDisposeScope();
        var layer = Layer(ScalarType.BFloat16, 1e-4);
        var x = randn(3, 5, 24);
        using var _ = no_grad();
        var z = layer.forward(x);
        Assert.Equal(ScalarType.Float32, z.dtype);
        var delta = layer.Adapter!.forward(x);
        var adapter = layer.Adapter;
        layer.Adapter = null;
        var baseOnly = layer.forward(x);
        layer.Adapter = adapter;
        Assert.Equal(ScalarType.Float32, baseOnly.dtype);

        double error = (z - baseOnly - delta).abs().max().item<float>();
        double deltaSize = delta.abs().max().item<float>(), zSize = z.abs().max().item<float>();
        output.WriteLine($"|Δ| {deltaSize:E2}, |z| {zSize:E2}, error of the update in z {error:E2}");
        Assert.True(deltaSize < zSize * 1e-2);
        Assert.True(error <= zSize * 1e-6, $"the update is off by {error} (|z| {zSize})");
    }

    [Fact]
    public void ATrainingStepInBfloat16KeepsWhatIsTrainedInFloat32()
    {
        using var scope = NewDisposeScope();
        var task = DemoTask.Generate();
        manual_seed(1);
        var tm = ModelZoo.Load(ModelZoo.BuiltIn, task, CPU, seed: 1, Precision.Bf16);
        var method = new MethodOptions { Kind = MethodRegistry.Blob, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
        method.Apply(tm.Model.Module);
        var module = tm.Model.Module;

        // the frozen base: every encoder-layer product weight in bfloat16; embeddings, LayerNorms and the head in float32
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(ScalarType.BFloat16, parameters["bert.encoder.layer.0.attention.self.query.weight"].dtype);
        Assert.Equal(ScalarType.BFloat16, parameters["bert.encoder.layer.5.output.dense.weight"].dtype);
        Assert.Equal(ScalarType.Float32, parameters["bert.embeddings.word_embeddings.weight"].dtype);
        Assert.Equal(ScalarType.Float32, parameters["bert.encoder.layer.0.output.LayerNorm.weight"].dtype);
        Assert.All(parameters.Where(p => p.Value.dtype == ScalarType.BFloat16), p => Assert.False(p.Value.requires_grad));

        var data = new TextBatchSource(task, task.Train, tm.Tokenizer, 32);
        var trainer = new Trainer(tm.Classifier, data, new TrainingOptions
        {
            Method = method, Steps = 2, BatchSize = 4, LearningRate = 1e-2, Seed = 1, WarmupRatio = 0,
        }, CPU);
        var losses = new List<double>();
        trainer.Train(onStep: p => losses.Add(p.Loss));
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));

        // one more forward and backward, to look at the gradients the step would apply
        module.train();
        using (var step = NewDisposeScope())
        {
            var batch = data.Make([0, 1, 2, 3], CPU);
            var logits = tm.Classifier.ClassLogits(batch);
            Assert.Equal(ScalarType.Float32, logits.dtype);
            nn.functional.cross_entropy(logits, batch.Labels).backward();
        }
        var trained = AdapterInjection.Trainable(module).ToList();
        Assert.NotEmpty(trained);
        Assert.All(trained, p =>
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.NotNull(p.grad);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
        });
        // The first layer's adapter learns through the five bfloat16 layers above it (B starts at zero, so after
        // two steps its gradient is what reaches it through the base).
        var first = (BlobAdapter)AdapterInjection.Adapters(module).First(a => a.Name.Contains("layer.0.")).Adapter;
        Assert.True(first.lora_B.grad!.abs().sum().item<float>() > 0, "no gradient reached layer 0's adapter");
        module.eval();
    }

    /// <summary>
    /// MiniLM in bf16 against fp32 on 32 demo-task pairs padded to one batch of 128 tokens: the pooled features the head
    /// reads, and the logits of the (fresh, seeded) head. Measured here: features max |Δ| 7.4e-3 of a largest |feature|
    /// 1.37 (0.5 %), cosine of each pair of feature vectors at least 0.99998; logits max |Δ| 1.5e-3 of a largest
    /// |logit| 0.33 (0.5 %), the same class for all 32. The bounds allow 4× that.
    /// </summary>
    [Fact]
    public void MiniLmInBfloat16StaysCloseToFloat32()
    {
        using var scope = NewDisposeScope();
        var task = DemoTask.Generate();
        var data = new TextBatchSource(task, task.Eval, Blob.Tokenization.TokenizerLoader.MiniLm(), 128);
        var batch = data.Make(Enumerable.Range(0, 32).ToList(), CPU);
        (Tensor Features, Tensor Logits) Run(Precision precision)
        {
            var model = (BertForSequenceClassification)ModelZoo.Load(ModelZoo.BuiltIn, task, CPU, seed: 1, precision).Model;
            using var _ = no_grad();
            using var last = model.Encoder.LastHiddenState(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds);
            return (BertForSequenceClassification.MeanPool(last, batch.AttentionMask),
                model.Logits(batch.InputIds, batch.AttentionMask, batch.TokenTypeIds));
        }
        var fp32 = Run(Precision.Fp32);
        var bf16 = Run(Precision.Bf16);
        Assert.Equal(ScalarType.Float32, bf16.Logits.dtype);

        double maxAbs = (bf16.Features - fp32.Features).abs().max().item<float>();
        double scale = fp32.Features.abs().max().item<float>();
        double minCosine = nn.functional.cosine_similarity(bf16.Features, fp32.Features, dim: 1).min().item<float>();
        double logitsAbs = (bf16.Logits - fp32.Logits).abs().max().item<float>();
        double logitsScale = fp32.Logits.abs().max().item<float>();
        double agreement = bf16.Logits.argmax(-1).eq(fp32.Logits.argmax(-1)).to(ScalarType.Float64).mean().item<double>();
        output.WriteLine($"pooled features: max |bf16 - fp32| {maxAbs:E2} (largest |feature| {scale:F3}), min cosine {minCosine:F5}; " +
                         $"logits: max |bf16 - fp32| {logitsAbs:E2} (largest |logit| {logitsScale:F3}), same class for {agreement:P0}");
        Assert.True(maxAbs <= 0.02 * scale, $"features differ by {maxAbs} (scale {scale})");
        Assert.True(minCosine >= 0.9995, $"cosine {minCosine}");
        Assert.True(logitsAbs <= 0.02 * logitsScale, $"logits differ by {logitsAbs} (scale {logitsScale})");
    }

    /// <summary>
    /// A trained decoder (stories260k) in bf16 against fp32: next-token logits at every real position of the
    /// fixture's reference batch. Measured here: max |Δ logit| 0.135 for logits up to 15.6 (0.9 %), the same top token
    /// at all 20 positions.
    /// </summary>
    [SharedFact("fixtures/stories260k")]
    public void DecoderInBfloat16StaysCloseToFloat32()
    {
        using var scope = NewDisposeScope();
        string dir = Shared.PathOf("fixtures/stories260k");
        var reference = Safetensors.Load(Path.Combine(dir, "reference.safetensors"));
        var ids = reference["input_ids"];
        var mask = reference["attention_mask"];
        Tensor Logits(ScalarType dtype)
        {
            var model = PretrainedModels.LoadCausalLM(dir, new LoadOptions { BaseDtype = dtype });
            using var _ = no_grad();
            using var result = model.Forward(ids, mask);
            return result.Logits.clone();
        }
        var fp32 = Logits(ScalarType.Float32);
        var bf16 = Logits(ScalarType.BFloat16);
        Assert.Equal(ScalarType.Float32, bf16.dtype);

        var real = mask.to(ScalarType.Bool);
        double maxAbs = (bf16 - fp32).abs().amax([-1]).masked_select(real).max().item<float>();
        double scale = fp32.abs().amax([-1]).masked_select(real).max().item<float>();
        double agreement = bf16.argmax(-1).eq(fp32.argmax(-1)).masked_select(real).to(ScalarType.Float64).mean().item<double>();
        output.WriteLine($"stories260k logits: max |bf16 - fp32| {maxAbs:E2} (largest |logit| {scale:F2}), " +
                         $"same top token at {agreement:P1} of {real.sum().item<long>()} positions");
        Assert.True(maxAbs <= 0.03 * scale, $"logits differ by {maxAbs} (scale {scale})");
        Assert.True(agreement >= 0.9, $"top tokens agree at {agreement:P1}");
    }

    [Fact]
    public void AutoMeansBf16WhereTheHardwareHasIt()
    {
        Assert.Equal(Precisions.CpuHasBf16() ? Precision.Bf16 : Precision.Fp32, Precisions.Resolve(Precision.Auto, CPU));
        Assert.Equal(Precision.Fp32, Precisions.Resolve(Precision.Fp32, CPU));
        Assert.Equal(Precision.Bf16, Precisions.Resolve(Precision.Bf16, CPU));
        Assert.Equal(ScalarType.BFloat16, Precisions.BaseDtype(Precision.Bf16, CPU));
        Assert.Equal(ScalarType.Float32, Precisions.BaseDtype(Precision.Fp32, CPU));
        // the command line's words are the enum's, parsed in one place
        Assert.Equal(["fp32", "bf16", "auto"], SettingsWords.All<Precision>());
        Assert.All(Enum.GetValues<Precision>(), p => Assert.True(SettingsWords.TryParse<Precision>(Precisions.Name(p), out var back) && back == p));
        Assert.False(SettingsWords.TryParse<Precision>("fp16", out _));
    }
}
