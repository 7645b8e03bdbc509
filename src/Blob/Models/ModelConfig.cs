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
            // a repeated key is refused: which of its values counts would be the parser's choice, not the file's
            var strict = new JsonDocumentOptions { AllowDuplicateProperties = false };
            var node = JsonNode.Parse(File.ReadAllText(path), documentOptions: strict) as JsonObject
                ?? throw new BlobException($"{path}: config.json is not a JSON object");
            return new ModelConfig(path, node);
        }
        catch (JsonException e) { throw new BlobException($"{path}: config.json is not valid JSON ({e.Message})"); }
    }

    public bool Has(string key) => Raw[key] is not null;

    // The typed look-ups: a key that is absent or null takes the fallback; a single value of another kind ("64" where
    // a number belongs, "false" where true/false does) is refused, since a fallback in its place would misread the file.
    // Lists and objects are left to the caller (eos_token_id may be a list).

    public string? GetString(string key) => Scalar(key, JsonValueKind.String, "a string") is { } v ? v.GetValue<string>() : null;

    public int GetInt(string key, int? fallback = null) => Number(key) is { } d ? CheckedInt(key, d) : fallback ?? throw Missing(key);

    public int? GetIntOrNull(string key) => Number(key) is { } d ? CheckedInt(key, d) : null;

    public double GetDouble(string key, double? fallback = null) => Number(key) is { } d ? CheckedDouble(key, d) : fallback ?? throw Missing(key);

    /// <summary>A number, or null where the key is absent or null; 1e400 (beyond a double) is refused.</summary>
    double? Number(string key) => Scalar(key, JsonValueKind.Number, "a number") is not { } v ? null
        : v.TryGetValue<double>(out double d) && double.IsFinite(d) ? d : throw new BlobException($"{Path}: {key} is {v.ToJsonString()}; expected a finite number");

    /// <summary>The key's value when it is a single value of the given kind; null when absent, null, a list or an object.</summary>
    JsonValue? Scalar(string key, JsonValueKind kind, string expected)
    {
        if (Raw[key] is not JsonValue v || v.GetValueKind() == JsonValueKind.Null) return null;
        bool matches = v.GetValueKind() == kind || kind == JsonValueKind.True && v.GetValueKind() == JsonValueKind.False;
        return matches ? v : throw new BlobException($"{Path}: {key} is {v.ToJsonString()}; expected {expected}");
    }

    /// <summary>Sizes a network is built from: at least 1, and small enough that a mistyped one is not a terabyte allocation.</summary>
    static readonly HashSet<string> Sizes = ["vocab_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_size",
        "num_key_value_heads", "n_layer", "n_head", "n_embd", "n_inner", "head_dim", "type_vocab_size", "num_labels", "sliding_window"];
    static readonly HashSet<string> Lengths = ["max_position_embeddings", "n_positions"];
    /// <summary>Epsilons and the rotary base: above 0, or every normalisation or position divides by zero.</summary>
    static readonly HashSet<string> PositiveReals = ["rope_theta", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon"];
    static readonly HashSet<string> Probabilities = ["classifier_dropout", "hidden_dropout_prob", "attention_probs_dropout_prob"];
    static readonly HashSet<string> TokenIds = ["pad_token_id", "bos_token_id", "eos_token_id"];

    int CheckedInt(string key, double d)
    {
        if (d != Math.Floor(d) || d < int.MinValue || d > int.MaxValue) throw OutOfRange(key, d, "a whole number");
        if (Sizes.Contains(key) && !(d >= 1 && d <= 1 << 20)) throw OutOfRange(key, d, "a size from 1 to 1048576");
        if (Lengths.Contains(key) && !(d >= 1 && d <= 1 << 24)) throw OutOfRange(key, d, "a length from 1 to 16777216");
        if (TokenIds.Contains(key) && (d < 0 || GetIntOrNull("vocab_size") is { } vocab && d >= vocab))
            throw OutOfRange(key, d, $"a token id from 0 to vocab_size − 1 ({(GetIntOrNull("vocab_size") ?? 0) - 1})");
        return (int)d;
    }

    double CheckedDouble(string key, double d)
    {
        if (!double.IsFinite(d)) throw OutOfRange(key, d, "a finite number");
        if (PositiveReals.Contains(key) && !(d > 0)) throw OutOfRange(key, d, "a number above 0");
        if (Probabilities.Contains(key) && !(d >= 0 && d < 1)) throw OutOfRange(key, d, "a probability in [0, 1)");
        if (Sizes.Contains(key) || Lengths.Contains(key) || TokenIds.Contains(key)) return CheckedInt(key, d);
        return d;
    }

    BlobException OutOfRange(string key, double value, string expected) =>
        new($"{Path}: {key} is {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}; expected {expected}");

    public bool GetBool(string key, bool fallback) => Scalar(key, JsonValueKind.True, "true or false") is { } v ? v.GetValue<bool>() : fallback;

    BlobException Missing(string key) => new($"{Path}: config.json has no '{key}'");
}
