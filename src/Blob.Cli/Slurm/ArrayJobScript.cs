using System.Text;

namespace Blob.Cli.Slurm;

/// <summary>One run of a comparison, as an array task trains it: its folder and the method and seed that differ.</summary>
public sealed record ArrayTaskRun(string Dir, string Method, int Seed);

/// <summary>
/// The batch script of a comparison's array job. Task i runs `blob train` (with --resume once the run has begun) for run i, with the comparison's
/// own options, so that a requeued task (preemption, node failure, `scontrol requeue`, or its time limit) continues
/// from the run's checkpoint. Slurm sends SIGTERM before it kills a task: blob then writes its checkpoint and stops,
/// and Slurm requeues the task (it is submitted --requeue). Near the time limit, which Slurm does not requeue, Slurm
/// sends USR1 first (--signal=B:USR1@120); the script stops blob the same way and requeues the task itself, but only
/// when the run's checkpoint advanced in this attempt, so that a run that cannot progress ends rather than loops.
/// </summary>
public static class ArrayJobScript
{
    /// <summary>Seconds before the time limit at which a task is told to checkpoint and requeue itself.</summary>
    public const int TimeLimitWarningSeconds = 120;

    /// <summary>sbatch's options that make the array job what this script expects; the job's own resources follow them.</summary>
    public static IReadOnlyList<string> SbatchOptions(int tasks, string jobName, string logDir, string workingDir) =>
    [
        $"--job-name={jobName}",
        $"--array=0-{tasks - 1}",
        "--requeue",                                   // Slurm may requeue the task (preemption, node failure)
        "--open-mode=append",                          // each attempt appends to the same log
        $"--output={Path.Combine(logDir, "%A_%a.log")}", // %A: the array's job id, %a: the task's index
        $"--chdir={workingDir}",                       // relative paths in the options mean what they meant here
        "--export=ALL",                                // this shell's environment (PATH, SLURM_CONF, ...)
        $"--signal=B:USR1@{TimeLimitWarningSeconds}",
    ];

    /// <param name="runs">The runs, task i training runs[i].</param>
    /// <param name="trainArguments">The options common to every run, as `blob train` reads them.</param>
    /// <param name="blob">The command that runs this build of blob, e.g. ["dotnet", "/shared/blob/Blob.Cli.dll"].</param>
    /// <param name="submission">The sbatch command line, for a reader of the script.</param>
    public static string Text(IReadOnlyList<ArrayTaskRun> runs, IReadOnlyList<string> trainArguments, IReadOnlyList<string> blob,
        SlurmJob job, string submission)
    {
        var s = new StringBuilder();
        s.AppendLine("#!/bin/bash");
        s.AppendLine("# Written by `blob compare --slurm`, and submitted as:");
        s.AppendLine($"#   {submission}");
        s.AppendLine("# Array task i trains run i of the lists below with `blob train`, with --resume once the run has begun: a requeued task continues from");
        s.AppendLine("# the run's checkpoint. Slurm keeps its own copy of this script from the time of submission.");
        s.AppendLine("set -u");
        s.AppendLine($"dirs=({Words(runs.Select(r => r.Dir))})");
        s.AppendLine($"methods=({Words(runs.Select(r => r.Method))})");
        s.AppendLine($"seeds=({Words(runs.Select(r => r.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)))})");
        s.AppendLine("i=$SLURM_ARRAY_TASK_ID");
        s.AppendLine("dir=${dirs[$i]}");
        s.AppendLine($"options=({Words(trainArguments)})");
        foreach (var line in job.Setup) s.AppendLine(line);
        s.AppendLine("""echo "blob: ${methods[$i]} seed ${seeds[$i]} on $(hostname), task ${SLURM_ARRAY_JOB_ID}_$i, attempt $(( ${SLURM_RESTART_COUNT:-0} + 1 ))" """.TrimEnd());
        s.AppendLine("""checkpoint="$dir/checkpoint/state.json" """.TrimEnd());
        s.AppendLine("""before=$(cat "$checkpoint" 2>/dev/null)""");
        // --resume only where a run has begun (its settings.json): a task may start before compare has written its
        // slurm-job.json, and train refuses --resume into a folder that holds neither
        s.AppendLine("""resume=(); [ -f "$dir/settings.json" ] && resume=(--resume)""");
        s.AppendLine((job.Launcher is { } launcher ? launcher.Trim() + " " : "") + Words(blob) +
                     """ train "${options[@]}" --method "${methods[$i]}" --seed "${seeds[$i]}" --output "$dir" "${resume[@]}" &""");
        s.Append("""
            child=$!
            # SIGTERM: Slurm stops the task (preemption, scancel, scontrol requeue, the time limit); blob checkpoints and stops.
            # USR1: the time limit is near.
            time_up=
            trap 'kill -TERM "$child" 2>/dev/null' TERM
            trap 'time_up=1; kill -TERM "$child" 2>/dev/null' USR1
            # wait returns early when a trapped signal arrives: wait again until blob has exited.
            while :; do
              wait "$child"; code=$?
              kill -0 "$child" 2>/dev/null || break
            done
            if [ -n "$time_up" ]; then
              if [ "$(cat "$checkpoint" 2>/dev/null)" != "$before" ]; then
                echo "blob: the time limit is near and the checkpoint is saved: requeueing task ${SLURM_ARRAY_JOB_ID}_$i" >&2
                scontrol requeue "${SLURM_ARRAY_JOB_ID}_$i"
                exit 0
              fi
              echo "error: the run made no progress before its time limit (no new checkpoint): give it a longer --time" >&2
              exit 1
            fi
            exit "$code"

            """);
        return s.ToString();
    }

    /// <summary>Words quoted for bash: 'a' 'b c' 'it'\''s'.</summary>
    public static string Words(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));

    static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
