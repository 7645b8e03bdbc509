using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Runtime;

/// <summary>
/// The number format of the frozen base's matrix products. Fp32: float32 throughout. Bf16: the pretrained weights of
/// the matrix products are stored in bfloat16 and those products run in bfloat16 (about 4× the float32 rate on CPUs
/// with avx512_bf16), while adapters, their gradients and optimiser states, norms, softmax, the KL and the loss stay
/// float32. Auto: Bf16 where the hardware computes bfloat16 natively (CUDA, or a CPU with avx512_bf16 or amx_bf16),
/// else Fp32 (elsewhere bfloat16 is emulated and slower than float32).
/// </summary>
public enum Precision { Fp32, Bf16, Auto }

public static class Precisions
{
    /// <summary>The precision as the command line writes it: fp32, bf16, auto.</summary>
    public static string Name(Precision precision) => SettingsWords.Of(precision);

    /// <summary>Auto made concrete for a device: Fp32 or Bf16.</summary>
    public static Precision Resolve(Precision precision, Device device) => precision switch
    {
        Precision.Auto => device.type == DeviceType.CUDA || CpuHasBf16() ? Precision.Bf16 : Precision.Fp32,
        _ => precision,
    };

    /// <summary>The dtype the frozen base's matrix-product weights are stored (and multiplied) in.</summary>
    public static ScalarType BaseDtype(Precision precision, Device device) =>
        Resolve(precision, device) == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>One line for a run's notes, e.g. "bf16 (matrix products of the frozen base in bfloat16, the rest in float32)".</summary>
    public static string Describe(Precision precision, Device device) => Resolve(precision, device) == Precision.Bf16
        ? "bf16 (matrix products of the frozen base in bfloat16, the rest in float32)"
        : "fp32 (float32 throughout)";

    /// <summary>The CPU's bfloat16 instruction sets (avx512_bf16, amx_bf16) from /proc/cpuinfo's flags; empty where
    /// there are none or no /proc/cpuinfo.</summary>
    public static IReadOnlyList<string> CpuBf16Flags()
    {
        if (!File.Exists("/proc/cpuinfo")) return [];
        var flags = File.ReadLines("/proc/cpuinfo").Take(64).FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1];
        return flags?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(f => f is "avx512_bf16" or "amx_bf16").ToList() ?? [];
    }

    static readonly Lazy<bool> HasBf16 = new(() => CpuBf16Flags().Count > 0);

    public static bool CpuHasBf16() => HasBf16.Value;
}
