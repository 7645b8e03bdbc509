using System.Text.Json;
using System.Text.Json.Nodes;

namespace Blob.Tokenization;

/// <summary>The BOS, EOS and pad token ids a tokenizer reports.</summary>
public sealed record SpecialTokenIds(int? Bos, int? Eos, int? Pad)
{
    /// <summary>The pad id the contract asks for: pad token, else EOS, else 0.</summary>
    public int PadOrFallback => Pad ?? Eos ?? 0;
}

/// <summary>
/// What a model folder says about its tokenizer beside the vocabulary: special tokens by name
/// (tokenizer_config.json, then special_tokens_map.json), by id (config.json), and a few flags.
/// </summary>
public sealed class TokenizerSettings
{
    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }
    public int? PadTokenId { get; init; }
    public bool? AddBosToken { get; init; }
    public bool? AddEosToken { get; init; }
    public bool? AddPrefixSpace { get; init; }
    /// <summary>tokenizer_config.json's do_lower_case (BERT's WordPiece).</summary>
    public bool? DoLowerCase { get; init; }
    public string? ModelType { get; init; }
    public string? TokenizerClass { get; init; }
    /// <summary>Tokens declared in tokenizer_config.json's added_tokens_decoder (id → content, special).</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];

    public static readonly TokenizerSettings Empty = new();

    /// <summary>Reads whichever of tokenizer_config.json, special_tokens_map.json and config.json the folder has.</summary>
    public static TokenizerSettings Read(string dir)
    {
        var tokenizerConfig = ReadObject(Path.Combine(dir, "tokenizer_config.json"));
        var specialMap = ReadObject(Path.Combine(dir, "special_tokens_map.json"));
        var config = ReadObject(Path.Combine(dir, "config.json"));
        string? Token(string key) => TokenText(tokenizerConfig?[key]) ?? TokenText(specialMap?[key]);
        // a special token id past the embedding table would index outside it (a native error, not a message)
        int? vocab = FirstInt(config?["vocab_size"]);
        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
            if (FirstInt(config?[key]) is { } id && (id < 0 || vocab is { } v && id >= v))
                throw new BlobException($"{Path.Combine(dir, "config.json")}: {key} is {id}; expected a token id from 0 to vocab_size − 1{(vocab is { } n ? $" ({n - 1})" : "")}");

        return new TokenizerSettings
        {
            BosToken = Token("bos_token"),
            EosToken = Token("eos_token"),
            PadToken = Token("pad_token"),
            BosTokenId = FirstInt(config?["bos_token_id"]),
            EosTokenId = FirstInt(config?["eos_token_id"]),
            PadTokenId = FirstInt(config?["pad_token_id"]),
            AddBosToken = Bool(tokenizerConfig?["add_bos_token"]),
            AddEosToken = Bool(tokenizerConfig?["add_eos_token"]),
            AddPrefixSpace = Bool(tokenizerConfig?["add_prefix_space"]),
            DoLowerCase = Bool(tokenizerConfig?["do_lower_case"]),
            ModelType = Text(config?["model_type"]),
            TokenizerClass = Text(tokenizerConfig?["tokenizer_class"]),
            AddedTokens = AddedTokensDecoder(tokenizerConfig?["added_tokens_decoder"]),
        };
    }

    /// <summary>
    /// Picks each special id: the token named in the tokenizer files (looked up with <paramref name="idOf"/>), else
    /// config.json's id, else what the vocabulary format itself says (<paramref name="defaults"/>).
    /// </summary>
    public SpecialTokenIds Resolve(Func<string, int?> idOf, SpecialTokenIds defaults)
    {
        int? Pick(string? token, int? configId, int? fallback) =>
            (token != null ? idOf(token) : null) ?? configId ?? fallback;
        return new SpecialTokenIds(
            Pick(BosToken, BosTokenId, defaults.Bos),
            Pick(EosToken, EosTokenId, defaults.Eos),
            Pick(PadToken, PadTokenId, defaults.Pad));
    }

    static JsonObject? ReadObject(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new BlobException($"{path}: expected a JSON object");
        }
        catch (JsonException e) { throw new BlobException($"{path}: not valid JSON ({e.Message})", e); }
    }

    // A special token is written as "<s>" or as {"content": "<s>", ...}.
    static string? TokenText(JsonNode? node) => node switch
    {
        JsonObject o => Text(o["content"]),
        _ => Text(node),
    };

    static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static bool? Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    // config.json's eos_token_id may be a list (Llama 3.1); the first is the tokenizer's EOS.
    static int? FirstInt(JsonNode? node) => node switch
    {
        JsonArray a => a.Count > 0 ? FirstInt(a[0]) : null,
        JsonValue v when v.TryGetValue<double>(out var d) => (int)d,
        _ => null,
    };

    static IReadOnlyList<AddedToken> AddedTokensDecoder(JsonNode? node)
    {
        if (node is not JsonObject o) return [];
        var tokens = new List<AddedToken>();
        foreach (var (key, value) in o)
            if (int.TryParse(key, out int id) && TokenText(value) is string content)
                tokens.Add(new AddedToken(content, id, Bool(value?["special"]) ?? true));
        return tokens;
    }
}
