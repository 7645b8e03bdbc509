using System.Text.Json.Nodes;
using Blob.Data;
using Blob.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// TFB, training-free Bayesianization of a trained LoRA (Shi, Wang et al., NeurIPS 2025; the official code's
/// modelwrappers/tfblora.py). Trained as MLE; before predicting, every adapter is rotated by the SVD of its B,
///     B = U·D·Vᵀ  →  B′ = U·D,  A′ = Vᵀ·A        (so B′·A′ = B·A: the mean model is unchanged),
/// and A′ becomes Gaussian with standard deviation β / D_i on row i. β is the largest value in [0.001, 0.2] whose
/// change of the NLL of the model's own predictions on an anchor set (training examples) stays within the threshold,
/// found by bisection (<see cref="TfbFit"/>). Then it predicts as BLoB does, with N = 10 samples and flipout.
/// Saved as the trained LoRA with a "tfb" section in adapter_config.json; evaluating it fits β again, identically.
/// </summary>
public sealed class TfbMethod : FineTuningMethod
{
    const string ConfigKey = "tfb";

    public override string Name => "tfb";
    public override string DisplayName => "TFB";
    public override string Summary => "training-free Bayesianization: LoRA, then A's variance β/D found by bisection on an anchor set";
    public override int DefaultSamples => 10;
    public override bool AppliesToTrainedLora => true;

    public override Predictor Predictor(PredictionSetup setup)
    {
        var fit = TfbFit.Fit(setup.Classifier, TfbFit.Anchors(setup.Train, TfbFit.AnchorCount), setup.BatchSize, setup.Device, setup.Cancel);
        setup.Log?.Invoke($"TFB: β = {fit.Beta:G4} (NLL change {fit.Change:P2} on {fit.Anchors} anchors, threshold {TfbFit.Threshold:P0})");
        int samples = setup.Samples ?? DefaultSamples;
        var averaging = BayesianPrediction.Averaging(setup, samples);
        return averaging with { Note = $"TFB β = {fit.Beta:G4} (largest within an NLL change of {TfbFit.Threshold:P0} on {fit.Anchors} training examples); {averaging.Note}" };
    }

    public override bool Saved(string dir, JsonObject? config) => config?[ConfigKey] is JsonObject;

    public override void DescribeInConfig(JsonObject config, Adapter adapter) => config[ConfigKey] = new JsonObject
    {
        ["beta_range"] = new JsonArray(TfbFit.MinBeta, TfbFit.MaxBeta),
        ["threshold"] = TfbFit.Threshold,
        ["iterations"] = TfbFit.Iterations,
        ["anchors"] = TfbFit.AnchorCount,
    };
}

/// <summary>TFB's two steps: the SVD rotation of each adapter, and the bisection for β.</summary>
public static class TfbFit
{
    /// <summary>The official code's defaults: β in [0.001, 0.2], threshold 0.01, 10 bisection steps.</summary>
    public const double MinBeta = 0.001, MaxBeta = 0.2, Threshold = 0.01;
    public const int Iterations = 10, AnchorCount = 256;

    /// <param name="Beta">The chosen β, the largest tried whose NLL change was within the threshold.</param>
    /// <param name="Change">Its relative NLL change, |NLL(β) − NLL(0)| / NLL(0).</param>
    /// <param name="Rejected">The smallest β tried whose change exceeded the threshold (null: none did).</param>
    public sealed record Result(double Beta, double Change, double? Rejected, int Anchors);

    /// <summary>
    /// Replaces every LoRA adapter of the model by its rotated Gaussian form (a <see cref="BlobAdapter"/> with mean
    /// A′ = Vᵀ·A, B′ = U·D and standard deviation β/D_i per row of A′), and chooses β by bisection: each candidate is
    /// scored by predicting the anchors with one weight sample from the same seed, so that the score is a fixed
    /// function of β. The official code keeps the upper end of the last interval (a β past the threshold); this keeps
    /// the lower end, which is within it, and measures the change relative to NLL(0) without the official code's
    /// further division by the number of anchors.
    /// </summary>
    /// <remarks>
    /// The candidates' samples come from the fit's own generator, seeded 0 before each candidate (the numbers the global
    /// generator seeded 0 would give), and the rotation draws from one of its own: the caller's random stream is never
    /// touched. Afterwards the adapters draw from the global generator again, as every other adapter does.
    /// </remarks>
    public static Result Fit(IClassifier classifier, IBatchSource anchors, int batchSize, Device device, CancellationToken cancel = default)
    {
        using var generator = new Generator(0, device);
        var layers = Rotate(classifier.Module);
        foreach (var (adapter, _) in layers) adapter.Generator = generator;
        try { return Bisect(classifier, anchors, layers, generator, batchSize, device, cancel); }
        finally
        {
            foreach (var (adapter, d) in layers)
            {
                adapter.Generator = null;
                d.Dispose();
            }
        }
    }

