using Blob.Layers;
using Blob.Runtime;
using static TorchSharp.torch;
using static Blob.Training.NumberCsv;

namespace Blob.Training;

/// <summary>
/// The distribution of the posterior standard deviations of A's entries after one optimiser step, over every variational
/// adapter of the model (BLoB's Ω = G², BBB's softplus(ρ)): how far the posterior has grown toward, or past, the prior's σp.
/// Quantiles by linear interpolation between order statistics (numpy's and torch.quantile's default).
/// </summary>
/// <param name="Step">Optimiser steps done.</param>
/// <param name="Count">Entries summarised (the sizes of all A matrices together).</param>
/// <param name="PriorStd">σp of the adapters' prior (the largest, should they differ).</param>
public sealed record PosteriorStdRow(long Step, long Count, double Min, double P05, double P25, double Median, double P75,
    double P95, double Max, double Mean, double PriorStd)
{
    /// <summary>The row of <paramref name="values"/> (the entries' standard deviations), at <paramref name="step"/>.</summary>
    public static PosteriorStdRow Of(long step, double[] values, double priorStd)
    {
        if (values.Length == 0) throw new ArgumentException("no standard deviations to summarise", nameof(values));
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return new PosteriorStdRow(step, sorted.Length, sorted[0], Quantile(sorted, 0.05), Quantile(sorted, 0.25),
            Quantile(sorted, 0.5), Quantile(sorted, 0.75), Quantile(sorted, 0.95), sorted[^1], sorted.Average(), priorStd);
    }

    /// <summary>The q-quantile of ascending <paramref name="sorted"/>: linear between the order statistics at (n − 1)·q.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double at = (sorted.Length - 1) * q;
        int below = (int)Math.Floor(at), above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (at - below) * (sorted[above] - sorted[below]);
    }
}

/// <summary>
/// <c>posterior-std.csv</c> in a run's folder, one <see cref="PosteriorStdRow"/> per optimiser step, for methods with a
/// variational posterior (BLoB, BBB); the evidence for how Ω grows against σp during training. Kept and written like
/// <see cref="TrainingLog"/>: whole and atomically beside it, a resumption keeping the rows up to its checkpoint.
/// </summary>
public sealed class PosteriorStdLog
{
    /// <summary>The log's name in a run's folder.</summary>
    public const string FileName = "posterior-std.csv";
    /// <summary>The CSV's first line.</summary>
    public const string Header = "step,count,min,p05,p25,median,p75,p95,max,mean,prior_std";

    readonly List<PosteriorStdRow> _rows;
    readonly IReadOnlyList<IVariationalAdapter> _adapters;

    /// <summary>Where the log is written.</summary>
    public string Path { get; }

    /// <summary>The rows so far, by step.</summary>
    public IReadOnlyList<PosteriorStdRow> Rows => _rows;

    PosteriorStdLog(string path, List<PosteriorStdRow> rows, IReadOnlyList<IVariationalAdapter> adapters)
    {
        Path = path; _rows = rows; _adapters = adapters;
    }

    /// <summary>The log of <paramref name="model"/>'s variational adapters at <paramref name="path"/>, continuing after
    /// <paramref name="resumedStep"/> steps; null when the model has none (nothing to log).</summary>
    public static PosteriorStdLog? Open(string path, TorchSharp.torch.nn.Module model, long resumedStep)
    {
        var adapters = AdapterInjection.Adapters(model).Select(a => a.Adapter).OfType<IVariationalAdapter>().ToList();
        if (adapters.Count == 0) return null;
        var kept = resumedStep > 0 && File.Exists(path) ? Read(path).Where(r => r.Step <= resumedStep).ToList() : [];
        return new PosteriorStdLog(path, kept, adapters);
    }

    /// <summary>Adds the row of the adapters' standard deviations now, after <paramref name="step"/> steps.</summary>
    public void Add(long step)
    {
        double[] values;
        using (NewDisposeScope())
        using (no_grad())
            values = cat(_adapters.Select(a => a.StdA().flatten()).ToList()).to(ScalarType.Float64).cpu().data<double>().ToArray();
        _rows.RemoveAll(r => r.Step >= step);
        _rows.Add(PosteriorStdRow.Of(step, values, _adapters.Max(a => a.PriorStd)));
    }

    /// <summary>Writes the whole log atomically.</summary>
    public void Save() => AtomicFile.WriteAllText(Path, ToCsv(_rows));

    /// <summary>The rows as CSV, <see cref="Header"/> first; numbers round-trip exactly.</summary>
    public static string ToCsv(IEnumerable<PosteriorStdRow> rows) => NumberCsv.Write(Header, rows, r =>
        [F(r.Step), F(r.Count), F(r.Min), F(r.P05), F(r.P25), F(r.Median), F(r.P75), F(r.P95), F(r.Max), F(r.Mean), F(r.PriorStd)]);

    /// <summary>The rows of a posterior-std.csv.</summary>
    public static IReadOnlyList<PosteriorStdRow> Read(string path) => NumberCsv.Read(path, 11, "posterior-std", f =>
        new PosteriorStdRow(Long(f[0]), Long(f[1]), Double(f[2]), Double(f[3]), Double(f[4]), Double(f[5]), Double(f[6]),
            Double(f[7]), Double(f[8]), Double(f[9]), Double(f[10])));
}
