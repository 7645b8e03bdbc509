namespace Blob.Data;

/// <summary>
/// One row of a TSV or CSV file: its cells, the header's column names when the file has one, and where it came
/// from ("path:line") for error messages.
/// </summary>
public sealed record Row(string Where, IReadOnlyList<string> Cells, IReadOnlyDictionary<string, int>? Columns = null)
{
    public string Cell(int index) => index < Cells.Count
        ? Cells[index]
        : throw Error($"expected at least {index + 1} columns, found {Cells.Count}");

    public string Cell(string column) => Columns is not null && Columns.TryGetValue(column, out int i)
        ? Cell(i)
        : throw Error($"no column \"{column}\" in the header");

    public bool Has(string column) => Columns?.ContainsKey(column) == true;

    public BlobException Error(string problem) => new($"{Where}: {problem}");
}

/// <summary>Turns a delimited file's records into rows: the first non-blank record may be the header.</summary>
public static class Rows
{
    public static IEnumerable<Row> FromRecords(string path, IEnumerable<(int Line, IReadOnlyList<string> Cells)> records, bool hasHeader)
    {
        IReadOnlyDictionary<string, int>? columns = null;
        bool any = false;
        int last = 1;
        foreach (var (line, cells) in records)
        {
            last = line;
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
