using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Runtime;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// How far a prediction has got: Done of Total examples are predicted, and the batch being predicted has finished
/// sample pass Pass of Passes (1 of 1 for a single pass). Task names the evaluation set where the caller knows it.
/// </summary>
public sealed record PredictionProgress(int Done, int Total, int Pass, int Passes)
{
    public string? Task { get; init; }
}

/// <summary>What a method's predictor may need: the trained classifier, the training set (Laplace and TFB fit on it),
/// the method's options, N (null: the method's default) and where to run.</summary>
public sealed record PredictionSetup(IClassifier Classifier, IBatchSource Train, MethodOptions Options, int? Samples,
    int BatchSize, Device Device, Action<string>? Log = null, CancellationToken Cancel = default)
{
    /// <summary>The token budget of one forward call of batched sampling (<see cref="BayesianPrediction.SamplesPerCall"/>).</summary>
    public long TokensPerCall { get; init; } = BayesianPrediction.DefaultTokensPerCall;
}

/// <summary>
/// How a trained model predicts: class probabilities [examples][classes] of the data, read through the classifier (the
/// network's view of one task's answers), telling <paramref name="progress"/> how far it has got.
/// </summary>
public delegate double[][] PredictFunction(IClassifier classifier, IBatchSource data, Action<PredictionProgress>? progress);

/// <summary>
/// A prediction that samples, in the data source's order: the probabilities (those of its <see cref="PredictFunction"/>),
/// each example's mutual information over the samples (<see cref="MutualInformationRecorder"/>) and, where asked for
/// and the samples pass through the network, each example's variance of its final embedding over them
/// (<see cref="FinalEmbeddings.Variance"/>; null otherwise).
/// </summary>
public sealed record SampledPrediction(double[][] Probabilities, double[] MutualInformation, double[]? EmbeddingVariance);

/// <summary>The same prediction as a <see cref="PredictFunction"/>, with what its samples say of each example.</summary>
public delegate SampledPrediction SampledPredictFunction(IClassifier classifier, IBatchSource data, bool withEmbeddingVariance,
    Action<PredictionProgress>? progress);

/// <summary>
/// A method's prediction, and the note that says in results how it predicts. Owned is what the prediction holds
/// (a fitted Laplace approximation); disposing the predictor disposes it. PredictSampled is the same prediction that
/// also records what its samples say of each example, for the methods that sample (N weight samples or dropout masks,
/// an ensemble's members, Laplace's Monte Carlo logits); null for those that predict in one pass.
/// </summary>
public sealed record Predictor(PredictFunction Predict, string Note, IDisposable? Owned = null,
    SampledPredictFunction? PredictSampled = null) : IDisposable
{
    public void Dispose() => Owned?.Dispose();
}

/// <summary>
/// N-sample Bayesian prediction (paper Sec. 4.1, Appendix B.1): run the network N times with fresh weight samples,
/// softmax each, and average the probabilities. N = 0 means one pass with the mean weights (sampling off).
/// </summary>
public static class BayesianPrediction
{
    /// <summary>The predictor that averages N passes (N = 0: one pass with the mean weights).</summary>
    public static Predictor Averaging(PredictionSetup setup, int samples) => new(
        (classifier, data, progress) => Predict(classifier, data, samples, setup.BatchSize, setup.Device, progress, setup.Cancel,
            tokensPerCall: setup.TokensPerCall),
        samples == 0 ? "prediction with the mean weights (N = 0)" : $"prediction averages N = {samples} samples",
        PredictSampled: samples == 0 ? null : (classifier, data, withEmbeddingVariance, progress) =>
            PredictSampled(classifier, data, samples, setup.BatchSize, setup.Device, withEmbeddingVariance, progress, setup.Cancel,
                tokensPerCall: setup.TokensPerCall));

