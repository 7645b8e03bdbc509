using Blob.Cli.Commands;
using Blob.Experiments;
using Blob.Reports;
using Blob.Runtime;

namespace Blob.Cli.Slurm;

/// <summary>A run that was submitted to Slurm and is not finished, with its task's state.</summary>
public sealed record SubmittedRun(ComparisonRun Run, SubmittedTask Task, SlurmTaskState State);

/// <summary>
/// A comparison's runs on a Slurm cluster. <see cref="Submit"/> sends the unfinished ones as one array job, one task per
/// run, each training into the run's own folder of the comparison's output (so the output must be on a filesystem the
/// nodes share); <see cref="Submitted"/> and <see cref="Wait"/> then tell where each submitted run is, so that compare
/// builds its table from them rather than training them here.
/// </summary>
public static class SlurmComparison
{
    /// <summary>OUTPUT/slurm holds the array job's script and its tasks' logs.</summary>
    public const string Folder = "slurm";

    /// <summary>
    /// Submits the runs that are neither finished nor already queued or running in Slurm (those are left to their
    /// task: a second one would train the same folder at the same time). With overwrite, each submitted run's folder is
    /// cleared first. Returns the job id; null when there was nothing to submit.
    /// </summary>
    public static string? Submit(IReadOnlyList<ComparisonRun> unfinished, string outputDir, SlurmJob job,
        IReadOnlyList<string> trainArguments, bool overwrite)
    {
        var active = Submitted(unfinished).Where(s => s.State.IsActive).ToList();
        foreach (var s in active)
        {
            if (overwrite)
                throw new BlobException($"--overwrite: {s.Run.Name} is {s.State.Describe()} in Slurm as task {s.Task.TaskId}; " +
                                        $"wait for it, or cancel it (scancel {s.Task.TaskId}), first");
            Console.WriteLine($"{s.Run.Name}: already {s.State.Describe()} in Slurm as task {s.Task.TaskId}");
        }
        var runs = unfinished.Where(r => active.All(s => !ReferenceEquals(s.Run, r))).ToList();
        if (runs.Count == 0) return null;
        if (overwrite) foreach (var r in runs) RunFolder.Clear(r.Dir);

        string logDir = Path.GetFullPath(Path.Combine(outputDir, Folder));
        string script = Path.Combine(logDir, "array.sh");
        var options = ArrayJobScript.SbatchOptions(runs.Count, $"blob-compare-{runs[0].Spec.Task}", logDir, Environment.CurrentDirectory)
            .Concat(job.SbatchArguments()).ToList();
        var tasks = runs.Select(r => new ArrayTaskRun(Path.GetFullPath(r.Dir), r.Method, r.Seed)).ToList();
        AtomicFile.WriteAllText(script, ArrayJobScript.Text(tasks, trainArguments, BlobCommand(), job,
            $"sbatch {ArrayJobScript.Words(options)} {script}"));
        string jobId = SlurmCommands.Submit(options, script);

        for (int i = 0; i < runs.Count; i++) new SubmittedTask(jobId, i, Path.Combine(logDir, $"{jobId}_{i}.log")).Save(runs[i].Dir);
        Console.WriteLine($"submitted Slurm array job {jobId}: {string.Join(", ", runs.Select((r, i) => $"{r.Name} as task {jobId}_{i}"))}");
        Console.WriteLine($"logs in {logDir}/; run the same command without --slurm (or with --wait) to build the table");
        return jobId;
    }

    /// <summary>The runs among these that were submitted to Slurm, each with its task's state as Slurm reports it now.</summary>
    public static IReadOnlyList<SubmittedRun> Submitted(IEnumerable<ComparisonRun> unfinished)
    {
        var submitted = unfinished.Select(r => (Run: r, Task: SubmittedTask.Load(r.Dir))).Where(x => x.Task is not null).ToList();
        if (submitted.Count == 0) return [];
        var states = SlurmCommands.States(submitted.Select(x => x.Task!.TaskId).ToList());
        return submitted.Select(x => new SubmittedRun(x.Run, x.Task!, states.GetValueOrDefault(x.Task!.TaskId, SlurmTaskState.Unknown))).ToList();
    }

    /// <summary>Asks Slurm every <paramref name="poll"/> until none of the submitted runs is queued or running; says what changed.</summary>
    public static IReadOnlyList<SubmittedRun> Wait(IReadOnlyList<ComparisonRun> unfinished, TimeSpan poll)
    {
        string? said = null;
        while (true)
        {
            var submitted = Submitted(unfinished);
            var counts = string.Join(", ", submitted.GroupBy(s => s.State.Phase).OrderBy(g => g.Key).Select(g => $"{g.Count()} {Word(g.Key)}"));
            if (submitted.Count > 0 && counts != said) Console.WriteLine($"slurm: {counts}");
            said = counts;
            if (!submitted.Any(s => s.State.IsActive)) return submitted;
            Thread.Sleep(poll);
        }
    }

    static string Word(SlurmPhase phase) => phase switch
    {
        SlurmPhase.Pending => "pending", SlurmPhase.Running => "running", SlurmPhase.Ended => "ended",
        _ => "no longer known to Slurm",
    };

    /// <summary>How an array task runs this same build of blob (which must be on the shared filesystem too).</summary>
    static string[] BlobCommand()
    {
        string assembly = typeof(SlurmComparison).Assembly.Location;
        // A single-file build has no assembly file: the executable is blob itself.
        return assembly.Length == 0 ? [Environment.ProcessPath!] : ["dotnet", assembly];
    }
}
