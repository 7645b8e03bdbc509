using System.Text.Json.Nodes;
using Blob.Methods;
using Blob.Models;

namespace Blob.Tests.Methods;

/// <summary>
/// A saved adapter must be what its adapter_config.json says: a method section no method knows, two methods' sections,
/// a target_modules entry that names no layer of the model, or a rank that is not a size (0, -8) or not the rank of
/// its tensors is refused, naming the file and the key, before any adapter is allocated.
/// </summary>
public class SavedAdapterClaimsTests
{
    static string Fixture(string name) => Shared.PathOf($"fixtures/{name}");

    /// <summary>Loads a copy of the llama fixture's PEFT adapter with its config edited; the error, or null when it loads.</summary>
    static BlobException? LoadEdited(Action<JsonObject> edit)
    {
        string dir = Directory.CreateTempSubdirectory("blob-claims-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(Path.Combine(Fixture("llama"), "lora_adapter")))
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            string path = Path.Combine(dir, PeftAdapterFormat.ConfigFile);
            var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            edit(config);
            File.WriteAllText(path, config.ToJsonString());
            var model = PretrainedModels.LoadCausalLM(Fixture("llama"));
            try { PeftAdapterFormat.Load(model, dir); return null; }
            catch (BlobException e) { return e; }
        }
        finally { Directory.Delete(dir, true); }
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void AnUnknownMethodSectionIsRefused()
    {
        var e = LoadEdited(c => c["blobb"] = new JsonObject { ["prior_std"] = 0.2 });
        Assert.NotNull(e);
        Assert.Contains(PeftAdapterFormat.ConfigFile, e.Message);
        Assert.Contains("\"blobb\"", e.Message);
        // PEFT's own sections (one per variant, *_config) are not methods: they load
        Assert.Null(LoadEdited(c => c["some_new_variant_config"] = new JsonObject()));
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void TwoMethodsSectionsAreRefused()
    {
        var e = LoadEdited(c =>
        {
            c["blob"] = new JsonObject { ["prior_std"] = 0.2, ["std_parameterization"] = "square" };
            c["bbb"] = new JsonObject { ["prior_std"] = 0.2, ["std_parameterization"] = "softplus" };
        });
        Assert.NotNull(e);
        Assert.Contains(PeftAdapterFormat.ConfigFile, e.Message);
        Assert.Contains("\"blob\"", e.Message);
        Assert.Contains("\"bbb\"", e.Message);
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void ATargetThatMatchesNoLayerIsRefused()
    {
        var e = LoadEdited(c => c["target_modules"] = new JsonArray("q_proj", "v_proj", "lm_head", "qkv_proj"));
        Assert.NotNull(e);
        Assert.Contains(PeftAdapterFormat.ConfigFile, e.Message);
        Assert.Contains("target_modules 'qkv_proj'", e.Message);
        Assert.Null(LoadEdited(c => c["target_modules"] = new JsonArray("q_proj", "v_proj", "lm_head")));
    }

    [SharedTheory("fixtures/llama/lora_adapter")]
    [InlineData("r", -8)]
    [InlineData("r", 0)]
    [InlineData("r", 2147483647)]   // 2147483647 rows of lora_A would be terabytes
    [InlineData("r", 8)]            // a size, but not the rank of the file's tensors (4)
    public void ARankThatIsNotTheTensorsRankIsRefused(string key, int r)
    {
        var e = LoadEdited(c => c[key] = r);
        Assert.NotNull(e);
        Assert.Contains(PeftAdapterFormat.ConfigFile, e.Message);
        Assert.Contains($"\"r\" is {r}", e.Message);
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void ARankPatternEntryIsCheckedAsRIs()
    {
        var zero = LoadEdited(c => c["rank_pattern"] = new JsonObject { ["q_proj"] = 0 });
        Assert.NotNull(zero);
        Assert.Contains("\"rank_pattern.q_proj\" is 0", zero.Message);
        var other = LoadEdited(c => c["rank_pattern"] = new JsonObject { ["v_proj"] = 2 });
        Assert.NotNull(other);
        Assert.Contains("\"rank_pattern.v_proj\" is 2", other.Message);
        Assert.Contains("has 4 rows", other.Message);
        Assert.Null(LoadEdited(c => c["rank_pattern"] = new JsonObject { ["v_proj"] = 4 }));
    }

    [SharedFact("fixtures/llama/lora_adapter")]
    public void AlphaAndDropoutOutOfRangeAndNullListEntriesAreRefused()
    {
        Assert.Contains("\"lora_dropout\" is 1.5", LoadEdited(c => c["lora_dropout"] = 1.5)?.Message);
        Assert.Contains("\"lora_alpha\" is \"8\"", LoadEdited(c => c["lora_alpha"] = "8")?.Message);
        Assert.Contains("\"target_modules\" holds null", LoadEdited(c => c["target_modules"] = new JsonArray("q_proj", null))?.Message);
    }
}
