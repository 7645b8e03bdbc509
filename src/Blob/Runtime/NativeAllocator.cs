using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Blob.Runtime;

/// <summary>
/// Which malloc serves libtorch's CPU tensors in this process. `./blob` preloads jemalloc (Debian's libjemalloc2)
/// where it is installed: glibc's malloc keeps what libtorch frees in its heaps (docs/performance.md, "jemalloc").
/// </summary>
public static class NativeAllocator
{
    /// <summary>"jemalloc" when it is loaded into this process, else "the C library's malloc".</summary>
    public static string Name => IsJemalloc() ? "jemalloc" : "the C library's malloc";

    static bool IsJemalloc() =>
        File.Exists("/proc/self/maps") && File.ReadLines("/proc/self/maps").Any(l => l.Contains("libjemalloc"));

    /// <summary>Gives jemalloc's free pages back to the system, at most once every 30 s (a shorter interval makes the
    /// next batches fault them in again), for a loop that grows without decay (Laplace's fit); see <see cref="ReleaseFreePages"/>.</summary>
    public static void ReleaseFreePagesIfDue()
    {
        if (Stopwatch.GetElapsedTime(_lastRelease) >= TimeSpan.FromSeconds(30)) ReleaseFreePages();
    }

    /// <summary>
    /// Gives jemalloc's free pages back to the system now, where one phase of a run ends and another begins; installed
    /// by <see cref="BlobRuntime.Configure"/>, and a no-op under another malloc. Why: `./blob` runs jemalloc without
    /// decay (decay after every step makes training several times slower), so a process would otherwise keep its
    /// largest phase's pages for the rest of its life (docs/performance.md, "jemalloc").
    /// </summary>
    public static void ReleaseFreePages()
    {
        if (!BlobRuntime.Installed.AllocatorPurges) return;
        _lastRelease = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _purges);
        if (Mallctl.Value is { } mallctl) mallctl("arena.4096.purge", 0, 0, 0, 0); // 4096: MALLCTL_ARENAS_ALL, every arena
    }

    /// <summary>Purges asked for so far in this process (each a mallctl call under jemalloc).</summary>
    public static int Purges => Volatile.Read(ref _purges);

    static int _purges;
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
