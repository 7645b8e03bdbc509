using Blob.Data;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Layers;
using Blob.Methods;
using Blob.Reports;
using Blob.Runtime;
using Blob.Tests.Cli;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Reports;

/// <summary>
/// Paper Appendix C.4: the variance of the final embedding (what the head reads) over the N weight
/// samples, per example, written as embedding-variance.csv by the methods that sample, drawn by compare as
/// embedding-uncertainty.png. Set BLOB_KEEP_PLOTS=DIR to keep the PNGs for a look.
/// </summary>
public sealed class EmbeddingUncertaintyTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-embedding-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>e[s, b, d] = μ_bd + σ_bd·z_s with z = (−1, 1, −1, 1): the samples' variance is σ_bd², so the example's is the mean of σ_bd² over d.</summary>
    [Fact]
    public void TheVarianceIsTheMeanOverDimensionsOfTheVarianceAcrossSamples()
    {
        using var scope = NewDisposeScope();
        double[,] mu = { { 1, -2, 3 }, { 0.5, 0, 7 } }, sigma = { { 0.1, 0.2, 0.3 }, { 2, 0, 1 } };
        double[] z = [-1, 1, -1, 1];
        var values = new double[4 * 2 * 3];
        for (int s = 0; s < 4; s++)
            for (int b = 0; b < 2; b++)
                for (int d = 0; d < 3; d++) values[(s * 2 + b) * 3 + d] = mu[b, d] + sigma[b, d] * z[s];
        var variance = FinalEmbeddings.Variance(tensor(values, [4, 2, 3]).to(ScalarType.Float32)).data<double>().ToArray();
        Assert.Equal((0.01 + 0.04 + 0.09) / 3, variance[0], 6);
        Assert.Equal((4 + 0 + 1) / 3.0, variance[1], 6);
        // one sample (a deterministic pass) has no spread
        Assert.All(FinalEmbeddings.Variance(randn(1, 5, 7)).data<double>().ToArray(), v => Assert.Equal(0, v));
    }

    /// <summary>A body with a BLoB adapter under a linear head named "classifier", as an encoder's.</summary>
    sealed class HeadedToy : nn.Module<Tensor, Tensor>
    {
        public AdaptableLinear body, classifier;
        public HeadedToy() : base("HeadedToy")
        {
            body = new AdaptableLinear(6, 5);
            classifier = new AdaptableLinear(5, 3);
            RegisterComponents();
            using var _ = no_grad();
            foreach (var p in parameters()) p.copy_(randn(p.shape));
        }
        public override Tensor forward(Tensor x) => classifier.forward(body.forward(x));
    }

    sealed class HeadedClassifier(HeadedToy model) : IClassifier
    {
        public nn.Module Module => model;
        public Tensor ClassLogits(Batch batch) => model.forward(batch.InputIds);
    }

    /// <summary>
    /// The recorded variance is that of the head's inputs over the N passes (computed here by hand from the same
    /// samples: one pass per sample draws the same random numbers), the probabilities are Predict's, and nothing is
    /// left behind: the probe is removed, no tensor lives on.
    /// </summary>
    [Fact]
    public void PredictionRecordsTheHeadsInputsWithoutChangingTheProbabilities()
    {
        manual_seed(11);
        var model = new HeadedToy();
        AdapterInjection.Inject(model, ["body"], (layer, _) => new BlobAdapter(layer.InFeatures, layer.OutFeatures, 2, 16, new BlobOptions { InitEpsilon = 0.3 }));
        using (no_grad()) ((BlobAdapter)model.body.Adapter!).lora_B.copy_(randn(5, 2)); // B starts at 0, where A's samples change nothing
        var classifier = new HeadedClassifier(model);
        var data = new Training.ToyData(10, 4);
        long live = TensorLifetimes.Live;

        manual_seed(5);
        var plain = BayesianPrediction.Predict(classifier, data, 4, 4, CPU, samplesPerCall: 1);
        manual_seed(5);
        var (probs, _, variance) = BayesianPrediction.PredictSampled(classifier, data, 4, 4, CPU, withEmbeddingVariance: true, samplesPerCall: 1);
        Assert.Equal(plain, probs);
        Assert.Null(model.classifier.InputProbe);
        Assert.Equal(live, TensorLifetimes.Live);

        // by hand: per batch of 4, four passes of the body; the example's variance over them, averaged over the 5 dimensions
        manual_seed(5);
        var expected = new List<double>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            model.eval();
            AdapterInjection.SetSampling(model, true);
            for (int from = 0; from < 10; from += 4)
            {
                var batch = data.Make(Enumerable.Range(from, Math.Min(4, 10 - from)).ToArray(), CPU);
                var samples = Enumerable.Range(0, 4).Select(_ => model.body.forward(batch.InputIds).to(ScalarType.Float64).data<double>().ToArray()).ToList();
                for (int b = 0; b < batch.Size; b++)
                    expected.Add(Enumerable.Range(0, 5).Average(d =>
                    {
                        var xs = samples.Select(s => s[b * 5 + d]).ToArray();
                        return xs.Average(x => (x - xs.Average()) * (x - xs.Average()));
                    }));
            }
        }
        Assert.Equal(10, variance!.Length);
        for (int i = 0; i < 10; i++) Assert.Equal(expected[i], variance[i], 5);
        Assert.All(variance, v => Assert.True(v > 0));

        // batched sampling (4 samples in one call) records them sample-major as well: the same distribution, other draws
        var (_, _, batched) = BayesianPrediction.PredictSampled(classifier, data, 4, 4, CPU, withEmbeddingVariance: true, samplesPerCall: 4);
        Assert.All(batched!, v => Assert.True(v > 0 && v < 10 * expected.Max(), $"{v} against {string.Join(" ", expected)}"));
        model.Dispose();
    }

    /// <summary>An ensemble's S is its members: the variance of the head's input over them, computed here member by member.</summary>
    [Fact]
    public void AnEnsemblesVarianceIsOverItsMembers()
    {
        manual_seed(12);
        var model = new HeadedToy();
        AdapterInjection.Inject(model, ["body"], (layer, _) => new EnsembleAdapter(layer.InFeatures, layer.OutFeatures, 3, 2, 2, 0));
        using (no_grad())
            foreach (var member in ((EnsembleAdapter)model.body.Adapter!).members) member.lora_B.copy_(randn(5, 2)); // members that differ
        var classifier = new HeadedClassifier(model);
        // lengths out of the data's order: prediction batches them by length, and each variance must land on its example
        var data = new Training.ToyData(7, 4) { Lengths = i => (3 * i) % 7 };
        var options = new MethodOptions { Kind = MethodRegistry.Ens, Ensemble = new EnsembleOptions { Size = 3 } };
        using var predictor = MethodRegistry.Ens.Predictor(new PredictionSetup(classifier, data, options, null, 4, CPU));
        var (probs, _, variance) = predictor.PredictSampled!(classifier, data, true, null);
        Assert.Equal(predictor.Predict(classifier, data, null), probs);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = data.Make(Enumerable.Range(0, 7).ToArray(), CPU).InputIds;
        var members = Enumerable.Range(0, 3).Select(m =>
        {
            Ensembles.SetActive(model, m);
            return model.body.forward(x).to(ScalarType.Float64).data<double>().ToArray();
        }).ToList();
        Ensembles.SetActive(model, 0);
        for (int b = 0; b < 7; b++)
        {
            double expected = Enumerable.Range(0, 5).Average(d =>
            {
                var xs = members.Select(e => e[b * 5 + d]).ToArray();
                return xs.Average(v => (v - xs.Average()) * (v - xs.Average()));
            });
            Assert.True(expected > 0);
            Assert.Equal(expected, variance![b], 5);
        }
        model.Dispose();
    }

    [Fact]
    public void QuartilesAndTheLogScaleDecision()
    {
        var q = EmbeddingUncertaintyDiagram.Quartiles([1, 2, 3, 4, 100]);
        Assert.Equal((2.0, 3.0, 4.0, 1.0, 4.0), (q.Lower, q.Median, q.Upper, q.WhiskerMin, q.WhiskerMax)); // 100 is beyond 1.5 IQR
        Assert.Equal(2.5, EmbeddingUncertaintyDiagram.Quartiles([1, 2, 3, 4]).Median);
        Assert.True(EmbeddingUncertaintyDiagram.UseLogScale([1e-6, 1e-3]));
        Assert.False(EmbeddingUncertaintyDiagram.UseLogScale([1e-4, 5e-3, 0]));
    }

    [Fact]
    public void TheFigureIsAPngOnLinearAndLogScales()
    {
        var rng = new Random(2);
        IReadOnlyList<EmbeddingVarianceRow> Rows(double scale, double spread) => Enumerable.Range(0, 80).Select(i =>
        {
            bool correct = rng.NextDouble() < 0.7;
            return new EmbeddingVarianceRow(i, i % 2, correct ? i % 2 : 1 - i % 2, correct,
                scale * Math.Exp(spread * (rng.NextDouble() - 0.5)) * (correct ? 1 : 3));
        }).ToList();
        var log = Path.Combine(_dir, "embedding-uncertainty.png");
        var linear = Path.Combine(_dir, "embedding-uncertainty-linear.png");
        EmbeddingUncertaintyDiagram.Save(log, "demo-facts: final-embedding variance", [new("MCD", 1, Rows(1e-4, 8)), new("BLoB", 2, Rows(1e-5, 6))]);
        EmbeddingUncertaintyDiagram.Save(linear, "demo-facts: final-embedding variance", [new("BLoB", 0, Rows(1, 1))]);
        foreach (var png in new[] { log, linear })
        {
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 5000, $"{png} is only {bytes.Length} bytes");
            Assert.Equal((byte)'P', bytes[1]);
            if (Environment.GetEnvironmentVariable("BLOB_KEEP_PLOTS") is { } keep) File.Copy(png, Path.Combine(keep, Path.GetFileName(png)), true);
        }
        Assert.Equal(2, Directory.GetFiles(_dir).Length); // written atomically: no temporary files
    }

    /// <summary>
    /// A tiny compare of MLE and MC dropout: MCD's run writes embedding-variance.csv with a row per evaluated example
    /// whose label, prediction and correctness are predictions.json's, MLE's (one pass) writes none, and compare
    /// draws embedding-uncertainty.png from MCD's.
    /// </summary>
    [Fact]
    public void CompareWritesTheVariancesOfTheSamplingMethodsAndTheirPicture()
    {
        var output = Path.Combine(_dir, "compare");
        var outcome = BlobCli.Run("compare", "--task", "demo-facts", "--methods", "mle", "mcd", "--seeds", "1", "--steps", "2",
            "--batch-size", "4", "--max-train", "8", "--max-eval", "12", "--max-length", "16", "--device", "cpu",
            "--output", output, "--quiet");
        Assert.True(outcome.Code == 0, outcome.ToString());
        string mcd = Path.Combine(output, "mcd", "seed-1"), mle = Path.Combine(output, "mle", "seed-1");
        Assert.True(File.Exists(Path.Combine(mle, RunFolder.Result)));
        Assert.False(File.Exists(Path.Combine(mle, EmbeddingVariance.FileName)));

        var rows = EmbeddingVariance.Read(Path.Combine(mcd, EmbeddingVariance.FileName));
        var (probs, labels) = Experiment.LoadPredictions(Path.Combine(mcd, RunFolder.Predictions));
        Assert.Equal(12, rows.Count);
        Assert.Equal(Enumerable.Range(0, 12), rows.Select(r => r.Index));
        Assert.Equal(labels, rows.Select(r => r.Label));
        Assert.Equal(probs.Select(Metrics.ArgMax), rows.Select(r => r.Predicted));
        Assert.Equal(probs.Select((p, i) => Metrics.ArgMax(p) == labels[i]), rows.Select(r => r.Correct));
        Assert.Equal(RunResult.Load(Path.Combine(mcd, RunFolder.Result)).Accuracy, rows.Count(r => r.Correct) / 12.0, 12);
        Assert.All(rows, r => Assert.True(r.Variance > 0, $"example {r.Index}: variance {r.Variance}")); // dropout masks differ

        var png = File.ReadAllBytes(Path.Combine(output, EmbeddingUncertaintyDiagram.FileName));
        Assert.True(png.Length > 5000);
        Assert.Equal((byte)'P', png[1]);
    }
}
