using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blob.Data;

/// <summary>
/// One JSON object from a jsonl line or a parquet row, with where it came from ("path:line" or "path: row N"), and
/// typed look-ups that fail with a message naming that place.
/// </summary>
public sealed record JsonRecord(string Where, JsonObject Fields)
{
    public bool Has(string name) => Fields[name] is not null;

    public JsonNode Node(string name) => Fields[name] ?? throw Error($"missing field \"{name}\"");

    public string String(string name) => Node(name) is JsonValue v && v.GetValueKind() == JsonValueKind.String
        ? v.GetValue<string>()
        : throw Error($"field \"{name}\" is not a string");

    /// <summary>An integer, written as a number or as a numeric string ("1").</summary>
    public int Int(string name) => Node(name) switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out int i) => i,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out long l) => checked((int)l),
        JsonValue v when v.GetValueKind() == JsonValueKind.String && int.TryParse(v.GetValue<string>(), out int s) => s,
        var n => throw Error($"field \"{name}\" is not an integer: {n.ToJsonString()}"),
    };

    public bool Bool(string name) => Node(name) is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
        ? v.GetValue<bool>()
        : throw Error($"field \"{name}\" is not true/false");

    public JsonArray Array(string name) => Node(name) as JsonArray ?? throw Error($"field \"{name}\" is not a list");

    /// <summary>A list of strings (e.g. Hub "choices").</summary>
    public IReadOnlyList<string> Strings(string name) => Array(name)
        .Select(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw Error($"field \"{name}\" holds a non-string item: {n?.ToJsonString() ?? "null"}"))
        .ToList();

    /// <summary>A nested object, as a record at the same place.</summary>
    public JsonRecord Object(string name) =>
        new(Where, Node(name) as JsonObject ?? throw Error($"field \"{name}\" is not an object"));

    /// <summary>Any scalar as text: strings as they are, numbers and true/false as JSON writes them.</summary>
    public string Text(string name) => Node(name) is JsonValue v
        ? v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString()
        : throw Error($"field \"{name}\" is not a single value");

    public BlobException Error(string problem) => new($"{Where}: {problem}");
}
