using Blob.Methods;
using Blob.Runtime;
using Blob.Tests.Cli;
using Blob.Tests.Training;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Runtime;

/// <summary>The rule of <see cref="TensorLifetimes"/>, checked with TorchSharp's own count of live tensors.</summary>
public class TensorLifetimeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-lifetimes-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static TrainingOptions Options(string method) => new()
    {
        Method = new MethodOptions { Kind = MethodRegistry.Parse(method), Rank = 2, Alpha = 2, Ensemble = new EnsembleOptions { Size = 2 } },
        Steps = 3, BatchSize = 8, LearningRate = 1e-2, Seed = 3,
    };

    [Theory]
    [InlineData("mle")]
    [InlineData("ens")]
    [InlineData("bbb")]
    [InlineData("blob")]
    public void TrainingLeavesTheCountOfLiveTensorsWhereItWas(string method)
    {
        var (_, classifier) = Toy.Build(Options(method).Method);
        var data = new ToyData(40, seed: 3);
        var trainer = new Trainer(classifier, data, Options(method), CPU);
        long before = TensorLifetimes.Live;
        trainer.Train(Path.Combine(_dir, method)); // with its checkpoint written, as in a real run
        Assert.Equal(before, TensorLifetimes.Live);
    }

    [Theory]
    [InlineData("mle", 0)]
    [InlineData("blob", 4)]
    [InlineData("bbb", 4)]
    [InlineData("mcd", 4)]
    [InlineData("ens", 0)]
    public void PredictionLeavesTheCountOfLiveTensorsWhereItWas(string method, int samples)
    {
        var options = Options(method);
        var (model, classifier) = Toy.Build(options.Method);
        var data = new ToyData(40, seed: 3);
        var predictor = options.Method.Kind.Predictor(new PredictionSetup(classifier, data, options.Method, samples, 16, CPU));
        long before = TensorLifetimes.Live;
        var probabilities = predictor.Predict(classifier, data, null);
        Assert.Equal(40, probabilities.Length);
        Assert.Equal(before, TensorLifetimes.Live);
        model.Dispose();
    }

    [Fact]
    public void ACompareOfTwoRunsLeavesTheCountOfLiveTensorsWhereItWas()
    {
        long before = TensorLifetimes.Live;
        var outcome = BlobCli.Run("compare", "--task", "demo-facts", "--methods", "mle", "blob", "--seeds", "1", "--steps", "2",
            "--batch-size", "4", "--max-train", "8", "--max-eval", "8", "--max-length", "16", "--device", "cpu",
            "--output", Path.Combine(_dir, "compare"), "--quiet");
        Assert.True(outcome.Code == 0, outcome.ToString());
        Assert.Equal(before, TensorLifetimes.Live);
    }
}
