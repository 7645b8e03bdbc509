using Blob.Runtime;

namespace Blob.Tests.Cli;

/// <summary>
/// One run per output: a second train, compare or eval --output into a folder (or file) another run holds is refused
/// with one line naming the folder and the holder's process; a killed holder leaves no lock behind; a bad --output is
/// refused, naming it, before any model loads.
/// </summary>
public class OneRunPerFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-lock-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Data = ["--task", "demo-facts", "--max-train", "16", "--max-eval", "8", "--max-length", "16",
        "--batch-size", "8", "--device", "cpu", "--quiet"];
    static readonly string[] Tiny = [.. Data, "--steps", "2"];

    static BlobCli.Outcome Refused(BlobCli.Outcome r)
    {
        Assert.True(r.Code == 2, r.ToString());
        Assert.True(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, $"expected one line on stderr: {r}");
        return r;
    }

    [Fact]
    public void ASecondLockOnAFolderIsRefusedNamingTheHolderUntilTheFirstIsReleased()
    {
        string run = Path.Combine(_dir, "run");
        using (var first = RunLock.Folder(run))
        {
            var e = Assert.Throws<BlobException>(() => RunLock.Folder(run));
            Assert.Contains(run, e.Message);
            Assert.Contains($"process {Environment.ProcessId}", e.Message);
            Assert.Equal(Environment.ProcessId, RunLock.Holder(first.Path));
        }
        using (RunLock.Folder(run)) { } // released: the next run gets it
        Assert.Null(RunLock.Holder(Path.Combine(run, RunLock.FileName))); // and no pid is left that looks current
    }

    [Fact]
    public void ASecondLockOnAnOutputFileIsRefused()
    {
        string file = Path.Combine(_dir, "results.json");
        using (RunLock.OutputFile(file))
            Assert.Contains(file, Assert.Throws<BlobException>(() => RunLock.OutputFile(file)).Message);
        using (RunLock.OutputFile(file)) { }
    }

    [Fact]
    public void TrainCompareAndEvalRefuseAFolderAnotherRunHolds()
    {
        string run = Path.Combine(_dir, "run"), compare = Path.Combine(_dir, "compare"), results = Path.Combine(_dir, "eval.json");
        using (RunLock.Folder(run))
        {
            var r = Refused(BlobCli.Run(["train", .. Tiny, "--method", "mle", "--output", run]));
            Assert.Contains(run, r.Error);
            Assert.Contains($"process {Environment.ProcessId}", r.Error);
            Assert.False(File.Exists(Path.Combine(run, "settings.json"))); // nothing written into the held folder
        }
        using (RunLock.Folder(compare))
            Assert.Contains(compare, Refused(BlobCli.Run(["compare", .. Tiny, "--methods", "mle", "--seeds", "1", "--output", compare])).Error);
        // a comparison's run folder held by a train: the comparison refuses it before training into it
        using (RunLock.Folder(Path.Combine(compare, "mle", "seed-1")))
            Assert.Contains(Path.Combine(compare, "mle", "seed-1"),
                Refused(BlobCli.Run(["compare", .. Tiny, "--methods", "mle", "--seeds", "1", "--output", compare])).Error);
        using (RunLock.OutputFile(results))
            Assert.Contains(results, Refused(BlobCli.Run(["eval", "--adapter", _dir, "--device", "cpu", "--output", results])).Error);
    }

    [Fact]
    public void AnotherProcessIsRefusedAndAKilledHolderLeavesNoLock()
    {
        string run = Path.Combine(_dir, "run");
        using (RunLock.Folder(run))
        {
            var r = Refused(BlobCli.RunChild(["train", .. Tiny, "--method", "mle", "--output", run]));
            Assert.Contains($"process {Environment.ProcessId}", r.Error);
        }

        // a child that trains for long, killed once it holds the folder
        using var child = new BlobCli.Child(["train", .. Data, "--steps", "100000", "--method", "mle", "--output", run]);
        string lockFile = Path.Combine(run, RunLock.FileName);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (RunLock.Holder(lockFile) != child.Process.Id && clock.Elapsed < TimeSpan.FromSeconds(60) && !child.Process.HasExited)
            Thread.Sleep(50);
        Assert.True(child.Process.Id == RunLock.Holder(lockFile), child.Process.HasExited ? child.WaitForExit().ToString() : "the child never took the lock");
        Assert.Throws<BlobException>(() => RunLock.Folder(run));
        child.Process.Kill();
        child.Process.WaitForExit();
        using (RunLock.Folder(run)) { }
    }

    [Fact]
    public void ABadOutputIsRefusedNamingTheOption()
    {
        string file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");
        foreach (var output in new[] { file, "", "/proc/blob-not-writable/run" })
        {
            var r = Refused(BlobCli.Run(["train", .. Tiny, "--method", "mle", "--model", Path.Combine(_dir, "no-model"), "--output", output]));
            Assert.Contains("--output", r.Error); // and not the missing model, which would have been read first
        }
        string folder = Path.Combine(_dir, "a-folder");
        Directory.CreateDirectory(folder);
        foreach (var output in new[] { folder, "", "/proc/blob-not-writable/results.json" })
        {
            var r = Refused(BlobCli.Run(["eval", "--adapter", Path.Combine(_dir, "no-adapter"), "--model", Path.Combine(_dir, "no-model"), "--device", "cpu", "--output", output]));
            Assert.Contains("--output", r.Error);
        }
        Assert.Contains("--output", Refused(BlobCli.Run(["compare", .. Tiny, "--methods", "mle", "--seeds", "1", "--output", file])).Error);
    }
}