    /// <summary>
    /// The default of how many tokens (examples × padded length) one forward call of batched sampling may hold,
    /// replicas included: <see cref="SamplesPerCall"/> puts as many of a batch's N samples into one call as fit. More
    /// samples per call are faster, but N = 10 at batch 32 × 256 must stay within 1.5 GB: 12,288 keeps 32 × 256 at one
    /// pass per sample and gives k = 6 at 32 × 61, k = 3 at 32 × 128 (docs/performance.md, "N-sample prediction").
    /// </summary>
    public const long DefaultTokensPerCall = 12288;

    /// <summary>
    /// How many of N samples one forward call draws for this batch: as many replicas as <paramref name="tokensPerCall"/>
    /// allows (at least 1, at most N), or 1 where the model cannot draw samples in batches
    /// (<see cref="AdapterInjection.SamplesInBatches"/>). It depends on the batch's shape only, never on the machine.
    /// </summary>
    public static int SamplesPerCall(IClassifier classifier, Batch batch, int samples, long tokensPerCall = DefaultTokensPerCall)
    {
        if (samples <= 1 || !AdapterInjection.SamplesInBatches(classifier.Module)) return 1;
        long tokens = Math.Max(1, batch.InputIds.numel());
        return (int)Math.Clamp(tokensPerCall / tokens, 1, samples);
    }

    /// <summary>
    /// Class probabilities [examples][classes] in the data source's order. <paramref name="progress"/> hears of every
    /// finished forward call (and once before the first), with Pass the samples done; <paramref name="cancel"/> is
    /// checked between calls, so that Ctrl-C stops an N = 10 prediction within one call. Neither draws random numbers:
    /// the result does not depend on them. <paramref name="samplesPerCall"/> fixes how many samples one forward call
    /// draws (1: one pass per sample); null chooses by <see cref="SamplesPerCall"/> within <paramref name="tokensPerCall"/>.
    /// </summary>
    public static double[][] Predict(IClassifier classifier, IBatchSource data, int samples, int batchSize, Device device,
        Action<PredictionProgress>? progress = null, CancellationToken cancel = default, int? samplesPerCall = null,
        long tokensPerCall = DefaultTokensPerCall) =>
        Run(classifier, data, samples, batchSize, device, progress, cancel, (samplesPerCall, tokensPerCall), null, null);

    /// <summary>
    /// <see cref="Predict"/>, and from the same passes (the probabilities are the same numbers) each example's mutual
    /// information over the N samples and, with <paramref name="withEmbeddingVariance"/>, its final embedding's variance
    /// over them (<see cref="FinalEmbeddings"/>; the model must have a head). <paramref name="embeddingSamples"/> is how
    /// many times one prediction runs the head per example: N (at least 1), unless the classifier runs it more often
    /// itself (an ensemble's members: their number). <paramref name="disagreement"/> is the recorder where the
    /// classifier adds its own samples (an ensemble's members, <see cref="EnsembleClassifier"/>); null: the N samples'
    /// probabilities are added.
    /// </summary>
    public static SampledPrediction PredictSampled(IClassifier classifier, IBatchSource data, int samples, int batchSize, Device device,
        bool withEmbeddingVariance, Action<PredictionProgress>? progress = null, CancellationToken cancel = default,
        int? samplesPerCall = null, int? embeddingSamples = null, MutualInformationRecorder? disagreement = null,
        long tokensPerCall = DefaultTokensPerCall)
    {
        var mutualInformation = new double[data.Count];
        var variance = withEmbeddingVariance ? new double[data.Count] : null;
        using var embeddings = withEmbeddingVariance ? new EmbeddingRecorder(classifier.Module) : null;
        var recorder = disagreement ?? new MutualInformationRecorder();
        var probs = Run(classifier, data, samples, batchSize, device, progress, cancel, (samplesPerCall, tokensPerCall),
            disagreement is null ? recorder.Add : null,
            indices =>
            {
                var mi = recorder.Take();
                for (int i = 0; i < indices.Length; i++) mutualInformation[indices[i]] = mi[i];
                if (embeddings is null) return;
                var batch = embeddings.TakeVariance(embeddingSamples ?? Math.Max(1, samples), indices.Length);
                for (int i = 0; i < indices.Length; i++) variance![indices[i]] = batch[i];
            });
        return new SampledPrediction(probs, mutualInformation, variance);
    }

