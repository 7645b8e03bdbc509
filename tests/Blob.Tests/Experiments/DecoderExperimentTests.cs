using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>The multiple-choice path with a real pretrained decoder: stories260k answering ARC-Easy prompts.</summary>
public class DecoderExperimentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-decoder-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedTheory("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    [InlineData("blob")]
    [InlineData("lap")]
    public void Stories260kFineTunesAndEvaluatesOnMultipleChoice(string method)
    {
        var kind = MethodRegistry.Parse(method);
        var spec = new ExperimentSpec
        {
            Model = Shared.PathOf("fixtures/stories260k"), Task = "arc-e", DataRoot = Shared.PathOf("data"), Precision = Precision.Fp32,
            MaxTrain = 16, MaxEval = 12, EvalSamples = 3, Device = "cpu",
            Training = new TrainingOptions { Method = new MethodOptions { Kind = kind, Rank = 4, Alpha = 8 }, Steps = 3, BatchSize = 4, LearningRate = 1e-3 },
        };
        var result = Experiment.Run(spec, _dir);
        Assert.Equal(12, result.Result.Count);
        Assert.InRange(result.Result.Accuracy, 0, 1);
        Assert.True(double.IsFinite(result.Result.Nll));
        // Each prediction is a distribution over the example's own options (3 to 5 of A–E).
        foreach (var p in result.Probabilities) Assert.Equal(1.0, p.Sum(), 6);
        Assert.True(File.Exists(Path.Combine(_dir, "adapter", "adapter_config.json")));
    }

    /// <summary>
    /// An OBQA adapter (answers A–D) evaluated out of distribution on ARC-Easy (A–E) scores ARC's own
    /// answers, in train's OOD loop and in eval; eval hands over each task's result before the next task starts.
    /// </summary>
    [SharedTheory("fixtures/stories260k/model.safetensors", "data/openbookqa", "data/arc-easy")]
    [InlineData("mle")]
    [InlineData("lap")]
    public void AnObqaAdapterIsEvaluatedOnArcWithArcsOwnChoices(string method)
    {
        var kind = MethodRegistry.Parse(method);
        var spec = new ExperimentSpec
        {
            Model = Shared.PathOf("fixtures/stories260k"), Task = "obqa", DataRoot = Shared.PathOf("data"), Precision = Precision.Fp32,
            MaxTrain = 16, MaxEval = 12, Device = "cpu", OodTasks = ["arc-e"],
            Training = new TrainingOptions { Method = new MethodOptions { Kind = kind, Rank = 4, Alpha = 8 }, Steps = 2, BatchSize = 4, LearningRate = 1e-3 },
        };
        var run = Experiment.Run(spec, _dir);
        var arc = Assert.Single(run.OutOfDistribution);
        Assert.Equal(("arc-e", 12), (arc.Task, arc.Count));
        Assert.True(double.IsFinite(arc.Nll));
        Assert.Contains(arc.Notes!, n => n.Contains("answers scored by the tokens [A, B, C, D, E]"));
        Assert.Equal(arc, Blob.Reports.RunResult.Load(Path.Combine(_dir, "ood-arc-e.json")) with { Notes = arc.Notes });

        var events = new List<string>();
        var results = Experiment.EvaluateAdapter(spec, Path.Combine(_dir, "adapter"), applying: kind == MethodRegistry.Lap ? kind : null,
            onResult: r => events.Add($"result {r.Task}"), onPredict: p => { if (p.Pass == 0) events.Add($"start {p.Task}"); });
        Assert.Equal(["start obqa", "result obqa", "start arc-e", "result arc-e"], events);
        Assert.Equal(run.Result.Nll, results[0].Nll, 10);
        Assert.Equal(arc.Nll, results[1].Nll, 10);
        Assert.Equal(arc.Accuracy, results[1].Accuracy);
    }
}
