using Blob.Adapters;
using Blob.Runtime;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Evaluation;

/// <summary>
/// N-sample Bayesian prediction (paper Sec. 4.1, Appendix B.1): run the network N times with fresh weight samples,
/// softmax each, and average the probabilities. N = 0 means one pass with the mean weights (sampling off).
/// </summary>
public static class BayesianPrediction
{
    /// <summary>Class probabilities [examples][classes] in the data source's order.</summary>
    public static double[][] Predict(IClassifier classifier, IBatchSource data, int samples, int batchSize, Device device)
    {
        var model = classifier.Module;
        model.eval();
        var result = new double[data.Count][];
        AdapterInjection.SetSampling(model, samples > 0);
        using var heap = NativeHeap.MapLargeAllocations(); // else glibc's heaps grow past 11 GB over N passes (see NativeHeap)
        try
        {
            using var _ = no_grad();
            for (int from = 0; from < data.Count; from += batchSize)
            {
                using var scope = NewDisposeScope();
                var indices = Enumerable.Range(from, Math.Min(batchSize, data.Count - from)).ToArray();
                var batch = data.Make(indices, device);
                var probs = AveragedProbabilities(classifier, batch, samples).cpu().to(ScalarType.Float64);
                var flat = probs.data<double>().ToArray();
                int classes = (int)probs.shape[1];
                for (int i = 0; i < indices.Length; i++) result[from + i] = flat.AsSpan(i * classes, classes).ToArray();
            }
        }
        finally { AdapterInjection.SetSampling(model, true); }
        return result;
    }

    /// <summary>(1/N) Σ softmax(logits_n) for one batch (a single pass when N = 0).</summary>
    public static Tensor AveragedProbabilities(IClassifier classifier, Batch batch, int samples)
    {
        int passes = Math.Max(1, samples);
        Tensor? sum = null;
        for (int n = 0; n < passes; n++)
        {
            // Each pass in its own scope: a scope keeps every tensor made in it alive until it ends, so N passes
            // sharing one would hold N copies of the network's activations at once.
            using var pass = NewDisposeScope();
            var p = nn.functional.softmax(classifier.ClassLogits(batch).to(ScalarType.Float32), 1);
            if (sum is null) sum = p.MoveToOuterDisposeScope();
            else sum.add_(p);
        }
        return sum!.div_(passes);
    }
}
