using System.Text.Json.Nodes;
using Blob.Tokenization;
using static Blob.Tests.Tokenization.TinyBpe;

namespace Blob.Tests.Tokenization;

public class TokenizerLoaderTests
{
    [Fact]
    public void AnEmptyFolderSaysWhatWasLookedFor()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<BlobException>(() => TokenizerLoader.Load(dir.Path));
        Assert.Equal($"{dir.Path}: no tokenizer found (looked for tokenizer.json, tokenizer.model, vocab.json+merges.txt, vocab.txt)", e.Message);
    }

    [Fact]
    public void VocabTxtLoadsAsWordPieceLowercasingUnlessTheConfigSaysNot()
    {
        using var dir = new TempDir();
        dir.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
        var tokenizer = Assert.IsType<WordPieceTokenizer>(TokenizerLoader.Load(dir.Path));
        Assert.Equal([2, 4, 3], tokenizer.Encode("Hello").Ids);

        dir.Write("tokenizer_config.json", """{"do_lower_case": false}""");
        Assert.Equal([2, 1, 3], TokenizerLoader.Load(dir.Path).Encode("Hello").Ids);
    }

    [SharedFact("fixtures/stories260k/tokenizer.model")]
    public void TokenizerModelLoadsAsSentencePieceWithConfigIds()
    {
        var tokenizer = TokenizerLoader.Load(Shared.PathOf("fixtures/stories260k"));
        Assert.IsType<SentencePieceTokenizer>(tokenizer);
        Assert.Equal((1, 2, 2), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
    }

    [SharedFact("fixtures/stories260k/tokenizer.model")]
    public void SentencePieceStyleTokenizerJsonDefersToTokenizerModel()
    {
        using var dir = new TempDir();
        File.Copy(Shared.PathOf("fixtures/stories260k/tokenizer.model"), dir.File("tokenizer.model"));
        // Llama 2's tokenizer.json: BPE over "▁" pieces, no ByteLevel pre-tokenizer.
        dir.Write("tokenizer.json", """{"model": {"type": "BPE", "byte_fallback": true, "vocab": {}, "merges": []}, "pre_tokenizer": null}""");
        dir.Write("tokenizer_config.json", """{"add_bos_token": true, "add_eos_token": true}""");
        var tokenizer = TokenizerLoader.Load(dir.Path);
        Assert.IsType<SentencePieceTokenizer>(tokenizer);
        var ids = tokenizer.Encode("Lily").Ids;
        Assert.Equal((1, 2), (ids[0], ids[^1]));
    }

    [Fact]
    public void TokenizerJsonIsPreferredOverVocabAndMerges()
    {
        using var dir = new TempDir();
        WriteVocabAndMerges(dir.Path, Vocab());
        var json = new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = 300, ["content"] = "<s>", ["special"] = true }),
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["use_regex"] = true },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "RobertaProcessing", ["sep"] = new JsonArray("<s>", 300), ["cls"] = new JsonArray("<s>", 300),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = VocabObject(Vocab()), ["merges"] = new JsonArray([.. Merges.Select(m => (JsonNode)m)]),
            },
        };
        dir.Write("tokenizer.json", json.ToJsonString());
        // add_prefix_space turns "the" into " the".
        Assert.Equal([300, The, 300], TokenizerLoader.Load(dir.Path).Encode("the").Ids);
    }

    [Fact]
    public void MalformedSettingsFileIsNamed()
    {
        using var dir = new TempDir();
        WriteVocabAndMerges(dir.Path, Vocab());
        dir.Write("tokenizer_config.json", "{,}");
        Assert.Contains(dir.File("tokenizer_config.json"), Assert.Throws<BlobException>(() => TokenizerLoader.Load(dir.Path)).Message);
    }

    [Fact]
    public void ConfigIdsAreUsedWhenTheTokenizerFilesNameNone()
    {
        using var dir = new TempDir();
        WriteVocabAndMerges(dir.Path, Vocab(("<|endoftext|>", 300)));
        dir.Write("config.json", """{"model_type": "gpt2", "bos_token_id": 300, "eos_token_id": [300, 7], "pad_token_id": 5}""");
        var tokenizer = TokenizerLoader.Load(dir.Path);
        Assert.Equal((300, 300, 5), (tokenizer.BosId, tokenizer.EosId, tokenizer.PadId));
        Assert.Equal([The], tokenizer.Encode(" the").Ids);
    }
}
