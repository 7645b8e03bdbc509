using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>The decoder models against the transformers reference outputs in ../shared/fixtures.</summary>
public class DecoderModelTests(ITestOutputHelper output)
{
    static string Fixture(string name) => Shared.PathOf($"fixtures/{name}");

    /// <summary>max |a − b| over the positions where mask [batch, seq] is 1.</summary>
    static double MaskedMaxAbs(Tensor actual, Tensor expected, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var perPosition = (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().amax([-1]);
        return (perPosition * mask.to(ScalarType.Float64)).max().item<double>();
    }

    [SharedTheory("fixtures")]
    [InlineData("llama")]
    [InlineData("qwen2")]
    [InlineData("qwen3")]
    [InlineData("mistral")]
    [InlineData("gpt2")]
    [InlineData("stories260k")]
    public void ReproducesTransformersOutputs(string name)
    {
        using var scope = NewDisposeScope();
        var model = PretrainedModels.LoadCausalLM(Fixture(name));
        var reference = Safetensors.Load(Path.Combine(Fixture(name), "reference.safetensors"));
        var mask = reference["attention_mask"];
        using var _ = no_grad();
        using var result = model.Forward(reference["input_ids"], mask);

        double logits = MaskedMaxAbs(result.Logits, reference["logits"], mask);
        double first = MaskedMaxAbs(result.FirstHiddenState, reference["first_hidden_state"], mask);
        double last = MaskedMaxAbs(result.LastHiddenState, reference["last_hidden_state"], mask);
        output.WriteLine($"{name}: max abs error logits {logits:E2}, first hidden {first:E2}, last hidden {last:E2}");
        Assert.True(logits <= 1e-4, $"logits differ by {logits}");
        Assert.True(first <= 1e-4, $"first_hidden_state differs by {first}");
        Assert.True(last <= 1e-4, $"last_hidden_state differs by {last}");
        Assert.Equal(reference["logits"].shape, result.Logits.shape);

        // Logits() numbers positions by skipping padding; with right padding that changes nothing at real tokens.
        double viaLogits = MaskedMaxAbs(model.Logits(reference["input_ids"], mask), reference["logits"], mask);
        Assert.True(viaLogits <= 1e-4, $"Logits() differs by {viaLogits}");
    }

    /// <summary>
    /// qwen2_bf16 holds the qwen2 weights rounded to bfloat16, and its reference was computed in bfloat16 throughout.
    /// We run it in bf16 precision (bfloat16 products, float32 norms and residual stream), which must agree with it to
    /// bfloat16 precision. bf16 keeps 8 significant bits, so one rounding step (ulp) is 2⁻⁷ of a
    /// value's power of two: 0.0156 for hidden states in [2, 4), 0.0078 for logits in [1, 2). Kernels that accumulate
    /// in another order (matmul, attention) may round a few elements the other way, and the difference carries through
    /// the layers, so we allow 2% of each output's largest magnitude, i.e. one to two ulps there. Measured here:
    /// logits 3.9e-3 (scale 1.1), last hidden state 2.0e-2 = about one ulp (scale 3.0), embeddings exact.
    /// </summary>
    [SharedFact("fixtures/qwen2_bf16")]
    public void Qwen2InBfloat16MatchesTheBfloat16Reference()
    {
        using var scope = NewDisposeScope();
        var model = PretrainedModels.LoadCausalLM(Fixture("qwen2_bf16"), new LoadOptions { BaseDtype = ScalarType.BFloat16 });
        // bf16 precision: the products' weights and the embeddings in bfloat16, the RMSNorms (and activations) in float32
        Assert.All(model.Module.named_parameters(), p =>
            Assert.Equal(p.name.EndsWith("norm.weight") ? ScalarType.Float32 : ScalarType.BFloat16, p.parameter.dtype));
        var reference = Safetensors.Load(Path.Combine(Fixture("qwen2_bf16"), "reference.safetensors"));
        var mask = reference["attention_mask"];
        using var _ = no_grad();
        using var result = model.Forward(reference["input_ids"], mask);

        double scale = reference["logits"].abs().max().item<float>();
        double logits = MaskedMaxAbs(result.Logits, reference["logits"], mask);
        double first = MaskedMaxAbs(result.FirstHiddenState, reference["first_hidden_state"], mask);
        double last = MaskedMaxAbs(result.LastHiddenState, reference["last_hidden_state"], mask);
        double lastScale = reference["last_hidden_state"].abs().max().item<float>();

        var fp32 = PretrainedModels.LoadCausalLM(Fixture("qwen2_bf16"));
        double fp32Logits = MaskedMaxAbs(fp32.Logits(reference["input_ids"], mask), reference["logits"], mask);
        output.WriteLine($"qwen2_bf16 in bf16: max abs error logits {logits:E2} (scale {scale:F3}), first hidden {first:E2}, "
            + $"last hidden {last:E2} (scale {lastScale:F3}); the same weights in float32: logits error {fp32Logits:E2}");
        Assert.Equal(0.0, first);   // the embedding lookup is exact
        Assert.True(logits <= 2e-2 * Math.Max(1, scale), $"logits differ by {logits} (scale {scale})");
        Assert.True(last <= 2e-2 * Math.Max(1, lastScale), $"last_hidden_state differs by {last} (scale {lastScale})");
    }

    [SharedFact("fixtures/stories260k/greedy.json")]
    public void GreedyGenerationFromBosMatchesTransformers()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture("stories260k"), "greedy.json")));
        int[] expected = json.RootElement.GetProperty("greedy_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var model = PretrainedModels.LoadCausalLM(Fixture("stories260k"));
        int[] generated = Generation.Generate(model, [1], maxNewTokens: 40);
        Assert.Equal(expected, generated);
    }

    /// <summary>The choices scored are each answer's last token (the one after the "▁" piece, where there is one).</summary>
    [SharedFact("fixtures/stories260k/prompt_reference.json")]
    public void ScoreChoicesMatchesSoftmaxOfReferenceLogits()
    {
        var model = PretrainedModels.LoadCausalLM(Fixture("stories260k"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture("stories260k"), "prompt_reference.json")));
        var prompts = new List<int[]>();
        foreach (var row in json.RootElement.EnumerateArray())
        {
            int[] ids = row.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            double[] lastLogits = row.GetProperty("last_logits").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            int[] choices = row.GetProperty("answer_token_ids").EnumerateObject().Select(p => p.Value.EnumerateArray().Last().GetInt32()).ToArray();
            prompts.Add(ids);

            double[] expected = Softmax(choices.Select(c => lastLogits[c]).ToArray());
            double[] actual = Generation.ScoreChoices(model, ids, choices);
            double error = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            output.WriteLine($"choices [{string.Join(", ", choices)}]: expected [{string.Join(", ", expected.Select(p => p.ToString("F5")))}], max error {error:E2}");
            Assert.True(error <= 1e-4, $"probabilities differ by {error}");
        }

        // The two prompts batched with left and with right padding score as they do alone.
        int[] letters = [447, 368];
        var alone = prompts.Select(p => Generation.ScoreChoices(model, p, letters)).ToArray();
        foreach (var side in new[] { PaddingSide.Left, PaddingSide.Right })
        {
            var batched = Generation.ScoreChoices(model, prompts, letters, padId: 0, side);
            for (int r = 0; r < prompts.Count; r++)
                for (int c = 0; c < letters.Length; c++)
                    Assert.True(Math.Abs(alone[r][c] - batched[r][c]) <= 1e-5, $"{side} padding changed row {r}'s scores");
        }
    }

    /// <summary>
    /// An answer's sequence log-probability is Σ_k log softmax(logits after prompt + answer[..k])[answer[k]],
    /// computed here one prefix at a time, unbatched, from the model's logits.
    /// </summary>
    [SharedFact("fixtures/stories260k/prompt_reference.json")]
    public void SequenceLogProbabilityIsTheSumOfTheAnswerTokensLogProbabilities()
    {
        var model = PretrainedModels.LoadCausalLM(Fixture("stories260k"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixture("stories260k"), "prompt_reference.json")));
        var row = json.RootElement[0];
        int[] prompt = row.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[][] answers = row.GetProperty("answer_token_ids").EnumerateObject()
            .Select(p => p.Value.EnumerateArray().Select(e => e.GetInt32()).ToArray()).ToArray();
        Assert.Contains(answers, a => a.Length > 1);

        double[] actual = Generation.SequenceLogProbabilities(model, prompt, answers, padId: 0);
        for (int i = 0; i < answers.Length; i++)
        {
            double expected = 0;
            for (int k = 0; k < answers[i].Length; k++)
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                var ids = tensor(prompt.Concat(answers[i][..k]).Select(t => (long)t).ToArray()).unsqueeze(0);
                var last = model.Logits(ids, ones_like(ids))[0, -1].to(ScalarType.Float64);
                expected += last.log_softmax(-1)[answers[i][k]].item<double>();
            }
            output.WriteLine($"[{string.Join(", ", answers[i])}]: {actual[i]:F6} vs {expected:F6}");
            Assert.True(Math.Abs(expected - actual[i]) <= 1e-4, $"answer {i}: {actual[i]} vs {expected}");
        }
    }

    /// <summary>GPT-2's positions are absolute, so left padding is only harmless if positions skip the padding.</summary>
    [SharedFact("fixtures/gpt2")]
    public void Gpt2LeftPaddedScoringMatchesUnpadded()
    {
        var model = PretrainedModels.LoadCausalLM(Fixture("gpt2"));
        int[][] prompts = [[5, 17, 300, 42, 9, 88], [7, 11]];
        int[] choices = [3, 4, 5];

        // Logits() on a left-padded batch: the short row's real tokens get the logits they get unpadded.
        using (no_grad())
        {
            var (ids, mask) = Generation.Pad(prompts, padId: 0, PaddingSide.Left);
            var padded = model.Logits(ids, mask)[1, 4..];
            var alone = model.Logits(tensor(new long[] { 7, 11 }).unsqueeze(0), ones(1, 2, ScalarType.Int64))[0];
            Assert.True((padded - alone).abs().max().item<float>() <= 1e-5);
        }

        var batched = Generation.ScoreChoices(model, prompts, choices, padId: 0, PaddingSide.Left);
        for (int r = 0; r < prompts.Length; r++)
        {
            var alone = Generation.ScoreChoices(model, prompts[r], choices);
            for (int c = 0; c < choices.Length; c++) Assert.True(Math.Abs(alone[c] - batched[r][c]) <= 1e-5);
        }
    }

    [SharedFact("fixtures/llama")]
    public void ParametersKeepHuggingFaceNamesAreFrozenAndLinearLayersAreAdaptable()
    {
        var model = (LlamaForCausalLM)PretrainedModels.LoadCausalLM(Fixture("llama"));
        var names = model.named_parameters().Select(p => p.name).ToHashSet();
        using var checkpoint = Checkpoint.Open(Fixture("llama"));
        Assert.Equal(checkpoint.Names.ToHashSet(), names);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.IsType<AdaptableLinear>(modules["lm_head"]);
        Assert.IsType<AdaptableLinear>(modules["model.layers.0.self_attn.q_proj"]);
        Assert.IsType<AdaptableLinear>(modules["model.layers.1.self_attn.v_proj"]);
        Assert.False(model.Tied);
    }

    [SharedFact("fixtures/qwen2")]
    public void TiedEmbeddingsShareOneWeight()
    {
        var model = (LlamaForCausalLM)PretrainedModels.LoadCausalLM(Fixture("qwen2"));
        Assert.True(model.Tied);
        using var _ = no_grad();
        model.model.embed_tokens.weight![0, 0] = 123f;
        Assert.Equal(123f, model.lm_head.weight[0, 0].item<float>());
    }

    // ---- bad input -------------------------------------------------------------------------------------------------

    /// <summary>A writable copy of a fixture folder (the fixtures themselves are read-only).</summary>
    static string CopyFixture(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"blob-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(Fixture(name)))
            File.WriteAllBytes(Path.Combine(dir, Path.GetFileName(file)), File.ReadAllBytes(file));
        return dir;
    }

    static BlobException LoadFails(string dir)
    {
        try { return Assert.Throws<BlobException>(() => PretrainedModels.LoadCausalLM(dir)); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [SharedFact("fixtures/qwen2")]
    public void TruncatedSafetensorsFileIsReported()
    {
        string dir = CopyFixture("qwen2");
        string weights = Path.Combine(dir, "model.safetensors");
        using (var f = new FileStream(weights, FileMode.Open)) f.SetLength(f.Length / 2);
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [SharedFact("fixtures/qwen2")]
    public void SafetensorsHeaderLongerThanTheFileIsReported()
    {
        string dir = CopyFixture("qwen2");
        string weights = Path.Combine(dir, "model.safetensors");
        using (var f = new FileStream(weights, FileMode.Open)) f.SetLength(100);
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [SharedFact("fixtures/mistral")]
    public void UnknownModelTypeIsReported()
    {
        string dir = CopyFixture("mistral");
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"mistral\"", "\"mamba\""));
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.Contains("mamba", e.Message);
        Assert.Contains("llama", e.Message);
    }

    [SharedFact("fixtures/mistral")]
    public void ShapeMismatchIsReported()
    {
        string dir = CopyFixture("mistral");
        string config = Path.Combine(dir, "config.json");
        // fewer key/value heads: k_proj [16, 64] where the weights hold [32, 64] (sizes the early check does not see)
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 1"));
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("[32, 64]", e.Message);
        Assert.Contains("[16, 64]", e.Message);
    }

    [SharedFact("fixtures/llama")]
    public void MissingShardIsReported()
    {
        string dir = CopyFixture("llama");
        File.Delete(Path.Combine(dir, "model-00004-of-00006.safetensors"));
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("model-00004-of-00006.safetensors", e.Message);
    }

    [SharedFact("fixtures/llama")]
    public void MissingTensorIsReported()
    {
        string dir = CopyFixture("llama");
        string index = Path.Combine(dir, "model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"model.norm.weight\"", "\"model.norm.renamed\""));
        var e = LoadFails(dir);
        output.WriteLine(e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
        Assert.Contains("'model.norm.weight'", e.Message);
    }

    [SharedFact("fixtures/llama")]
    public void RopeThetaIsReadFromTheTopLevelAsTransformers4WritesIt()
    {
        var reference = Safetensors.Load(Path.Combine(Fixture("llama"), "reference.safetensors"));
        var (ids, mask) = (reference["input_ids"], reference["attention_mask"]);
        double ErrorWith(string ropeSettings)
        {
            string dir = CopyFixture("llama");
            try
            {
                string config = Path.Combine(dir, "config.json");
                var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
                json.Remove("rope_parameters");
                foreach (var (k, v) in System.Text.Json.Nodes.JsonNode.Parse(ropeSettings)!.AsObject()) json[k] = v?.DeepClone();
                File.WriteAllText(config, json.ToJsonString());
                using var model = (LlamaForCausalLM)PretrainedModels.LoadCausalLM(dir);
                using var _ = no_grad();
                return MaskedMaxAbs(model.Logits(ids, mask), reference["logits"], mask);
            }
            finally { Directory.Delete(dir, recursive: true); }
        }
        Assert.True(ErrorWith("""{"rope_theta": 10000.0, "rope_scaling": null}""") <= 1e-4);
        Assert.True(ErrorWith("""{"rope_theta": 500000.0}""") > 1e-3);   // the setting is really used
        Assert.True(ErrorWith("""{}""") <= 1e-4);                         // absent: 10000
    }

    [Fact]
    public void UnknownSafetensorsDtypeIsReported()
    {
        string path = Path.Combine(Path.GetTempPath(), $"blob-f8-{Guid.NewGuid():N}.safetensors");
        var header = System.Text.Encoding.UTF8.GetBytes("""{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 1, 2]);
        try
        {
            var e = Assert.Throws<BlobException>(() => SafetensorsFile.Open(path));
            Assert.Contains(Path.GetFileName(path), e.Message);
            Assert.Contains("F8_E4M3", e.Message);
        }
        finally { File.Delete(path); }
    }

    // ---- the writer ------------------------------------------------------------------------------------------------

    [Fact]
    public void SafetensorsWriterRoundTripsAndLeavesNoTemporaryFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"blob-st-{Guid.NewGuid():N}");
        string path = Path.Combine(dir, "adapter.safetensors");
        try
        {
            using var scope = NewDisposeScope();
            var a = randn(3, 5);
            var b = randn(7).to(ScalarType.BFloat16);
            var c = tensor(new long[] { 1, -2, 3 });
            Safetensors.Save(path, [new("a", a), new("b.weight", b), new("c", c)], new Dictionary<string, string> { ["format"] = "pt" });
            Safetensors.Save(path, [new("a", a), new("b.weight", b), new("c", c)]);   // overwrites in place
            Assert.Equal(["adapter.safetensors"], Directory.GetFiles(dir).Select(Path.GetFileName));

            using var file = SafetensorsFile.Open(path);
            Assert.Equal(["a", "b.weight", "c"], file.Entries.Keys);
            Assert.Equal("BF16", file.Entries["b.weight"].Dtype);
            Assert.True(file.Read("a").eq(a).all().item<bool>());
            Assert.True(file.Read("b.weight").eq(b).all().item<bool>());
            Assert.True(file.Read("c").eq(c).all().item<bool>());
            var into = zeros(5, 3);
            file.CopyTo("a", into, transpose: true);
            Assert.True(into.eq(a.t()).all().item<bool>());
            Assert.Throws<BlobException>(() => file.CopyTo("a", zeros(3, 4)));
            Assert.Throws<BlobException>(() => file.Read("missing"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    static double[] Softmax(double[] x)
    {
        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }
}
