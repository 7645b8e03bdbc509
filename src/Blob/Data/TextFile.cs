using System.Text;

namespace Blob.Data;

/// <summary>Reads a UTF-8 text file line by line (a byte-order mark is dropped), numbering lines from 1.</summary>
public static class TextFile
{
    public static IEnumerable<(int Line, string Text)> ReadLines(string path)
    {
        RequireExists(path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int line = 0;
        while (reader.ReadLine() is { } text) yield return (++line, text);
    }

    /// <summary>The whole text of a file (a byte-order mark is dropped).</summary>
    public static string ReadAll(string path)
    {
        RequireExists(path);
        return File.ReadAllText(path, Encoding.UTF8);
    }

    public static void RequireExists(string path)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: file not found");
    }
}