    static Result Bisect(IClassifier classifier, IBatchSource anchors, IReadOnlyList<(BlobAdapter Adapter, Tensor D)> layers,
        Generator generator, int batchSize, Device device, CancellationToken cancel)
    {
        var reference = BayesianPrediction.Predict(classifier, anchors, 0, batchSize, device, cancel: cancel);
        var labels = reference.Select(p => Array.IndexOf(p, p.Max())).ToArray(); // the model's own predictions
        double nll0 = Nll(reference, labels);
        double Change(double beta)
        {
            SetBeta(layers, beta);
            generator.manual_seed(0);
            return Math.Abs(Nll(BayesianPrediction.Predict(classifier, anchors, 1, batchSize, device, cancel: cancel), labels) - nll0) / nll0;
        }

        double low = MinBeta, high = MaxBeta, lowChange = double.NaN;
        double? rejected = null;
        for (int i = 0; i < Iterations; i++)
        {
            double mid = (low + high) / 2, change = Change(mid);
            if (change > Threshold) { high = mid; rejected = mid; }
            else { low = mid; lowChange = change; }
        }
        if (double.IsNaN(lowChange)) lowChange = Change(low);
        SetBeta(layers, low);
        return new Result(low, lowChange, rejected, anchors.Count);
    }

    /// <summary>
    /// B = U·D·Vᵀ (thin SVD) → B′ = U·D, A′ = Vᵀ·A for every LoRA adapter, each replaced by a Gaussian adapter with that
    /// mean; returns the new adapters with the singular values D of their B, which the caller disposes. Their initial
    /// values, overwritten here, come from a generator of their own: the global one is untouched.
    /// </summary>
    public static IReadOnlyList<(BlobAdapter Adapter, Tensor D)> Rotate(nn.Module model)
    {
        var result = new List<(BlobAdapter, Tensor)>();
        using var _ = no_grad();
        using var generator = new Generator(0);
        foreach (var (_, layer) in AdapterInjection.LinearLayers(model).Where(l => l.Layer.Adapter is LoraAdapter).ToList())
        {
            var lora = (LoraAdapter)layer.Adapter!;
            // made outside the SVD's scope: the new adapter's parameters belong to the model from here on
            var gaussian = new BlobAdapter(layer.InFeatures, layer.OutFeatures, lora.Rank, lora.Scaling * lora.Rank, new BlobOptions(), generator);
            gaussian.to(lora.lora_A.device);
            Tensor singular;
            using (NewDisposeScope())
            {
                var (u, d, vh) = linalg.svd(lora.lora_B.to(ScalarType.Float64), fullMatrices: false);
                gaussian.lora_B.copy_(u.mul(d.unsqueeze(0)));
                gaussian.lora_A.copy_(vh.matmul(lora.lora_A.to(ScalarType.Float64)));
                singular = d.to(ScalarType.Float32).DetachFromDisposeScope();
            }
            layer.Adapter = gaussian;
            lora.Dispose(); // replaced: its A and B live on, rotated, in the new adapter
            foreach (var p in gaussian.parameters()) p.requires_grad = false;
            result.Add((gaussian, singular));
        }
        if (result.Count == 0) throw new BlobException("TFB needs a model with LoRA adapters to Bayesianize");
        return result;
    }

    /// <summary>Ω_ij = β / (D_i + 1e-6), i.e. G = √Ω under BLoB's Ω = G² (the 1e-6 as the official code).</summary>
    public static void SetBeta(IReadOnlyList<(BlobAdapter Adapter, Tensor D)> layers, double beta)
    {
        using var _ = no_grad();
        foreach (var (adapter, d) in layers)
            adapter.lora_A_rho.copy_(d.add(1e-6).reciprocal().mul(beta).sqrt().unsqueeze(1).expand_as(adapter.lora_A_rho));
    }

    /// <summary>−(1/n) Σ log p(label), with the official code's 1e-12 inside the log.</summary>
    static double Nll(double[][] probabilities, int[] labels) =>
        -probabilities.Select((p, i) => Math.Log(p[labels[i]] + 1e-12)).Average();

    /// <summary>At most <paramref name="count"/> training examples, evenly spaced through the set.</summary>
    public static IBatchSource Anchors(IBatchSource train, int count)
    {
        int n = Math.Min(count, train.Count);
        return new Subset(train, Enumerable.Range(0, n).Select(i => (int)((long)i * train.Count / n)).ToArray());
    }

    sealed class Subset(IBatchSource source, int[] indices) : IBatchSource
    {
        public int Count => indices.Length;
        public int NumClasses => source.NumClasses;
        public int Length(int index) => source.Length(indices[index]);
        public Batch Make(IReadOnlyList<int> which, Device device) => source.Make(which.Select(i => indices[i]).ToArray(), device);
    }
}
