using System.Diagnostics;
using Blob.Cli.Commands;
using Blob.Cli.Slurm;
using Blob.Tests.Cli;
using Blob.Training;

namespace Blob.Tests.Cli.Slurm;

/// <summary>
/// `compare --slurm` on a real Slurm (a single node started on this machine, <see cref="SingleNodeSlurm"/>): the
/// collected table equals the same comparison run here bit for bit, a task requeued mid-run resumes from the checkpoint
/// its SIGTERM wrote, a task that fails for a real error is shown with its error and not retried, and a cluster run
/// made with other settings is refused. Skipped, with the reason, where Slurm cannot be started; CI sets
/// BLOB_REQUIRE_SLURM=1 after installing it, and there a cluster that does not start fails the test instead.
/// </summary>
public class SlurmCompareTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-slurm-compare-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Enough steps that a requeue sent at the first progress line (step 4: one every tenth) lands mid-run, with 36
    /// steps (about a second on a quiet machine) to spare; few enough to be quick.
    /// </summary>
    const int Steps = 40;

    static readonly string[] Compare =
    [
        "compare", "--task", "demo-facts", "--max-train", "16", "--max-eval", "8", "--max-length", "16", "--batch-size", "8",
        "--device", "cpu", "--quiet", "--methods", "mle", "blob", "--seeds", "1", "2", "--steps", $"{Steps}",
        "--checkpoint-every", "0", // the only checkpoint before the end is the one SIGTERM makes
    ];

    static readonly string[] Runs = ["mle/seed-1", "blob/seed-1", "mle/seed-2", "blob/seed-2"];

    [SkippableFact]
    public void ACompareOnSlurmEqualsTheLocalOneAndSurvivesARequeue()
    {
        var (started, whyNot) = SingleNodeSlurm.TryStart();
        if (Environment.GetEnvironmentVariable("BLOB_REQUIRE_SLURM") == "1") Assert.True(started is not null, whyNot);
        Skip.If(started is null, whyNot);
        using var cluster = started!;
        var clock = Stopwatch.StartNew();
        string local = Path.Combine(_dir, "local"), onSlurm = Path.Combine(_dir, "slurm");
        string[] submit = ["--slurm", "--partition", SingleNodeSlurm.Partition, "--time", "10", "--cpus-per-task", "1", "--mem", "500M"];

        // The reference: the same comparison, trained here.
        Ok([.. Compare, "--output", local]);

        // A real error for one task: blob seed 2's folder holds a checkpoint whose state cannot be read. Its settings
        // are this comparison's, so it is submitted, and `blob train --resume` fails on it in the task.
        string broken = Path.Combine(onSlurm, "blob", "seed-2");
        Directory.CreateDirectory(Path.Combine(broken, "checkpoint"));
        File.Copy(Path.Combine(local, "blob", "seed-2", "settings.json"), Path.Combine(broken, "settings.json"));
        File.WriteAllText(Path.Combine(broken, "checkpoint", "state.json"), "not a checkpoint");

        var submitted = Ok([.. Compare, "--output", onSlurm, .. submit]);
        Assert.Contains("submitted Slurm array job", submitted.Out);
        var tasks = Runs.Select(r => SubmittedTask.Load(Path.Combine(onSlurm, r))!).ToList();
        Assert.Equal([0, 1, 2, 3], tasks.Select(t => t.Index));

        // Collected at once: nothing trains here, and the command says where the runs are.
        var early = BlobCli.Run([.. Compare, "--output", onSlurm]);
        Assert.True(early.Code == CompareCommand.StillRunning, early.ToString());
        Assert.Contains("mle seed 1: in Slurm as task", early.Out);
        Assert.Contains("blob seed 2: in Slurm as task", early.Out); // pending: the node's two CPUs hold tasks 0 and 1

        // Requeue mle seed 1 mid-run: Slurm's SIGTERM makes blob write a checkpoint and stop; the task resumes from it.
        var requeued = tasks[0];
        string checkpoint = Path.Combine(onSlurm, Runs[0], "checkpoint");
        WaitFor(() => File.Exists(requeued.Log) && File.ReadAllText(requeued.Log).Contains($"/{Steps}  loss"), "mle seed 1's first steps", cluster);
        var requeue = cluster.Run("scontrol", "requeue", requeued.TaskId);
        Assert.True(requeue.Code == 0, requeue.Error);
        WaitFor(() => File.ReadAllText(requeued.Log).Contains("stopped after step"), "blob to stop on SIGTERM", cluster);
        WaitFor(() => SlurmCommands.States([requeued.TaskId]).GetValueOrDefault(requeued.TaskId)?.Phase == SlurmPhase.Pending,
            "the requeued task to be pending", cluster);
        long? stoppedAt = TrainingCheckpoint.SavedStep(checkpoint);
        Assert.True(stoppedAt is > 0 and < Steps, $"SIGTERM's checkpoint is at step {stoppedAt?.ToString() ?? "none"} of {Steps}");
        Assert.Contains($"stopped after step {stoppedAt} of {Steps}", File.ReadAllText(requeued.Log));
        Assert.False(File.Exists(Path.Combine(onSlurm, Runs[0], "result.json")));
        cluster.Run("scontrol", "update", $"JobId={requeued.TaskId}", "StartTime=now"); // Slurm holds a requeued task for two minutes

        // Waited for: the broken run failed, with its error shown, and was not retried.
        var waited = BlobCli.Run([.. Compare, "--output", onSlurm, "--wait", "--poll", "1"]);
        Assert.True(waited.Code == 1, waited.ToString());
        Assert.Contains("blob seed 2: failed in Slurm", waited.Out);
        Assert.Contains("not a checkpoint state file", waited.Out);
        Assert.Single(File.ReadAllLines(tasks[3].Log), l => l.StartsWith("blob: blob seed 2 on", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(onSlurm, "table.md")), "no table while a run is missing");

        // Repaired and submitted again: only the failed run goes to Slurm, then the table is built.
        Directory.Delete(Path.Combine(broken, "checkpoint"), recursive: true);
        var again = Ok([.. Compare, "--output", onSlurm, .. submit, "--wait", "--poll", "1"]);
        Assert.Contains("blob seed 2 as task", again.Out);
        Assert.DoesNotContain("mle seed 1 as task", again.Out);

        // The cluster's results are the local ones, bit for bit; the requeued run resumed where SIGTERM stopped it.
        foreach (var run in Runs)
            Assert.True(File.ReadAllBytes(Path.Combine(local, run, "predictions.json")).SequenceEqual(File.ReadAllBytes(Path.Combine(onSlurm, run, "predictions.json"))),
                $"{run}: predictions differ");
        Assert.Equal(Metrics(Path.Combine(local, "table.csv")), Metrics(Path.Combine(onSlurm, "table.csv")));
        string log = File.ReadAllText(requeued.Log);
        Assert.Contains("DUE TO JOB REQUEUE", log);
        Assert.Contains($"mle seed 1: resuming from the checkpoint at step {stoppedAt}", log);
        Assert.Contains("attempt 2", log);

        // The settings guard the cluster's runs too: collected under other settings, they are refused, not mixed in.
        var other = BlobCli.Run([.. Compare.Select(a => a == $"{Steps}" ? $"{Steps + 1}" : a), "--output", onSlurm]);
        Assert.True(other.Code == 2, other.ToString());
        Assert.Contains($"training.steps: {Steps} → {Steps + 1}", other.Error);
        Console.WriteLine($"single-node Slurm comparison: {clock.Elapsed.TotalSeconds:F0} s");
    }

    /// <summary>table.csv without its wall-clock rows, which differ from run to run.</summary>
    static string[] Metrics(string csv) => File.ReadAllLines(csv).Where(l => !l.StartsWith("Train s", StringComparison.Ordinal) && !l.StartsWith("Eval s", StringComparison.Ordinal)).ToArray();

    static BlobCli.Outcome Ok(params string[] args)
    {
        var r = BlobCli.Run(args);
        Assert.True(r.Code == 0, r.ToString());
        return r;
    }

    static void WaitFor(Func<bool> done, string what, SingleNodeSlurm cluster)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5)) Assert.Fail($"waited 5 minutes for {what}\n{cluster.Logs()}");
            Thread.Sleep(100);
        }
    }
}
