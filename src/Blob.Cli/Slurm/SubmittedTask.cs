using System.Text.Json;
using System.Text.Json.Serialization;
using Blob.Reports;
using Blob.Runtime;

namespace Blob.Cli.Slurm;

/// <summary>
/// The Slurm array task a run was submitted as, kept in the run's folder (slurm-job.json) from the moment sbatch has
/// accepted the job: a later compare asks Slurm how this task is doing instead of training the run itself, and shows
/// its log when it failed.
/// </summary>
/// <param name="JobId">The array job's id, as sbatch printed it ("4711").</param>
/// <param name="Index">The task's index in the array (SLURM_ARRAY_TASK_ID).</param>
/// <param name="Log">The task's log file (stdout and stderr of every attempt, appended).</param>
public sealed record SubmittedTask(string JobId, int Index, string Log)
{
    public const string FileName = "slurm-job.json";

    /// <summary>How Slurm's commands name the task: "4711_3".</summary>
    [JsonIgnore]
    public string TaskId => $"{JobId}_{Index}";

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public void Save(string runDir) => AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>The task the run in this folder was submitted as; null when it was never submitted.</summary>
    public static SubmittedTask? Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<SubmittedTask>(File.ReadAllText(path), Json) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new BlobException($"{path}: not a Slurm task record ({e.Message}); delete it if the run is no longer in Slurm"); }
    }

    public static void Delete(string runDir) => File.Delete(Path.Combine(runDir, FileName));

    /// <summary>
    /// The line of the log that says why the task failed: its last "error: ..." line (blob's one-line errors, Slurm's
    /// own "slurmstepd: error: ..."), else its last line; null when there is no log.
    /// </summary>
    public string? LastError()
    {
        if (!File.Exists(Log)) return null;
        var lines = Tail(Log, 64 * 1024).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return lines.LastOrDefault(l => l.Contains("error:", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault();
    }

    /// <summary>The last bytes of a file, as text (a long run's log can be large).</summary>
    static string Tail(string path, int bytes)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        f.Seek(Math.Max(0, f.Length - bytes), SeekOrigin.Begin);
        using var reader = new StreamReader(f);
        return reader.ReadToEnd();
    }
}
