using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

/// <summary>PEFT's adapter folders in and out: the fixtures' PEFT-saved LoRA, and our own BLoB adapters round-tripped.</summary>
public class PeftAdapterFormatTests(ITestOutputHelper output)
{
    static string Fixture(string name) => Shared.PathOf($"fixtures/{name}");

    /// <summary>max |a − b| over positions where mask is 1 (logits [batch, seq, vocab]), or everywhere (classifier logits).</summary>
    static double MaxError(Tensor actual, Tensor expected, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        var diff = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs();
        if (mask is null) return diff.max().item<double>();
        return (diff.amax([-1]) * mask.to(ScalarType.Float64)).max().item<double>();
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void PeftLoraOnLlamaReproducesLoraLogits()
    {
        var model = PretrainedModels.LoadCausalLM(Fixture("llama"));
        var adapted = PeftAdapterFormat.Load(model, Path.Combine(Fixture("llama"), "lora_adapter"));
        Assert.Contains("lm_head", adapted);
        Assert.Equal(5, adapted.Count);   // q_proj and v_proj of 2 layers, and lm_head
        var reference = Safetensors.Load(Path.Combine(Fixture("llama"), "reference.safetensors"));
        using var _ = no_grad();
        using var logits = model.Logits(reference["input_ids"], reference["attention_mask"]);
        double error = MaxError(logits, reference["lora_logits"], reference["attention_mask"]);
        output.WriteLine($"llama lora_logits max error {error:E2}");
        Assert.True(error <= 1e-4, $"lora_logits differ by {error}");
        Assert.All(AdapterInjection.Adapters(model.Module), a => Assert.IsType<LoraAdapter>(a.Adapter));
        Assert.All(model.Module.named_parameters(), p => Assert.Equal(p.name.Contains(".adapter."), p.parameter.requires_grad));
    }

    [SharedFact("fixtures/bert/lora_adapter")]
    public void PeftLoraOnBertReproducesLoraLogits()
    {
        using var model = EncoderModels.LoadSequenceClassifier(Fixture("bert"));
        PeftAdapterFormat.Load(model, Path.Combine(Fixture("bert"), "lora_adapter"));
        var reference = Safetensors.Load(Path.Combine(Fixture("bert"), "reference.safetensors"));
        using var _ = no_grad();
        using var logits = model.Logits(reference["input_ids"], reference["attention_mask"]);
        double error = MaxError(logits, reference["lora_logits"]);
        output.WriteLine($"bert lora_logits max error {error:E2}");
        Assert.True(error <= 1e-4, $"lora_logits differ by {error}");
    }

    [SharedFact("fixtures/llama")]
    public void BlobAdapterRoundTripsMeanPathAndStd()
    {
        string dir = TempDir();
        try
        {
            manual_seed(3);
            var model = PretrainedModels.LoadCausalLM(Fixture("llama"));
            AdapterInjection.Inject(model.Module, ["q_proj", "v_proj"],
                (l, _) => new BlobAdapter(l.InFeatures, l.OutFeatures, 4, 8, new BlobOptions { PriorStd = 0.3 }));
            using (no_grad())
                foreach (var (_, a) in AdapterInjection.Adapters(model.Module)) ((BlobAdapter)a).lora_B.normal_(0, 0.1);
            PeftAdapterFormat.Save(model, dir, MethodRegistry.Blob);

            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapterFormat.ConfigFile)))!;
            Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
            Assert.Equal(4, config["r"]!.GetValue<int>());
            Assert.Equal(0.3, config["blob"]!["prior_std"]!.GetValue<double>());
            Assert.Equal("square", config["blob"]!["std_parameterization"]!.GetValue<string>());
            using (var file = SafetensorsFile.Open(Path.Combine(dir, PeftAdapterFormat.WeightsFile)))
            {
                Assert.True(file.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
                Assert.True(file.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A_rho.weight"));
            }

            var loaded = PretrainedModels.LoadCausalLM(Fixture("llama"));
            PeftAdapterFormat.Load(loaded, dir);
            AdapterInjection.SetSampling(model.Module, false);
            AdapterInjection.SetSampling(loaded.Module, false);
            var reference = Safetensors.Load(Path.Combine(Fixture("llama"), "reference.safetensors"));
            using var _ = no_grad();
            using var expected = model.Logits(reference["input_ids"], reference["attention_mask"]);
            using var actual = loaded.Logits(reference["input_ids"], reference["attention_mask"]);
            Assert.True(expected.equal(actual).all().item<bool>(), "mean-path logits changed in the round trip");

            var before = AdapterInjection.Adapters(model.Module).ToDictionary(a => a.Name, a => (BlobAdapter)a.Adapter);
            foreach (var (name, adapter) in AdapterInjection.Adapters(loaded.Module))
            {
                var b = Assert.IsType<BlobAdapter>(adapter);
                Assert.True(b.lora_A_rho.equal(before[name].lora_A_rho).all().item<bool>(), $"G of {name} not restored");
                Assert.Equal(0.3, b.Options.PriorStd);
                Assert.True(b.lora_A_rho.requires_grad);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [SharedFact("fixtures/roberta")]
    public void FreshClassifierHeadIsSavedAsModulesToSaveAndRestored()
    {
        string dir = TempDir();
        try
        {
            using var model = EncoderModels.LoadSequenceClassifier(Fixture("roberta"), numLabels: 4, seed: 5);
            AdapterInjection.Inject(model, ["query", "value"], (l, _) => new LoraAdapter(l.InFeatures, l.OutFeatures, 2, 4));
            foreach (var (name, p) in model.named_parameters()) if (name.StartsWith("classifier.")) p.requires_grad = true;
            PeftAdapterFormat.Save(model, dir, MethodRegistry.Mle);
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, PeftAdapterFormat.ConfigFile)))!;
            Assert.Equal("SEQ_CLS", config["task_type"]!.GetValue<string>());
            using (var file = SafetensorsFile.Open(Path.Combine(dir, PeftAdapterFormat.WeightsFile)))
                Assert.True(file.Contains("base_model.model.classifier.out_proj.weight"));

            using var loaded = EncoderModels.LoadSequenceClassifier(Fixture("roberta"), numLabels: 4, seed: 99);
            PeftAdapterFormat.Load(loaded, dir);
            var head = loaded.named_parameters().Single(p => p.name == "classifier.out_proj.weight").parameter;
            Assert.True(head.equal(model.named_parameters().Single(p => p.name == "classifier.out_proj.weight").parameter).all().item<bool>());
            Assert.True(head.requires_grad);
        }
        finally { Directory.Delete(dir, true); }
    }

