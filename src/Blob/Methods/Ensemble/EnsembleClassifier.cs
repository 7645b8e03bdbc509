using Blob.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Predicts with every member of the model's deep ensembles and combines them: the mean of the members' logits
/// (the official code) or, with averageProbabilities, log of the mean of their softmax probabilities (so that a
/// softmax of the result is the averaged probability). <paramref name="onMembers"/>, where given, sees each batch's
/// member probabilities [members, B, C] (for their mutual information); the tensor dies with the call.
/// </summary>
public sealed class EnsembleClassifier(IClassifier inner, bool averageProbabilities, Action<Tensor>? onMembers = null) : IClassifier
{
    public nn.Module Module => inner.Module;

    public Tensor ClassLogits(Batch batch)
    {
        int size = Math.Max(1, Ensembles.Size(Module));
        var outputs = new List<Tensor>();
        for (int m = 0; m < size; m++)
        {
            using var member = NewDisposeScope(); // free each member's activations before the next runs
            Ensembles.SetActive(Module, m);
            var logits = inner.ClassLogits(batch).to(ScalarType.Float32);
            outputs.Add((averageProbabilities ? nn.functional.log_softmax(logits, 1) : logits).MoveToOuterDisposeScope());
        }
        Ensembles.SetActive(Module, 0);
        var stacked = stack(outputs);
        if (onMembers is not null)
        {
            using var members = stacked.softmax(-1); // the same of logits and of log-probabilities
            onMembers(members);
        }
        return averageProbabilities ? stacked.logsumexp(0) - Math.Log(size) : stacked.mean(new long[] { 0 });
    }
}
