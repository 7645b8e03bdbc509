namespace Blob.Data;

/// <summary>
/// Tab-separated files as GLUE and WiC ship them: no quoting at all (a '"' is an ordinary character), one row a line.
/// Blank lines are skipped.
/// </summary>
public static class Tsv
{
    public static IEnumerable<Row> Read(string path, bool hasHeader) =>
        Rows.FromRecords(path, TextFile.ReadLines(path)
            .Where(l => l.Text.Length > 0)
            .Select(l => (l.Line, (IReadOnlyList<string>)l.Text.Split('\t'))), hasHeader);
}
