using Blob.Experiments;
using Blob.Reports;

namespace Blob.Tests.Cli;

/// <summary>
/// The blind protocol through the real command line: --validation-fraction holds out part of the training split;
/// such a run evaluates only the validation split unless asked, and the dev table later reuses its training.
/// </summary>
public class BlindProtocolTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-blind-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Tiny = ["--task", "demo-facts", "--max-train", "40", "--max-eval", "12", "--max-length", "16",
        "--batch-size", "8", "--device", "cpu", "--quiet", "--steps", "3", "--samples", "3"];

    static BlobCli.Outcome Run(params string[] args)
    {
        var r = BlobCli.Run(args);
        Assert.True(r.Code == 0, r.ToString());
        return r;
    }

    [Fact]
    public void AValidationRunLooksAtNoDevDataAndItsTrainingIsReusedForTheDevTable()
    {
        string output = Path.Combine(_dir, "compare");
        string[] compare = ["compare", .. Tiny, "--methods", "blob", "--seeds", "1", "--output", output, "--validation-fraction", "0.25"];
        string run = Path.Combine(output, "blob", "seed-1");

        Run(compare);
        Assert.True(File.Exists(Path.Combine(run, RunFiles.Validation.Result)));
        Assert.False(File.Exists(Path.Combine(run, RunFolder.Result)), "dev was evaluated without --evaluate");
        Assert.True(File.Exists(Path.Combine(output, "table-validation.md")));
        Assert.False(File.Exists(Path.Combine(output, "table.md")));
        Assert.Contains("| blob-n0 |", File.ReadAllText(Path.Combine(output, "table-validation.md"))); // BLoB at N = 0 beside N = 10
        Assert.True(File.Exists(Path.Combine(run, RunFiles.MeanValidation.Result)));
        string validationJson = File.ReadAllText(Path.Combine(run, RunFiles.Validation.Result));
        var validation = RunResult.Load(Path.Combine(run, RunFiles.Validation.Result));
        Assert.Equal("validation", validation.Split);
        Assert.Equal(10, validation.Count); // 25% of 40, stratified

        // Asking for dev too resumes the finished training (no step runs again) and evaluates dev only.
        var both = Run([.. compare, "--evaluate", "both"]);
        Assert.Contains("resuming from the checkpoint at step 3", both.Out);
        Assert.Equal(validationJson, File.ReadAllText(Path.Combine(run, RunFiles.Validation.Result))); // not evaluated again
        Assert.True(File.Exists(Path.Combine(output, "table.md")));
        Assert.Contains("| blob-n0 |", File.ReadAllText(Path.Combine(output, "table.md")));
        Assert.Contains("reusing", Run([.. compare, "--evaluate", "both"]).Out);

        // Dev's numbers do not depend on whether the validation split was evaluated first: the same N weight samples.
        string devOnly = Path.Combine(_dir, "dev-only");
        Run(["train", .. Tiny, "--method", "blob", "--output", devOnly, "--validation-fraction", "0.25", "--evaluate", "dev"]);
        Assert.Equal(File.ReadAllText(Path.Combine(run, RunFolder.Predictions)), File.ReadAllText(Path.Combine(devOnly, RunFolder.Predictions)));
    }

    /// <summary>
    /// Tables grow across machines from committed records. experiments/keep-results.sh keeps a finished run's
    /// settings and results but no adapter or checkpoint, and compare reuses what it kept without training.
    /// </summary>
    [Fact]
    public void KeptRecordsWithoutAdaptersAreReusedByCompare()
    {
        string output = Path.Combine(_dir, "out"), kept = Path.Combine(_dir, "kept");
        string[] compare = ["compare", .. Tiny, "--methods", "mle", "blob", "--seeds", "1", "--validation-fraction", "0.25", "--evaluate", "both"];
        Run([.. compare, "--output", Path.Combine(output, "tiny-table")]);
        Directory.CreateDirectory(Path.Combine(output, "unfinished", "mle", "seed-1"));
        File.WriteAllText(Path.Combine(output, "unfinished", "mle", "seed-1", "settings.json"), "{}");

        var keep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash",
            [Path.Combine(Shared.RepoRoot, "experiments", "keep-results.sh"), output, kept]) { RedirectStandardOutput = true })!;
        string said = keep.StandardOutput.ReadToEnd();
        keep.WaitForExit();
        Assert.True(keep.ExitCode == 0, said);
        string run = Path.Combine(kept, "tiny-table", "blob", "seed-1");
        foreach (var file in new[] { "settings.json", "result.json", "predictions.json", "validation.json", "mean-result.json", "training-log.csv" })
            Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.False(Directory.Exists(Path.Combine(run, "adapter")));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoint")));
        Assert.False(Directory.Exists(Path.Combine(kept, "unfinished")), "a run without results was kept");

        var again = Run([.. compare, "--output", Path.Combine(kept, "tiny-table")]);
        Assert.Contains("mle seed 1: reusing", again.Out);
        Assert.Contains("blob seed 1: reusing", again.Out);
        Assert.False(Directory.Exists(Path.Combine(run, "adapter")), "compare trained again");
        Assert.Contains("| blob-n0 |", File.ReadAllText(Path.Combine(kept, "tiny-table", "table.md")));
    }

    [Fact]
    public void AnotherFractionIsAnotherRunAndEvaluatingAValidationSplitNeedsOne()
    {
        string output = Path.Combine(_dir, "compare");
        string[] compare = ["compare", .. Tiny, "--methods", "mle", "--seeds", "1", "--output", output];
        Run([.. compare, "--validation-fraction", "0.25"]);
        var refused = BlobCli.Run([.. compare, "--validation-fraction", "0.5"]);
        Assert.True(refused.Code == 2, refused.ToString());
        Assert.Contains("validation_fraction: 0.25 → 0.5", refused.Error);

        var none = BlobCli.Run(["train", .. Tiny, "--method", "mle", "--output", Path.Combine(_dir, "none"), "--evaluate", "validation"]);
        Assert.True(none.Code == 2, none.ToString());
        Assert.Contains("--validation-fraction", none.Error);
        Assert.Equal(2, BlobCli.Run(["train", .. Tiny, "--validation-fraction", "1", "--output", Path.Combine(_dir, "one")]).Code);
    }
}
