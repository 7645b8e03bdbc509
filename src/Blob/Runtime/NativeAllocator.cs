using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Blob.Runtime;

/// <summary>
/// Which malloc serves libtorch's CPU tensors in this process. `./blob` preloads jemalloc (Debian's libjemalloc2)
/// where it is installed: glibc's malloc keeps what libtorch frees in its heaps, and a training step peaks far higher
/// under it (measurements: docs/performance.md, "jemalloc").
/// </summary>
public static class NativeAllocator
{
    /// <summary>"jemalloc" when it is loaded into this process, else "the C library's malloc".</summary>
    public static string Name => IsJemalloc() ? "jemalloc" : "the C library's malloc";

    static bool IsJemalloc() =>
        File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libjemalloc"));

    /// <summary>
    /// Gives the pages jemalloc holds free back to the system, at most once every 30 s; does nothing under another
    /// malloc. `./blob` runs jemalloc without decay, because giving pages back after every step makes training several
    /// times slower, but some loops then grow without bound (Laplace's fit: C gradients of one retained graph per
    /// batch). Such a loop calls this between batches; a shorter interval makes the next batches fault their pages in
    /// again. Measurements: docs/performance.md, "jemalloc".
    /// </summary>
    public static void ReleaseFreePagesIfDue()
    {
        if (Stopwatch.GetElapsedTime(_lastRelease) >= TimeSpan.FromSeconds(30)) ReleaseFreePages();
    }

    /// <summary>
    /// Gives the pages jemalloc holds free back to the system now; does nothing under another malloc. A run calls it
    /// where one phase ends and another begins (training, each split's prediction): without it a process keeps the
    /// largest phase's pages for the rest of its life (a `compare` holds its ensemble's training peak through every
    /// later run), which two tables side by side on one machine cannot afford.
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
