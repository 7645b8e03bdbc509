using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Blob.Runtime;

/// <summary>
/// Which malloc serves libtorch's CPU tensors in this process. `./blob` preloads jemalloc (Debian's libjemalloc2)
/// where it is installed: glibc's malloc keeps what libtorch frees in its heaps, so a MiniLM training step at
/// batch 32 × 256 tokens peaked at 2,676 MiB under glibc and at 1,721 MiB under jemalloc, which returns freed pages.
/// </summary>
public static class NativeAllocator
{
    /// <summary>"jemalloc" when it is loaded into this process, else "the C library's malloc".</summary>
    public static string Name => IsJemalloc() ? "jemalloc" : "the C library's malloc";

    static bool IsJemalloc() =>
        File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libjemalloc"));

    /// <summary>
    /// Gives the pages jemalloc holds free back to the system, at most once every 30 s; does nothing under another
    /// malloc. `./blob` runs jemalloc without decay, because giving pages back after every step made training several
    /// times slower (5 MiniLM steps at 32 × 256: 14 s without decay, 87 s with a 1 s decay), but some loops then grow
    /// without bound: Laplace's fit over MRPC (batches of 4, each its own length, C gradients of one retained graph)
    /// grew by about 100 MB a second to the 24 GiB of the machine. Such a loop calls this between batches. Every 5 s,
    /// as first, the fit of 400 MRPC examples took 45 s instead of 31 s: each purge makes the next batches fault
    /// their pages in again.
    /// </summary>
    public static void ReleaseFreePagesIfDue()
    {
        if (Stopwatch.GetElapsedTime(_lastRelease) >= TimeSpan.FromSeconds(30)) ReleaseFreePages();
    }

    /// <summary>
    /// Gives the pages jemalloc holds free back to the system now; does nothing under another malloc. A run calls it
    /// where one phase ends and another begins (training, each split's prediction): without it a process keeps the
    /// largest phase's pages for the rest of its life (a `compare` over BoolQ held 7.3 GiB from its ensemble's
    /// training on), which is what two tables side by side on one machine cannot afford.
    /// </summary>
    public static void ReleaseFreePages()
    {
        _lastRelease = Stopwatch.GetTimestamp();
        if (Mallctl.Value is { } mallctl) mallctl("arena.4096.purge", 0, 0, 0, 0); // 4096: MALLCTL_ARENAS_ALL, every arena
    }

    static long _lastRelease;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int MallctlFunction([MarshalAs(UnmanagedType.LPUTF8Str)] string name, nint oldValue, nint oldLength, nint newValue, nuint newLength);

    /// <summary>jemalloc's mallctl when jemalloc is the process's malloc (preloaded, so in the global symbol scope), else null.</summary>
    static readonly Lazy<MallctlFunction?> Mallctl = new(() =>
        OperatingSystem.IsLinux() && IsJemalloc() &&
        NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "mallctl", out var address)
            ? Marshal.GetDelegateForFunctionPointer<MallctlFunction>(address)
            : null);
}
