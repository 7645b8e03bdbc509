using Blob.Data;
using Blob.Evaluation;
using Blob.Methods;
using Blob.Tests.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

/// <summary>
/// Each example's mutual information over a prediction's samples: the recorder against closed forms and against
/// Evaluation's formula, then recorded by N-sample prediction and by an ensemble from the same passes as the
/// probabilities, each on its own example.
/// </summary>
public class MutualInformationTests
{
    /// <summary>The recorder's MI of samples [S][examples][classes] added in one call.</summary>
    static double[] Recorded(double[][][] samples)
    {
        var recorder = new MutualInformationRecorder();
        recorder.Add(tensor(samples.SelectMany(s => s.SelectMany(r => r)).ToArray(), [samples.Length, samples[0].Length, samples[0][0].Length]));
        return recorder.Take();
    }

    [Fact]
    public void IdenticalSamplesHaveNone() =>
        Assert.Equal(0, Recorded([[[0.2, 0.5, 0.3]], [[0.2, 0.5, 0.3]], [[0.2, 0.5, 0.3]]])[0], 14);

    [Fact]
    public void ASingleSampleHasNone() => Assert.Equal(0, Recorded([[[0.9, 0.1]]])[0]);

    [Fact]
    public void TwoConfidentDisagreeingSamplesHaveLn2() => Assert.Equal(Math.Log(2), Recorded([[[1, 0]], [[0, 1]]])[0], 14);

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void KOneHotsOnDifferentClassesHaveLnK(int k) =>
        Assert.Equal(Math.Log(k), Recorded(Enumerable.Range(0, k).Select(s => new[] { Enumerable.Range(0, k).Select(c => c == s ? 1.0 : 0).ToArray() }).ToArray())[0], 14);

    /// <summary>(0.5, 0.5) and (1, 0): p̄ = (0.75, 0.25), MI = H(0.75, 0.25) − ln 2 / 2.</summary>
    [Fact]
    public void AHandWorkedMixture() =>
        Assert.Equal(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)) - Math.Log(2) / 2, Recorded([[[0.5, 0.5]], [[1, 0]]])[0], 14);

    /// <summary>Samples added over several calls, several examples at once, give Evaluation's MI of each example's samples; Take starts afresh.</summary>
    [Fact]
    public void CallsAddUpToEvaluationsFormula()
    {
        manual_seed(3);
        using var samples = randn(7, 4, 3).mul(2).softmax(-1).to(ScalarType.Float64); // [S, examples, classes]
        var recorder = new MutualInformationRecorder();
        recorder.Add(samples[..2]);
        recorder.Add(samples[2..3].to(ScalarType.Float32).to(ScalarType.Float64));
        recorder.Add(samples[3..]);
        var mi = recorder.Take();
        var values = samples.data<double>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            var perSample = Enumerable.Range(0, 7).Select(s => values.AsSpan((s * 4 + i) * 3, 3).ToArray()).ToArray();
            Assert.Equal(Uncertainty.MutualInformation(perSample), mi[i], 6);
            Assert.True(mi[i] > 0);
        }
        Assert.Throws<InvalidOperationException>(() => recorder.Take());
        recorder.Add(samples[..1]);
        Assert.All(recorder.Take(), v => Assert.Equal(0, v));
    }

    static void RandomiseB(TorchSharp.torch.nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("lora_B")) p.normal_(0, 0.5);
    }

    /// <summary>
    /// N = 4 samples, one pass each: the probabilities are Predict's, and each example's MI is Evaluation's of its four
    /// sampled distributions (drawn again here from the same seed, batch by batch as prediction orders them).
    /// </summary>
    [Fact]
    public void NSamplePredictionRecordsEachExamplesMutualInformation()
    {
        var (model, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 });
        RandomiseB(model);
        var data = new ToyData(7, 4) { Lengths = i => (3 * i) % 7 }; // prediction reorders the examples
        manual_seed(5);
        var plain = BayesianPrediction.Predict(classifier, data, 4, 4, CPU, samplesPerCall: 1);
        manual_seed(5);
        var sampled = BayesianPrediction.PredictSampled(classifier, data, 4, 4, CPU, withEmbeddingVariance: false, samplesPerCall: 1);
        Assert.Equal(plain, sampled.Probabilities);
        Assert.Null(sampled.EmbeddingVariance);

        manual_seed(5);
        var expected = new double[7];
        using (var scope = NewDisposeScope())
            foreach (var indices in BatchOrder.ByLength(data, 4))
            {
                var (samples, _) = BayesianPrediction.SampleProbabilities(classifier, data.Make(indices, CPU), 4, samplesPerCall: 1);
                for (int i = 0; i < indices.Length; i++) expected[indices[i]] = Uncertainty.MutualInformation(samples.Select(s => s[i]).ToArray());
            }
        for (int i = 0; i < 7; i++) Assert.Equal(expected[i], sampled.MutualInformation[i], 10);
        Assert.All(sampled.MutualInformation, v => Assert.True(v > 0));
        model.Dispose();
    }

    /// <summary>An ensemble's samples are its members: each example's MI is that of the members' distributions.</summary>
    [Fact]
    public void AnEnsemblesMutualInformationIsOverItsMembers()
    {
        var options = new MethodOptions { Kind = MethodRegistry.Ens, Rank = 2, Alpha = 2, Ensemble = new EnsembleOptions { Size = 3 } };
        var (model, classifier) = Toy.Build(options);
        RandomiseB(model);
        var data = new ToyData(7, 4) { Lengths = i => (3 * i) % 7 };
        using var predictor = MethodRegistry.Ens.Predictor(new PredictionSetup(classifier, data, options, null, 4, CPU));
        var sampled = predictor.PredictSampled!(classifier, data, false, null);
        Assert.Equal(predictor.Predict(classifier, data, null), sampled.Probabilities);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var batch = data.Make(Enumerable.Range(0, 7).ToArray(), CPU);
        var members = Enumerable.Range(0, 3).Select(m =>
        {
            Ensembles.SetActive(model, m);
            return classifier.ClassLogits(batch).softmax(-1).to(ScalarType.Float64).data<double>().ToArray();
        }).ToList();
        Ensembles.SetActive(model, 0);
        for (int i = 0; i < 7; i++)
        {
            double expected = Uncertainty.MutualInformation(members.Select(p => p.AsSpan(i * 3, 3).ToArray()).ToArray());
            Assert.True(expected > 0);
            Assert.Equal(expected, sampled.MutualInformation[i], 6);
        }
        model.Dispose();
    }

    /// <summary>A method that predicts in one pass records none; N = 0 (the mean weights) is one pass.</summary>
    [Fact]
    public void OnePassPredictionRecordsNone()
    {
        var (model, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 });
        var data = new ToyData(4, 4);
        var options = new MethodOptions { Kind = MethodRegistry.Mle, Rank = 2, Alpha = 2 };
        using var mle = MethodRegistry.Mle.Predictor(new PredictionSetup(classifier, data, options, null, 4, CPU));
        using var mean = MethodRegistry.Blob.Predictor(new PredictionSetup(classifier, data, options, 0, 4, CPU));
        Assert.Null(mle.PredictSampled);
        Assert.Null(mean.PredictSampled);
        model.Dispose();
    }
}
