using Blob.Methods;
using System.CommandLine;
using System.Diagnostics;
using Blob.Cli.Commands;
using Blob.Cli.Slurm;
using Blob.Experiments;
using Blob.Tests.Cli;
using Blob.Training;

namespace Blob.Tests.Cli.Slurm;

/// <summary>
/// The array job's script run by real bash, with stand-ins for blob (a script that checkpoints on SIGTERM, as blob
/// does) and for scontrol (which records what it was asked): how a task reacts to Slurm's signals. And the pieces of
/// compare --slurm that need no cluster: quoting, reading Slurm's answers, passing the options on, checking them.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class ArrayJobScriptTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-array-script-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Stands in for `dotnet Blob.Cli.dll`: records its arguments; on SIGTERM saves a checkpoint (or not) and exits 130.</summary>
    const string FakeBlob = """
        #!/bin/bash
        printf '%s\n' "$@" > "$FAKE_DIR/arguments"
        trap 'if [ "$FAKE_CHECKPOINTS" = 1 ]; then mkdir -p "$FAKE_RUN/checkpoint"; echo "{\"Step\":3}" > "$FAKE_RUN/checkpoint/state.json"; fi; exit 130' TERM
        if [ -n "${FAKE_EXIT:-}" ]; then echo "error: something real went wrong" >&2; exit "$FAKE_EXIT"; fi
        touch "$FAKE_DIR/started"
        while :; do sleep 0.05; done
        """;

    const string FakeScontrol = """
        #!/bin/bash
        echo "$@" >> "$FAKE_DIR/scontrol"
        """;

    (int Code, string Error) RunTask(string signal, bool checkpoints = true, string? exit = null, bool begun = false)
    {
        string bin = Path.Combine(_dir, "bin"), run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(bin);
        if (begun) { Directory.CreateDirectory(run); File.WriteAllText(Path.Combine(run, "settings.json"), "{}"); } // a run that has started
        foreach (var (name, text) in new[] { ("dotnet", FakeBlob), ("scontrol", FakeScontrol) })
        {
            File.WriteAllText(Path.Combine(bin, name), text.Replace("\r", "") + "\n");
            File.SetUnixFileMode(Path.Combine(bin, name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        string script = Path.Combine(_dir, "array.sh");
        File.WriteAllText(script, ArrayJobScript.Text([new ArrayTaskRun(run, "mle", 7)], ["--task", "demo-facts", "--targets", "it's a b"],
            ["dotnet", "/shared/blob/Blob.Cli.dll"], new SlurmJob { Setup = ["export SETUP_RAN=1"] }, "sbatch ..."));

        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(script);
        info.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
        info.Environment["SLURM_ARRAY_TASK_ID"] = "0";
        info.Environment["SLURM_ARRAY_JOB_ID"] = "4711";
        info.Environment["FAKE_DIR"] = _dir;
        info.Environment["FAKE_RUN"] = run;
        info.Environment["FAKE_CHECKPOINTS"] = checkpoints ? "1" : "0";
        if (exit is not null) info.Environment["FAKE_EXIT"] = exit;
        using var task = Process.Start(info)!;
        var error = task.StandardError.ReadToEndAsync();
        var output = task.StandardOutput.ReadToEndAsync();
        if (exit is null)
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(_dir, "started")) && clock.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(20);
            using var kill = Process.Start("kill", [$"-{signal}", task.Id.ToString()]);
            kill.WaitForExit();
        }
        Assert.True(task.WaitForExit(30_000), "the task script did not end");
        return (task.ExitCode, error.Result + output.Result);
    }

    string[] Scontrol => File.Exists(Path.Combine(_dir, "scontrol")) ? File.ReadAllLines(Path.Combine(_dir, "scontrol")) : [];

    [Fact]
    public void NearTheTimeLimitATaskCheckpointsAndRequeuesItself()
    {
        var (code, log) = RunTask("USR1", begun: true);
        Assert.True(code == 0, log);
        Assert.Equal(["requeue 4711_0"], Scontrol);
        Assert.Equal(["/shared/blob/Blob.Cli.dll", "train", "--task", "demo-facts", "--targets", "it's a b", "--method", "mle", "--seed", "7",
            "--output", Path.Combine(_dir, "run"), "--resume"], File.ReadAllLines(Path.Combine(_dir, "arguments")));
    }

    [Fact]
    public void ATaskWhoseRunHasNotBegunStartsItWithoutResume()
    {
        // Slurm may start a task before compare has written the run's slurm-job.json: --resume would be refused there
        var (code, log) = RunTask("USR1");
        Assert.True(code == 0, log);
        Assert.DoesNotContain("--resume", File.ReadAllLines(Path.Combine(_dir, "arguments")));
    }

    [Fact]
    public void ARunThatMadeNoProgressBeforeItsTimeLimitIsNotRequeued()
    {
        var (code, log) = RunTask("USR1", checkpoints: false);
        Assert.Equal(1, code);
        Assert.Contains("error: the run made no progress before its time limit", log);
        Assert.Empty(Scontrol);
    }

    [Fact]
    public void OnSigtermTheTaskWaitsForBlobAndLeavesTheRequeueToSlurm()
    {
        var (code, log) = RunTask("TERM");
        Assert.True(code == 130, log); // blob's exit code: stopped with a checkpoint
        Assert.Empty(Scontrol);
        Assert.True(File.Exists(Path.Combine(_dir, "run", "checkpoint", "state.json")), "blob was given the time to checkpoint");
    }

    [Fact]
    public void ARealErrorEndsTheTaskWithBlobsExitCode()
    {
        var (code, log) = RunTask("", exit: "2");
        Assert.Equal(2, code);
        Assert.Contains("error: something real went wrong", log);
        Assert.Empty(Scontrol);
    }

    [Fact]
    public void WordsAreQuotedForBash()
    {
        string[] words = ["plain", "two words", "it's", "$HOME", "re:.*(query|value)", "\"", ""];
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"printf '%s\\n' {ArrayJobScript.Words(words)}");
        using var bash = Process.Start(info)!;
        var echoed = bash.StandardOutput.ReadToEnd().Split('\n')[..^1];
        bash.WaitForExit();
        Assert.Equal(words, echoed);
    }

    [Fact]
    public void SlurmsAnswersAreRead()
    {
        // As squeue --array --states=all --format=%i|%T|%r and sacct --parsable2 --format=JobID,State,ExitCode print them.
        var queue = SlurmCommands.ParseSqueue("4711_0|RUNNING|None\n4711_1|PENDING|BeginTime\n4711_2|FAILED|NonZeroExitCode\n").ToDictionary();
        Assert.Equal(SlurmPhase.Running, queue["4711_0"].Phase);
        Assert.Equal("pending (BeginTime)", queue["4711_1"].Describe());
        Assert.Equal(SlurmPhase.Ended, queue["4711_2"].Phase);
        var history = SlurmCommands.ParseSacct("4711_3|CANCELLED by 0|0:15\n4711_4|OUT_OF_MEMORY|0:125\n4711_[5-9]|PENDING|0:0\n4711_6|COMPLETED|0:0\n").ToDictionary();
        Assert.Equal("CANCELLED (exit code 0:15)", history["4711_3"].Describe());
        Assert.Equal(SlurmPhase.Ended, history["4711_4"].Phase);
        Assert.False(history.ContainsKey("4711_[5-9]"));
        Assert.Equal("COMPLETED", history["4711_6"].Describe());
        Assert.Equal(SlurmPhase.Running, SlurmTaskState.Parse("SOME_NEW_STATE", null).Phase); // waited for, never declared failed
    }

    [Fact]
    public void TheOptionsGivenToCompareGiveTrainTheSameSettings()
    {
        var options = new ExperimentOptions();
        var command = new Command("compare");
        options.AddTo(command);
        var given = command.Parse(["--task", "demo-facts", "--lr=2e-3", "--targets", "query", "value", "--no-asymmetric",
            "--kl-weighting", "code", "--max-train", "16", "--quiet"]);
        var passedOn = options.GivenArguments(given);
        Assert.DoesNotContain("--rank", passedOn); // a default stays a default: train's own
        Assert.Contains("--quiet", passedOn);
        var again = command.Parse(passedOn.ToArray());
        Assert.Empty(again.Errors);
        var task = Blob.Data.DemoTask.Generate();
        var expected = RunSettings.Of(options.Read(given, MethodRegistry.Blob, 3), task);
        var read = RunSettings.Of(options.Read(again, MethodRegistry.Blob, 3), task);
        Assert.Empty(read.DifferencesFrom(expected));
        Assert.Equal(2e-3, read.Spec.Training.LearningRate);
    }

    [Theory]
    [InlineData("--partition", "gpu")]
    [InlineData("--time", "10")]
    [InlineData("--mem", "4G")]
    [InlineData("--gres", "gpu:1")]
    [InlineData("--cpus-per-task", "4")]
    [InlineData("--setup", "module load dotnet")]
    [InlineData("--poll", "5")]
    public void ASlurmJobOptionWithoutSlurmIsRefused(string option, string value)
    {
        var r = BlobCli.Run("compare", option, value, "--output", Path.Combine(_dir, "never"));
        Assert.True(r.Code == 2, r.ToString());
        Assert.StartsWith($"error: {option}: only with --", r.Error);
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Theory]
    [InlineData("--time", "1:2:3:4")]
    [InlineData("--time", "an hour")]
    [InlineData("--mem", "2GB")]
    [InlineData("--partition", "two words")]
    [InlineData("--cpus-per-task", "0")]
    public void ABadSlurmOptionIsRefusedWhenParsed(string option, string value)
    {
        var r = BlobCli.Run("compare", "--slurm", option, value, "--output", Path.Combine(_dir, "never"));
        Assert.True(r.Code == 2, r.ToString());
        Assert.StartsWith($"error: {option} ", r.Error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Fact]
    public void OnlyOptionsFollowTheDoubleDash()
    {
        Assert.Contains("only with --slurm", BlobCli.Run("compare", "--", "--account=proj").Error);
        Assert.Contains("expected an sbatch option", BlobCli.Run("compare", "--slurm", "--", "proj").Error);
    }
}
