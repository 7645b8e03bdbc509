using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Tokenization;

namespace Blob.Tests.Tokenization;

/// <summary>
/// A hand-made byte-level BPE vocabulary small enough to check by eye: ids 0–255 are the 256 bytes (id = byte
/// value, spelled in GPT-2's alphabet), then a few merges whose results are known.
/// </summary>
static class TinyBpe
{
    public const int The = 258, Ca = 259, Cat = 260, EAcute = 261, ThirtyFour = 262;
    public const int Space = 32, T = 116, He = 257, C = 99, F = 102, Newline = 10;

    public static readonly string[] Merges = ["Ġ t", "h e", "Ġt he", "c a", "ca t", "Ã ©", "3 4"];

    public static Dictionary<string, int> Vocab(params (string Token, int Id)[] extra)
    {
        var vocab = new Dictionary<string, int>();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.Spell((byte)b).ToString()] = b;
        vocab["Ġt"] = 256; vocab["he"] = He; vocab["Ġthe"] = The; vocab["ca"] = Ca; vocab["cat"] = Cat;
        vocab["Ã©"] = EAcute; vocab["34"] = ThirtyFour;
        foreach (var (token, id) in extra) vocab[token] = id;
        return vocab;
    }

    public static void WriteVocabAndMerges(string dir, Dictionary<string, int> vocab, IEnumerable<string>? merges = null)
    {
        File.WriteAllText(Path.Combine(dir, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(dir, "merges.txt"), ["#version: 0.2", .. merges ?? Merges]);
    }

    public static JsonObject VocabObject(Dictionary<string, int> vocab)
    {
        var o = new JsonObject();
        foreach (var (token, id) in vocab) o[token] = id;
        return o;
    }
}

/// <summary>A temporary folder removed after the test.</summary>
sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("blob-tok-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Write(string name, string text) => System.IO.File.WriteAllText(File(name), text);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
