using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using Blob.Tests.Training;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Evaluation;

/// <summary>Prediction reports its progress and stops on a cancelled token, without changing its numbers.</summary>
public class BayesianPredictionTests
{
    static (ToyClassifier Classifier, ToyData Data) BlobToy()
    {
        var (_, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 });
        return (classifier, new ToyData(20, seed: 1));
    }

    [Fact]
    public void ProgressCountsIncreaseToTheTotalAndLeaveTheNumbersAlone()
    {
        var (classifier, data) = BlobToy();
        manual_seed(11);
        var plain = BayesianPrediction.Predict(classifier, data, samples: 3, batchSize: 8, CPU, samplesPerCall: 1);

        var seen = new List<PredictionProgress>();
        manual_seed(11);
        var reported = BayesianPrediction.Predict(classifier, data, samples: 3, batchSize: 8, CPU, seen.Add, new CancellationTokenSource().Token, samplesPerCall: 1);

        Assert.Equal(plain, reported); // bit-identical: the callback and the token draw no random numbers
        Assert.Equal(new PredictionProgress(0, 20, 0, 3), seen[0]);
        Assert.Equal(1 + 3 * 3, seen.Count); // the start, then 3 batches (8, 8, 4) × 3 passes
        Assert.All(seen, p => Assert.Equal(20, p.Total));
        for (int i = 1; i < seen.Count; i++) Assert.True(seen[i].Done >= seen[i - 1].Done);
        Assert.Equal([8, 16, 20], seen.Where(p => p.Pass == 3).Select(p => p.Done));
        Assert.Equal(20, seen[^1].Done);

        // Samples drawn 2 per forward call: progress per call, Pass counting samples (2, then 3).
        seen.Clear();
        BayesianPrediction.Predict(classifier, data, samples: 3, batchSize: 8, CPU, seen.Add, samplesPerCall: 2);
        Assert.Equal(1 + 3 * 2, seen.Count);
        Assert.Equal([0, 2, 3, 2, 3, 2, 3], seen.Select(p => p.Pass));
        Assert.Equal([0, 0, 8, 8, 16, 16, 20], seen.Select(p => p.Done));
    }

    /// <summary>
    /// Prediction reads the examples in batches of similar length (less padding) and returns them in the data's order:
    /// the same numbers as predicting each example alone; so does the Laplace predictive.
    /// </summary>
    [Fact]
    public void PredictionBatchesByLengthAndAnswersInTheDataOrder()
    {
        var (classifier, _) = BlobToy();
        var data = new ToyData(20, seed: 1) { Lengths = i => (7 * i) % 20 }; // a permutation of 0 … 19
        var alone = Enumerable.Range(0, 20).Select(i => BayesianPrediction.Predict(classifier, new Single(data, i), 0, 1, CPU)[0]).ToArray();
        data.Made.Clear();
        var batched = BayesianPrediction.Predict(classifier, data, samples: 0, batchSize: 8, CPU);
        Assert.Equal(3, data.Made.Count);
        var lengths = data.Made.SelectMany(b => b).Select(i => (7 * i) % 20).ToArray();
        Assert.Equal(Enumerable.Range(0, 20), lengths); // shortest first, batch after batch
        for (int i = 0; i < 20; i++)
            for (int c = 0; c < 3; c++) Assert.Equal(alone[i][c], batched[i][c], 5); // float32: a batch of 8 rounds like one of 1 to ~1e-7

        var (model, _) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Map, Rank = 2, Alpha = 2 });
        var map = new ToyClassifier(model);
        using var laplace = Blob.Methods.LaplaceLora.Fit(map, data, new Blob.Methods.LaplaceOptions { PriorPrecision = 1, Probit = true, BatchSize = 8 }, CPU);
        var lapAlone = Enumerable.Range(0, 20).Select(i => laplace.PredictProbabilities(new Single(data, i), 1, CPU)[0]).ToArray();
        data.Made.Clear();
        var lapBatched = laplace.PredictProbabilities(data, 8, CPU);
        Assert.Equal(Enumerable.Range(0, 20), data.Made.SelectMany(b => b).Select(i => (7 * i) % 20));
        for (int i = 0; i < 20; i++)
            for (int c = 0; c < 3; c++) Assert.Equal(lapAlone[i][c], lapBatched[i][c], 5);
    }

    /// <summary>One example of a source, as a source of its own.</summary>
    sealed class Single(IBatchSource data, int index) : IBatchSource
    {
        public int Count => 1;
        public int NumClasses => data.NumClasses;
        public int Length(int i) => data.Length(index);
        public Batch Make(IReadOnlyList<int> indices, Device device) => data.Make([index], device);
    }

    [Fact]
    public void ACancelledTokenStopsPredictionBetweenPasses()
    {
        var (classifier, data) = BlobToy();
        using var cancel = new CancellationTokenSource();
        int passes = 0;
        var e = Assert.Throws<OperationCanceledException>(() => BayesianPrediction.Predict(classifier, data, samples: 10, batchSize: 8, CPU,
            p => { if (p.Pass > 0 && ++passes == 2) cancel.Cancel(); }, cancel.Token, samplesPerCall: 1));
        Assert.Equal(2, passes); // stopped before the third pass of the first batch
        Assert.Contains("0 of 20", e.Message);

        // k samples per call: stopped between calls, after samples 1–3 and 4–6 of the first batch.
        using var again = new CancellationTokenSource();
        var calls = new List<int>();
        e = Assert.Throws<OperationCanceledException>(() => BayesianPrediction.Predict(classifier, data, samples: 10, batchSize: 8, CPU,
            p => { if (p.Pass > 0) { calls.Add(p.Pass); if (calls.Count == 2) again.Cancel(); } }, again.Token, samplesPerCall: 3));
        Assert.Equal([3, 6], calls);
        Assert.Contains("0 of 20", e.Message);

        Assert.Throws<OperationCanceledException>(() => BayesianPrediction.Predict(classifier, data, samples: 0, batchSize: 8, CPU, cancel: cancel.Token));
    }

    [Fact]
    public void TheLaplacePredictiveReportsAndStopsToo()
    {
        var (model, _) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Map, Rank = 2, Alpha = 2 });
        var classifier = new ToyClassifier(model);
        var data = new ToyData(20, seed: 1);
        var fitted = new List<(int Done, int Total)>();
        using var laplace = Blob.Methods.LaplaceLora.Fit(classifier, data, new Blob.Methods.LaplaceOptions { PriorPrecision = 1, BatchSize = 8 }, CPU,
            progress: (done, total) => fitted.Add((done, total)));
        Assert.Equal([(8, 20), (16, 20), (20, 20)], fitted);
        var plain = laplace.PredictProbabilities(data, 8, CPU);

        using var again = Blob.Methods.LaplaceLora.Fit(classifier, data, new Blob.Methods.LaplaceOptions { PriorPrecision = 1, BatchSize = 8 }, CPU);
        var seen = new List<PredictionProgress>();
        Assert.Equal(plain, again.PredictProbabilities(data, 8, CPU, progress: seen.Add));
        Assert.Equal([0, 8, 16, 20], seen.Select(p => p.Done));

        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => again.PredictProbabilities(data, 8, CPU,
            progress: p => { if (p.Done > 0) cancel.Cancel(); }, cancel: cancel.Token));
        Assert.Throws<OperationCanceledException>(() =>
            Blob.Methods.LaplaceLora.Fit(classifier, data, new Blob.Methods.LaplaceOptions { PriorPrecision = 1 }, CPU, cancel.Token));
    }
}
