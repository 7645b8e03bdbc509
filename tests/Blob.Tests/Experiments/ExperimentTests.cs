using System.Diagnostics;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Reports;
using Blob.Tests.Cli;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>End-to-end runs of the pipeline on the built-in task with MiniLM (from its NuGet package), kept tiny.</summary>
public class ExperimentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-experiment-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ExperimentSpec Tiny(FineTuningMethod kind, int? samples = 0) => new()
    {
        Task = "demo-facts", MaxTrain = 48, MaxEval = 24, EvalSamples = samples, Device = "cpu", Precision = Precision.Fp32,
        Training = new TrainingOptions
        {
            Method = new MethodOptions { Kind = kind, Ensemble = new EnsembleOptions { Size = 2 } },
            Steps = 4, BatchSize = 8, LearningRate = 1e-3, MaxLength = 32, Seed = 5,
        },
    };

    [Theory]
    [InlineData("mle")]
    [InlineData("blob")]
    [InlineData("ens")]
    public void ASavedAdapterEvaluatesAsTheRunDid(string method)
    {
        var kind = MethodRegistry.Parse(method);
        string run = Path.Combine(_dir, kind.ToString());
        var trained = Experiment.Run(Tiny(kind), run);
        Assert.True(File.Exists(Path.Combine(run, "result.json")));
        Assert.True(File.Exists(Path.Combine(run, "reliability.png")));
        var reloaded = Experiment.EvaluateAdapter(Tiny(kind), Path.Combine(run, "adapter"))[0];
        Assert.Equal(trained.Result.Count, reloaded.Count);
        if (kind == MethodRegistry.Ens)
        {
            // the saved ensemble averages probabilities; the run averaged logits: close, not equal
            Assert.Equal(trained.Result.Accuracy, reloaded.Accuracy, 1);
            return;
        }
        Assert.Equal(trained.Result.Accuracy, reloaded.Accuracy, 10);
        Assert.Equal(trained.Result.Nll, reloaded.Nll, 5);
    }

    /// <summary>The tables report BLoB at N = 0 and N = 10; a BLoB run that samples evaluates its mean weights too.</summary>
    [Fact]
    public void ABlobRunThatSamplesAlsoReportsItsMeanWeights()
    {
        string run = Path.Combine(_dir, "blob-both");
        var sampled = Experiment.Run(Tiny(MethodRegistry.Blob, samples: 3), run);
        var mean = RunFiles.MeanDev.Load(run).Item1;
        Assert.Equal("blob-n0", mean.Method);
        Assert.Equal("blob", sampled.Result.Method);
        Assert.Contains(mean.Notes!, n => n.Contains("N = 0"));
        // the same numbers as evaluating the saved adapter with N = 0
        var reloaded = Experiment.EvaluateAdapter(Tiny(MethodRegistry.Blob, samples: 0), Path.Combine(run, "adapter"))[0];
        Assert.Equal(reloaded.Accuracy, mean.Accuracy, 10);
        Assert.Equal(reloaded.Nll, mean.Nll, 5);
        Assert.NotEqual(sampled.Result.Nll, mean.Nll);

        // MLE, and BLoB asked for N = 0 alone, write no second prediction
        Experiment.Run(Tiny(MethodRegistry.Mle), Path.Combine(_dir, "mle-one"));
        Experiment.Run(Tiny(MethodRegistry.Blob, samples: 0), Path.Combine(_dir, "blob-mean-only"));
        Assert.False(RunFiles.MeanDev.Exists(Path.Combine(_dir, "mle-one")));
        Assert.False(RunFiles.MeanDev.Exists(Path.Combine(_dir, "blob-mean-only")));

        // a BLoB run recorded without its mean-weights files is not finished: a resumption adds them and keeps the rest
        File.Delete(Path.Combine(run, "mean-result.json"));
        Assert.False(RunFolder.CanReuse(run, RunSettings.Of(Tiny(MethodRegistry.Blob, samples: 3), Experiment.LoadSubsampledTask(Tiny(MethodRegistry.Blob, samples: 3)))));
        var resumed = Experiment.Run(Tiny(MethodRegistry.Blob, samples: 3), run, ExistingRun.Resume);
        Assert.Equal(sampled.Result.Nll, resumed.Result.Nll);
        Assert.Equal(mean.Nll, RunFiles.MeanDev.Load(run).Item1.Nll);
    }

    [Fact]
    public void SampledEvaluationOfASavedAdapterRepeatsExactly()
    {
        string run = Path.Combine(_dir, "blob-sampled");
        Experiment.Run(Tiny(MethodRegistry.Blob), run);
        var spec = Tiny(MethodRegistry.Blob, samples: 4);
        var first = Experiment.EvaluateAdapter(spec, Path.Combine(run, "adapter"))[0];
        var second = Experiment.EvaluateAdapter(spec, Path.Combine(run, "adapter"))[0];
        Assert.Equal(first.Nll, second.Nll, 12);
        var otherSeed = Experiment.EvaluateAdapter(spec with { Training = spec.Training with { Seed = 6 } },
            Path.Combine(run, "adapter"))[0];
        Assert.NotEqual(first.Nll, otherSeed.Nll); // the samples really are random: another seed draws others
    }

    [Fact]
    public void UnknownTaskAndMethodAreClearErrors()
    {
        var e = Assert.Throws<BlobException>(() => Experiment.Run(Tiny(MethodRegistry.Mle) with { Task = "nope" }, Path.Combine(_dir, "x")));
        Assert.Contains("nope", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x", "result.json")));
        Assert.Throws<BlobException>(() => MethodRegistry.Parse("sgld"));
    }

    /// <summary>An encoder's head has one output per trained label; another label count is a clear error.</summary>
    [Fact]
    public void AnEncoderCannotAnswerATaskWithAnotherLabelCount()
    {
        var trained = Blob.Data.DemoTask.Generate();
        var tm = ModelZoo.Load(ModelZoo.BuiltIn, trained, TorchSharp.torch.CPU, seed: 1);
        var same = trained with { Name = "pairs", Labels = ["x", "y"] };
        Assert.Same(tm.Classifier, ModelZoo.ClassifierFor(tm, trained, same));
        var three = trained with { Name = "three", Labels = ["a", "b", "c"] };
        var e = Assert.Throws<BlobException>(() => ModelZoo.ClassifierFor(tm, trained, three));
        Assert.Equal($"task 'three' has 3 labels but the adapter was trained for {trained.NumLabels}", e.Message);
    }

    /// <summary>Issue: a run killed with SIGKILL and resumed with --resume ends with the same metrics as an uninterrupted one.</summary>
    [Fact]
    public void ARunKilledWithSigkillResumesToTheSameMetrics()
    {
        string[] common = ["train", "--task", "demo-facts", "--method", "blob", "--steps", "24", "--batch-size", "8",
            "--max-train", "96", "--max-eval", "32", "--max-length", "32", "--samples", "4", "--checkpoint-every", "4",
            "--device", "cpu", "--quiet", "--seed", "3"];
        string straight = Path.Combine(_dir, "straight"), killed = Path.Combine(_dir, "killed");

        var first = BlobCli.RunChild(BlobCli.Debug, [.. common, "--output", straight]);
        Assert.True(first.Code == 0, first.ToString());

        // Start the same run, SIGKILL it once a checkpoint from the middle of training exists, then resume.
        using (var child = new BlobCli.Child([.. common, "--output", killed], BlobCli.Debug))
        {
            var state = Path.Combine(killed, "checkpoint", "state.json");
            var clock = Stopwatch.StartNew();
            while (!(File.Exists(state) && File.ReadAllText(state).Contains("\"Step\":8")) && !child.Process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
                Thread.Sleep(20);
            if (child.Process.HasExited) Assert.Fail($"the run finished before it could be killed: {child.WaitForExit()}");
            child.Process.Kill(); // SIGKILL on Linux
            child.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killed, "result.json")));
        var resumed = BlobCli.RunChild(BlobCli.Debug, [.. common, "--output", killed, "--resume"]);
        Assert.True(resumed.Code == 0, resumed.ToString());

        var a = RunResult.Load(Path.Combine(straight, "result.json"));
        var b = RunResult.Load(Path.Combine(killed, "result.json"));
        Assert.Equal(a.Accuracy, b.Accuracy);
        Assert.Equal(a.Nll, b.Nll);
        Assert.Equal(a.Ece, b.Ece);
        Assert.Equal(a.Brier, b.Brier);
        Assert.Equal(Blob.Runtime.ToolVersion.Current, a.Tool); // the child is this build: its record says so
    }
}
