using System.Runtime.Intrinsics;
using Blob.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>
/// Dropout whose mask is drawn by a counter-based generator here rather than by libtorch's bernoulli_, which on AMD
/// CPUs draws one element at a time on one thread (docs/design.md, "Dropout masks, malloc and attention"). The mask
/// element i is kept where the low 32 bits of SplitMix64(seed + (i + 1)·γ) fall below (1 − p)·2³², seed drawn from
/// torch's default CPU generator (one 64-bit draw a call), so manual_seed makes runs reproducible and
/// <see cref="Recomputation"/>, which replays that generator's state, redraws the same mask. The values are
/// libtorch's: x · mask with mask ∈ {0, 1/(1 − p)} in float32, and backward grad · mask. Other dtypes of the mask's
/// owner, and other devices, use libtorch's dropout; so does a model switched by <see cref="Use"/> (the masks of runs
/// made before this existed).
/// </summary>
public static class FastDropout
{
    /// <summary>Every dropout of the model (its <see cref="IDropoutMasks"/> modules, adapters included) drawn here
    /// (<paramref name="fast"/>, the default) or by libtorch.</summary>
    public static void Use(nn.Module model, bool fast)
    {
        foreach (var (_, module) in model.named_modules())
            if (module is IDropoutMasks masks) masks.UseFastDropout = fast;
        if (model is IDropoutMasks self) self.UseFastDropout = fast;
    }

