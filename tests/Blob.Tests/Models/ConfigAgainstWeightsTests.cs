using System.Text.Json.Nodes;
using Blob.Evaluation;
using Blob.Models;
using Blob.Tests.Cli;
using Blob.Tokenization;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// A model whose config.json and weights disagree, whose weights are not finite, or whose config holds values out of
/// range is refused as it is read, with one line naming the file and the key or tensor; so is a prediction that is not
/// finite. Each case is a copy of the stories260k fixture (tied, llama) or the mistral one (untied) with one change.
/// </summary>
public class ConfigAgainstWeightsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-config-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Copy(string fixture, Action<JsonObject>? config = null, Func<string, Tensor, Tensor?>? weights = null)
    {
        string dir = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Shared.PathOf($"fixtures/{fixture}")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        if (config is not null)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            config(json);
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
        }
        if (weights is not null)
        {
            string path = Path.Combine(dir, Checkpoint.SingleFile);
            var tensors = Safetensors.Load(path);
            Safetensors.Save(path, tensors.Select(t => KeyValuePair.Create(t.Key, weights(t.Key, t.Value)))
                .Where(t => t.Value is not null).Select(t => KeyValuePair.Create(t.Key, t.Value!)));
        }
        return dir;
    }

    static string Refused(string dir) => Assert.Throws<BlobException>(() => PretrainedModels.LoadCausalLM(dir)).Message;

    const string AWeight = "model.layers.0.self_attn.q_proj.weight";

    [SharedFact("fixtures/stories260k")]
    public void NonFiniteOrHugeWeightsAreRefusedNamingTheTensor()
    {
        PretrainedModels.LoadCausalLM(Copy("stories260k")).Module.Dispose(); // the unchanged copy loads
        foreach (var (value, word) in new[] { (float.NaN, "NaN"), (float.PositiveInfinity, "infinite"), (3e38f, "magnitude") })
        {
            var message = Refused(Copy("stories260k", weights: (k, t) => k == AWeight ? t.clone().index_put_(value, 0, 0) : t));
            Assert.Contains(AWeight, message);
            Assert.Contains(word, message);
        }
    }

    [SharedFact("fixtures/stories260k")]
    public void AnIntegerWeightIsRefused()
    {
        var message = Refused(Copy("stories260k", weights: (k, t) => k == AWeight ? t.to(ScalarType.Int32) : t));
        Assert.Contains(AWeight, message);
        Assert.Contains("I32", message);
    }

    [SharedFact("fixtures/stories260k")]
    public void AConfigWithFewerLayersThanTheWeightsIsRefused()
    {
        var message = Refused(Copy("stories260k", c => c["num_hidden_layers"] = 4));
        Assert.Contains("model.layers.4.", message);
        Assert.Contains("not used", message);
    }

    [SharedFact("fixtures/mistral/config.json")]
    public void AnUntiedModelWithoutLmHeadIsRefused()
    {
        PretrainedModels.LoadCausalLM(Copy("mistral")).Module.Dispose();
        var message = Refused(Copy("mistral", weights: (k, t) => k == "lm_head.weight" ? null : t));
        Assert.Contains("lm_head.weight", message);
        Assert.Contains("tie_word_embeddings", message);
    }

    [SharedTheory("fixtures/stories260k")]
    [InlineData("rms_norm_eps", 0.0)]
    [InlineData("rms_norm_eps", -1e-5)]
    [InlineData("rope_theta", 0.0)]
    [InlineData("hidden_size", -64.0)]
    [InlineData("num_hidden_layers", 0.0)]
    [InlineData("intermediate_size", 1e12)]
    [InlineData("vocab_size", 2.5)]
    public void AConfigValueOutOfRangeIsRefusedNamingTheKey(string key, double value)
    {
        var message = Refused(Copy("stories260k", c => c[key] = value));
        Assert.Contains("config.json", message);
        Assert.Contains(key, message);
    }

    [SharedFact("fixtures/stories260k")]
    public void ANestedRopeThetaOfZeroIsRefused() =>
        Assert.Contains("rope_theta", Refused(Copy("stories260k", c => c["rope_parameters"]!["rope_theta"] = 0.0)));

    [SharedFact("fixtures/stories260k")]
    public void ASpecialTokenPastTheVocabularyIsRefused()
    {
        string dir = Copy("stories260k", c => c["bos_token_id"] = 512);
        var message = Assert.Throws<BlobException>(() => TokenizerSettings.Read(dir)).Message;
        Assert.Contains("bos_token_id", message);
        Assert.Contains("config.json", message);
    }

    [Fact]
    public void ANonFinitePredictionStopsTheEvaluationNamingWhere()
    {
        Metrics.RequireFinite([[0.3, 0.7], [0.5, 0.5]], "rte");
        var message = Assert.Throws<BlobException>(() => Metrics.RequireFinite([[0.3, 0.7], [double.NaN, double.NaN]], "rte")).Message;
        Assert.Contains("rte", message);
        Assert.Contains("example 2 of 2", message);
    }

    [SharedFact("fixtures/stories260k")]
    public void ScoreOnAModelWithANaNWeightIsOneLine()
    {
        string dir = Copy("stories260k", weights: (k, t) => k == AWeight ? t.clone().index_put_(float.NaN, 0, 0) : t);
        var r = BlobCli.Run("score", "--model", dir, "--prompt", "Once upon a time", "--choices", "A,B");
        Assert.True(r.Code == 2, r.ToString());
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(AWeight, r.Error);
    }

    [SharedTheory("fixtures/stories260k")]
    [InlineData("hidden_size", 96, "no tensor")]
    [InlineData("intermediate_size", 1048576, "no tensor")]   // within the size range, but 5 layers of it would be 10 GB
    [InlineData("vocab_size", 1000, "no tensor")]
    [InlineData("num_hidden_layers", 1000, "hold 5 layers")]
    public void ConfigSizesAreCheckedAgainstTheStoredShapesBeforeTheModelIsAllocated(string key, int value, string problem)
    {
        string dir = Copy("stories260k", c => c[key] = value);
        var message = Refused(dir);
        Assert.Contains($"{key} is {value}", message);
        Assert.Contains(problem, message);
        Assert.Contains("config and weights disagree", message);
    }

    [SharedFact("fixtures/stories260k")]
    public void AValueOfTheWrongKindIsRefusedNotDefaulted()
    {
        // "false" as a string would read as absent, and the default would decide instead of the file
        Assert.Contains("tie_word_embeddings is \"false\"; expected true or false", Refused(Copy("stories260k", c => c["tie_word_embeddings"] = "false")));
        Assert.Contains("hidden_size is \"64\"; expected a number", Refused(Copy("stories260k", c => c["hidden_size"] = "64")));
        Assert.Contains("rms_norm_eps is true; expected a number", Refused(Copy("stories260k", c => c["rms_norm_eps"] = true)));
    }

    [SharedFact("fixtures/stories260k")]
    public void ARepeatedKeyIsRefused()
    {
        string dir = Copy("stories260k");
        string path = Path.Combine(dir, "config.json");
        File.WriteAllText(path, "{\"num_hidden_layers\": 2, " + File.ReadAllText(path)[1..]);
        Assert.Contains("config.json", Refused(dir));
    }

    [SharedTheory("fixtures/stories260k")]
    [InlineData("rope_theta", 1e-300, "rope_theta")]            // positive, but the rotary frequencies overflow
    [InlineData("num_attention_heads", 5.0, "not a multiple")]   // 64 wide in 5 heads
    [InlineData("num_key_value_heads", 3.0, "not a multiple")]   // 8 query heads cannot share 3
    public void ValuesThatWouldGiveNaNOrANativeShapeErrorAreRefused(string key, double value, string problem)
    {
        var message = Refused(Copy("stories260k", c => c[key] = value));
        Assert.Contains("config.json", message);
        Assert.Contains(problem, message);
    }
}
