using Blob.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// The final embedding of an example (paper Appendix C.4): the representation the classification head reads, that is
/// the input of the head's (first) linear layer — an encoder's pooled output ("classifier"; RoBERTa's head:
/// "classifier.dense"), a decoder's final normed hidden state at the prompt's last token ("lm_head"). A
/// multiple-choice head reads one pooled output per choice; the example's embedding is then all of them side by side.
/// Its uncertainty over S weight samples (N samples, dropout masks or ensemble members) is <see cref="Variance"/>.
/// </summary>
public static class FinalEmbeddings
{
    /// <summary>The head layers' module names, in the order they are looked for.</summary>
    public static readonly IReadOnlyList<string> HeadNames = ["classifier", "classifier.dense", "lm_head"];

    /// <summary>The linear layer whose input is the final embedding, or null where the model has none of <see cref="HeadNames"/>.</summary>
    public static AdaptableLinear? Head(nn.Module model)
    {
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        return HeadNames.Select(n => modules.GetValueOrDefault(n)).OfType<AdaptableLinear>().FirstOrDefault();
    }

    /// <summary>
    /// Each example's variance of its final embedding over the samples, [B], of embeddings [S, B, D] (sample s of
    /// example b in row [s, b]): the mean over the D dimensions of the variance across the S samples,
    /// (1/D) Σ_d (1/S) Σ_s (e_sbd − ē_bd)² (the samples' own spread, divided by S; 0 for a single sample). Float64.
    /// </summary>
    public static Tensor Variance(Tensor embeddings)
    {
        if (embeddings.dim() != 3) throw new ArgumentException($"embeddings [samples, examples, dimensions], not {embeddings.dim()}-dimensional", nameof(embeddings));
        using var e = embeddings.to(ScalarType.Float64);
        using var mean = e.mean([0L], keepdim: true);
        using var deviation = e - mean;
        using var squared = deviation.square();
        using var perDimension = squared.mean([0L]); // [B, D]
        return perDimension.mean([1L]);
    }
}

/// <summary>
/// Records the final embeddings (<see cref="FinalEmbeddings"/>) a prediction computes: while it lives, every input of
/// the model's head layer is copied (float32, detached, out of the caller's dispose scope); <see cref="TakeVariance"/>
/// turns one batch's copies into its examples' variances and forgets them. Disposing it removes the probe, so
/// prediction without a recorder does exactly what it did before.
/// </summary>
public sealed class EmbeddingRecorder : IDisposable
{
    readonly AdaptableLinear _head;
    readonly List<Tensor> _inputs = [];

    /// <summary>A recorder on <paramref name="model"/>'s head; throws where it has none.</summary>
    public EmbeddingRecorder(nn.Module model)
    {
        _head = FinalEmbeddings.Head(model)
            ?? throw new BlobException($"no classification head ({string.Join(", ", FinalEmbeddings.HeadNames)}) to read the final embedding from");
        if (_head.InputProbe is not null) throw new InvalidOperationException("the head already has a probe");
        _head.InputProbe = Keep;
    }

    void Keep(Tensor x)
    {
        using var scope = NewDisposeScope();
        _inputs.Add(x.detach().to(ScalarType.Float32).clone().DetachFromDisposeScope());
    }

    /// <summary>
    /// The variances [examples] of the batch whose <paramref name="samples"/> sample passes were recorded since the last
    /// call: the head's inputs in order are sample-major (all of sample 0's rows, then sample 1's, ...), as batched
    /// sampling, one pass per sample and an ensemble's members each give them.
    /// </summary>
    public double[] TakeVariance(int samples, int examples)
    {
        try
        {
            using var scope = NewDisposeScope();
            if (_inputs.Count == 0) throw new InvalidOperationException("the head was not called");
            var all = cat(_inputs.Select(t => t.reshape(-1)).ToList(), 0);
            if (all.numel() % ((long)samples * examples) != 0)
                throw new InvalidOperationException($"{all.numel()} recorded values are not {samples} samples of {examples} examples");
            var variance = FinalEmbeddings.Variance(all.view(samples, examples, -1)).cpu();
            return variance.data<double>().ToArray();
        }
        finally { Forget(); }
    }

    void Forget()
    {
        foreach (var t in _inputs) t.Dispose();
        _inputs.Clear();
    }

    /// <summary>Removes the probe and frees what is recorded.</summary>
    public void Dispose()
    {
        _head.InputProbe = null;
        Forget();
    }
}