    /// <summary>
    /// The prediction loop, over batches of similar length (<see cref="BatchOrder"/>); the result is in the data's order.
    /// <paramref name="onSamples"/> sees each call's per-sample probabilities (see <see cref="AveragedProbabilities"/>);
    /// <paramref name="afterBatch"/> (the batch's example indices), where given, runs after each batch inside its scope.
    /// </summary>
    static double[][] Run(IClassifier classifier, IBatchSource data, int samples, int batchSize, Device device,
        Action<PredictionProgress>? progress, CancellationToken cancel, (int? Fixed, long Tokens) perCall, Action<Tensor>? onSamples,
        Action<int[]>? afterBatch)
    {
        var model = classifier.Module;
        model.eval();
        var result = new double[data.Count][];
        int passes = Math.Max(1, samples);
        progress?.Invoke(new PredictionProgress(0, data.Count, 0, passes));
        AdapterInjection.SetSampling(model, samples > 0);
        try
        {
            using var _ = no_grad();
            int done = 0; // examples answered before this batch
            foreach (var indices in BatchOrder.ByLength(data, batchSize))
            {
                CollectionPoints.Reached();
                using var scope = NewDisposeScope();
                var batch = data.Make(indices, device);
                var probs = AveragedProbabilities(classifier, batch, samples, passesDone =>
                {
                    if (passesDone < passes) Stop(cancel, done, data.Count); // a call is about to start
                    if (passesDone > 0)
                        progress?.Invoke(new PredictionProgress(passesDone == passes ? done + indices.Length : done, data.Count, passesDone, passes));
                }, perCall.Fixed, onSamples, perCall.Tokens).cpu().to(ScalarType.Float64);
                var flat = probs.data<double>().ToArray();
                int classes = (int)probs.shape[1];
                for (int i = 0; i < indices.Length; i++) result[indices[i]] = flat.AsSpan(i * classes, classes).ToArray();
                afterBatch?.Invoke(indices);
                done += indices.Length;
            }
        }
        finally { AdapterInjection.SetSampling(model, true); }
        return result;
    }

    /// <summary>
    /// (1/N) Σ softmax(logits_n) for one batch (a single pass when N = 0). The N samples are drawn k per forward call
    /// (k = <paramref name="samplesPerCall"/>, else <see cref="SamplesPerCall"/> within <paramref name="tokensPerCall"/>): the batch is repeated k times along
    /// its first dimension and each stochastic adapter draws k weight samples, replica s using sample s
    /// (<see cref="ISampleBatchedAdapter"/>), which is the distribution of k separate passes. <paramref name="onPass"/>
    /// is called with the number of samples done: 0 before the first call, then after each. <paramref name="onSamples"/>,
    /// where given, sees each call's per-sample probabilities [k, B, C] (float32, sample-major) before they are summed;
    /// the tensor dies with the call, so it must copy out what it keeps (see <see cref="SampleProbabilities"/>).
    /// </summary>
    public static Tensor AveragedProbabilities(IClassifier classifier, Batch batch, int samples, Action<int>? onPass = null,
        int? samplesPerCall = null, Action<Tensor>? onSamples = null, long tokensPerCall = DefaultTokensPerCall)
    {
        int passes = Math.Max(1, samples);
        int perCall = samples <= 1 ? 1 : Math.Clamp(samplesPerCall ?? SamplesPerCall(classifier, batch, samples, tokensPerCall), 1, passes);
        Tensor? sum = null;
        onPass?.Invoke(0);
        try
        {
            for (int n = 0; n < passes; n += perCall)
            {
                int k = Math.Min(perCall, passes - n);
                // Each call in its own scope: a scope keeps every tensor made in it alive until it ends, so N passes
                // sharing one would hold N copies of the network's activations at once.
                CollectionPoints.Reached();
                using (var call = NewDisposeScope())
                {
                    Tensor p;
                    if (k == 1)
                    {
                        AdapterInjection.SetSampleCount(classifier.Module, 1);
                        p = nn.functional.softmax(classifier.ClassLogits(batch).to(ScalarType.Float32), 1);
                        onSamples?.Invoke(p.unsqueeze(0));
                    }
                    else
                    {
                        AdapterInjection.SetSampleCount(classifier.Module, k);
                        var logits = classifier.ClassLogits(Replicated(batch, k)).to(ScalarType.Float32); // [k·B, C]
                        var perSample = nn.functional.softmax(logits, 1).view(k, batch.Size, -1);
                        onSamples?.Invoke(perSample);
                        p = perSample.sum([0L]); // not sum(0): that is sum(ScalarType.Byte)
                    }
                    if (sum is null) sum = p.MoveToOuterDisposeScope();
                    else sum.add_(p);
                }
                onPass?.Invoke(n + k);
            }
        }
        finally { AdapterInjection.SetSampleCount(classifier.Module, 1); }
        return sum!.div_(passes);
    }

