using System.Diagnostics;
using System.Text.Json.Nodes;
using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// Thousands of damaged copies of a model's config.json and of an adapter's adapter_config.json (fixed seed): keys
/// dropped, values of the wrong type, negative, zero, fractional or huge numbers, unknown enum strings, repeated keys
/// and broken JSON. Each case must end in a correct load or in exactly one BlobException of one line naming the case's
/// folder; any other exception type fails it. A model that loads must also predict finite logits.
/// </summary>
public class ConfigFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-config-fuzz").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Values that a typed reader might mistake: other types, sizes out of range, strings no enum has.</summary>
    static readonly JsonNode?[] Values =
    [
        null, "", "abc", "64", "true", true, false, new JsonArray(), new JsonArray(1, 2), new JsonObject(),
        new JsonObject { ["rope_theta"] = 0 }, new JsonObject { ["rope_theta"] = 1e-300 }, new JsonObject { ["rope_type"] = 5 },
        new JsonObject { ["type"] = "linear", ["factor"] = 0 }, new JsonObject { ["rope_type"] = "llama3", ["factor"] = "8" }, 0, -1, -8, 1, 2, 3, 0.5, -0.5, 1e-300, 1e12, 2147483647, 2147483648L,
        4294967296L, -2147483649L, 1e308, 9.3e18, "llama", "gpt2", "bert", "mistral", "silu", "gelu", "relu", "tanh",
        "gelu_new", "relative_key", "dynamic", "linear", "float16", "LORA", "PROMPT_TUNING", "none", "all",
    ];

    /// <summary>One to three random changes to the values, then, one time in four, one to the JSON text itself.</summary>
    static (string Text, string What) Mutate(JsonObject original, string[] keys, Random rng)
    {
        var json = original.DeepClone().AsObject();
        var what = new List<string>();
        int steps = rng.Next(1, 4);
        for (int s = 0; s < steps; s++)
        {
            var present = json.Select(p => p.Key).ToArray();
            string key = rng.Next(3) == 0 || present.Length == 0 ? keys[rng.Next(keys.Length)] : present[rng.Next(present.Length)];
            switch (rng.Next(7))
            {
                case 0 or 1:
                    json.Remove(key);
                    what.Add($"drop {key}");
                    break;
                case 2 or 3 or 4 or 5:
                    var value = Values[rng.Next(Values.Length)]?.DeepClone();
                    json[key] = value;
                    what.Add($"{key} = {value?.ToJsonString() ?? "null"}");
                    break;
                default:
                    // a number nudged: off by one, negated, doubled, scaled by 1000, halved
                    if (json[key] is JsonValue v && v.TryGetValue<double>(out double d))
                    {
                        double[] nudged = [d + 1, d - 1, -d, 2 * d, 1000 * d, d / 2];
                        json[key] = nudged[rng.Next(nudged.Length)];
                        what.Add($"{key} = {json[key]!.ToJsonString()}");
                    }
                    break;
            }
        }
        string text = json.ToJsonString();
        if (rng.Next(4) == 0)
        {
            int at = rng.Next(text.Length);
            string key = keys[rng.Next(keys.Length)];
            (text, string change) = rng.Next(4) switch
            {
                0 => (text[..at], $"cut at {at}"),
                1 => (text.Remove(at, 1), $"char {at} deleted"),
                2 => ($"{{\"{key}\": 1, " + text[1..], $"{key} repeated"),
                _ => (text.Insert(at, "{}[],:\"0-.e "[rng.Next(12)].ToString()), $"char inserted at {at}"),
            };
            what.Add(change);
        }
        return (text, string.Join("; ", what));
    }

    /// <summary>
    /// Runs the cases against one fixture: each writes the mutated file into a copy of it and calls load; the outcomes
    /// are tallied, and any that is neither a load nor one one-line BlobException naming the folder is reported.
    /// </summary>
    void Fuzz(string fixture, string file, string[] keys, int cases, int seed, Action<string> load)
    {
        string dir = Path.Combine(_dir, fixture.Replace('/', '-'));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Shared.PathOf($"fixtures/{fixture}")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        string path = Path.Combine(dir, file);
        var original = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        load(dir);   // the unchanged copy loads

        var rng = new Random(seed);
        var failures = new List<string>();
        int loaded = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < cases; i++)
        {
            var (text, what) = Mutate(original, keys, rng);
            File.WriteAllText(path, text);
            try
            {
                load(dir);
                loaded++;
            }
            catch (BlobException e) when (!e.Message.Contains('\n') && !e.Message.Contains('\r') && e.Message.Contains(dir))
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({what}): {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        File.WriteAllText(path, original.ToJsonString());
        output.WriteLine($"{fixture}/{file}: {cases} cases in {clock.Elapsed.TotalSeconds:F2} s: {loaded} loaded, {refused} refused, {failures.Count} failed");
        foreach (var f in failures.Take(20)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases failed; the first: {failures.FirstOrDefault()}");
        Assert.True(loaded > 0 && refused > 0, $"{loaded} loaded, {refused} refused: the mutations should produce both");
    }

    /// <summary>Loads the model and runs a short input through it: the logits must be finite.</summary>
    static void LoadAndPredict(string dir)
    {
        using var scope = NewDisposeScope();
        var model = PretrainedModels.Load(dir);
        using var ids = tensor(new long[,] { { 1, 5, 9, 2 } });
        using var mask = ones_like(ids);
        var logits = model switch
        {
            ICausalLanguageModel lm => lm.Logits(ids, mask),
            ISequenceClassifier classifier => classifier.Logits(ids, mask),
            var other => throw new Exception($"loaded as {other.GetType().Name}, which this test cannot run"),
        };
        if (!logits.isfinite().all().item<bool>()) throw new Exception("loaded, but the logits are not finite");
        model.Module.Dispose();
    }

    static readonly string[] ModelKeys =
    [
        "model_type", "architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
        "num_key_value_heads", "head_dim", "hidden_act", "rms_norm_eps", "rope_theta", "rope_scaling", "rope_parameters",
        "tie_word_embeddings", "attention_bias", "mlp_bias", "max_position_embeddings", "bos_token_id", "eos_token_id",
        "pad_token_id", "n_embd", "n_layer", "n_head", "n_inner", "n_positions", "activation_function", "layer_norm_epsilon",
        "layer_norm_eps", "type_vocab_size", "position_embedding_type", "hidden_dropout_prob", "num_labels", "id2label",
        "sliding_window", "use_sliding_window",
    ];

    [SharedTheory("fixtures/stories260k", "fixtures/gpt2", "fixtures/bert")]
    [InlineData("stories260k", 1)]
    [InlineData("gpt2", 2)]
    [InlineData("bert", 3)]
    public void DamagedModelConfigsLoadCorrectlyOrAreRefusedOnOneLine(string fixture, int seed) =>
        Fuzz(fixture, "config.json", ModelKeys, cases: 400, seed, LoadAndPredict);

    static readonly string[] AdapterKeys =
    [
        "peft_type", "r", "lora_alpha", "lora_dropout", "target_modules", "rank_pattern", "alpha_pattern", "modules_to_save",
        "use_rslora", "use_dora", "bias", "fan_in_fan_out", "layers_to_transform", "exclude_modules", "blob", "bbb",
        "mc_dropout", "tfb", "task_type",
    ];

    [SharedFact("fixtures/llama/lora_adapter")]
    public void DamagedAdapterConfigsLoadCorrectlyOrAreRefusedOnOneLine()
    {
        // one model for every case: after each, its adapters are taken out again
        var model = PretrainedModels.LoadCausalLM(Shared.PathOf("fixtures/llama"));
        var layers = AdapterInjection.LinearLayers(model.Module).Select(l => l.Layer).ToList();
        Fuzz("llama/lora_adapter", PeftAdapterFormat.ConfigFile, AdapterKeys, cases: 2000, seed: 4, dir =>
        {
            try
            {
                var adapted = PeftAdapterFormat.Load(model, dir);
                if (adapted.Count == 0) throw new Exception("loaded, but no layer is adapted");
            }
            finally
            {
                foreach (var layer in layers) layer.Adapter = null;
            }
        });
    }
}
