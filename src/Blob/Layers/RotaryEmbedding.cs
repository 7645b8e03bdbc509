using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>
/// Rotary position embeddings in the rotate-half convention of Hugging Face Llama: the first and second halves of
/// each head's dimensions form the rotated pairs. Holds no tensors (so no module registers it as a buffer); the
/// cos/sin tables are computed per forward from the position ids, in float32, then cast to the model's dtype.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly float[] _invFreq;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling = null)
    {
        _invFreq = new float[headDim / 2];
        for (int i = 0; i < _invFreq.Length; i++)
            _invFreq[i] = (float)(1.0 / Math.Pow(theta, (float)(2 * i) / headDim));
        scaling?.Apply(_invFreq);
    }

    /// <summary>cos and sin tables [batch, seq, headDim] for position ids [batch, seq].</summary>
    public (Tensor Cos, Tensor Sin) Tables(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var invFreq = tensor(_invFreq, device: positionIds.device);
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * invFreq;   // [B, T, D/2]
        var angles = cat([freqs, freqs], -1);
        return (angles.cos().to(dtype).MoveToOuterDisposeScope(), angles.sin().to(dtype).MoveToOuterDisposeScope());
    }

    /// <summary>Rotates q or k [batch, heads, seq, headDim] by the tables from <see cref="Tables"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var rotated = cat([-x[.., .., .., (int)half..], x[.., .., .., ..(int)half]], -1);   // rotate_half
        return (x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1)).MoveToOuterDisposeScope();
    }
}

/// <summary>Rotary frequency scaling from config.json ("linear" or Llama 3's "llama3"); "default" means none.</summary>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositions)
{
    public void Apply(float[] invFreq)
    {
        if (Type == "linear")
        {
            for (int i = 0; i < invFreq.Length; i++) invFreq[i] = (float)(invFreq[i] / Factor);
            return;
        }
        // llama3: long wavelengths are divided by the factor, short ones kept, and the band between blended.
        double lowWavelen = OriginalMaxPositions / LowFreqFactor, highWavelen = OriginalMaxPositions / HighFreqFactor;
        for (int i = 0; i < invFreq.Length; i++)
        {
            double f = invFreq[i], wavelen = 2 * Math.PI / f;
            if (wavelen > lowWavelen) f /= Factor;
            else if (wavelen >= highWavelen)
            {
                double smooth = (OriginalMaxPositions / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                f = (1 - smooth) * f / Factor + smooth * f;
            }
            invFreq[i] = (float)f;
        }
    }
}
