namespace Blob.Cli.Slurm;

/// <summary>Where an array task is, in the terms compare needs: still to come, under way, over, or no longer known.</summary>
public enum SlurmPhase
{
    /// <summary>Queued: waiting for resources, held, or requeued and waiting to start again.</summary>
    Pending,
    /// <summary>Started and not yet over (running, suspended, completing).</summary>
    Running,
    /// <summary>Over: completed, failed, cancelled, out of time or memory, its node failed.</summary>
    Ended,
    /// <summary>Slurm no longer knows the task (squeue forgets finished jobs after a few minutes; sacct may be off).</summary>
    Unknown,
}

/// <summary>
/// One array task's state as Slurm reports it: its state word (PENDING, RUNNING, FAILED, ...) and a detail (squeue's
/// reason, such as "Resources", or sacct's "exit code 2:0").
/// </summary>
public sealed record SlurmTaskState(SlurmPhase Phase, string State, string? Detail = null)
{
    public static readonly SlurmTaskState Unknown = new(SlurmPhase.Unknown, "UNKNOWN");

    public bool IsActive => Phase is SlurmPhase.Pending or SlurmPhase.Running;

    /// <summary>Slurm's state words (squeue's %T, sacct's State), from the squeue and sacct manuals, by phase.</summary>
    static readonly Dictionary<string, SlurmPhase> Phases = new(StringComparer.Ordinal)
    {
        ["PENDING"] = SlurmPhase.Pending, ["REQUEUED"] = SlurmPhase.Pending, ["REQUEUE_HOLD"] = SlurmPhase.Pending,
        ["REQUEUE_FED"] = SlurmPhase.Pending, ["RESV_DEL_HOLD"] = SlurmPhase.Pending,
        ["CONFIGURING"] = SlurmPhase.Running, ["RUNNING"] = SlurmPhase.Running, ["COMPLETING"] = SlurmPhase.Running,
        ["SUSPENDED"] = SlurmPhase.Running, ["STOPPED"] = SlurmPhase.Running, ["SIGNALING"] = SlurmPhase.Running,
        ["STAGE_OUT"] = SlurmPhase.Running, ["RESIZING"] = SlurmPhase.Running,
        ["COMPLETED"] = SlurmPhase.Ended, ["FAILED"] = SlurmPhase.Ended, ["TIMEOUT"] = SlurmPhase.Ended,
        ["CANCELLED"] = SlurmPhase.Ended, ["PREEMPTED"] = SlurmPhase.Ended, ["NODE_FAIL"] = SlurmPhase.Ended,
        ["OUT_OF_MEMORY"] = SlurmPhase.Ended, ["BOOT_FAIL"] = SlurmPhase.Ended, ["DEADLINE"] = SlurmPhase.Ended,
        ["SPECIAL_EXIT"] = SlurmPhase.Ended, ["REVOKED"] = SlurmPhase.Ended,
    };

    /// <summary>A state as Slurm's commands print it: "RUNNING", "CANCELLED by 0", "CANCELLED+" (sacct's spellings).</summary>
    public static SlurmTaskState Parse(string state, string? detail)
    {
        var word = state.Trim().Split(' ')[0].TrimEnd('+');
        // A state this list does not know (a newer Slurm's) counts as under way: compare then waits rather than
        // declaring a run failed that may still finish.
        var phase = Phases.GetValueOrDefault(word, SlurmPhase.Running);
        return new SlurmTaskState(phase, word, string.IsNullOrWhiteSpace(detail) || detail.Trim() == "None" ? null : detail.Trim());
    }

    /// <summary>"pending (Resources)", "running", "running (completing)", "FAILED (exit code 2:0)", "no longer known to Slurm".</summary>
    public string Describe() => Phase switch
    {
        SlurmPhase.Pending => "pending" + (Detail is null ? "" : $" ({Detail})"),
        SlurmPhase.Running => State == "RUNNING" ? "running" : $"running ({State.ToLowerInvariant()})",
        SlurmPhase.Ended => State + (Detail is null ? "" : $" ({Detail})"),
        _ => "no longer known to Slurm",
    };
}