    /// <summary>
    /// The probabilities of every one of the N samples for one batch, [samples][examples][classes] (N = 0: the one pass
    /// with the mean weights, sampling off), drawn as <see cref="Predict"/> draws them (k samples per forward call), and
    /// their mean [examples][classes], which is what <see cref="AveragedProbabilities"/> gives. For uncertainty that needs
    /// the samples themselves (the mutual information of <c>blob score</c>); <see cref="Predict"/> is unchanged.
    /// </summary>
    public static (double[][][] Samples, double[][] Mean) SampleProbabilities(IClassifier classifier, Batch batch, int samples,
        int? samplesPerCall = null)
    {
        var model = classifier.Module;
        model.eval();
        var perSample = new List<double[][]>();
        void Keep(Tensor p) // [k, B, C]
        {
            var flat = p.cpu().to(ScalarType.Float64).data<double>().ToArray();
            int k = (int)p.shape[0], b = (int)p.shape[1], c = (int)p.shape[2];
            for (int s = 0; s < k; s++)
                perSample.Add(Enumerable.Range(0, b).Select(i => flat.AsSpan((s * b + i) * c, c).ToArray()).ToArray());
        }
        AdapterInjection.SetSampling(model, samples > 0);
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var mean = AveragedProbabilities(classifier, batch, samples, samplesPerCall: samplesPerCall, onSamples: Keep)
                .cpu().to(ScalarType.Float64);
            var flat = mean.data<double>().ToArray();
            int classes = (int)mean.shape[1];
            return (perSample.ToArray(), Enumerable.Range(0, (int)mean.shape[0]).Select(i => flat.AsSpan(i * classes, classes).ToArray()).ToArray());
        }
        finally { AdapterInjection.SetSampling(model, true); }
    }

    /// <summary>The batch repeated k times along its first dimension, sample-major (rows s·B … s·B + B − 1 are replica s).</summary>
    public static Batch Replicated(Batch batch, int k)
    {
        static Tensor Repeat(Tensor t, int k)
        {
            var times = Enumerable.Repeat(1L, (int)t.dim()).ToArray();
            times[0] = k;
            return t.repeat(times);
        }
        return new Batch(Repeat(batch.InputIds, k), Repeat(batch.AttentionMask, k), batch.TokenTypeIds is { } tt ? Repeat(tt, k) : null,
            Repeat(batch.Labels, k), batch.ClassMask is { } cm ? Repeat(cm, k) : null);
    }

    /// <summary>Throws when the token is cancelled, saying how far the prediction got.</summary>
    public static void Stop(CancellationToken cancel, int done, int total)
    {
        if (cancel.IsCancellationRequested)
            throw new OperationCanceledException($"evaluation stopped after {done} of {total} examples", cancel);
    }
}
