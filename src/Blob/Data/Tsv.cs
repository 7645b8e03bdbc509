namespace Blob.Data;

/// <summary>
/// Tab-separated files as GLUE and WiC ship them: no quoting at all (a '"' is an ordinary character), one row a line.
/// Blank lines are skipped.
/// </summary>
public static class Tsv
{
    public static IEnumerable<Row> Read(string path, bool hasHeader)
    {
        IReadOnlyDictionary<string, int>? columns = null;
        bool any = false;
        int last = 1;
        foreach (var (line, text) in TextFile.ReadLines(path))
        {
            last = line;
            if (text.Length == 0) continue;
            var cells = text.Split('\t');
            if (hasHeader && columns is null)
            {
                columns = cells.Select((c, i) => (c.Trim(), i)).ToDictionary(p => p.Item1, p => p.Item2);
                continue;
            }
            any = true;
            yield return new Row($"{path}:{line}", cells, columns);
        }
        if (!any) throw new BlobException($"{path}:{last}: no rows (empty file)");
    }
}
