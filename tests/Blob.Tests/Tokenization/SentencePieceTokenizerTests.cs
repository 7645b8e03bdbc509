using System.Text.Json;
using Blob.Tokenization;

namespace Blob.Tests.Tokenization;

public class SentencePieceTokenizerTests
{
    const string Dir = "fixtures/stories260k";

    static SentencePieceTokenizer Stories() =>
        SentencePieceTokenizer.FromModelFile(Shared.PathOf($"{Dir}/tokenizer.model"));

    static JsonElement Json(string name) =>
        JsonDocument.Parse(File.ReadAllText(Shared.PathOf($"{Dir}/{name}"))).RootElement;

    static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    [SharedFact($"{Dir}/tokenizer.model", $"{Dir}/tokenizer_reference.json")]
    public void ReproducesSentencePieceIdsForSpacesTabsDigitsAndNonAscii()
    {
        var tokenizer = Stories();
        var reference = Json("tokenizer_reference.json");
        var texts = reference.GetProperty("texts");
        Assert.Equal(3, texts.GetArrayLength());
        for (int i = 0; i < texts.GetArrayLength(); i++)
        {
            var encoded = tokenizer.Encode(texts[i].GetString()!, addSpecialTokens: false);
            Assert.Equal(Ints(reference.GetProperty("ids")[i]), encoded.Ids);
            Assert.All(encoded.TypeIds, t => Assert.Equal(0, t));
        }
    }

    [SharedFact($"{Dir}/tokenizer.model", $"{Dir}/prompt_reference.json")]
    public void ReproducesPromptIdsWithBosAndAnswerIdsWithout()
    {
        var tokenizer = Stories();
        foreach (var prompt in Json("prompt_reference.json").EnumerateArray())
        {
            var ids = tokenizer.Encode(prompt.GetProperty("prompt").GetString()!).Ids;
            Assert.Equal(Ints(prompt.GetProperty("input_ids")), ids);
            Assert.Equal(1, ids[0]);
            foreach (var answer in prompt.GetProperty("answer_token_ids").EnumerateObject())
                Assert.Equal(Ints(answer.Value), tokenizer.Encode(answer.Name, addSpecialTokens: false).Ids);
        }
    }

    [SharedFact($"{Dir}/tokenizer.model", $"{Dir}/greedy.json")]
    public void DecodesTheGreedyStory()
    {
        var greedy = Json("greedy.json");
        var text = Stories().Decode(Ints(greedy.GetProperty("greedy_ids")));
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", text);
        Assert.Equal(greedy.GetProperty("greedy_text").GetString(), text);
    }

    [SharedFact($"{Dir}/tokenizer.model", $"{Dir}/tokenizer_reference.json")]
    public void DecodeInvertsEncodeIncludingNonAscii()
    {
        var tokenizer = Stories();
        string text = Json("tokenizer_reference.json").GetProperty("texts")[2].GetString()!;
        Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text).Ids));
        Assert.StartsWith("<s>", tokenizer.Decode(tokenizer.Encode(text).Ids, skipSpecialTokens: false));
    }

    [SharedFact($"{Dir}/tokenizer.model")]
    public void ReportsLlamaSpecialIds()
    {
        var tokenizer = Stories();
        Assert.Equal(1, tokenizer.BosId);
        Assert.Equal(2, tokenizer.EosId);
        Assert.Equal(2, tokenizer.PadId); // no pad token: EOS
        Assert.Equal(512, tokenizer.VocabSize);
    }

    [SharedFact($"{Dir}/tokenizer.model")]
    public void PairsAndTruncationCountTheBos()
    {
        var tokenizer = Stories();
        var a = tokenizer.Encode("Once upon a time", addSpecialTokens: false).Ids;
        var b = tokenizer.Encode("Lily", addSpecialTokens: false).Ids;

        var pair = tokenizer.Encode("Once upon a time", "Lily");
        Assert.Equal([1, .. a, 1, .. b], pair.Ids);
        Assert.All(pair.TypeIds, t => Assert.Equal(0, t));

        var cut = tokenizer.Encode("Once upon a time", maxLength: 3);
        Assert.Equal([1, a[0], a[1]], cut.Ids);
        Assert.Throws<BlobException>(() => tokenizer.Encode("Once", "Lily", maxLength: 1));
    }

    [Fact]
    public void AFileThatIsNotAModelIsABlobExceptionNamingIt()
    {
        using var dir = new TempDir();
        dir.Write("tokenizer.model", "not a protobuf at all");
        var e = Assert.Throws<BlobException>(() => SentencePieceTokenizer.FromModelFile(dir.File("tokenizer.model")));
        Assert.Contains(dir.File("tokenizer.model"), e.Message);
    }
}
