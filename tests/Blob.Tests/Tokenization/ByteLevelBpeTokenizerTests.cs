using Blob.Tokenization;
using static Blob.Tests.Tokenization.TinyBpe;

namespace Blob.Tests.Tokenization;

public class ByteLevelBpeTokenizerTests
{
    [Fact]
    public void AlphabetFollowsGpt2ByteToUnicodeTable()
    {
        Assert.Equal("Ġ", ByteLevelAlphabet.Spell(" "));       // 0x20 → U+0120
        Assert.Equal("Ċ", ByteLevelAlphabet.Spell("\n"));      // 0x0A → U+010A
        Assert.Equal("ĉ", ByteLevelAlphabet.Spell("\t"));      // 0x09 → U+0109
        Assert.Equal("Ã©", ByteLevelAlphabet.Spell("é"));      // C3 A9: printable Latin-1 bytes stand for themselves
        Assert.Equal("abc!~", ByteLevelAlphabet.Spell("abc!~"));
        Assert.Equal('\u0100', ByteLevelAlphabet.Spell((byte)0));
        Assert.Equal('\u0143', ByteLevelAlphabet.Spell((byte)0xAD)); // the last unprintable byte: 256 + 67
    }

    static ByteLevelBpeTokenizer Gpt2(TempDir dir)
    {
        WriteVocabAndMerges(dir.Path, Vocab(("<|endoftext|>", 300)));
        return ByteLevelBpeTokenizer.FromVocabAndMerges(dir.File("vocab.json"), dir.File("merges.txt"));
    }

    [Fact]
    public void Gpt2MergesByRankAndAddsNothing()
    {
        using var dir = new TempDir();
        var tokenizer = Gpt2(dir);
        // " the" → Ġ t h e → Ġt he → Ġthe;  " cat" → Ġ c a t → Ġ ca t → Ġ cat (there is no "Ġ ca" merge).
        Assert.Equal([The, Space, Cat], tokenizer.Encode(" the cat").Ids);
        Assert.Equal([T, He], tokenizer.Encode("the").Ids);
        // é is two bytes, Ã ©, merged into one token.
        Assert.Equal([Ca, F, EAcute], tokenizer.Encode("café").Ids);
        Assert.Equal(['a', Newline, 'b'], tokenizer.Encode("a\nb").Ids);
        Assert.Equal(300, tokenizer.BosId);
        Assert.Equal(300, tokenizer.EosId);
        Assert.Equal(300, tokenizer.PadId);
        Assert.Equal(301, tokenizer.VocabSize);
    }

    [Fact]
    public void Gpt2SplitsTheTextBeforeMerging()
    {
        using var dir = new TempDir();
        // GPT-2's pattern keeps a run of digits together, so "3 4" merges inside "12345".
        Assert.Equal(['1', '2', ThirtyFour, '5'], Gpt2(dir).Encode("12345").Ids);
    }

    [Fact]
    public void SpecialTokensAreMatchedWholeAndSkippedWhenDecoding()
    {
        using var dir = new TempDir();
        var tokenizer = Gpt2(dir);
        var ids = tokenizer.Encode("the<|endoftext|> the").Ids;
        Assert.Equal([T, He, 300, The], ids);
        Assert.Equal("the the", tokenizer.Decode(ids));
        Assert.Equal("the<|endoftext|> the", tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void DecodeInvertsEncodeForAnyUnicode()
    {
        using var dir = new TempDir();
        var tokenizer = Gpt2(dir);
        const string text = "Two  spaces,\ttabs and café ✓ 😀\n";
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text).Ids));
        Assert.Equal("", tokenizer.Decode([12345])); // beyond the vocabulary: nothing
    }

    static ByteLevelBpeTokenizer Roberta(TempDir dir)
    {
        WriteVocabAndMerges(dir.Path, Vocab(("<s>", 300), ("<pad>", 301), ("</s>", 302), ("<unk>", 303), ("<mask>", 304)));
        dir.Write("config.json", """{"model_type": "roberta", "bos_token_id": 300, "eos_token_id": 302, "pad_token_id": 301}""");
        return (ByteLevelBpeTokenizer)TokenizerLoader.Load(dir.Path);
    }

    [Fact]
    public void RobertaWrapsTextsAndPairs()
    {
        using var dir = new TempDir();
        var tokenizer = Roberta(dir);
        Assert.Equal([300, T, He, Space, Cat, 302], tokenizer.Encode("the cat").Ids);

        var pair = tokenizer.Encode("the", "cat");
        Assert.Equal([300, T, He, 302, 302, Cat, 302], pair.Ids); // <s> a </s></s> b </s>
        Assert.Equal(new int[7], pair.TypeIds);
        Assert.Equal([T, He, Cat], tokenizer.Encode("the", "cat", addSpecialTokens: false).Ids);
        Assert.Equal((300, 302, 301), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal("the cat", tokenizer.Decode(tokenizer.Encode("the cat").Ids));
    }

    [Fact]
    public void RobertaTruncatesLongestFirstCountingSpecialTokens()
    {
        using var dir = new TempDir();
        var tokenizer = Roberta(dir);
        // A = the cat (4 ids), B = cat (1 id), 4 special tokens: 7 leaves 3, so A keeps 2 and B its 1.
        var pair = tokenizer.Encode("the cat", "cat", maxLength: 7);
        Assert.Equal([300, T, He, 302, 302, Cat, 302], pair.Ids);
        Assert.Equal([300, T, He, 302], tokenizer.Encode("the cat", maxLength: 4).Ids);
    }

    [Fact]
    public void MalformedFilesAreBlobExceptionsNamingThem()
    {
        using var dir = new TempDir();
        WriteVocabAndMerges(dir.Path, Vocab(), ["#version: 0.2", "a b c"]);
        var e = Assert.Throws<BlobException>(() =>
            ByteLevelBpeTokenizer.FromVocabAndMerges(dir.File("vocab.json"), dir.File("merges.txt")));
        Assert.Contains(dir.File("merges.txt"), e.Message);

        dir.Write("vocab.json", "[1, 2, 3]");
        e = Assert.Throws<BlobException>(() =>
            ByteLevelBpeTokenizer.FromVocabAndMerges(dir.File("vocab.json"), dir.File("merges.txt")));
        Assert.Contains(dir.File("vocab.json"), e.Message);
    }
}
