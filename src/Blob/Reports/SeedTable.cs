using System.Globalization;
using System.Text;
using Blob.Runtime;

namespace Blob.Reports;

/// <summary>A column of a <see cref="SeedTable"/>: its header, the factor its values are printed at (100 for a percentage) and its decimals.</summary>
public sealed record SeedColumn(string Name, double Scale = 1, int Decimals = 2);

/// <summary>
/// A table of per-seed figures: one row per (group, method), e.g. (dev, blob), one cell per column with the mean ±
/// sample standard deviation over the seeds that have the figure, and "n/a" where none has it. The s column says how
/// many seeds the row has. Markdown for reading, CSV (group,method,column,mean,std,seeds) for scripts.
/// </summary>
public sealed class SeedTable(string groupHeader, IReadOnlyList<SeedColumn> columns)
{
    readonly List<(string Group, string Method, IReadOnlyList<double?[]> Seeds)> rows = [];

    /// <summary>A row: each seed's values, one per column (null: that seed lacks the figure).</summary>
    public void Add(string group, string method, IReadOnlyList<double?[]> seeds)
    {
        if (seeds.Any(s => s.Length != columns.Count)) throw new ArgumentException($"a seed's values do not match the {columns.Count} columns");
        rows.Add((group, method, seeds));
    }

    public int Count => rows.Count;

    /// <summary>Mean and sample standard deviation (0 for one seed) of a column over a row's seeds, scaled; null where no seed has it.</summary>
    public (double Mean, double Std, int Seeds)? Cell(string group, string method, string column)
    {
        var row = rows.Single(r => r.Group == group && r.Method == method);
        int c = columns.ToList().FindIndex(x => x.Name == column);
        if (c < 0) throw new ArgumentException($"no column {column}");
        return Summary(row.Seeds, c);
    }

    (double Mean, double Std, int Seeds)? Summary(IReadOnlyList<double?[]> seeds, int c)
    {
        var xs = seeds.Select(s => s[c]).OfType<double>().Select(x => x * columns[c].Scale).ToList();
        if (xs.Count == 0) return null;
        double mean = xs.Average();
        double std = xs.Count < 2 ? 0 : Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
        return (mean, std, xs.Count);
    }

    /// <summary>The Markdown table, then the notes as a list.</summary>
    public string ToMarkdown(IEnumerable<string> notes)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| {groupHeader} | Method | s | {string.Join(" | ", columns.Select(c => c.Name + (c.Scale == 100 ? " (×100)" : "")))} |");
        sb.AppendLine($"| --- | --- | ---: |{string.Concat(columns.Select(_ => " ---: |"))}");
        foreach (var (group, method, seeds) in rows)
            sb.AppendLine($"| {group} | {method} | {seeds.Count} | " + string.Join(" | ", columns.Select((c, i) => Format(Summary(seeds, i), c.Decimals))) + " |");
        sb.AppendLine();
        sb.AppendLine("Mean ± sample standard deviation over the row's s seeds; n/a: not recorded for these runs.");
        foreach (var note in notes) sb.AppendLine($"- {note}");
        return sb.ToString();
    }

    public string ToCsv()
    {
        var sb = new StringBuilder("group,method,column,mean,std,seeds\n");
        foreach (var (group, method, seeds) in rows)
            for (int i = 0; i < columns.Count; i++)
                if (Summary(seeds, i) is { } s)
                    sb.AppendLine(string.Join(",", group, method, columns[i].Name, Num(s.Mean), s.Seeds > 1 ? Num(s.Std) : "", s.Seeds));
        return sb.ToString();
    }

    /// <summary>Writes the Markdown and CSV files, each atomically.</summary>
    public void Save(string markdownPath, string csvPath, IEnumerable<string> notes)
    {
        AtomicFile.WriteAllText(markdownPath, ToMarkdown(notes));
        AtomicFile.WriteAllText(csvPath, ToCsv());
    }

    static string Format((double Mean, double Std, int Seeds)? s, int decimals) => s is not { } c ? "n/a"
        : c.Mean.ToString($"F{decimals}", CultureInfo.InvariantCulture) + (c.Seeds > 1 ? " ± " + c.Std.ToString($"F{decimals}", CultureInfo.InvariantCulture) : "");

    static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
