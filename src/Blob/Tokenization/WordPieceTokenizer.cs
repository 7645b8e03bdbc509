using System.Globalization;
using System.Text;

namespace Blob.Tokenization;

/// <summary>
/// BERT's tokenizer, as Hugging Face's BertTokenizer: a basic tokenizer (clean text, split CJK characters, NFC,
/// lower-case and strip accents when uncased, split on whitespace and punctuation) followed by greedy
/// longest-match-first WordPiece with "##" continuations. Encodes "[CLS] a [SEP]" or "[CLS] a [SEP] b [SEP]" with
/// token type ids 0 for the first segment and 1 for the second. Special tokens written in the text ("[SEP]") are
/// kept whole, as Hugging Face does.
/// </summary>
public sealed class WordPieceTokenizer : ITextTokenizer
{
    const int MaxCharsPerWord = 100;
    static readonly string[] SpecialTokens = ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"];

    readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
    readonly string[] _tokens;
    readonly bool _lowercase;

    public int ClsId { get; }
    public int SepId { get; }
    public int UnkId { get; }
    public int PadId { get; }
    public int? BosId => null;
    public int? EosId => null;
    public int VocabSize => _tokens.Length;

    /// <param name="vocab">The tokens of vocab.txt, one per line; a token's id is its line number.</param>
    /// <param name="lowercase">True for uncased models: lower-case and strip accents.</param>
    /// <param name="source">Named in errors (the vocab file).</param>
    public WordPieceTokenizer(IReadOnlyList<string> vocab, bool lowercase = true, string source = "vocab.txt")
    {
        _tokens = vocab.ToArray();
        for (int i = 0; i < _tokens.Length; i++) _vocab[_tokens[i]] = i;
        _lowercase = lowercase;
        int Required(string token) => _vocab.TryGetValue(token, out int id) ? id
            : throw new BlobException($"{source}: the vocabulary has no {token} token (is it a WordPiece vocab.txt?)");
        ClsId = Required("[CLS]");
        SepId = Required("[SEP]");
        UnkId = Required("[UNK]");
        PadId = Required("[PAD]");
    }

