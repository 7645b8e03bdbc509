using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>The additive attention mask of a decoder: causal, with padded keys (left or right) hidden.</summary>
public static class AttentionMask
{
    /// <summary>
    /// [batch, 1, seq, seq] in <paramref name="dtype"/>: 0 where query i may attend key j (j ≤ i, key j is not padding,
    /// and, with a sliding window w, i − j &lt; w), else the dtype's most negative value. Like transformers, it uses a
    /// finite value rather than −∞ so that rows with no visible key (padding queries) stay finite.
    /// </summary>
    public static Tensor Causal(Tensor paddingMask, ScalarType dtype, int? slidingWindow = null)
    {
        using var scope = NewDisposeScope();
        long t = paddingMask.shape[1];
        var device = paddingMask.device;
        var query = arange(t, device: device).unsqueeze(1);
        var key = arange(t, device: device).unsqueeze(0);
        var allowed = key.le(query);
        if (slidingWindow is int w) allowed = allowed.logical_and((query - key).lt(w));
        allowed = allowed.unsqueeze(0).unsqueeze(0).logical_and(paddingMask.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1));
        var mask = zeros(allowed.shape, dtype, device).masked_fill(allowed.logical_not(), MostNegative(dtype));
        return mask.MoveToOuterDisposeScope();
    }

    /// <summary>Position ids that skip padding: cumsum(mask) − 1, clamped at 0 (what transformers' generate passes).</summary>
    public static Tensor PositionsSkippingPadding(Tensor paddingMask)
    {
        using var scope = NewDisposeScope();
        return (paddingMask.to(ScalarType.Int64).cumsum(1) - 1).clamp_min(0).MoveToOuterDisposeScope();
    }

    /// <summary>Positions 0..T−1 for every row, what transformers' forward uses when given no position ids.</summary>
    public static Tensor DefaultPositions(Tensor inputIds)
        => arange(inputIds.shape[1], device: inputIds.device).unsqueeze(0).expand(inputIds.shape[0], -1);

    static double MostNegative(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        ScalarType.Float64 => double.MinValue,
        _ => float.MinValue,
    };
}
