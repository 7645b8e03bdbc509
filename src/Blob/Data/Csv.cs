using System.Text;

namespace Blob.Data;

/// <summary>
/// Comma-separated files with RFC 4180 quoting: a quoted field may hold commas, doubled quotes ("") and line breaks.
/// A row's location is the line on which it starts. Line breaks inside a field are kept as "\n".
/// </summary>
public static class Csv
{
    public static IEnumerable<Row> Read(string path, bool hasHeader) =>
        Rows.FromRecords(path, Records(path).Select(r => (r.Line, (IReadOnlyList<string>)r.Cells)), hasHeader);

    /// <summary>The records of a CSV file with the 1-based line each starts on; blank lines are skipped.</summary>
    static IEnumerable<(int Line, List<string> Cells)> Records(string path)
    {
        var text = TextFile.ReadAll(path).Replace("\r\n", "\n");
        int pos = 0, line = 1;
        while (pos < text.Length)
        {
            if (text[pos] == '\n') { pos++; line++; continue; }
            int start = line;
            var cells = ParseRecord(text, ref pos, ref line, path);
            yield return (start, cells);
        }
    }

    /// <summary>Parses one record from pos up to and including its closing line break.</summary>
    static List<string> ParseRecord(string text, ref int pos, ref int line, string path)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        int startLine = line;
        bool quoted = false;
        while (pos < text.Length)
        {
            char c = text[pos++];
            if (quoted)
            {
                if (c == '"' && pos < text.Length && text[pos] == '"') { cell.Append('"'); pos++; }
                else if (c == '"') quoted = false;
                else { if (c == '\n') line++; cell.Append(c); }
            }
            else if (c == '"' && cell.Length == 0) quoted = true;
            else if (c == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\n') { line++; break; }
            else cell.Append(c);
        }
        if (quoted) throw new BlobException($"{path}:{startLine}: a quoted field is never closed");
        cells.Add(cell.ToString());
        return cells;
    }
}
