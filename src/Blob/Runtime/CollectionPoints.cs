using System.Runtime;

namespace Blob.Runtime;

/// <summary>
/// Rule 6 of <see cref="TensorLifetimes"/>: garbage collections happen where the tensor thread says, between its
/// libtorch calls, and nowhere else. The loops that run tensor code call <see cref="Reached"/> once per step, batch or
/// sample pass; from there on the runtime is in a no-GC region (<see cref="GC.TryStartNoGCRegion(long)"/>) of
/// <see cref="Budget"/> bytes, which no thread, ours or the runtime's (its finaliser thread, the JIT's), can start a
/// collection inside. When half the budget is spent, the next <see cref="Reached"/> ends the region, collects the
/// young generation and starts another, all on the tensor thread, where the Scalars it dropped are done with. A loop that allocates
/// more than the budget between two points gets an ordinary collection (and normal behaviour until the next point):
/// started by whichever thread passes the budget, most likely the tensor thread itself.
/// Why (rule 5's hazard): TorchSharp drops the Scalar of every <c>a + b</c>, <c>x * 0.5</c> and <c>pow(2)</c> before
/// libtorch reads it, so a collection started by any other thread during that call can free it. Rule 5 keeps our own
/// threads from allocating; this also covers the threads we do not own (measurements: docs/design.md, "Garbage
/// collections and libtorch calls"). With several threads running tensor code at once (a server predicting in
/// parallel), a point on one collects while another may be inside a call: the hazard stays as TorchSharp has it.
/// </summary>
public static class CollectionPoints
{
    /// <summary>Managed bytes that all threads together may allocate inside one region (32 MB).</summary>
    public const long Budget = 32L << 20;

    static readonly object Gate = new();
    static long _allocatedAtStart;

    /// <summary>Regions started so far in this process (tests read it).</summary>
    public static int RegionsStarted { get; private set; }

    /// <summary>Whether the runtime is inside a region now, i.e. no collection can start.</summary>
    public static bool InRegion => GCSettings.LatencyMode == GCLatencyMode.NoGCRegion;

    /// <summary>The calling thread is between libtorch calls and holds no Scalar it has passed to one.</summary>
    public static void Reached()
    {
        lock (Gate)
        {
            if (InRegion)
            {
                if (GC.GetTotalAllocatedBytes() - _allocatedAtStart < Budget / 2) return;
                try { GC.EndNoGCRegion(); }
                catch (InvalidOperationException) { } // the region ended meanwhile (budget passed, or GC.Collect)
            }
            // A region starts on free space it may simply take, collecting nothing: collect the young generation here
            // (escalating as the runtime's own budgets say), or the garbage of every region would stay.
            GC.Collect(0);
            try
            {
                if (!GC.TryStartNoGCRegion(Budget)) return;
                RegionsStarted++;
                _allocatedAtStart = GC.GetTotalAllocatedBytes();
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentOutOfRangeException)
            {
                // another region is in progress (someone else's), or the budget exceeds what this runtime allows:
                // collections stay ordinary, as without this class
            }
        }
    }
}
