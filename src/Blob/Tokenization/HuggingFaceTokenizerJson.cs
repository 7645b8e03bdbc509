using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Blob.Tokenization;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> (what Llama 3 and Qwen2/2.5/3 ship): byte-level BPE models are read into a
/// <see cref="ByteLevelBpeTokenizer"/> with their split regex, added tokens and post-processor template; other
/// models (WordPiece, Unigram, SentencePiece-style BPE) are reported as not supported yet.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    /// <summary>Reads and loads a tokenizer.json; anything it cannot follow is a BlobException naming the file.</summary>
    public static ByteLevelBpeTokenizer Load(string path, TokenizerSettings? settings = null)
    {
        var root = Read(path);
        if (WhyUnsupported(root) is string why) throw new BlobException($"{path}: {why}");
        return FromJson(path, root, settings ?? TokenizerSettings.Empty);
    }

    public static JsonObject Read(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new BlobException($"{path}: expected a JSON object");
        }
        catch (JsonException e) { throw new BlobException($"{path}: not valid JSON ({e.Message})", e); }
    }

    /// <summary>Why this tokenizer.json cannot be loaded here, or null when it is byte-level BPE.</summary>
    public static string? WhyUnsupported(JsonObject root)
    {
        string? type = Text(root["model"]?["type"]);
        if (type != "BPE") return $"{type ?? "untyped"} tokenizer.json models are not supported yet (only byte-level BPE)";
        if (!HasByteLevel(root["pre_tokenizer"]))
            return "BPE without a ByteLevel pre-tokenizer (SentencePiece-style) is not supported yet from tokenizer.json; " +
                   "put tokenizer.model beside it";
        return null;
    }

    internal static ByteLevelBpeTokenizer FromJson(string path, JsonObject root, TokenizerSettings settings)
    {
        BlobException Bad(string problem) => new($"{path}: {problem}");
        var model = root["model"] as JsonObject ?? throw Bad("no \"model\" object");

        var vocab = new Dictionary<string, int>();
        if (model["vocab"] is not JsonObject vocabObject) throw Bad("model.vocab is not an object of token → id");
        foreach (var (token, id) in vocabObject)
            vocab[token] = Int(id) ?? throw Bad($"model.vocab[\"{token}\"] is not an id");

        if (model["merges"] is not JsonArray mergeArray) throw Bad("model.merges is not a list");
        var merges = mergeArray.Select(m => m switch
        {
            JsonArray pair when pair.Count == 2 => $"{Text(pair[0])} {Text(pair[1])}", // newer files: ["a", "b"]
            JsonValue v when Text(v) is string s && s.Split(' ').Length == 2 => s,       // older files: "a b"
            _ => throw Bad($"model.merges has an entry that is not a merge: {m?.ToJsonString()}"),
        }).ToList();

        if (Bool(model["byte_fallback"]) == true) throw Bad("byte_fallback in a byte-level BPE model is not supported");
        if (!string.IsNullOrEmpty(Text(model["continuing_subword_prefix"])) || !string.IsNullOrEmpty(Text(model["end_of_word_suffix"])))
            throw Bad("continuing_subword_prefix / end_of_word_suffix are not supported");

        var added = new List<AddedToken>();
        foreach (var token in root["added_tokens"] as JsonArray ?? [])
            added.Add(new AddedToken(
                Text(token?["content"]) ?? throw Bad("an added_tokens entry has no content"),
                Int(token?["id"]) ?? throw Bad("an added_tokens entry has no id"),
                Bool(token?["special"]) ?? false));

        var (split, addPrefixSpace) = PreTokenizer(root["pre_tokenizer"], Bad);
        var template = Template(root["post_processor"], Bad) ?? EncodingTemplate.None;
        var first = template.Single.FirstOrDefault();
        var defaults = new SpecialTokenIds(first is { Sequence: null, Ids.Length: > 0 } ? first.Ids[0] : null, null, null);

        return new ByteLevelBpeTokenizer(vocab, merges, new ByteLevelBpeOptions
        {
            Split = split,
            AddPrefixSpace = addPrefixSpace,
            IgnoreMerges = Bool(model["ignore_merges"]) ?? false,
            NormalizeNfc = Nfc(root["normalizer"], Bad),
            AddedTokens = added,
            Template = template,
            SpecialIds = settings.Resolve(t => ByteLevelBpeTokenizer.IdOf(vocab, added, t), defaults),
        });
    }

    static bool HasByteLevel(JsonNode? node) => Text(node?["type"]) switch
    {
        "ByteLevel" => true,
        "Sequence" => (node?["pretokenizers"] as JsonArray ?? []).Any(HasByteLevel),
        _ => false,
    };

    // Sequence[Split(regex, Isolated), ByteLevel(use_regex: false)] (Llama 3, Qwen) or ByteLevel(use_regex: true) (GPT-2).
    static (Regex? Split, bool AddPrefixSpace) PreTokenizer(JsonNode? node, Func<string, BlobException> bad)
    {
        string? pattern = null;
        bool addPrefixSpace = false;
        void Walk(JsonNode? n)
        {
            switch (Text(n?["type"]))
            {
                case null: break;
                case "Sequence":
                    foreach (var inner in n!["pretokenizers"] as JsonArray ?? []) Walk(inner);
                    break;
                case "ByteLevel":
                    addPrefixSpace = Bool(n!["add_prefix_space"]) ?? true;
                    if (Bool(n["use_regex"]) ?? true) SetPattern(ByteLevelBpeTokenizer.Gpt2Split.ToString());
                    break;
                case "Split":
                    if (Text(n!["behavior"]) != "Isolated" || Bool(n["invert"]) == true)
                        throw bad($"pre_tokenizer Split with behavior {Text(n["behavior"])} (invert {Bool(n["invert"])}) is not supported");
                    SetPattern(Text(n["pattern"]?["Regex"]) ?? Regex.Escape(Text(n["pattern"]?["String"])
                        ?? throw bad("pre_tokenizer Split has no pattern")));
                    break;
                case string other: throw bad($"pre_tokenizer {other} is not supported");
            }
        }
        void SetPattern(string p)
        {
            if (pattern != null) throw bad("more than one pre_tokenizer split pattern is not supported");
            pattern = p;
        }

        Walk(node);
        try { return (pattern == null ? null : new Regex(pattern, RegexOptions.Compiled), addPrefixSpace); }
        catch (ArgumentException e) { throw bad($"the pre_tokenizer pattern is not a .NET regex ({e.Message})"); }
    }

    static bool Nfc(JsonNode? node, Func<string, BlobException> bad) => Text(node?["type"]) switch
    {
        null => false,
        "NFC" => true,
        "Sequence" => (node!["normalizers"] as JsonArray ?? []).Select(n => Nfc(n, bad)).ToList().Any(b => b),
        string other => throw bad($"normalizer {other} is not supported"),
    };

    // The post-processor: which special tokens go around a text or a pair (null: none).
    static EncodingTemplate? Template(JsonNode? node, Func<string, BlobException> bad)
    {
        int CheckedId(JsonNode? pair) => Int(pair?[1]) ?? throw bad("post_processor cls / sep has no id");
        switch (Text(node?["type"]))
        {
            case null or "ByteLevel": return null;
            case "Sequence":
                return (node!["processors"] as JsonArray ?? []).Select(p => Template(p, bad)).ToList().FirstOrDefault(t => t != null);
            case "RobertaProcessing": return EncodingTemplate.Roberta(CheckedId(node!["cls"]), CheckedId(node["sep"]));
            case "BertProcessing": return EncodingTemplate.Bert(CheckedId(node!["cls"]), CheckedId(node["sep"]));
            case "TemplateProcessing":
                var specials = node!["special_tokens"] as JsonObject ?? [];
                List<EncodingTemplate.Piece> Pieces(JsonNode? list) => (list as JsonArray ?? []).Select(p =>
                {
                    if (p?["Sequence"] is JsonObject s)
                        return new EncodingTemplate.Piece(Text(s["id"]) ?? "A", [], Int(s["type_id"]) ?? 0);
                    if (p?["SpecialToken"] is JsonObject t && Text(t["id"]) is string name && specials[name]?["ids"] is JsonArray ids)
                        return new EncodingTemplate.Piece(null, [.. ids.Select(i => Int(i) ?? throw bad($"special token {name} has a bad id"))],
                            Int(t["type_id"]) ?? 0);
                    throw bad($"post_processor template piece not understood: {p?.ToJsonString()}");
                }).ToList();
                return new EncodingTemplate(Pieces(node["single"]), Pieces(node["pair"]));
            case string other: throw bad($"post_processor {other} is not supported");
        }
    }

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    static bool? Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;
    static int? Int(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? (int)d : null;
}
