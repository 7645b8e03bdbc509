using Blob.Experiments;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>The multiple-choice path with a real pretrained decoder: stories260k answering ARC-Easy prompts.</summary>
public class DecoderExperimentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-decoder-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedTheory("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    [InlineData(MethodKind.Blob)]
    [InlineData(MethodKind.Lap)]
    public void Stories260kFineTunesAndEvaluatesOnMultipleChoice(MethodKind kind)
    {
        var spec = new ExperimentSpec
        {
            Model = Shared.PathOf("fixtures/stories260k"), Task = "arc-e", DataRoot = Shared.PathOf("data"),
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
}
