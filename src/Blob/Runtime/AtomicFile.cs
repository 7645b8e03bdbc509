using System.Text;

namespace Blob.Runtime;

/// <summary>
/// Writes a file all at once or not at all: the content goes to a temporary file in the same folder, which is then
/// renamed over the target. A failure deletes the temporary file and leaves any earlier version untouched.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) =>
        Write(path, temp => File.WriteAllText(temp, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)));

    /// <summary>Lets write fill a temporary file (same folder and extension as path), then moves it to path.</summary>
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileNameWithoutExtension(full)}.{Guid.NewGuid():N}.tmp{Path.GetExtension(full)}");
        try
        {
            write(temp);
            using (var f = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) f.Flush(flushToDisk: true);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
