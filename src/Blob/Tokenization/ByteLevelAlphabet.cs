using System.Text;

namespace Blob.Tokenization;

/// <summary>
/// GPT-2's byte-to-unicode table: byte-level BPE vocabularies spell each UTF-8 byte as one printable character.
/// Printable Latin-1 bytes stand for themselves; the rest (controls, space, 127–160, 173) take U+0100 onwards in
/// order, so space is "Ġ" (U+0120) and newline "Ċ" (U+010A).
/// </summary>
public static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = BuildTable();
    static readonly Dictionary<char, byte> CharToByte =
        Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    /// <summary>The character that stands for one byte.</summary>
    public static char Spell(byte b) => ByteToChar[b];

    /// <summary>A text's UTF-8 bytes, spelled in the vocabulary's alphabet.</summary>
    public static string Spell(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    /// <summary>Appends the bytes a vocabulary token spells (characters outside the alphabet are kept as UTF-8).</summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        foreach (char c in token)
        {
            if (CharToByte.TryGetValue(c, out byte b)) bytes.Add(b);
            else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
        }
    }

    static char[] BuildTable()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) table[b] = Printable(b) ? (char)b : (char)next++;
        return table;
    }
}
