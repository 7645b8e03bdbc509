using System.ComponentModel;
using System.Diagnostics;

namespace Blob.Cli.Slurm;

/// <summary>
/// Slurm's own commands, run as child processes: sbatch submits, squeue and sacct say how tasks are doing. They talk to
/// the cluster named by Slurm's configuration (/etc/slurm/slurm.conf, or the file in SLURM_CONF).
/// </summary>
public static class SlurmCommands
{
    /// <summary>How long one of Slurm's commands may take before it counts as hanging (a controller that is down).</summary>
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>Submits a batch script and returns the job id; sbatch's own words when it refuses.</summary>
    public static string Submit(IEnumerable<string> sbatchOptions, string script)
    {
        var (code, output, error) = Run("sbatch", ["--parsable", .. sbatchOptions, script]);
        if (code != 0) throw new BlobException($"sbatch refused the array job: {LastLine(error) ?? $"exit code {code}"}");
        var id = output.Trim().Split(';')[0]; // --parsable prints "4711", or "4711;cluster" on a multi-cluster system
        if (id.Length == 0 || !id.All(char.IsAsciiDigit)) throw new BlobException($"sbatch printed '{output.Trim()}', not a job id");
        return id;
    }

    /// <summary>
    /// The state of each of these tasks ("4711_3") that Slurm still knows: from squeue, which lists every queued and
    /// running task and ended ones for a few minutes (MinJobAge), then from sacct for the rest, where the cluster keeps
    /// accounting. A task neither knows is left out.
    /// </summary>
    public static IReadOnlyDictionary<string, SlurmTaskState> States(IReadOnlyCollection<string> taskIds)
    {
        var wanted = taskIds.ToHashSet();
        var jobs = wanted.Select(t => t.Split('_')[0]).Distinct().ToList();
        var states = new Dictionary<string, SlurmTaskState>();
        foreach (var job in jobs)
        {
            // One job at a time: squeue refuses the whole list when one id in it is no longer known.
            var (code, output, error) = Run("squeue", ["--noheader", "--array", "--states=all", $"--jobs={job}", "--format=%i|%T|%r"]);
            if (code == 0) foreach (var (id, state) in ParseSqueue(output)) states.TryAdd(id, state);
            // A job the controller has forgotten is "Invalid job id"; anything else (a controller that does not
            // answer) must not make a run that is still running look failed.
            else if (!error.Contains("Invalid job id", StringComparison.OrdinalIgnoreCase))
                throw new BlobException($"squeue could not say how job {job} is doing: {LastLine(error) ?? $"exit code {code}"}");
        }
        var unseen = jobs.Where(j => wanted.Any(t => t.StartsWith(j + "_", StringComparison.Ordinal) && !states.ContainsKey(t))).ToList();
        if (unseen.Count > 0 && TryRun("sacct", ["--noheader", "--parsable2", "--allocations", $"--jobs={string.Join(",", unseen)}",
                "--format=JobID,State,ExitCode"]) is (0, var history, _))
            foreach (var (id, state) in ParseSacct(history)) states.TryAdd(id, state);
        return states.Where(s => wanted.Contains(s.Key)).ToDictionary();
    }

    /// <summary>squeue's "%i|%T|%r" lines: "4711_3|PENDING|Resources".</summary>
    public static IEnumerable<(string TaskId, SlurmTaskState State)> ParseSqueue(string output) =>
        Fields(output, 3).Select(f => (f[0], SlurmTaskState.Parse(f[1], f[2])));

    /// <summary>
    /// sacct's "JobID|State|ExitCode" lines: "4711_3|FAILED|2:0". Tasks that have not started yet are one line for a
    /// range ("4711_[4-9]"); squeue knows those, so they are skipped here.
    /// </summary>
    public static IEnumerable<(string TaskId, SlurmTaskState State)> ParseSacct(string output) =>
        Fields(output, 3).Where(f => !f[0].Contains('['))
            .Select(f => (f[0], SlurmTaskState.Parse(f[1], f[2] is "" or "0:0" ? null : $"exit code {f[2]}")));

    static IEnumerable<string[]> Fields(string output, int count) =>
        output.Split('\n').Select(l => l.Trim().Split('|')).Where(f => f.Length == count && f[0].Contains('_'));

    /// <summary>Runs one of Slurm's commands; a BlobException when it is not installed here or hangs.</summary>
    static (int Code, string Out, string Error) Run(string tool, IReadOnlyList<string> arguments) =>
        TryRun(tool, arguments) ?? throw new BlobException(
            $"{tool} was not found: run this on a machine with Slurm's commands (a cluster's login node)");

    /// <summary>Runs one of Slurm's commands; null when it is not installed here.</summary>
    static (int Code, string Out, string Error)? TryRun(string tool, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(info)!; }
        catch (Win32Exception) { return null; }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Patience))
            {
                process.Kill(entireProcessTree: true);
                throw new BlobException($"{tool} did not answer within {Patience.TotalMinutes:F0} minutes: is the Slurm controller up?");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>The last line that says something: sbatch's verdict comes after its details.</summary>
    static string? LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
}