    /// <summary>dropout(x, p) in training, its mask drawn here (<paramref name="fast"/>) or by libtorch; x itself (as a
    /// new handle) otherwise.</summary>
    public static Tensor Apply(Tensor x, double p, bool training, bool fast = true)
    {
        if (!training || p <= 0) return x.alias();
        if (!fast || x.device_type != DeviceType.CPU || p >= 1 || x.dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
        {
            if (x.dtype != ScalarType.BFloat16) return nn.functional.dropout(x, p, training);
            using var wide = x.to(ScalarType.Float32);   // a bfloat16 mask would round 1/(1 − p)
            return nn.functional.dropout(wide, p, training);
        }
        using var mask = Mask(x.shape, p);
        return x * mask;   // a bfloat16 x times the float32 mask is float32: x's values, unrounded, times the mask
    }

    /// <summary>The float32 mask of a dropout with probability p: 0 or 1/(1 − p) per element.</summary>
    public static Tensor Mask(long[] shape, double p) => Draw(shape, p, ScalarType.Float32, (float)(1.0 / (1 - p)));

    /// <summary>The kept elements of a dropout with probability p as 1, the dropped as 0, in float32 or bfloat16 (exact
    /// in both): for a product that applies the 1/(1 − p) afterwards, on its smaller result.</summary>
    public static Tensor KeepMask(long[] shape, double p, ScalarType dtype) => Draw(shape, p, dtype, 1f);

    /// <summary>Where element i of a mask drawn from seed is kept: the generator, written plainly (tests check the
    /// vectorised fill against it).</summary>
    internal static bool Kept(ulong seed, long i, double p) => (Mix(seed + ((ulong)i + 1) * Gamma) & 0xFFFFFFFFUL) < Threshold(1 - p);

    /// <summary>The seed the next mask will be drawn from (one draw of torch's default CPU generator).</summary>
    internal static ulong NextSeed()
    {
        using var draw = randint(0, long.MaxValue, [1], ScalarType.Int64);
        return (ulong)draw.item<long>();
    }

    static Tensor Draw(long[] shape, double p, ScalarType dtype, float value)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16)) throw new ArgumentException($"dropout masks in float32 or bfloat16, not {dtype}");
        var mask = empty(shape, dtype);
        ulong seed = NextSeed();
        if (dtype == ScalarType.Float32) Fill32(mask, seed, 1 - p, BitConverter.SingleToUInt32Bits(value));
        else if (value == 1f) Fill16(mask, seed, 1 - p, 0x3F80);   // 1 in bfloat16
        else throw new ArgumentException("a bfloat16 mask holds 0 and 1 only");
        return mask;
    }

    const ulong Gamma = 0x9E3779B97F4A7C15UL;
    const int Chunk = 1 << 16;

    static ulong Threshold(double keep) => (ulong)Math.Round(keep * 4294967296.0);

    static unsafe void Fill32(Tensor mask, ulong seed, double keep, uint valueBits)
    {
        uint* data = (uint*)NativeTensor.Pointer(mask);
        ulong threshold = Threshold(keep);
        ForChunks(mask.NumberOfElements, (from, to) => FillRange32(data, from, to, seed, threshold, valueBits));
    }

    static unsafe void Fill16(Tensor mask, ulong seed, double keep, ushort valueBits)
    {
        ushort* data = (ushort*)NativeTensor.Pointer(mask);
        ulong threshold = Threshold(keep);
        ForChunks(mask.NumberOfElements, (from, to) => FillRange16(data, from, to, seed, threshold, valueBits));
    }

    /// <summary>body over [0, n) in chunks, on up to torch's thread count (helpers that allocate nothing: rule 5 of
    /// <see cref="TensorLifetimes"/>); the values depend on the index only.</summary>
    static void ForChunks(long n, Action<long, long> body)
    {
        long chunks = (n + Chunk - 1) / Chunk;
        if (chunks <= 1) { body(0, n); return; }
        HelperThreads.For(chunks, torch.get_num_threads(), c => body(c * Chunk, Math.Min(n, (c + 1) * Chunk)));
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Kept (all ones) or not (zero) for the 8 elements from i: the low 32 bits of their hashes below the threshold.</summary>
    static Vector512<ulong> Keep8(ulong seed, long i, ulong threshold)
    {
        var z = Vector512.Create(seed) + (Vector512.Create((ulong)i + 1) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7)) * Vector512.Create(Gamma);
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(0x94D049BB133111EBUL);
        z ^= Vector512.ShiftRightLogical(z, 31);
        return Vector512.LessThan(z & Vector512.Create(0xFFFFFFFFUL), Vector512.Create(threshold));
    }

    static unsafe void FillRange32(uint* bits, long from, long to, ulong seed, ulong threshold, uint valueBits)
    {
        long i = from;
        if (Vector512.IsHardwareAccelerated)
        {
            var value = Vector512.Create(valueBits);
            for (; i + 16 <= to; i += 16)
                (Vector512.Narrow(Keep8(seed, i, threshold), Keep8(seed, i + 8, threshold)) & value).Store(bits + i);
        }
        for (; i < to; i++)
            bits[i] = (Mix(seed + ((ulong)i + 1) * Gamma) & 0xFFFFFFFFUL) < threshold ? valueBits : 0u;
    }

    static unsafe void FillRange16(ushort* bits, long from, long to, ulong seed, ulong threshold, ushort valueBits)
    {
        long i = from;
        if (Vector512.IsHardwareAccelerated)
        {
            var value = Vector512.Create(valueBits);
            for (; i + 32 <= to; i += 32)
            {
                var lo = Vector512.Narrow(Keep8(seed, i, threshold), Keep8(seed, i + 8, threshold));
                var hi = Vector512.Narrow(Keep8(seed, i + 16, threshold), Keep8(seed, i + 24, threshold));
                (Vector512.Narrow(lo, hi) & value).Store(bits + i);
            }
        }
        for (; i < to; i++)
            bits[i] = (Mix(seed + ((ulong)i + 1) * Gamma) & 0xFFFFFFFFUL) < threshold ? valueBits : (ushort)0;
    }
}

/// <summary>A module that draws dropout masks, here (<see cref="FastDropout"/>) or by libtorch.</summary>
public interface IDropoutMasks
{
    /// <summary>True (the default): masks from <see cref="FastDropout"/>; false: libtorch's dropout.</summary>
    bool UseFastDropout { get; set; }
}

/// <summary><see cref="FastDropout"/> as a module, in place of nn.Dropout (no parameters, so no names change).</summary>
public sealed class FastDropoutModule : nn.Module<Tensor, Tensor>, IDropoutMasks
{
    public double P { get; }

    public bool UseFastDropout { get; set; } = true;

    public FastDropoutModule(double p) : base("Dropout")
    {
        P = p;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => FastDropout.Apply(x, P, training, UseFastDropout);
}