    static string TempDir() => Directory.CreateTempSubdirectory("blob-peft-").FullName;

    /// <summary>A copy of the llama fixture's PEFT adapter, changed by <paramref name="edit"/>; loading it must fail.</summary>
    static BlobException LoadBroken(Action<string> edit)
    {
        string dir = TempDir();
        try
        {
            foreach (var f in Directory.GetFiles(Path.Combine(Fixture("llama"), "lora_adapter")))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            edit(dir);
            var model = PretrainedModels.LoadCausalLM(Fixture("llama"));
            return Assert.Throws<BlobException>(() => PeftAdapterFormat.Load(model, dir));
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Rewrites the adapter's tensors: drop those matching <paramref name="drop"/>, rename keys, change shapes.</summary>
    static void Rewrite(string dir, Func<string, bool>? drop = null, Func<string, string>? rename = null, Func<string, Tensor, Tensor>? change = null)
    {
        string path = Path.Combine(dir, PeftAdapterFormat.WeightsFile);
        var tensors = Safetensors.Load(path);
        Safetensors.Save(path, tensors.Where(t => drop?.Invoke(t.Key) != true)
            .Select(t => KeyValuePair.Create(rename?.Invoke(t.Key) ?? t.Key, change?.Invoke(t.Key, t.Value) ?? t.Value)));
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void MissingWeightsFileIsReported()
    {
        var e = LoadBroken(dir => File.Delete(Path.Combine(dir, PeftAdapterFormat.WeightsFile)));
        Assert.Contains(PeftAdapterFormat.WeightsFile, e.Message);
        e = LoadBroken(dir => File.Delete(Path.Combine(dir, PeftAdapterFormat.ConfigFile)));
        Assert.Contains(PeftAdapterFormat.ConfigFile, e.Message);
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void MissingTensorIsReported()
    {
        var e = LoadBroken(dir => Rewrite(dir, drop: k => k.Contains("layers.1.self_attn.v_proj.lora_B")));
        Assert.Contains(PeftAdapterFormat.WeightsFile, e.Message);
        Assert.Contains("layers.1.self_attn.v_proj.lora_B.weight", e.Message);
        e = LoadBroken(dir => Rewrite(dir, drop: k => k.Contains("layers.1.self_attn.v_proj")));
        Assert.Contains("targeted layer 'model.layers.1.self_attn.v_proj'", e.Message);
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void ShapeMismatchIsReported()
    {
        var e = LoadBroken(dir => Rewrite(dir, change: (k, t) => k.EndsWith("layers.0.self_attn.q_proj.lora_B.weight") ? zeros(63, 4) : t));
        Assert.Contains(PeftAdapterFormat.WeightsFile, e.Message);
        Assert.Contains("[63, 4]", e.Message);
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void TargetModuleNotInTheModelIsReported()
    {
        var e = LoadBroken(dir => Rewrite(dir, rename: k => k.Replace("layers.1.self_attn.q_proj", "layers.1.self_attn.qkv_proj")));
        Assert.Contains(PeftAdapterFormat.WeightsFile, e.Message);
        Assert.Contains("'model.layers.1.self_attn.qkv_proj', which is not a linear layer of this model", e.Message);
    }
}
