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

/// <summary>
/// Turns a delimited file's records into rows: the first non-blank record may be the header. With a header, each
/// column name must be unique and no row may have more cells than the header has columns (the extra cells would have
/// no name, and a row cut to fit would be read silently wrong).
/// </summary>
public static class Rows
{
    public static IEnumerable<Row> FromRecords(string path, IEnumerable<(int Line, IReadOnlyList<string> Cells)> records, bool hasHeader)
    {
        Dictionary<string, int>? columns = null;
        bool any = false;
        int last = 1;
        foreach (var (line, cells) in records)
        {
            last = line;
            if (hasHeader && columns is null)
            {
                columns = Header(path, line, cells);
                continue;
            }
            if (columns is not null && cells.Count > columns.Count)
                throw new BlobException($"{path}:{line}: {cells.Count} cells, but the header has {columns.Count} columns (an unquoted comma or tab in a field?)");
            any = true;
            yield return new Row($"{path}:{line}", cells, columns);
        }
        if (!any) throw new BlobException($"{path}:{last}: no rows (empty file)");
    }

    /// <summary>Column name to position; a name given twice is refused, naming both columns.</summary>
    static Dictionary<string, int> Header(string path, int line, IReadOnlyList<string> cells)
    {
        var columns = new Dictionary<string, int>();
        for (int i = 0; i < cells.Count; i++)
            if (!columns.TryAdd(cells[i].Trim(), i))
                throw new BlobException($"{path}:{line}: the header names column \"{cells[i].Trim()}\" twice (columns {columns[cells[i].Trim()] + 1} and {i + 1})");
        return columns;
    }
}
