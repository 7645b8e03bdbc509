using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace Blob.Data;

/// <summary>
/// Reads a parquet file (as the Hugging Face Hub distributes datasets) into JSON records, one a row, so the same
/// field look-ups serve parquet and jsonl. Nested structs become objects and lists become arrays.
/// </summary>
public static class ParquetRows
{
    public static IReadOnlyList<JsonRecord> Read(string path)
    {
        TextFile.RequireExists(path);
        IList<Dictionary<string, object>> rows;
        try
        {
            using var stream = File.OpenRead(path);
            rows = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult().Data;
        }
        catch (Exception e) when (e is not BlobException)
        {
            throw new BlobException($"{path}: not a readable parquet file ({e.Message})", e);
        }
        if (rows.Count == 0) throw new BlobException($"{path}: no rows (empty file)");
        return rows.Select((row, i) => new JsonRecord($"{path}: row {i + 1}", ToJson(row))).ToList();
    }

    static JsonObject ToJson(Dictionary<string, object> row)
    {
        var o = new JsonObject();
        foreach (var (key, value) in row) o[key] = ToNode(value);
        return o;
    }

    /// <summary>
    /// A parquet value as JSON. Strings inside lists come back as character memory, not string, so they are
    /// converted here rather than by JsonSerializer (which would write them as arrays of one-letter strings).
    /// </summary>
    static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        ReadOnlyMemory<char> m => JsonValue.Create(m.ToString()),
        Memory<char> m => JsonValue.Create(m.ToString()),
        char[] chars => JsonValue.Create(new string(chars)),
        System.Collections.IDictionary d => new JsonObject(d.Keys.Cast<object>()
            .Select(k => KeyValuePair.Create(k.ToString()!, ToNode(d[k])))),
        System.Collections.IEnumerable items => new JsonArray(items.Cast<object?>().Select(ToNode).ToArray()),
        _ => JsonSerializer.SerializeToNode(value),
    };
}
