using System.Buffers;
using System.Text;

namespace Blob.Data;

/// <summary>
/// Reads a UTF-8 text file line by line (a byte-order mark is dropped), numbering lines from 1. The bytes are decoded
/// strictly: a file that is not valid UTF-8 (Latin-1, a damaged download) is refused, naming the line of the first bad
/// byte, instead of reading on with U+FFFD in place of its characters.
/// </summary>
public static class TextFile
{
    /// <summary>UTF-8 that throws on invalid bytes instead of replacing them.</summary>
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEnumerable<(int Line, string Text)> ReadLines(string path)
    {
        RequireExists(path);
        using var reader = new StreamReader(path, StrictUtf8, detectEncodingFromByteOrderMarks: true);
        int line = 0;
        while (true)
        {
            string? text;
            try { text = reader.ReadLine(); }
            catch (DecoderFallbackException) { throw NotUtf8(path); }
            if (text is null) yield break;
            yield return (++line, text);
        }
    }

    /// <summary>The whole text of a file (a byte-order mark is dropped).</summary>
    public static string ReadAll(string path)
    {
        RequireExists(path);
        try { return File.ReadAllText(path, StrictUtf8); }
        catch (DecoderFallbackException) { throw NotUtf8(path); }
    }

    public static void RequireExists(string path)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: file not found");
    }

    /// <summary>"path:line: not valid UTF-8 ...", at the line of the first byte that does not decode.</summary>
    static BlobException NotUtf8(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int at = 0;
        while (at < bytes.Length && Rune.DecodeFromUtf8(bytes.AsSpan(at), out _, out int used) == OperationStatus.Done) at += used;
        int line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');
        return new BlobException($"{path}:{line}: not valid UTF-8 (byte 0x{(at < bytes.Length ? bytes[at] : 0):X2} at offset {at}); save the file as UTF-8");
    }
}
