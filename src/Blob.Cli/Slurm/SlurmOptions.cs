using System.CommandLine;
using System.Text.RegularExpressions;
using Blob.Cli.Commands;

namespace Blob.Cli.Slurm;

/// <summary>How compare's runs go to Slurm: the resources each array task asks for, and what else sbatch is given.</summary>
public sealed record SlurmJob
{
    public string? Partition { get; init; }
    /// <summary>Slurm's time format: "minutes", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM" or "D-HH:MM:SS".</summary>
    public string? Time { get; init; }
    public int? CpusPerTask { get; init; }
    /// <summary>Memory per task in sbatch's spelling: "16G", "512M", "4000" (megabytes).</summary>
    public string? Memory { get; init; }
    /// <summary>Generic resources per task, e.g. "gpu:1" or "gpu:a100:2".</summary>
    public string? Gres { get; init; }
    /// <summary>Shell lines each task runs before blob, e.g. "module load dotnet/10".</summary>
    public IReadOnlyList<string> Setup { get; init; } = [];
    /// <summary>A command that runs blob inside something else, e.g. "apptainer exec --nv blob.sif".</summary>
    public string? Launcher { get; init; }
    /// <summary>More sbatch options, as given after "--"; they come last, so they override the ones blob sets.</summary>
    public IReadOnlyList<string> ExtraSbatchArguments { get; init; } = [];

    /// <summary>sbatch's options for these resources ("--partition=cpu", "--time=1:00:00", ...), the extra ones last.</summary>
    public IEnumerable<string> SbatchArguments()
    {
        if (Partition is not null) yield return $"--partition={Partition}";
        if (Time is not null) yield return $"--time={Time}";
        if (CpusPerTask is not null) yield return $"--cpus-per-task={CpusPerTask}";
        if (Memory is not null) yield return $"--mem={Memory}";
        if (Gres is not null) yield return $"--gres={Gres}";
        foreach (var a in ExtraSbatchArguments) yield return a;
    }
}

/// <summary>What compare is asked to do with Slurm: submit (--slurm), wait (--wait, asking every Poll), and with what job.</summary>
public sealed record SlurmRequest(bool Submit, bool Wait, TimeSpan Poll, SlurmJob Job);

/// <summary>
/// compare's options for a Slurm cluster: --slurm submits the unfinished runs as one array job and returns, --wait waits
/// for them to end, and the rest say what each array task asks Slurm for. Each is checked when the command line is
/// parsed, and the job's options are refused without --slurm (they would do nothing).
/// </summary>
public sealed partial class SlurmOptions
{
    public readonly Option<bool> Submit = new("--slurm")
    {
        Description = "Submit the runs that are not finished as one Slurm array job (one task per method and seed, each `blob train` into its folder) and return; the same command without --slurm builds the table once they are done",
    };
    public readonly Option<bool> Wait = new("--wait") { Description = "Wait until the comparison's Slurm runs have ended, then build the table (with --slurm: submit, then wait)" };
    public readonly Option<int> Poll = new Option<int>("--poll") { Description = "With --wait: seconds between questions to Slurm", DefaultValueFactory = _ => 30 }.AtLeast(1);
    public readonly Option<string?> Partition = new Option<string?>("--partition") { Description = "Slurm: the partition (queue) to run in" }.Must(OneWord, "must be one word");
    public readonly Option<string?> Time = new Option<string?>("--time") { Description = "Slurm: time limit of each run, e.g. 90, 4:00:00 or 1-12; near it a run checkpoints and is requeued" }
        .Must(t => t is null || SlurmTime().IsMatch(t), "expected minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS");
    public readonly Option<int?> CpusPerTask = new Option<int?>("--cpus-per-task") { Description = "Slurm: CPU cores for each run" }.AtLeast(1);
    public readonly Option<string?> Memory = new Option<string?>("--mem") { Description = "Slurm: memory for each run, e.g. 16G or 4000 (megabytes)" }
        .Must(m => m is null || SlurmMemory().IsMatch(m), "expected a whole number with an optional K, M, G or T, e.g. 16G");
    public readonly Option<string?> Gres = new Option<string?>("--gres") { Description = "Slurm: generic resources for each run, e.g. gpu:1 (then use --device cuda)" }.Must(OneWord, "must be one word, e.g. gpu:1");
    public readonly Option<string[]> Setup = new("--setup") { Description = "Slurm: a shell line each run executes before blob, e.g. 'module load dotnet' (repeatable)" };
    public readonly Option<string?> Launcher = new Option<string?>("--launcher") { Description = "Slurm: a command that runs blob in each task, e.g. 'apptainer exec --nv blob.sif'" }
        .Must(l => l is null || l.Trim().Length > 0, "must not be empty");
    public readonly Argument<string[]> ExtraSbatch = new("sbatch-options")
    {
        Description = "After --: more sbatch options for the array job (with --slurm), e.g. -- --account=proj --qos=long",
        Arity = ArgumentArity.ZeroOrMore,
    };

    static bool OneWord(string? s) => s is null || (s.Length > 0 && !s.Any(char.IsWhiteSpace));

    /// <summary>The options that describe the job, and so mean nothing without --slurm.</summary>
    Option[] JobOptions => [Partition, Time, CpusPerTask, Memory, Gres, Setup, Launcher];

    public void AddTo(Command command)
    {
        foreach (var o in (Option[])[Submit, Wait, Poll, .. JobOptions]) command.Options.Add(o);
        command.Arguments.Add(ExtraSbatch);
        command.Validators.Add(result =>
        {
            var extra = result.GetValue(ExtraSbatch) ?? [];
            if (!result.GetValue(Wait) && result.GetResult(Poll) is { Implicit: false })
                result.AddError("--poll: only with --wait (it says how often to ask Slurm while waiting)");
            if (!result.GetValue(Submit))
            {
                if (JobOptions.FirstOrDefault(o => result.GetResult(o) is { Implicit: false }) is { } given)
                    result.AddError($"{given.Name}: only with --slurm (it says how the runs are submitted)");
                else if (extra.Length > 0)
                    result.AddError($"'{extra[0]}': only sbatch options belong after --, and only with --slurm");
            }
            else if (extra.FirstOrDefault(a => !a.StartsWith('-')) is { } bad)
                result.AddError($"'{bad}' after --: expected an sbatch option such as --account=proj");
        });
    }

    public SlurmRequest Read(ParseResult p) =>
        new(p.GetValue(Submit), p.GetValue(Wait), TimeSpan.FromSeconds(p.GetValue(Poll)), ReadJob(p));

    SlurmJob ReadJob(ParseResult p) => new()
    {
        Partition = p.GetValue(Partition),
        Time = p.GetValue(Time),
        CpusPerTask = p.GetValue(CpusPerTask),
        Memory = p.GetValue(Memory),
        Gres = p.GetValue(Gres),
        Setup = p.GetValue(Setup) ?? [],
        Launcher = p.GetValue(Launcher),
        ExtraSbatchArguments = p.GetValue(ExtraSbatch) ?? [],
    };

    [GeneratedRegex(@"^(\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$")]
    private static partial Regex SlurmTime();

    [GeneratedRegex(@"^\d+[KMGT]?$")]
    private static partial Regex SlurmMemory();
}
