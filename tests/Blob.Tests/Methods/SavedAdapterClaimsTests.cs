using System.Text.Json.Nodes;
using Blob.Methods;
using Blob.Models;

namespace Blob.Tests.Methods;

/// <summary>
/// A saved adapter must be what its adapter_config.json says: a method section no method knows, two methods' sections,
/// or a target_modules entry that names no layer of the model is refused, naming the file and the key.
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
}
