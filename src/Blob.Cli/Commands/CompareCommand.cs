using System.CommandLine;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Reports;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob compare`: methods × seeds on one task, then the paper-style table (mean ± std over seeds; ACC and ECE × 100)
/// as Markdown and CSV, and reliability diagrams (one per method and one overlaid). A run whose result.json exists is
/// reused, and an interrupted one resumes from its checkpoint, so a stopped comparison continues where it was.
/// </summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var options = new ExperimentOptions();
        var methods = new Option<string[]>("--methods") { Description = "Methods to compare", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["mle", "map", "blob"] };
        var seeds = new Option<int[]>("--seeds") { Description = "Seeds (the paper: 1 2 3)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [1, 2, 3] };
        var output = new Option<string?>("--output") { Description = "Output folder (default runs/compare-TASK)" };
        var fresh = new Option<bool>("--fresh") { Description = "Retrain runs that already have results" };
        var command = new Command("compare", "Compare methods over seeds on one task: paper-style table and reliability diagrams");
        options.AddTo(command);
        foreach (var o in new Option[] { methods, seeds, output, fresh }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var kinds = (p.GetValue(methods) ?? []).SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries))
                .Select(MethodOptions.Parse).Distinct().ToList();
            var seedList = p.GetValue(seeds) ?? [1];
            var first = options.Read(p, kinds[0], seedList[0]);
            string dir = p.GetValue(output) ?? Path.Combine("runs", $"compare-{first.Task}");
            var outcome = Run(options, p, kinds, seedList, dir, p.GetValue(fresh));
            return outcome ? 0 : 130;
        });
        return command;
    }

    static bool Run(ExperimentOptions options, ParseResult p, IReadOnlyList<MethodKind> kinds, IReadOnlyList<int> seeds,
        string dir, bool fresh)
    {
        var results = new List<RunResult>();
        var pooled = kinds.ToDictionary(k => k, _ => (Probs: new List<double[]>(), Labels: new List<int>()));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Seeds outermost, so that every method has a result early in a long comparison.
        foreach (var seed in seeds)
            foreach (var kind in kinds)
            {
                var spec = options.Read(p, kind, seed);
                string runDir = Path.Combine(dir, kind.ToString().ToLowerInvariant(), $"seed-{seed}");
                string resultPath = Path.Combine(runDir, "result.json"), predictionsPath = Path.Combine(runDir, "predictions.json");
                RunResult result;
                if (!fresh && File.Exists(resultPath) && File.Exists(predictionsPath))
                {
                    result = RunResult.Load(resultPath);
                    Console.WriteLine($"{kind.ToString().ToLowerInvariant()} seed {seed}: reusing {resultPath}");
                }
                else
                {
                    var run = TrainCommand.RunOne(spec, runDir, resume: true, p.GetValue(options.Quiet));
                    if (run is null) return false;
                    TrainCommand.Print(run);
                    result = run.Result;
                }
                results.Add(result);
                var (probs, labels) = Experiment.LoadPredictions(predictionsPath);
                pooled[kind].Probs.AddRange(probs);
                pooled[kind].Labels.AddRange(labels);
            }

        // One diagram per method, from the predictions of all its seeds together, and one with all methods.
        var series = new List<ReliabilitySeries>();
        foreach (var kind in kinds)
        {
            var (probs, labels) = (pooled[kind].Probs.ToArray(), pooled[kind].Labels.ToArray());
            var s = new ReliabilitySeries(kind.ToString().ToUpperInvariant(), Metrics.ReliabilityBins(probs, labels), Metrics.Ece(probs, labels));
            series.Add(s);
            ReliabilityDiagram.Save(Path.Combine(dir, $"reliability-{kind.ToString().ToLowerInvariant()}.png"),
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
