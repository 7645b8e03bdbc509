using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Blob.Tokenization;

/// <summary>How a byte-level BPE tokenizer prepares text and what it adds around it.</summary>
public sealed record ByteLevelBpeOptions
{
    /// <summary>The pre-tokenizer regex: text is cut into its matches (and the gaps between) before merging; null = no cut.</summary>
    public Regex? Split { get; init; } = ByteLevelBpeTokenizer.Gpt2Split;
    /// <summary>Prepend a space to a text that does not start with one (RoBERTa's add_prefix_space).</summary>
    public bool AddPrefixSpace { get; init; }
    /// <summary>A piece that is itself a vocabulary token is taken whole, without merges (Llama 3's ignore_merges).</summary>
    public bool IgnoreMerges { get; init; }
    /// <summary>Unicode NFC normalisation first (Qwen2).</summary>
    public bool NormalizeNfc { get; init; }
    public IReadOnlyList<AddedToken> AddedTokens { get; init; } = [];
    public EncodingTemplate Template { get; init; } = EncodingTemplate.None;
    public SpecialTokenIds SpecialIds { get; init; } = new(null, null, null);
}

/// <summary>
/// Byte-level BPE (GPT-2, RoBERTa, Llama 3, Qwen2/2.5/3): text → added tokens split out → regex pieces → UTF-8 bytes
/// spelled in <see cref="ByteLevelAlphabet"/> → merges. Microsoft.ML.Tokenizers' BpeTokenizer does the merges of
/// each piece; the splitting, added tokens, templates and decoding are here so they follow Hugging Face exactly.
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    /// <summary>GPT-2's pre-tokenizer pattern (also RoBERTa's, and ByteLevel's use_regex).</summary>
    public static readonly Regex Gpt2Split =
        new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);

    readonly BpeTokenizer _bpe;
    readonly IReadOnlyDictionary<string, int> _vocab;
    readonly Dictionary<int, string> _tokenOf;
    readonly Dictionary<int, AddedToken> _added;
    readonly Dictionary<string, int> _addedIdOf;
    readonly Regex? _addedPattern;
    readonly ByteLevelBpeOptions _options;

    public int? BosId => _options.SpecialIds.Bos;
    public int? EosId => _options.SpecialIds.Eos;
    public int PadId => _options.SpecialIds.PadOrFallback;
    public int VocabSize { get; }

    /// <param name="vocab">Token (spelled in the byte alphabet) → id.</param>
    /// <param name="merges">Merge rules "a b", highest priority first.</param>
    public ByteLevelBpeTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<string> merges, ByteLevelBpeOptions options)
    {
        _vocab = vocab;
        _options = options;
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,
            PreTokenizer = WholeText.Instance, // pieces arrive already cut
        });
        _tokenOf = vocab.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        _added = options.AddedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());
        _addedIdOf = options.AddedTokens.GroupBy(t => t.Content).ToDictionary(g => g.Key, g => g.First().Id);
        _addedPattern = options.AddedTokens.Count == 0 ? null : new Regex(
            string.Join("|", options.AddedTokens.Select(t => t.Content).Distinct()
                .OrderByDescending(c => c.Length).Select(Regex.Escape)),
            RegexOptions.CultureInvariant);
        VocabSize = Math.Max(vocab.Count == 0 ? -1 : vocab.Values.Max(), _added.Count == 0 ? -1 : _added.Keys.Max()) + 1;
    }

    /// <summary>An added token's or vocabulary token's id, if there is one.</summary>
    public int? TokenToId(string token) => IdOf(_vocab, _options.AddedTokens, token);

    internal static int? IdOf(IReadOnlyDictionary<string, int> vocab, IEnumerable<AddedToken> added, string token) =>
        added.FirstOrDefault(t => t.Content == token)?.Id ?? (vocab.TryGetValue(token, out int id) ? id : null);

    /// <summary>
    /// GPT-2 / RoBERTa from vocab.json and merges.txt. RoBERTa (config.json model_type "roberta", a Roberta
    /// tokenizer_class, or a vocabulary with &lt;s&gt; and &lt;/s&gt; but no &lt;|endoftext|&gt;) adds &lt;s&gt; … &lt;/s&gt;; GPT-2 adds nothing.
    /// </summary>
    public static ByteLevelBpeTokenizer FromVocabAndMerges(string vocabPath, string mergesPath, TokenizerSettings? settings = null)
    {
        settings ??= TokenizerSettings.Empty;
        var vocab = ReadVocab(vocabPath);
        var merges = ReadMerges(mergesPath);

        bool roberta = settings.ModelType == "roberta"
            || settings.TokenizerClass?.StartsWith("Roberta", StringComparison.Ordinal) == true
            || (settings.ModelType == null && settings.TokenizerClass == null
                && vocab.ContainsKey("<s>") && vocab.ContainsKey("</s>") && !vocab.ContainsKey("<|endoftext|>"));
        string[] knownSpecials = roberta ? ["<s>", "</s>", "<pad>", "<unk>", "<mask>"] : ["<|endoftext|>"];
        var added = settings.AddedTokens.ToList();
        foreach (var token in knownSpecials.Concat(new[] { settings.BosToken, settings.EosToken, settings.PadToken }.OfType<string>()))
            if (vocab.TryGetValue(token, out int id) && added.All(t => t.Content != token))
                added.Add(new AddedToken(token, id, Special: true));

        int? Vocab(string token) => vocab.TryGetValue(token, out int id) ? id : null;
        var defaults = roberta
            ? new SpecialTokenIds(Vocab("<s>"), Vocab("</s>"), Vocab("<pad>"))
            : new SpecialTokenIds(Vocab("<|endoftext|>"), Vocab("<|endoftext|>"), null);
        var ids = settings.Resolve(t => IdOf(vocab, added, t), defaults);

        EncodingTemplate template;
        if (roberta)
        {
            if (ids.Bos is not int cls || ids.Eos is not int sep)
                throw new BlobException($"{vocabPath}: a RoBERTa vocabulary needs <s> and </s>");
            template = EncodingTemplate.Roberta(cls, sep);
        }
        else template = settings.AddBosToken == true ? EncodingTemplate.Llama(ids.Bos, null) : EncodingTemplate.None;

        return new ByteLevelBpeTokenizer(vocab, merges, new ByteLevelBpeOptions
        {
            AddPrefixSpace = settings.AddPrefixSpace ?? false,
            AddedTokens = added,
            Template = template,
            SpecialIds = ids,
        });
    }

    public TokenizedText Encode(string text, string? pair = null, bool addSpecialTokens = true, int? maxLength = null) =>
        _options.Template.Apply(Tokens(text), pair == null ? null : Tokens(pair), addSpecialTokens, maxLength);

    int[] Tokens(string text)
    {
        var ids = new List<int>();
        int start = 0;
        if (_addedPattern != null)
            foreach (Match m in _addedPattern.Matches(text))
            {
                Segment(text[start..m.Index], ids);
                ids.Add(_addedIdOf[m.Value]);
                start = m.Index + m.Length;
            }
        Segment(text[start..], ids);
        return [.. ids];
    }

    // Ordinary text between added tokens: normalise, cut into pieces, merge each.
    void Segment(string text, List<int> ids)
    {
        if (text.Length == 0) return;
        if (_options.NormalizeNfc) text = text.Normalize(NormalizationForm.FormC);
        if (_options.AddPrefixSpace && text[0] != ' ') text = " " + text;
        if (_options.Split == null) { Piece(text, ids); return; }

        int end = 0;
        foreach (var m in _options.Split.EnumerateMatches(text))
        {
            if (m.Index > end) Piece(text[end..m.Index], ids); // a gap the pattern did not match stays a piece
            Piece(text.Substring(m.Index, m.Length), ids);
            end = m.Index + m.Length;
        }
        if (end < text.Length) Piece(text[end..], ids);
    }

    void Piece(string piece, List<int> ids)
    {
        if (piece.Length == 0) return;
        if (_options.IgnoreMerges && _vocab.TryGetValue(ByteLevelAlphabet.Spell(piece), out int whole)) ids.Add(whole);
        else ids.AddRange(_bpe.EncodeToIds(piece));
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        void Flush() { text.Append(Encoding.UTF8.GetString([.. bytes])); bytes.Clear(); }

        foreach (int id in ids)
        {
            if (_added.TryGetValue(id, out var added))
            {
                if (added.Special && skipSpecialTokens) continue;
                Flush();
                text.Append(added.Content);
            }
            else if (_tokenOf.TryGetValue(id, out var token)) ByteLevelAlphabet.AppendBytes(token, bytes);
            // ids beyond the vocabulary (models often pad their embedding table) decode to nothing, as in Hugging Face.
        }
        Flush();
        return text.ToString();
    }

    static Dictionary<string, int> ReadVocab(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(path))
                ?? throw new BlobException($"{path}: expected a JSON object of token → id");
        }
        catch (JsonException e) { throw new BlobException($"{path}: not a vocabulary of token → id ({e.Message})", e); }
    }

    static List<string> ReadMerges(string path)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version"))) continue;
            if (line.Split(' ').Length != 2) throw new BlobException($"{path}: line {lineNumber} is not a merge \"a b\": {line}");
            merges.Add(line);
        }
        return merges;
    }

    /// <summary>Hands the whole text to the BPE model as one word (the pieces are cut before).</summary>
    sealed class WholeText : PreTokenizer
    {
        public static readonly WholeText Instance = new();

        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
            string.IsNullOrEmpty(text) ? [] : [(0, text.Length)];

        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
            text.IsEmpty ? [] : [(0, text.Length)];
    }
}
