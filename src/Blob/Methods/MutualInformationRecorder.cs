using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Each example's mutual information between its answer and the weights, MI = H[p̄] − (1/S) Σ_s H[p_s] in nats (the
/// epistemic part of the predictive entropy: how much the S samples disagree), from the per-sample class distributions
/// one batch's prediction draws (weight samples, dropout masks, an ensemble's members, Laplace's logit samples). Only
/// sums are kept as calls arrive, so S may be large; in float64, from the samples themselves, so that identical samples
/// give 0. The formula is Evaluation's Uncertainty.MutualInformation, which this layer cannot use.
/// </summary>
public sealed class MutualInformationRecorder
{
    double[] _sum = [];      // Σ_s p_s, [examples × classes]
    double[] _entropy = [];  // Σ_s H[p_s], [examples]
    int _samples, _classes;

    /// <summary>Adds per-sample probabilities [k, examples, classes] of the batch being predicted (any float dtype and device).</summary>
    public void Add(Tensor perSample)
    {
        if (perSample.dim() != 3) throw new ArgumentException($"probabilities [samples, examples, classes], not {perSample.dim()}-dimensional", nameof(perSample));
        int k = (int)perSample.shape[0], examples = (int)perSample.shape[1], classes = (int)perSample.shape[2];
        double[] p;
        using (NewDisposeScope()) p = perSample.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        if (_samples == 0) { _sum = new double[examples * classes]; _entropy = new double[examples]; _classes = classes; }
        else if (_entropy.Length != examples || _classes != classes)
            throw new ArgumentException($"[{k}, {examples}, {classes}] after samples of [{_entropy.Length}, {_classes}]", nameof(perSample));
        for (int s = 0; s < k; s++)
            for (int i = 0; i < examples; i++)
            {
                var row = p.AsSpan((s * examples + i) * classes, classes);
                for (int c = 0; c < classes; c++) _sum[i * classes + c] += row[c];
                _entropy[i] += Entropy(row);
            }
        _samples += k;
    }

    /// <summary>The MI [examples] of the samples added since the last call (at least 0: rounding below is cut), then starts afresh.</summary>
    public double[] Take()
    {
        if (_samples == 0) throw new InvalidOperationException("no samples were added");
        var mean = new double[_classes];
        var mi = new double[_entropy.Length];
        for (int i = 0; i < mi.Length; i++)
        {
            for (int c = 0; c < _classes; c++) mean[c] = _sum[i * _classes + c] / _samples;
            mi[i] = Math.Max(0, Entropy(mean) - _entropy[i] / _samples);
        }
        _samples = 0;
        return mi;
    }

    /// <summary>H[p] = −Σ_c p_c ln p_c, with 0 · ln 0 = 0.</summary>
    static double Entropy(ReadOnlySpan<double> p)
    {
        double h = 0;
        foreach (var q in p) if (q > 0) h -= q * Math.Log(q);
        return h;
    }
}
