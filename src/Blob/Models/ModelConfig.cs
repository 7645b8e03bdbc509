using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blob.Models;

/// <summary>
/// A Hugging Face config.json: the model_type and architecture that pick the network, and typed look-ups of the
/// rest. Each model family reads the keys it needs (and their older or newer spellings) through this.
/// </summary>
public sealed class ModelConfig
{
    public string Path { get; }
    public JsonObject Raw { get; }
    public string ModelType => GetString("model_type") ?? "";
    public string? Architecture => Raw["architectures"] is JsonArray a && a.Count > 0 ? a[0]?.GetValue<string>() : null;

    public ModelConfig(string path, JsonObject raw) { Path = path; Raw = raw; }

    /// <summary>Reads DIR/config.json (or the file itself), with a clear error naming the file.</summary>
    public static ModelConfig Load(string dirOrFile)
    {
        string path = Directory.Exists(dirOrFile) ? System.IO.Path.Combine(dirOrFile, "config.json") : dirOrFile;
        if (!File.Exists(path)) throw new BlobException($"{path}: no config.json (a Hugging Face model folder has one)");
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new BlobException($"{path}: config.json is not a JSON object");
            return new ModelConfig(path, node);
        }
        catch (JsonException e) { throw new BlobException($"{path}: config.json is not valid JSON ({e.Message})"); }
    }

    public bool Has(string key) => Raw[key] is not null;

    public string? GetString(string key) => Raw[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public int GetInt(string key, int? fallback = null) => Raw[key] is JsonValue v && v.TryGetValue<double>(out var d)
        ? (int)d : fallback ?? throw Missing(key);

    public int? GetIntOrNull(string key) => Raw[key] is JsonValue v && v.TryGetValue<double>(out var d) ? (int)d : null;

    public double GetDouble(string key, double? fallback = null) => Raw[key] is JsonValue v && v.TryGetValue<double>(out var d)
        ? d : fallback ?? throw Missing(key);

    public bool GetBool(string key, bool fallback) => Raw[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : fallback;

    BlobException Missing(string key) => new($"{Path}: config.json has no '{key}'");
}
