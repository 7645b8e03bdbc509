using System.Reflection;

namespace Blob.Tests.Cli;

/// <summary>
/// Every refusal is one line in the user's words: no .NET type names, an unknown option after a list option called
/// unknown, --resume into a folder without a run refused, a zero --tokens-per-call refused, SIGTERM's own exit code, an
/// unexpected error named by its cause.
/// </summary>
public class ClearMessagesTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-messages-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static BlobCli.Outcome Refused(params string[] args)
    {
        var r = BlobCli.Run(args);
        Assert.True(r.Code == 2, r.ToString());
        Assert.True(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, $"expected one line on stderr: {r}");
        return r;
    }

    [Theory]
    [InlineData("train", "--samples", "x")]       // int?
    [InlineData("train", "--seed", "x")]          // int
    [InlineData("train", "--lr", "x")]            // double
    [InlineData("compare", "--seeds", "x")]       // int[]
    public void AParseErrorNamesNoDotNetType(string command, string option, string value)
    {
        var r = Refused(command, option, value);
        Assert.Contains(option, r.Error);
        Assert.DoesNotContain("System.", r.Error);
    }

    [Fact]
    public void AnUnknownOptionAfterAListOptionIsCalledUnknown()
    {
        var r = Refused("compare", "--seeds", "1", "--no-such-option", "x");
        Assert.Contains("unknown option '--no-such-option'", r.Error);
        Assert.Contains("unknown option '--no-such-option'", Refused("train", "--targets", "q_proj", "--no-such-option").Error);
    }

    [Fact]
    public void ResumeIntoAFolderWithoutARunIsRefused()
    {
        string run = Path.Combine(_dir, "empty");
        var r = Refused("train", "--task", "demo-facts", "--device", "cpu", "--quiet", "--output", run, "--resume");
        Assert.Contains("--resume", r.Error);
        Assert.Contains(run, r.Error);
        Assert.False(File.Exists(Path.Combine(run, "settings.json")));
    }

    [Fact]
    public void AnUnexpectedErrorSaysItsCauseNotItsWrapper()
    {
        var native = new DllNotFoundException("libtorch_cpu.so: cannot open shared object file\nframe #0");
        var wrapped = new AggregateException(new TypeInitializationException("TorchSharp.torch", new TargetInvocationException(native)));
        Assert.Equal("TorchSharp.torch could not start: DllNotFoundException: libtorch_cpu.so: cannot open shared object file",
            Blob.Cli.Commands.CommandRunner.Describe(wrapped));
        Assert.Equal("InvalidOperationException: plain", Blob.Cli.Commands.CommandRunner.Describe(new InvalidOperationException("plain")));
    }

    [Fact]
    public void BenchRefusesZeroTokensPerCall() =>
        Assert.Contains("--tokens-per-call", Refused("bench", "--tokens-per-call", "0").Error);

    [Fact]
    public void SigtermStopsATrainingRunWithExitCode143()
    {
        string run = Path.Combine(_dir, "run");
        using var child = new BlobCli.Child(["train", "--task", "demo-facts", "--max-length", "16", "--batch-size", "8", "--steps", "100000",
            "--method", "mle", "--device", "cpu", "--quiet", "--output", run]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // once it trains (its training log exists), SIGTERM it as Slurm or kill would
        while (!File.Exists(Path.Combine(run, Blob.Training.TrainingLog.FileName)) && clock.Elapsed < TimeSpan.FromSeconds(120) && !child.Process.HasExited)
            Thread.Sleep(100);
        Assert.False(child.Process.HasExited, child.Process.HasExited ? child.WaitForExit().ToString() : "");
        Assert.Equal(0, Kill(child.Process.Id, 15));
        var r = child.WaitForExit();
        Assert.True(r.Code == 143, r.ToString());
        Assert.Contains("--resume", r.Error);
    }

    [Theory]
    [InlineData("train", "--train-file")]
    [InlineData("train", "--mapping")]
    [InlineData("eval", "--eval-file")]
    [InlineData("compare", "--train-file")]
    public void CustomTaskFilesWithABuiltInTaskAreRefusedNotIgnored(string command, string option)
    {
        string file = Path.Combine(_dir, "mine.jsonl");
        File.WriteAllText(file, "{}\n");
        string[] args = [command, "--task", "demo-facts", option, file, "--device", "cpu", "--quiet", "--output", Path.Combine(_dir, "out")];
        if (command == "eval") args = [.. args, "--adapter", _dir];
        var r = Refused(args);
        Assert.Contains($"{option} is for --task custom", r.Error);
        Assert.Contains("demo-facts", r.Error);
        Assert.False(File.Exists(Path.Combine(_dir, "out")) || File.Exists(Path.Combine(_dir, "out", "settings.json")), "nothing was run");
    }

    [Theory]
    [InlineData("2147483647")]   // a terabyte allocation if it reached libtorch
    [InlineData("385")]          // the built-in model's adapted layers are 384 × 384
    public void ARankTheModelCannotHoldIsRefusedNamingRank(string rank)
    {
        var r = Refused("train", "--task", "demo-facts", "--rank", rank, "--device", "cpu", "--quiet", "--output", Path.Combine(_dir, "rank"));
        Assert.Contains($"--rank {rank}", r.Error);
        Assert.Contains("at most 384", r.Error);
    }

    [Fact]
    public void ANativeErrorPrintsNoNativeFramesWithoutVerbose()
    {
        // libtorch's errors carry its C++ stack in their message
        const string native = "DefaultCPUAllocator: not enough memory: you tried to allocate 3298534883328 bytes.\n" +
                              "Exception raised from alloc_cpu at ../c10/core/impl/alloc_cpu.cpp:90 (most recent call first):\n" +
                              "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x9c (0x7f in libc10.so)";
        (int Code, string Error) Run(params string[] args)
        {
            var root = new System.CommandLine.RootCommand { Options = { Blob.Cli.Commands.CommonOptions.Verbose } };
            var fails = new System.CommandLine.Command("fail");
            fails.SetAction(new Func<System.CommandLine.ParseResult, int>(_ => throw new System.Runtime.InteropServices.ExternalException(native)));
            root.Subcommands.Add(fails);
            var oldError = Console.Error;
            var stderr = new StringWriter();
            Console.SetError(stderr);
            try { return (Blob.Cli.Commands.CommandRunner.Run(root, args), stderr.ToString()); }
            finally { Console.SetError(oldError); }
        }
        var (code, error) = Run("fail");
        Assert.Equal(1, code);
        Assert.Contains("error: ExternalException: DefaultCPUAllocator: not enough memory", error);
        Assert.DoesNotContain("frame #", error);
        Assert.DoesNotContain("Exception raised from", error);
        Assert.Contains("frame #0", Run("fail", "--verbose").Error);   // the whole story on request
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    static extern int Kill(int pid, int signal);
}
