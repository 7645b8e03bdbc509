using System.CommandLine;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Reports;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob compare`: methods × seeds on one task, then the paper-style table (mean ± std over seeds; ACC and ECE × 100)
/// as Markdown and CSV, and reliability diagrams (one per method and one overlaid). A finished run made with the same
/// settings is reused, and an interrupted one resumes from its checkpoint, so a stopped comparison continues where it
/// was; a run made with other settings is refused before anything trains (see <see cref="RunFolder"/>).
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var options = new ExperimentOptions();
        var methods = new Option<string[]>("--methods") { Description = $"Methods to compare: {MethodRegistry.Names} (default: mle map blob)", AllowMultipleArgumentsPerToken = true }
            .Must(ms => ms.SelectMany(SplitMethods).FirstOrDefault(m => !MethodRegistry.TryParse(m, out _)) is { } bad ? $"unknown method '{bad}' (known: {MethodRegistry.Names})" : null);
        var seeds = new Option<int[]>("--seeds") { Description = "Seeds (default, as the paper: 1 2 3)", AllowMultipleArgumentsPerToken = true }
            .Must(ss => ss.Distinct().Count() == ss.Length ? null : "a seed is repeated");
        var output = new Option<string?>("--output") { Description = "Output folder (default runs/compare-TASK)" };
        var overwrite = new Option<bool>("--overwrite", "--fresh") { Description = "Retrain every run, replacing results and checkpoints already in the output folder" };
        var command = new Command("compare", "Compare methods over seeds on one task: paper-style table and reliability diagrams");
        options.AddTo(command);
        foreach (var o in new Option[] { methods, seeds, output, overwrite }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var given = p.GetValue(methods) is { Length: > 0 } m ? m : ["mle", "map", "blob"];
            var kinds = given.SelectMany(SplitMethods).Select(MethodRegistry.Parse).Distinct().ToList();
            var seedList = p.GetValue(seeds) is { Length: > 0 } chosen ? chosen : [1, 2, 3];
            var first = options.Read(p, kinds[0], seedList[0]);
            string dir = p.GetValue(output) ?? Path.Combine("runs", $"compare-{first.Task}");
            var outcome = Run(options, p, kinds, seedList, dir, p.GetValue(overwrite));
            return outcome ? 0 : 130;
        });
        return command;
    }

    /// <summary>"mle,blob" and "mle blob" both name two methods.</summary>
    static string[] SplitMethods(string methods) => methods.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static bool Run(ExperimentOptions options, ParseResult p, IReadOnlyList<FineTuningMethod> kinds, IReadOnlyList<int> seeds,
        string dir, bool overwrite)
    {
        // Seeds outermost, so that every method has a result early in a long comparison.
        var runs = seeds.SelectMany(seed => kinds.Select(kind => (Kind: kind, Seed: seed, Spec: options.Read(p, kind, seed),
            Dir: Path.Combine(dir, kind.Name, $"seed-{seed}")))).ToList();
        // Before anything trains: a finished run is reused only if its settings are this comparison's; any other is
        // refused here, with the differences named, rather than after hours of the other runs.
        // Every run reads the same data (only the method and the seed differ), so the task is loaded once here.
        var task = Experiment.LoadSubsampledTask(runs[0].Spec);
        var reuse = runs.Select(r => !overwrite && RunFolder.CanReuse(r.Dir, RunSettings.Of(r.Spec, task))).ToList();

        var results = new List<RunResult>();
        var pooled = kinds.ToDictionary(k => k, _ => (Probs: new List<double[]>(), Labels: new List<int>()));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (run, reused) in runs.Zip(reuse))
        {
            string resultPath = Path.Combine(run.Dir, RunFolder.Result);
            RunResult result;
            if (reused)
            {
                result = RunResult.Load(resultPath);
                Console.WriteLine($"{run.Kind.Name} seed {run.Seed}: reusing {resultPath} (same settings)");
            }
            else
            {
                var trained = TrainCommand.RunOne(run.Spec, run.Dir, overwrite ? ExistingRun.Overwrite : ExistingRun.Resume, p.GetValue(options.Quiet));
                if (trained is null) return false;
                TrainCommand.Print(trained);
                result = trained.Result;
            }
            results.Add(result);
            var (probs, labels) = Experiment.LoadPredictions(Path.Combine(run.Dir, RunFolder.Predictions));
            pooled[run.Kind].Probs.AddRange(probs);
            pooled[run.Kind].Labels.AddRange(labels);
        }

        // One diagram per method, from the predictions of all its seeds together, and one with all methods.
        var series = new List<ReliabilitySeries>();
        foreach (var kind in kinds)
        {
            var (probs, labels) = (pooled[kind].Probs.ToArray(), pooled[kind].Labels.ToArray());
            var s = new ReliabilitySeries(kind.DisplayName, Metrics.ReliabilityBins(probs, labels), Metrics.Ece(probs, labels));
            series.Add(s);
            ReliabilityDiagram.Save(Path.Combine(dir, $"reliability-{kind.Name}.png"),
                $"{results[0].Task}: {s.Method}, {seeds.Count} seed(s) pooled", s);
        }
        var table = new ComparisonTable(results);
        table.Save(Path.Combine(dir, "table.md"), Path.Combine(dir, "table.csv"));
        ReliabilityDiagram.SaveOverlay(Path.Combine(dir, "reliability.png"), $"{results[0].Task}: reliability", series);
        Console.WriteLine();
        Console.WriteLine(table.ToMarkdown());
        Console.WriteLine($"table: {dir}/table.md, {dir}/table.csv; diagrams: {dir}/reliability*.png; total {clock.Elapsed.TotalMinutes:F1} min");
        return true;
    }
}
