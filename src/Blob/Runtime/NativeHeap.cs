using System.Runtime.InteropServices;

namespace Blob.Runtime;

/// <summary>
/// How glibc's malloc, which libtorch uses for CPU tensors, serves large allocations. By default glibc raises its mmap
/// threshold to 32 MB after the first large free, so large tensors come from its heaps, and what N-sample prediction
/// frees there is not reused well: BLoB's N = 10 prediction on RTE grew past 11 GB RSS (the OOM killer stopped one
/// run at 12.1 GB), and trimming the heap after every batch did not help (11.5 GB). Mapping every allocation of 64 KB
/// or more afresh keeps that prediction at 2.0 GB, but costs training 1.3× the CPU time (the kernel zeroing fresh
/// pages). So prediction maps them (<see cref="MapLargeAllocations"/>) and training keeps glibc's heap.
/// A no-op off Linux/glibc, and when the user set <c>MALLOC_MMAP_THRESHOLD_</c> themselves.
/// </summary>
public static class NativeHeap
{
    const int M_MMAP_THRESHOLD = -3;            // mallopt parameter (malloc.h)
    const int SmallThreshold = 64 * 1024;       // every tensor of 64 KB or more is mapped, and unmapped when freed
    const int DefaultMaxThreshold = 32 << 20;   // the most glibc's dynamic threshold reaches on 64-bit systems

    static bool _unavailable = !OperatingSystem.IsLinux()
                               || Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;

    /// <summary>
    /// Gives the heaps' free pages back (what training freed), then, until disposed, serves allocations of 64 KB or
    /// more with fresh mappings that are returned to the system when freed. Afterwards the threshold is 32 MB, where
    /// glibc's own adjustment would have taken it.
    /// </summary>
    public static LargeAllocationMapping MapLargeAllocations()
    {
        if (!SetThreshold(SmallThreshold)) return new(false);
        malloc_trim(0);
        return new(true);
    }

    /// <summary>The scope of <see cref="MapLargeAllocations"/>; Applied says whether the threshold was changed.</summary>
    public sealed class LargeAllocationMapping(bool applied) : IDisposable
    {
        public bool Applied { get; private set; } = applied;

        public void Dispose()
        {
            if (!Applied) return;
            Applied = false;
            SetThreshold(DefaultMaxThreshold);
        }
    }

    /// <summary>Sets glibc's mmap threshold; false where that is not possible (not glibc, or the user chose it).</summary>
    static bool SetThreshold(int bytes)
    {
        if (_unavailable) return false;
        try
        {
            return mallopt(M_MMAP_THRESHOLD, bytes) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _unavailable = true; // musl and other C libraries have no mallopt
            return false;
        }
    }

    [DllImport("libc")]
    static extern int mallopt(int param, int value);

    [DllImport("libc")]
    static extern int malloc_trim(nuint pad);
}
