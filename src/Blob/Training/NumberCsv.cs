using System.Globalization;
using System.Text;

namespace Blob.Training;

/// <summary>
/// The CSV logs a training writes beside its run (training-log.csv, posterior-std.csv): a header line, then a line of
/// numbers a row, in the invariant culture, doubles as "R", so every number reads back exactly.
/// </summary>
internal static class NumberCsv
{
    public static string Write<T>(string header, IEnumerable<T> rows, Func<T, IEnumerable<string>> fields)
    {
        var csv = new StringBuilder(header).Append('\n');
        foreach (var r in rows) csv.Append(string.Join(",", fields(r))).Append('\n');
        return csv.ToString();
    }

    /// <summary>The rows of the CSV at <paramref name="path"/> after its header; a line with fewer than
    /// <paramref name="fields"/> fields is an error naming the file, <paramref name="what"/> and the line.</summary>
    public static List<T> Read<T>(string path, int fields, string what, Func<string[], T> row)
    {
        var rows = new List<T>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0) continue;
            var f = line.Split(',');
            if (f.Length < fields) throw new BlobException($"{path}: not a {what} line: {line}");
            rows.Add(row(f));
        }
        return rows;
    }

    public static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    public static string F(long v) => v.ToString(CultureInfo.InvariantCulture);
    public static double Double(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    public static long Long(string s) => long.Parse(s, CultureInfo.InvariantCulture);
}
