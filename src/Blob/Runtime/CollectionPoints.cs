using System.Runtime;

namespace Blob.Runtime;

/// <summary>
/// Rule 6 of <see cref="TensorLifetimes"/>, installed by <see cref="BlobRuntime.Configure"/>: garbage collections
/// happen where the tensor thread says, between its libtorch calls. The loops that run tensor code call
/// <see cref="Reached"/> once per step, batch or sample pass; from there on the runtime is in a no-GC region of
/// <see cref="Budget"/> bytes, which no thread (ours, the finaliser's, the JIT's) can start a collection inside. Past
/// half the budget, the next <see cref="Reached"/> collects the young generation and starts another region, on the
/// tensor thread. A loop that allocates more than the budget between two points gets an ordinary collection.
/// Why: TorchSharp drops the Scalar of every <c>a + b</c>, <c>x * 0.5</c> and <c>pow(2)</c> before libtorch reads
/// it, so a collection another thread starts during that call can free it (docs/design.md, "Garbage collections and
/// libtorch calls"). With several threads running tensor code at once, the hazard stays as TorchSharp has it.
/// Not installed, <see cref="Reached"/> does nothing and collections are the runtime's own.
/// </summary>
public static class CollectionPoints
{
    /// <summary>Managed bytes that all threads together may allocate inside one region (32 MB).</summary>
    public const long Budget = 32L << 20;

    static readonly object Gate = new();
    static long _allocatedAtStart;
    static int _regionsStarted;
    static bool _ours;   // the region in progress, if any, is one this class started

    /// <summary>Regions started so far in this process.</summary>
    public static int RegionsStarted => Volatile.Read(ref _regionsStarted);

    /// <summary>Whether the runtime is inside a no-GC region now (this class's or anyone's), i.e. no collection can start.</summary>
    public static bool InRegion => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    /// <summary>The calling thread is between libtorch calls and holds no Scalar it has passed to one.</summary>
    public static void Reached()
    {
        if (!BlobRuntime.Installed.CollectionPoints) return;
        lock (Gate)
        {
            if (InRegion)
            {
                if (!_ours) return;   // someone else's region: theirs to end
                if (GC.GetTotalAllocatedBytes() - _allocatedAtStart < Budget / 2) return;
                EndOurs();
            }
            // A region starts on free space it may simply take, collecting nothing: collect the young generation here,
            // or the garbage of every region would stay.
            GC.Collect(0);
            try
            {
                if (!GC.TryStartNoGCRegion(Budget)) return;
                _ours = true;
                Interlocked.Increment(ref _regionsStarted);
                _allocatedAtStart = GC.GetTotalAllocatedBytes();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                // another region is in progress, or the budget exceeds what this runtime allows: collections stay ordinary
            }
        }
    }

    /// <summary>Ends the region this class started, if one is in progress (the points were uninstalled).</summary>
    internal static void Leave()
    {
        lock (Gate)
            if (InRegion && _ours) EndOurs();
    }

    static void EndOurs()
    {
        _ours = false;
        try { GC.EndNoGCRegion(); }
        catch (InvalidOperationException) { } // the region ended meanwhile (budget passed, or GC.Collect)
    }
}
