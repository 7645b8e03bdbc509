using System.Text.Json.Nodes;
using Blob.Tokenization;
using static Blob.Tests.Tokenization.TinyBpe;

namespace Blob.Tests.Tokenization;

public class HuggingFaceTokenizerJsonTests
{
    // The patterns Llama 3 and Qwen2 ship in their tokenizer.json.
    const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static JsonObject SplitThenByteLevel(string pattern) => new()
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = pattern }, ["behavior"] = "Isolated", ["invert"] = false },
            new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
    };

    static JsonObject AddedToken(int id, string content, bool special = true) =>
        new() { ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = special };

    /// <summary>Llama 3's layout: merges as [a, b] pairs, ignore_merges, and a template adding &lt;|begin_of_text|&gt;.</summary>
    static JsonObject Llama3(params (string, int)[] extraVocab) => new()
    {
        ["version"] = "1.0",
        ["added_tokens"] = new JsonArray(AddedToken(300, "<|begin_of_text|>"), AddedToken(301, "<|end_of_text|>")),
        ["normalizer"] = null,
        ["pre_tokenizer"] = SplitThenByteLevel(Llama3Pattern),
        ["post_processor"] = new JsonObject
        {
            ["type"] = "Sequence",
            ["processors"] = new JsonArray(
                new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = false, ["use_regex"] = true },
                new JsonObject
                {
                    ["type"] = "TemplateProcessing",
                    ["single"] = new JsonArray(Special("<|begin_of_text|>", 0), Sequence("A", 0)),
                    ["pair"] = new JsonArray(Special("<|begin_of_text|>", 0), Sequence("A", 0), Special("<|begin_of_text|>", 1), Sequence("B", 1)),
                    ["special_tokens"] = new JsonObject
                    {
                        ["<|begin_of_text|>"] = new JsonObject { ["id"] = "<|begin_of_text|>", ["ids"] = new JsonArray(300), ["tokens"] = new JsonArray("<|begin_of_text|>") },
                    },
                }),
        },
        ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
            ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = true,
            ["vocab"] = VocabObject(Vocab(extraVocab)),
            ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode)new JsonArray(m.Split(' ')[0], m.Split(' ')[1]))]),
        },
    };

    static JsonObject Special(string id, int typeId) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
    static JsonObject Sequence(string id, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };

    /// <summary>Qwen2's layout: NFC, merges as "a b" strings, chat tokens outside model.vocab, no template.</summary>
    static JsonObject Qwen() => new()
    {
        ["added_tokens"] = new JsonArray(AddedToken(300, "<|endoftext|>"), AddedToken(301, "<|im_start|>"), AddedToken(302, "<|im_end|>")),
        ["normalizer"] = new JsonObject { ["type"] = "NFC" },
        ["pre_tokenizer"] = SplitThenByteLevel(QwenPattern),
        ["post_processor"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false },
        ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
        ["model"] = new JsonObject
        {
            ["type"] = "BPE", ["byte_fallback"] = false, ["ignore_merges"] = false,
            ["vocab"] = VocabObject(Vocab()),
            ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode)m)]),
        },
    };

    static ITextTokenizer Load(TempDir dir, JsonObject tokenizerJson)
    {
        dir.Write("tokenizer.json", tokenizerJson.ToJsonString());
        return TokenizerLoader.Load(dir.Path);
    }

    [Fact]
    public void Llama3AddsBeginOfTextAndSplitsDigitsInThrees()
    {
        using var dir = new TempDir();
        var tokenizer = Load(dir, Llama3());
        Assert.Equal([300, The, Space, Cat], tokenizer.Encode(" the cat").Ids);
        Assert.Equal([Ca, F, EAcute], tokenizer.Encode("café", addSpecialTokens: false).Ids);
        // \p{N}{1,3} cuts "12345" into "123" "45", so the "3 4" merge never applies (GPT-2's pattern would merge it).
        Assert.Equal(['1', '2', '3', '4', '5'], tokenizer.Encode("12345", addSpecialTokens: false).Ids);
        Assert.Equal(300, tokenizer.BosId);
        Assert.Equal(302, tokenizer.VocabSize);
    }

    [Fact]
    public void Llama3PairFollowsTheTemplateTypeIds()
    {
        using var dir = new TempDir();
        var pair = Load(dir, Llama3()).Encode("the", "cat");
        Assert.Equal([300, T, He, 300, Cat], pair.Ids);
        Assert.Equal([0, 0, 0, 1, 1], pair.TypeIds);
    }

    [Fact]
    public void IgnoreMergesTakesAWholeVocabularyWord()
    {
        using var dir = new TempDir();
        // "Ġcat" is in the vocabulary but no merge makes it: with ignore_merges it is still one token.
        var json = Llama3(("Ġcat", 299));
        Assert.Equal([299], Load(dir, json).Encode(" cat", addSpecialTokens: false).Ids);
        json["model"]!["ignore_merges"] = false;
        Assert.Equal([Space, Cat], Load(dir, json).Encode(" cat", addSpecialTokens: false).Ids);
    }

    [Fact]
    public void QwenNormalisesMatchesChatTokensAndAddsNothing()
    {
        using var dir = new TempDir();
        dir.Write("tokenizer_config.json", """{"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": null}""");
        var tokenizer = Load(dir, Qwen());
        Assert.Equal([Ca, F, EAcute], tokenizer.Encode("cafe\u0301").Ids); // NFC first: e + combining acute → é
        var ids = tokenizer.Encode("<|im_start|>user\nhi<|im_end|>").Ids;
        Assert.Equal([301, 'u', 's', 'e', 'r', Newline, 'h', 'i', 302], ids);
        Assert.Equal("user\nhi", tokenizer.Decode(ids));
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", tokenizer.Decode(ids, skipSpecialTokens: false));
        Assert.Equal((null, 302, 300), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
    }

    [Fact]
    public void Gpt2StyleByteLevelUsesItsOwnPattern()
    {
        using var dir = new TempDir();
        var json = Qwen();
        json["normalizer"] = null;
        json["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true };
        Assert.Equal(['1', '2', ThirtyFour, '5'], Load(dir, json).Encode("12345").Ids);
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    public void OtherModelTypesAreNotSupportedYet(string type)
    {
        using var dir = new TempDir();
        var json = new JsonObject { ["model"] = new JsonObject { ["type"] = type, ["vocab"] = new JsonObject() } };
        dir.Write("tokenizer.json", json.ToJsonString());
        var e = Assert.Throws<BlobException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Contains(dir.File("tokenizer.json"), e.Message);
        Assert.Contains("not supported yet", e.Message);
    }

    [Fact]
    public void MalformedTokenizerJsonNamesTheFile()
    {
        using var dir = new TempDir();
        dir.Write("tokenizer.json", "{ not json");
        Assert.Contains(dir.File("tokenizer.json"), Assert.Throws<BlobException>(() => TokenizerLoader.Load(dir.Path)).Message);

        var json = Qwen();
        json["model"]!["merges"] = new JsonArray("a b c");
        Assert.Contains(dir.File("tokenizer.json"), Assert.Throws<BlobException>(() => Load(dir, json)).Message);
    }
}
