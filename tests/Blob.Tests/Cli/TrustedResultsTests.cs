using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Reports;
using Blob.Training;

namespace Blob.Tests.Cli;

/// <summary>
/// Results are never reused under other settings or replaced by accident, and every bad option is refused
/// when parsed (one line, exit 2, nothing written). Tiny MiniLM runs on the built-in task, through the real command line.
/// </summary>
public class TrustedResultsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-trusted-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Tiny = ["--task", "demo-facts", "--max-eval", "8", "--max-length", "16",
        "--batch-size", "8", "--device", "cpu", "--quiet"];

    static BlobCli.Outcome Ok(params string[] args)
    {
        var r = BlobCli.Run(args);
        Assert.True(r.Code == 0, r.ToString());
        return r;
    }

    static BlobCli.Outcome Refused(params string[] args)
    {
        var r = BlobCli.Run(args);
        Assert.True(r.Code == 2, r.ToString());
        var lines = r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr: {r}");
        return r;
    }

    [Fact]
    public void CompareReusesOnlyARunMadeWithTheSameSettings()
    {
        string output = Path.Combine(_dir, "compare");
        string[] compare = ["compare", .. Tiny, "--methods", "mle", "--seeds", "1", "--output", output];
        string[] data = ["--max-train", "16"];
        string result = Path.Combine(output, "mle", "seed-1", "result.json");
        Ok([.. compare, .. data, "--steps", "2"]);
        string before = File.ReadAllText(result);

        // The case that once went wrong: --steps 6 after --steps 5 reused the old run and printed its numbers.
        var refused = Refused([.. compare, .. data, "--steps", "3"]);
        Assert.Contains("training.steps: 2 → 3", refused.Error);
        Assert.Contains("--overwrite", refused.Error);
        Assert.Equal(before, File.ReadAllText(result));

        Assert.Contains("reusing", Ok([.. compare, .. data, "--steps", "2"]).Out);
        // A setting MLE does not read (BLoB's prior) leaves the MLE run reusable.
        Assert.Contains("reusing", Ok([.. compare, .. data, "--steps", "2", "--prior-std", "0.5"]).Out);
        // Other data is another run, even under the same options.
        Assert.Contains("data.train", Refused([.. compare, "--steps", "2", "--max-train", "24"]).Error);

        var redone = Ok([.. compare, .. data, "--steps", "3", "--overwrite"]);
        Assert.DoesNotContain("reusing", redone.Out);
        Assert.Equal(3, RunSettings.Load(Path.GetDirectoryName(result)!)!.Spec.Training.Steps);
        Assert.Contains("reusing", Ok([.. compare, .. data, "--steps", "3"]).Out);
    }

    [Fact]
    public void CompareRefusesBeforeTrainingAnything()
    {
        string output = Path.Combine(_dir, "compare");
        Ok(["compare", .. Tiny, "--max-train", "16", "--methods", "mle", "--seeds", "2", "--steps", "2", "--output", output]);
        // Seed 1 comes first and is new; seed 2's finished run has other settings: nothing may train before the refusal.
        Refused(["compare", .. Tiny, "--max-train", "16", "--methods", "mle", "--seeds", "1", "2", "--steps", "3", "--output", output]);
        Assert.False(Directory.Exists(Path.Combine(output, "mle", "seed-1")));
    }

    [Fact]
    public void ARunWithoutRecordedSettingsIsNotReused()
    {
        string output = Path.Combine(_dir, "compare");
        string[] compare = ["compare", .. Tiny, "--max-train", "16", "--methods", "mle", "--seeds", "1", "--steps", "2", "--output", output];
        Ok(compare);
        File.Delete(Path.Combine(output, "mle", "seed-1", RunSettings.FileName)); // as a run from before settings were recorded
        Assert.Contains("records no settings", Refused(compare).Error);
    }

    [Fact]
    public void ARunStoppedAmongItsOutOfDistributionSetsIsNotReused()
    {
        string run = Path.Combine(_dir, "ood");
        Directory.CreateDirectory(run);
        var spec = new ExperimentSpec { Task = Blob.Data.DemoTask.Name, Device = "cpu", Precision = Precision.Fp32, OodTasks = ["arc-e", "arc-c"] };
        var settings = RunSettings.Of(spec, Blob.Data.DemoTask.Generate());
        settings.Save(run);
        File.WriteAllText(Path.Combine(run, RunFolder.Result), "{}");
        File.WriteAllText(Path.Combine(run, RunFolder.Predictions), "{}");
        foreach (var name in RunFiles.MeanDev.Names) File.WriteAllText(Path.Combine(run, name), "{}"); // the spec's BLoB reports N = 0 too
        File.WriteAllText(Path.Combine(run, "ood-arc-e.json"), "{}");
        Assert.False(RunFolder.CanReuse(run, settings)); // arc-c was never evaluated: resume, do not reuse
        File.WriteAllText(Path.Combine(run, "ood-arc-c.json"), "{}");
        Assert.True(RunFolder.CanReuse(run, settings));
    }

    [Fact]
    public void TrainNeverReplacesARunOrItsCheckpointUnasked()
    {
        string run = Path.Combine(_dir, "run");
        string[] train = ["train", .. Tiny, "--max-train", "16", "--method", "mle", "--steps", "2", "--output", run];
        Ok([.. train, "--seed", "1"]);
        string result = File.ReadAllText(Path.Combine(run, "result.json"));
        byte[] adapter = File.ReadAllBytes(Path.Combine(run, "adapter", "adapter_model.safetensors"));

        // The case that once went wrong: seed 2 into seed 1's folder replaced its result, adapter and checkpoint.
        Assert.Contains("already holds a finished run", Refused([.. train, "--seed", "2"]).Error);
        Assert.Equal(result, File.ReadAllText(Path.Combine(run, "result.json")));
        Assert.Equal(adapter, File.ReadAllBytes(Path.Combine(run, "adapter", "adapter_model.safetensors")));

        // An interrupted run (a checkpoint, no result): forgetting --resume must not throw the checkpoint away.
        File.Delete(Path.Combine(run, "result.json"));
        File.Delete(Path.Combine(run, "predictions.json"));
        string state = File.ReadAllText(Path.Combine(run, "checkpoint", "state.json"));
        Assert.Contains("checkpoint of an unfinished run", Refused([.. train, "--seed", "1"]).Error);
        Assert.Contains("training.seed: 1 → 2", Refused([.. train, "--seed", "2", "--resume"]).Error);
        Assert.Equal(state, File.ReadAllText(Path.Combine(run, "checkpoint", "state.json")));

        Ok([.. train, "--seed", "1", "--resume"]);
        Assert.Equal(RunResult.Load(Path.Combine(run, "result.json")).Nll, System.Text.Json.JsonDocument.Parse(result).RootElement.GetProperty("nll").GetDouble());

        Ok([.. train, "--seed", "2", "--overwrite"]);
        Assert.Equal(2, RunResult.Load(Path.Combine(run, "result.json")).Seed);
        Refused([.. train, "--seed", "2", "--overwrite", "--resume"]);
    }

    /// <summary>
    /// --overwrite replaces every file the old run wrote: a stale mean-weights result (BLoB's N = 0) or
    /// out-of-distribution file left behind would be read back as the new run's, since a split already on disk is not
    /// evaluated again.
    /// </summary>
    [Fact]
    public void OverwriteLeavesNoFileOfTheOldRun()
    {
        string run = Path.Combine(_dir, "run");
        string[] train = ["train", .. Tiny, "--max-train", "16", "--method", "blob", "--samples", "2", "--steps", "2", "--output", run];
        Ok([.. train, "--seed", "1"]);
        Assert.Equal(1, RunResult.Load(Path.Combine(run, "mean-result.json")).Seed);
        string stray = Path.Combine(run, "ood-arc-e-predictions.json");
        File.WriteAllText(stray, "{}");

        Ok([.. train, "--seed", "2", "--overwrite"]);
        Assert.Equal(2, RunResult.Load(Path.Combine(run, "result.json")).Seed);
        Assert.Equal(2, RunResult.Load(Path.Combine(run, "mean-result.json")).Seed);
        Assert.False(File.Exists(stray));
    }

    [Theory]
    [InlineData("--samples", "-3")]
    [InlineData("--steps", "-1")]
    [InlineData("--epochs", "0")]
    [InlineData("--alpha", "0")]
    [InlineData("--prior-std", "-1")]
    [InlineData("--prior-std", "0")]
    [InlineData("--init-eps", "0")]
    [InlineData("--checkpoint-every", "-1")]
    [InlineData("--lora-dropout", "1.5")]
    [InlineData("--lr", "-1")]
    [InlineData("--lr", "NaN")]
    [InlineData("--kl-lr", "-0.1")]
    [InlineData("--weight-decay", "-1")]
    [InlineData("--rank", "0")]
    [InlineData("--batch-size", "0")]
    [InlineData("--grad-accum", "0")]
    [InlineData("--train-samples", "0")]
    [InlineData("--eval-batch-size", "0")]
    [InlineData("--max-length", "1")]
    [InlineData("--max-train", "0")]
    [InlineData("--ensemble-size", "0")]
    [InlineData("--device", "tpu")]
    [InlineData("--device", "cuda")] // this build has no CUDA
    [InlineData("--kl-weighting", "geometric")]
    [InlineData("--flipout", "batch")]
    [InlineData("--mean-init", "kaiming")]
    [InlineData("--precision", "fp16")]
    [InlineData("--task", "nope")]
    [InlineData("--batch-size", "abc")]
    [InlineData("--ood", "arc-x")] // known before training, not after it
    public void ABadOptionIsRefusedWhenParsedWithOneLine(string option, string value)
    {
        string output = Path.Combine(_dir, "never");
        foreach (var command in new[] { "train", "compare" })
        {
            var r = Refused(command, option, value, "--output", output);
            Assert.StartsWith($"error: ", r.Error);
            Assert.Contains(option, r.Error);
            Assert.Contains("--help", r.Error);
            Assert.False(Directory.Exists(output), "nothing is written for a refused command line");
        }
    }

    [Fact]
    public void ParseErrorsAreOneLineWithExitCode2()
    {
        Assert.Contains("--bogus", Refused("train", "--bogus").Error);
        Assert.Contains("'blob compare --help'", Refused("compare", "--methods", "mle", "sgld").Error);
        Assert.Contains("sgld", Refused("compare", "--methods", "mle,sgld").Error);
        Assert.Contains("repeated", Refused("compare", "--seeds", "1", "1").Error);
        Assert.Contains("--steps", Refused("bench", "--steps", "2", "--rounds", "1").Error); // two steps measure nothing
        Assert.Contains("--rounds", Refused("bench", "--rounds", "1").Error);
        Assert.Contains("--bf16", Refused("train", "--bf16", "--output", Path.Combine(_dir, "never")).Error); // --precision bf16 is its only spelling
        Assert.Contains("--flipout 'sign': expected example or token", Refused("train", "--flipout", "sign").Error);
        Assert.Contains("--head 'frozen': expected trained, adapted or adapted-frozen", Refused("train", "--head", "frozen").Error);
    }

    [Fact]
    public void HelpNamesTheToolAndOnlyWhatACommandReads()
    {
        var train = Ok("train", "--help").Out;
        Assert.Contains("blob train [options]", train);
        Assert.DoesNotContain("Blob.Cli", train);
        foreach (var task in Blob.Data.Tasks.Names) Assert.Contains(task, train);

        var eval = Ok("eval", "--help").Out;
        Assert.Contains("--samples", eval);
        Assert.Contains("--max-length", eval);
        Assert.DoesNotContain("--kl-lr", eval);
        Assert.DoesNotContain("--epochs", eval);

        var compare = Ok("compare", "--help").Out;
        Assert.DoesNotContain("mle|map|blob", compare);
        Assert.Contains("default: mle map blob", compare);

        var bench = Ok("bench", "--help").Out;
        foreach (var line in bench.Split('\n').Where(l => l.TrimStart().StartsWith("--") && !l.Contains("--help")))
            Assert.True(line.Trim().Split("  ", StringSplitOptions.RemoveEmptyEntries).Length >= 2, $"no description: {line}");

        var info = Ok("info").Out;
        Assert.Contains("libtorch 2.", info);
        Assert.Contains("CPU bfloat16 instructions:", info);
    }
}
