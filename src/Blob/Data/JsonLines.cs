using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blob.Data;

/// <summary>Reads a jsonl file: one JSON object a line; blank lines are skipped; an empty file is an error.</summary>
public static class JsonLines
{
    public static IEnumerable<JsonRecord> Read(string path)
    {
        bool any = false;
        int last = 1;
        foreach (var (line, text) in TextFile.ReadLines(path))
        {
            last = line;
            if (string.IsNullOrWhiteSpace(text)) continue;
            any = true;
            yield return Parse(text, $"{path}:{line}");
        }
        if (!any) throw new BlobException($"{path}:{last}: no records (empty file)");
    }

    static JsonRecord Parse(string text, string where)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(text); }
        catch (JsonException e) { throw new BlobException($"{where}: malformed JSON ({e.Message})"); }
        return node is JsonObject o ? new JsonRecord(where, o) : throw new BlobException($"{where}: not a JSON object");
    }
}
