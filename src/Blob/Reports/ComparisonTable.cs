using Blob.Runtime;
using System.Globalization;
using System.Text;

namespace Blob.Reports;

/// <summary>
/// The paper's comparison table: for each metric (ACC, ECE, NLL, Brier, then AURC) and method, one cell per task with the
/// mean ± standard deviation over seeds. ACC, ECE and AURC (the area under the risk–coverage curve, lower is better;
/// a fraction like the error rate) are printed ×100, their rows say so; NLL and Brier as they are. Results written
/// before AURC was recorded have none; where every run of the table lacks it, the row is left out. The standard
/// deviation is the sample one (n − 1); a single seed shows its value alone. Wall-clock training and evaluation times follow
/// as two more rows, over the runs that recorded them.
/// </summary>
public sealed class ComparisonTable
{
    public sealed record Cell(double Mean, double Std, int Seeds);

    static readonly (string Name, Func<RunResult, double?> Value, double Scale, int Decimals)[] MetricColumns =
    [
        ("ACC", r => r.Accuracy, 100, 2), ("ECE", r => r.Ece, 100, 2), ("NLL", r => r.Nll, 1, 2), ("Brier", r => r.Brier, 1, 2),
        ("AURC", r => r.Aurc, 100, 2),
        ("Train s", r => r.TrainSeconds, 1, 0), ("Eval s", r => r.EvalSeconds, 1, 0),
    ];

    readonly IReadOnlyList<RunResult> results;

    public IReadOnlyList<string> Tasks { get; }
    public IReadOnlyList<string> Methods { get; }

    public ComparisonTable(IEnumerable<RunResult> runs)
    {
        results = runs.ToList();
        if (results.Count == 0) throw new ArgumentException("no results to tabulate");
        Tasks = results.Select(r => r.Task).Distinct().ToList();
        // in order of appearance, a calibrated row ("mle+ts") right after its method's, whichever seed first had it
        var methods = results.Select(r => r.Method).Distinct().ToList();
        Methods = methods.OrderBy(m => methods.IndexOf(methods.Contains(Uncalibrated(m)) ? Uncalibrated(m) : m)).ThenBy(m => m.Contains('+')).ToList();
    }

    /// <summary>"mle" of a calibrated method's name "mle+ts"; other names as they are.</summary>
    static string Uncalibrated(string method) => method.Contains('+') ? method[..method.IndexOf('+')] : method;

    /// <summary>Mean ± std over seeds of one metric ("ACC", "ECE", "NLL", "Brier", "AURC", "Train s", "Eval s"), scaled as printed; null if no run has it.</summary>
    public Cell? Get(string metric, string method, string task)
    {
        var (_, value, scale, _) = MetricColumns.Single(m => m.Name == metric);
        var xs = results.Where(r => r.Method == method && r.Task == task && value(r) is not null)
            .Select(r => value(r)!.Value * scale).ToList();
        return xs.Count == 0 ? null : new Cell(xs.Average(), SampleStd(xs), xs.Count);
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| Metric | Method | {string.Join(" | ", Tasks.Select(TaskHeader))} |");
        sb.AppendLine($"| --- | --- |{string.Concat(Tasks.Select(_ => " ---: |"))}");
        foreach (var (metric, _, scale, decimals) in MetricColumns.Where(m => results.Any(r => m.Value(r) is not null)))
            foreach (var method in Methods)
                sb.AppendLine($"| {metric}{(scale == 100 ? " (×100)" : "")} | {method} | " +
                    string.Join(" | ", Tasks.Select(t => Format(Get(metric, method, t), decimals, MostSeeds))) + " |");
        sb.AppendLine();
        sb.AppendLine(MostSeeds == 1 ? "One seed per cell (no standard deviation); n = evaluation examples."
            : "Mean ± sample standard deviation over seeds; n = evaluation examples; s = seeds.");
        foreach (var note in results.SelectMany(r => r.Notes ?? []).Distinct()) sb.AppendLine($"- {note}");
        return sb.ToString();
    }

    /// <summary>One line per metric, method and task: metric,method,task,mean,std,seeds,n.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("metric,method,task,mean,std,seeds,n\n");
        foreach (var (metric, _, _, _) in MetricColumns)
            foreach (var method in Methods)
                foreach (var task in Tasks)
                    if (Get(metric, method, task) is { } c)
                        sb.AppendLine(string.Join(",", metric, Quote(method), Quote(task), Num(c.Mean), c.Seeds > 1 ? Num(c.Std) : "", c.Seeds, CountOf(task)));
        return sb.ToString();
    }

    /// <summary>Writes the Markdown and CSV files, each atomically.</summary>
    public void Save(string markdownPath, string csvPath)
    {
        AtomicFile.WriteAllText(markdownPath, ToMarkdown());
        AtomicFile.WriteAllText(csvPath, ToCsv());
    }

    string TaskHeader(string task) => $"{task} (n={CountOf(task)})";

    /// <summary>The evaluation size of a task; differing sizes across runs are all listed ("100/102").</summary>
    string CountOf(string task) =>
        string.Join("/", results.Where(r => r.Task == task).Select(r => r.Count).Distinct().Order());

    /// <summary>The most seeds any cell has; a cell with fewer says how many it has ("(s=2)").</summary>
    int MostSeeds => results.GroupBy(r => (r.Method, r.Task)).Max(g => g.Count());

    /// <summary>"mean ± std"; one seed has no spread, so its cell is the value alone.</summary>
    static string Format(Cell? c, int decimals, int mostSeeds) => c is null ? "–"
        : c.Mean.ToString($"F{decimals}", CultureInfo.InvariantCulture)
          + (c.Seeds > 1 ? " ± " + c.Std.ToString($"F{decimals}", CultureInfo.InvariantCulture) : "")
          + (c.Seeds < mostSeeds ? $" (s={c.Seeds})" : "");

    static double SampleStd(List<double> xs)
    {
        if (xs.Count < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
    }

    static string Num(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : $"\"{s.Replace("\"", "\"\"")}\"";
}
