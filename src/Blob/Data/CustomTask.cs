using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blob.Data;

/// <summary>
/// A user's own task: a jsonl or csv file (with a header) and a small JSON mapping from its fields, e.g.
/// {"text": "premise", "text_pair": "hypothesis", "label": "label", "labels": ["yes", "no"]} for sentence(-pair)
/// classification, or {"text": "question", "choices": ["opt1", "opt2", "opt3"], "label": "answer"} (or "choices":
/// "field_with_a_list") for a multiple-choice prompt in the Table 6 template, answered by the letters A, B, ....
/// A label value matches one of "labels" (for choices the default is the letters), else is taken as a 0-based index.
/// </summary>
public static class CustomTask
{
    public static TaskData Load(string mappingPath, string trainPath, string evalPath)
    {
        var map = Mapping.Read(mappingPath);
        var name = map.Name ?? Path.GetFileNameWithoutExtension(trainPath); // not the mapping's file name: "map" reads as the MAP method
        var (train, eval) = (Read(map, trainPath), Read(map, evalPath));
        if (!map.IsMultipleChoice) return new TaskData(name, TaskKind.SequenceClassification, map.Labels!, train, eval);
        int letters = train.Concat(eval).Max(e => e.Choices!.Count);
        return new TaskData(name, TaskKind.MultipleChoice, Prompts.Letters.Take(letters).ToList(), train, eval);
    }

    static List<Example> Read(Mapping map, string path) => Records(path).Select((r, i) => map.ToExample(r, i)).ToList();

    /// <summary>jsonl lines, or csv rows as records of strings keyed by the header.</summary>
    internal static IEnumerable<JsonRecord> Records(string path) =>
        Path.GetExtension(path).Equals(".csv", StringComparison.OrdinalIgnoreCase)
            ? Csv.Read(path, hasHeader: true).Select(r => new JsonRecord(r.Where, CsvObject(r)))
            : JsonLines.Read(path);

    static JsonObject CsvObject(Row row)
    {
        var o = new JsonObject();
        foreach (var (column, i) in row.Columns!)
            if (i < row.Cells.Count) o[column] = row.Cells[i];
        return o;
    }

    /// <summary>The mapping file, checked when read.</summary>
    sealed record Mapping(string Where, string? Name, string Text, string? TextPair, string Label,
        IReadOnlyList<string>? Labels, IReadOnlyList<string>? ChoiceFields, string? ChoicesField)
    {
        public bool IsMultipleChoice => ChoiceFields is not null || ChoicesField is not null;

        public static Mapping Read(string path)
        {
            JsonObject o;
            string text = TextFile.ReadAll(path);
            var strict = new JsonDocumentOptions { AllowDuplicateProperties = false };   // a second "text" would replace the first
            try { o = JsonNode.Parse(text, documentOptions: strict) as JsonObject ?? throw new BlobException($"{path}: not a JSON object"); }
            catch (JsonException e)
            {
                // the parser reports a repeated key without its line: find it
                if (e.LineNumber is null && LineOfDuplicateKey(text) is { } dup)
                    throw new BlobException($"{path}:{dup.Line}: the key \"{dup.Key}\" is given twice");
                throw new BlobException($"{path}:{e.LineNumber + 1}: malformed JSON mapping ({e.Message})");
            }
            var r = new JsonRecord(path, o);
            var choices = o["choices"];
            var map = new Mapping(path, r.Has("name") ? r.String("name") : null, r.String("text"),
                r.Has("text_pair") ? r.String("text_pair") : null, r.String("label"),
                r.Has("labels") ? r.Strings("labels") : null,
                choices is JsonArray ? r.Strings("choices") : null,
                choices is JsonValue ? r.String("choices") : null);
            if (!map.IsMultipleChoice && map.Labels is not { Count: >= 2 })
                throw new BlobException($"{path}: \"labels\" must list at least two label names (or give \"choices\")");
            if (map.IsMultipleChoice && map.TextPair is not null)
                throw new BlobException($"{path}: \"text_pair\" cannot be combined with \"choices\"");
            // a label named twice: the data's "yes" would always read as the first, and the second class never occur
            if (map.Labels?.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1)?.Key is { } twice)
                throw new BlobException($"{path}:{LineOfSecond(text, "labels", twice)}: \"labels\" lists \"{twice}\" twice; each class needs its own name");
            return map;
        }

        /// <summary>The 1-based line of the second time VALUE appears in the top-level array KEY of the JSON text.</summary>
        static int LineOfSecond(string text, string key, string value)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            var reader = new Utf8JsonReader(bytes);
            bool inArray = false;
            int seen = 0;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1) inArray = reader.ValueTextEquals(key);
                else if (inArray && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(value) && ++seen == 2)
                    return LineAt(bytes, reader.TokenStartIndex);
            }
            return 1;
        }

        /// <summary>The first key an object of the JSON text repeats, and the 1-based line of its second use.</summary>
        static (string Key, int Line)? LineOfDuplicateKey(string text)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            var reader = new Utf8JsonReader(bytes);
            var objects = new Stack<HashSet<string>>();
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.StartObject) objects.Push([]);
                    else if (reader.TokenType == JsonTokenType.EndObject) objects.Pop();
                    else if (reader.TokenType == JsonTokenType.PropertyName && !objects.Peek().Add(reader.GetString()!))
                        return (reader.GetString()!, LineAt(bytes, reader.TokenStartIndex));
                }
            }
            catch (JsonException) { }
            return null;
        }

        static int LineAt(byte[] bytes, long offset) => 1 + bytes.AsSpan(0, (int)offset).Count((byte)'\n');

        public Example ToExample(JsonRecord r, int index)
        {
            if (!IsMultipleChoice)
                return new Example($"{index}", r.Text(Text), TextPair is null ? null : r.Text(TextPair), LabelOf(r, Labels!, Labels!.Count));
            var options = Options(r);
            var names = Labels ?? Prompts.Letters.Take(options.Count).ToList();
            return new ChoiceQuestion($"{index}", r.Text(Text), options, LabelOf(r, names, options.Count)).ToExample();
        }

        IReadOnlyList<string> Options(JsonRecord r)
        {
            var options = ChoicesField is not null ? r.Strings(ChoicesField) : ChoiceFields!.Select(r.Text).ToList();
            if (options.Count < 2 || options.Count > Prompts.Letters.Count)
                throw r.Error($"{options.Count} choices (2 to {Prompts.Letters.Count} supported)");
            return options;
        }

        /// <summary>The label's position among names, else a 0-based index below count.</summary>
        int LabelOf(JsonRecord r, IReadOnlyList<string> names, int count)
        {
            var value = r.Text(Label).Trim();
            int i = names.ToList().IndexOf(value);
            if (i >= 0 && i < count) return i;
            if (int.TryParse(value, out int n) && n >= 0 && n < count) return n;
            throw r.Error($"unknown label \"{value}\" (expected one of {string.Join(", ", names.Take(count))} or an index below {count})");
        }
    }
}