    /// <summary>Reads a vocab.txt (one token a line).</summary>
    public static WordPieceTokenizer FromFile(string path, bool lowercase = true)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: vocabulary file not found");
        return FromStream(File.OpenRead(path), lowercase, path);
    }

    public static WordPieceTokenizer FromStream(Stream stream, bool lowercase, string source)
    {
        var lines = new List<string>();
        using (var reader = new StreamReader(stream, Encoding.UTF8))
            while (reader.ReadLine() is { } line) lines.Add(line);
        return new WordPieceTokenizer(lines, lowercase, source);
    }

    public TokenizedText Encode(string text, string? pair = null, bool addSpecialTokens = true, int? maxLength = null)
    {
        var a = Tokenize(text);
        var b = pair is null ? null : Tokenize(pair);
        if (maxLength is int max)
        {
            int special = addSpecialTokens ? (b is null ? 2 : 3) : 0;
            TruncateLongestFirst(a, b, Math.Max(0, max - special));
        }
        if (!addSpecialTokens)
        {
            var plain = b is null ? a : [.. a, .. b];
            return new TokenizedText(plain.ToArray(), new int[plain.Count]);
        }
        var ids = new List<int> { ClsId };
        ids.AddRange(a);
        ids.Add(SepId);
        var types = Enumerable.Repeat(0, ids.Count).ToList();
        if (b is not null)
        {
            ids.AddRange(b);
            ids.Add(SepId);
            types.AddRange(Enumerable.Repeat(1, b.Count + 1));
        }
        return new TokenizedText(ids.ToArray(), types.ToArray());
    }

    /// <summary>Word-piece ids of a text, without special tokens around it.</summary>
    public List<int> Tokenize(string text)
    {
        var ids = new List<int>();
        foreach (var (piece, specialId) in SplitOnSpecialTokens(text))
        {
            if (specialId is int id) { ids.Add(id); continue; }
            foreach (var word in BasicTokenize(piece)) WordPiece(word, ids);
        }
        return ids;
    }

    /// <summary>Hugging Face's "longest_first": remove one token at a time from the longer sequence (the pair on ties).</summary>
    static void TruncateLongestFirst(List<int> a, List<int>? b, int budget)
    {
        while (a.Count + (b?.Count ?? 0) > budget)
        {
            if (b is null || a.Count > b.Count) a.RemoveAt(a.Count - 1);
            else b.RemoveAt(b.Count - 1);
        }
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var tokens = ids.Where(id => id >= 0 && id < _tokens.Length)
            .Select(id => _tokens[id])
            .Where(t => !(skipSpecialTokens && SpecialTokens.Contains(t)));
        string text = string.Join(' ', tokens).Replace(" ##", "");
        // transformers' clean_up_tokenization
        foreach (var (from, to) in new[] { (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                     (" n't", "n't"), (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re") })
            text = text.Replace(from, to);
        return text.Trim();
    }

    /// <summary>Pieces of text between special tokens, and the special tokens themselves (with their id).</summary>
    IEnumerable<(string Text, int? SpecialId)> SplitOnSpecialTokens(string text)
    {
        int start = 0;
        while (true)
        {
            int at = -1;
            string? found = null;
            foreach (var s in SpecialTokens)
            {
                if (!_vocab.ContainsKey(s)) continue;
                int i = text.IndexOf(s, start, StringComparison.Ordinal);
                if (i >= 0 && (at < 0 || i < at)) { at = i; found = s; }
            }
            if (found is null) { yield return (text[start..], null); yield break; }
            yield return (text[start..at], null);
            yield return (found, _vocab[found]);
            start = at + found.Length;
        }
    }

    // ---- the basic tokenizer (transformers' BasicTokenizer) ----

    /// <summary>Words and punctuation marks of a text, lower-cased and without accents when uncased.</summary>
    IEnumerable<string> BasicTokenize(string text)
    {
        var cleaned = new StringBuilder(text.Length);
        foreach (var r in text.EnumerateRunes())
        {
            if (r.Value == 0 || r.Value == 0xFFFD || IsControl(r)) continue;
            if (IsWhitespace(r)) cleaned.Append(' ');
            else if (IsCjk(r.Value)) cleaned.Append(' ').Append(r.ToString()).Append(' ');
            else cleaned.Append(r.ToString());
        }
        string normalized = cleaned.ToString().Normalize(NormalizationForm.FormC);
        foreach (var word in normalized.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string w = _lowercase ? StripAccents(PythonLower(word)) : word;
            foreach (var part in SplitOnPunctuation(w)) yield return part;
        }
    }

    static IEnumerable<string> SplitOnPunctuation(string word)
    {
        var current = new StringBuilder();
        foreach (var r in word.EnumerateRunes())
        {
            if (!IsPunctuation(r)) { current.Append(r.ToString()); continue; }
            if (current.Length > 0) { yield return current.ToString(); current.Clear(); }
            yield return r.ToString();
        }
        if (current.Length > 0) yield return current.ToString();
    }

    /// <summary>
    /// Python's str.lower(), which Hugging Face uses: .NET's invariant lower-casing plus what it lacks, the full
    /// mapping of İ (U+0130 → "i̇") and the final sigma (Σ → ς at the end of a word; Unicode's Final_Sigma rule with
    /// case-ignorable characters approximated by marks, format characters, modifiers and apostrophes).
    /// </summary>
    static string PythonLower(string word)
    {
        if (word.Contains('Σ'))
        {
            var chars = word.ToCharArray();
            for (int i = 0; i < chars.Length; i++)
                if (chars[i] == 'Σ' && IsCasedNeighbour(word, i, -1) && !IsCasedNeighbour(word, i, +1)) chars[i] = 'ς';
            word = new string(chars);
        }
        return word.Replace("İ", "i̇").ToLowerInvariant();
    }

    /// <summary>Whether the nearest character before (step -1) or after (+1) position i, skipping case-ignorable ones, is cased.</summary>
    static bool IsCasedNeighbour(string word, int i, int step)
    {
        for (int j = i + step; j >= 0 && j < word.Length; j += step)
        {
            char c = word[j];
            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
                or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol || c is '\'' or '’' or '.' or ':' or '·')
                continue;
            return char.IsUpper(c) || char.IsLower(c) || category == UnicodeCategory.TitlecaseLetter;
        }
        return false;
    }

    /// <summary>NFD, then drop the non-spacing marks (Mn).</summary>
    static string StripAccents(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var r in text.Normalize(NormalizationForm.FormD).EnumerateRunes())
            if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark) sb.Append(r.ToString());
        return sb.ToString();
    }

    static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    /// <summary>Python's unicodedata category "C*", except tab and newlines (which count as whitespace).</summary>
    static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>ASCII non-alphanumeric symbols and every Unicode "P*" category.</summary>
    static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The CJK Unified Ideographs blocks (not Hiragana, Katakana or Hangul), as BERT defines them.</summary>
    static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    // ---- WordPiece ----

    /// <summary>Greedy longest-match-first pieces of one word ("un", "##aff", "##able"); [UNK] for a word that does
    /// not decompose or is longer than 100 characters.</summary>
    void WordPiece(string word, List<int> ids)
    {
        // code point boundaries, so that no piece splits a surrogate pair
        var bounds = new List<int>();
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1) bounds.Add(i);
        bounds.Add(word.Length);
        if (bounds.Count - 1 > MaxCharsPerWord) { ids.Add(UnkId); return; }

        var pieces = new List<int>();
        int start = 0;
        while (start < bounds.Count - 1)
        {
            int end = bounds.Count - 1, found = -1;
            for (; end > start; end--)
            {
                string sub = word[bounds[start]..bounds[end]];
                if (_vocab.TryGetValue(start > 0 ? "##" + sub : sub, out found)) break;
            }
            if (end == start) { ids.Add(UnkId); return; }
            pieces.Add(found);
            start = end;
        }
        ids.AddRange(pieces);
    }
}
