using System.CommandLine;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Reports;
using Blob.Training;
using Blob.Cli.Slurm;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob compare`: methods × seeds on one task, then the paper-style table (mean ± std over seeds; ACC and ECE × 100)
/// as Markdown and CSV, and reliability diagrams (one per method and one overlaid). A finished run made with the same
/// settings is reused, and an interrupted one resumes from its checkpoint, so a stopped comparison continues where it
/// was; a run made with other settings is refused before anything trains (see <see cref="RunFolder"/>).
/// With --slurm the unfinished runs go to a Slurm cluster as one array job instead (see <see cref="SlurmComparison"/>);
/// the same command then collects them: it builds the table once they are done, and until then says which runs are
/// pending, running or failed there rather than training them here.
/// </summary>
public static class CompareCommand
{
    /// <summary>The exit code while runs are still queued or running in Slurm: sysexits' EX_TEMPFAIL, "try again later".</summary>
    public const int StillRunning = 75;

    public static Command Create()
    {
        var options = new ExperimentOptions();
        var slurm = new SlurmOptions();
        var methods = new Option<string[]>("--methods") { Description = $"Methods to compare: {MethodRegistry.Names} (default: mle map blob)", AllowMultipleArgumentsPerToken = true }
            .Must(ms => ms.SelectMany(SplitMethods).FirstOrDefault(m => !MethodRegistry.TryParse(m, out _)) is { } bad ? $"unknown method '{bad}' (known: {MethodRegistry.Names})" : null);
        var seeds = new Option<int[]>("--seeds") { Description = "Seeds (default, as the paper: 1 2 3)", AllowMultipleArgumentsPerToken = true }
            .Must(ss => ss.Distinct().Count() == ss.Length ? null : "a seed is repeated");
        var output = new Option<string?>("--output") { Description = "Output folder (default runs/compare-TASK)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Retrain every run, replacing results and checkpoints already in the output folder" };
        var conformal = ConformalOption.Create();
        var command = new Command("compare", "Compare methods over seeds on one task: paper-style table and reliability diagrams");
        options.AddTo(command);
        foreach (var o in new Option[] { methods, seeds, output, overwrite, conformal }) command.Options.Add(o);
        slurm.AddTo(command);
        command.SetAction(p =>
        {
            var given = p.GetValue(methods) is { Length: > 0 } m ? m : ["mle", "map", "blob"];
            var kinds = given.SelectMany(SplitMethods).Select(MethodRegistry.Parse).Distinct().ToList();
            var seedList = p.GetValue(seeds) is { Length: > 0 } chosen ? chosen : [1, 2, 3];
            var first = options.Read(p, kinds[0], seedList[0]);
            if (p.GetValue(conformal) is { } alpha) ConformalOption.Require(first, alpha);
            string dir = p.GetValue(output) ?? Path.Combine("runs", $"compare-{first.Task}");
            using var held = RunLock.Folder(dir); // one comparison per folder; each run it trains locks its own folder too
            var runs = Plan(options, p, kinds, seedList, dir);
            int code = Compare(runs, dir, p.GetValue(overwrite), slurm.Read(p), options.GivenArguments(p), p.GetValue(options.Quiet));
            if (code == 0 && p.GetValue(conformal) is { } level && runs.All(r => RunFolder.CanReuse(r.Dir, r.Settings))) WriteGuarantees(runs, dir, level);
            return code;
        });
        return command;
    }

    /// <summary>
    /// The comparison: refuses a run made with other settings before anything trains, submits the unfinished runs to
    /// Slurm (--slurm), says where the submitted ones are until they are done (or waits for them, --wait), then trains
    /// what is left here and writes the table. Returns the exit code.
    /// </summary>
    static int Compare(IReadOnlyList<ComparisonRun> runs, string dir, bool fresh, SlurmRequest slurm, IReadOnlyList<string> trainArguments, bool quiet)
    {
        var unfinished = runs.Where(r => fresh || !RunFolder.CanReuse(r.Dir, r.Settings)).ToList();
        if (!fresh) foreach (var r in unfinished) RunFolder.RequireResumable(r.Dir, r.Settings);

        if (slurm.Submit)
        {
            var job = SlurmComparison.Submit(unfinished, dir, slurm.Job, trainArguments, fresh);
            if (job is not null && !slurm.Wait) return 0;
            fresh = false; // the runs were cleared before they were submitted: what they write now is to be kept
        }
        else if (fresh && unfinished.FirstOrDefault(r => SubmittedTask.Load(r.Dir) is not null) is { } submitted)
            throw new BlobException($"--overwrite: {submitted.Dir} was submitted to Slurm ({SubmittedTask.FileName}); collect the comparison without --overwrite, " +
                                    "resubmit it with --slurm --overwrite, or choose another --output");

        var inSlurm = slurm.Wait ? SlurmComparison.Wait(unfinished, slurm.Poll) : SlurmComparison.Submitted(unfinished);
        if (inSlurm.Count > 0 && Outstanding(runs, inSlurm) is { } code) return code;
        return Run(runs, dir, fresh, quiet) ? 0 : TrainCommand.StopCode;
    }

    /// <summary>--conformal: the answer-set and OOD detection tables and pictures, from the finished runs' predictions (<see cref="ConformalComparison"/>).</summary>
    static void WriteGuarantees(IReadOnlyList<ComparisonRun> runs, string dir, double alpha)
    {
        var written = ConformalComparison.Write(runs.Select(r => new ComparedRun(r.Kind.Name, r.Seed, r.Dir)).ToList(), runs[0].Spec.OodTasks, dir, alpha, runs[0].Spec.Task);
        Console.WriteLine();
        Console.WriteLine(File.ReadAllText(Path.Combine(dir, "table-conformal.md")));
        if (File.Exists(Path.Combine(dir, "table-ood-detection.md"))) Console.WriteLine(File.ReadAllText(Path.Combine(dir, "table-ood-detection.md")));
        Console.WriteLine($"conformal: {string.Join(", ", written)}; each run's {RunConformal.FileName}");
    }

    /// <summary>"mle,blob" and "mle blob" both name two methods.</summary>
    static string[] SplitMethods(string methods) => methods.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// The comparison's runs, seeds outermost, so that every method has a result early in a long comparison. Every
    /// run reads the same data (only the method and the seed differ), so the task is loaded once, for the settings.
    /// </summary>
    static List<ComparisonRun> Plan(ExperimentOptions options, ParseResult p, IReadOnlyList<FineTuningMethod> kinds, IReadOnlyList<int> seeds, string dir)
    {
        var specs = seeds.SelectMany(seed => kinds.Select(kind => (Kind: kind, Seed: seed, Spec: options.Read(p, kind, seed)))).ToList();
        var task = Experiment.LoadSubsampledTask(specs[0].Spec);
        return specs.Select(s => new ComparisonRun(s.Kind, s.Seed, s.Spec, RunSettings.Of(s.Spec, task),
            Path.Combine(dir, s.Kind.Name, $"seed-{s.Seed}"))).ToList();
    }

    /// <summary>
    /// Says where each run that is not finished is, when some of them are still in Slurm or failed there; returns the
    /// exit code (<see cref="StillRunning"/>, or 1 for a failure), or null when every submitted run is finished.
    /// </summary>
    static int? Outstanding(IReadOnlyList<ComparisonRun> runs, IReadOnlyList<SubmittedRun> inSlurm)
    {
        // A run whose task ended is finished when its folder holds the result, made with this comparison's settings
        // (CanReuse refuses any other): a cluster run made otherwise is never mixed into the table.
        var failed = inSlurm.Where(s => !s.State.IsActive && !RunFolder.CanReuse(s.Run.Dir, s.Run.Settings)).ToList();
        var waiting = inSlurm.Where(s => s.State.IsActive).ToList();
        if (failed.Count == 0 && waiting.Count == 0) return null;

        foreach (var run in runs)
        {
            var s = inSlurm.FirstOrDefault(x => ReferenceEquals(x.Run, run));
            if (s is null) Console.WriteLine(RunFolder.CanReuse(run.Dir, run.Settings) ? $"{run.Name}: finished" : $"{run.Name}: not submitted");
            else if (s.State.IsActive) Console.WriteLine($"{run.Name}: in Slurm as task {s.Task.TaskId}, {s.State.Describe()}");
            else if (failed.Contains(s))
                Console.WriteLine($"{run.Name}: failed in Slurm as task {s.Task.TaskId}, {s.State.Describe()}: {s.Task.LastError() ?? "no log"} [log: {s.Task.Log}]");
            else Console.WriteLine($"{run.Name}: finished");
        }
        if (failed.Count > 0)
        {
            Console.Error.WriteLine($"error: {failed.Count} run(s) failed in Slurm ({string.Join(", ", failed.Select(f => f.Run.Name))}); " +
                                    $"the same command with --slurm submits them again, each resuming its checkpoint (to train one here instead, delete its {SubmittedTask.FileName})");
            return 1;
        }
        Console.WriteLine($"{waiting.Count} of {runs.Count} runs still in Slurm: run the same command again, or with --wait, to build the table");
        return StillRunning;
    }

    /// <summary>
    /// Reuses each finished run, trains the others here, then writes a table and the diagrams for each evaluated split
    /// (the validation split's as table-validation.*, dev's as table.*, each --ood set's as table-ood-TASK.*); false when stopped.
    /// </summary>
    static bool Run(IReadOnlyList<ComparisonRun> runs, string dir, bool overwrite, bool quiet)
    {
        var reuse = runs.Select(r => !overwrite && RunFolder.CanReuse(r.Dir, r.Settings)).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var (run, reused) in runs.Zip(reuse))
        {
            if (reused)
            {
                Console.WriteLine($"{run.Name}: reusing {run.Dir} (same settings)");
                continue;
            }
            var trained = TrainCommand.RunOne(run.Spec, run.Dir, overwrite ? ExistingRun.Overwrite : ExistingRun.Resume, quiet);
            if (trained is null) return false;
            TrainCommand.Print(trained);
        }
        var splits = runs[0].Spec.Splits;
        // --calibrate: each run's calibrated results from its saved predictions (a reused run's too), before the tables
        if (runs[0].Spec.Calibrate is { } calibrator)
            foreach (var run in runs)
                RunCalibration.Apply(run.Dir, calibrator, Splits(run.Spec));
        if (splits != EvaluatedSplits.Dev) WriteTable(runs, dir, RunFiles.Validation, "table-validation", "validation-");
        if (splits != EvaluatedSplits.Validation)
        {
            WriteTable(runs, dir, RunFiles.Dev, "table", "");
            // the adapters trained on the task, evaluated on each --ood set (the paper's Table 2): a table per set
            foreach (var name in runs[0].Spec.OodTasks) WriteTable(runs, dir, RunFiles.OutOfDistribution(name), $"table-ood-{name}", $"ood-{name}-");
        }
        Console.WriteLine($"total {clock.Elapsed.TotalMinutes:F1} min");
        return true;
    }

    /// <summary>The files of every split a run with this spec evaluates: validation, dev, each --ood set.</summary>
    static IEnumerable<RunFiles> Splits(ExperimentSpec spec)
    {
        if (spec.Splits != EvaluatedSplits.Dev) yield return RunFiles.Validation;
        if (spec.Splits == EvaluatedSplits.Validation) yield break;
        yield return RunFiles.Dev;
        foreach (var name in spec.OodTasks) yield return RunFiles.OutOfDistribution(name);
    }

    /// <summary>
    /// One split's table (Markdown and CSV) from the runs' result files, and its pictures: reliability diagrams, one per
    /// method from the predictions of all its seeds together and one with all methods, and the methods' risk–coverage
    /// curves (each from its seeds' pooled predictions), and, where methods sample, their embedding uncertainty
    /// (embedding-uncertainty.png, from the runs' embedding-variance.csv). An out-of-distribution set's table
    /// (table-ood-TASK.*) has its pictures (ood-TASK-reliability*.png, ood-TASK-risk-coverage.png) where every run kept its
    /// predictions, and none where a run predates them.
    /// </summary>
    static void WriteTable(IReadOnlyList<ComparisonRun> runs, string dir, RunFiles files, string table, string diagramPrefix)
    {
        var kinds = runs.Select(r => r.Kind).Distinct().ToList();
        int seeds = runs.Select(r => r.Seed).Distinct().Count();
        var loaded = runs.Select(r => (r.Kind, Split: files.Load(r.Dir))).ToList();
        var results = loaded.Select(x => x.Split.Item1).ToList();
        string title = $"{results[0].Task}{files.Caption}";
        var series = new List<ReliabilitySeries>();
        var curves = new List<RiskCoverageSeries>();
        // out-of-distribution runs made before their predictions were saved have metrics only: then no diagram is drawn
        bool perExample = loaded.All(x => x.Split.Item3.Length > 0);
        foreach (var kind in perExample ? kinds : [])
        {
            var probs = loaded.Where(x => x.Kind == kind).SelectMany(x => x.Split.Item2).ToArray();
            var labels = loaded.Where(x => x.Kind == kind).SelectMany(x => x.Split.Item3).ToArray();
            var s = new ReliabilitySeries(kind.DisplayName, Metrics.ReliabilityBins(probs, labels), Metrics.Ece(probs, labels));
            series.Add(s);
            curves.Add(new RiskCoverageSeries(kind.DisplayName, Metrics.RiskCoverage(probs, labels)));
            ReliabilityDiagram.Save(Path.Combine(dir, $"{diagramPrefix}reliability-{kind.Name}.png"), $"{title}: {s.Method}, {seeds} seed(s) pooled", s);
        }
        // a method that also reports its mean weights (BLoB at N = 0) gets a row of its own, "blob-n0", just before "blob";
        // a calibrated run (--calibrate) one after it, "blob+ts"
        var mean = RunFiles.MeanOf(files);
        var calibrated = RunCalibration.FilesOf(files);
        var comparison = new ComparisonTable(runs.Zip(results).SelectMany(x =>
            (mean is not null && x.First.Spec.ReportsMean && mean.Exists(x.First.Dir) ? [mean.Load(x.First.Dir).Item1] : Array.Empty<RunResult>())
            .Append(x.Second)
            .Concat(x.First.Spec.Calibrate is not null && calibrated.Exists(x.First.Dir) ? [calibrated.Load(x.First.Dir).Item1] : Array.Empty<RunResult>())));
        comparison.Save(Path.Combine(dir, $"{table}.md"), Path.Combine(dir, $"{table}.csv"));
        Console.WriteLine();
        Console.WriteLine($"{title}:");
        Console.WriteLine(comparison.ToMarkdown());
        if (!perExample)
        {
            Console.WriteLine($"table: {dir}/{table}.md, {dir}/{table}.csv");
            return;
        }
        ReliabilityDiagram.SaveOverlay(Path.Combine(dir, $"{diagramPrefix}reliability.png"), $"{title}: reliability, {seeds} seed(s) pooled", series);
        RiskCoverageDiagram.SaveOverlay(Path.Combine(dir, $"{diagramPrefix}risk-coverage.png"), $"{title}: risk–coverage, {seeds} seed(s) pooled", curves);
        // the methods that sample, each in its colour; a method's seeds without the file (one-pass methods, older runs) add nothing
        var embeddings = kinds.Select((kind, i) => new EmbeddingVarianceSeries(kind.DisplayName, i, runs.Where(r => r.Kind == kind)
                .SelectMany(r => files.LoadEmbeddingVariance(r.Dir) ?? []).ToList()))
            .Where(e => e.Rows.Count > 0).ToList();
        string embeddingPicture = Path.Combine(dir, diagramPrefix + EmbeddingUncertaintyDiagram.FileName);
        if (embeddings.Count > 0)
            EmbeddingUncertaintyDiagram.Save(embeddingPicture, $"{title}: final-embedding variance, {seeds} seed(s) pooled", embeddings);
        Console.WriteLine($"table: {dir}/{table}.md, {dir}/{table}.csv; diagrams: {dir}/{diagramPrefix}reliability*.png, {dir}/{diagramPrefix}risk-coverage.png" +
                          (embeddings.Count > 0 ? $", {embeddingPicture}" : ""));
    }
}
