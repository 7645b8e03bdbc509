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
