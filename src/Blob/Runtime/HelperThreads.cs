using System.Runtime.ExceptionServices;

namespace Blob.Runtime;

/// <summary>
/// A parallel loop over chunk indices for managed code that runs between TorchSharp calls (FastDropout's mask fill),
/// on helper threads that allocate no managed memory: rule 5 of <see cref="TensorLifetimes"/>, and the reason this
/// is not <c>Parallel.For</c>, whose thread-pool workers allocate a little on every call (docs/design.md, "Dropout
/// masks, malloc and attention"). The hand-off is a lock, a counter and Monitor.Wait, which allocate nothing once a
/// helper has started. One job runs at a time; a second calling thread waits its turn, and a For inside a chunk runs
/// serially. Helpers start only where <see cref="BlobRuntime.Configure"/> installed them; otherwise every For runs on
/// its caller's thread.
/// </summary>
public static class HelperThreads
{
    static readonly object CallerTurn = new();
    static readonly object Sync = new();
    static int _started;          // helpers started so far (they live as long as the process, as background threads)
    static long _generation;      // bumped once a job
    static Action<long>? _body;
    static long _count, _next;
    static int _participants, _pending;
    static Exception? _failure;
    [ThreadStatic] static bool _inJob;   // on a helper, or on a caller inside For: a nested For runs serially

    /// <summary>Helper threads started so far in this process.</summary>
    public static int Started => Volatile.Read(ref _started);

    /// <summary>body(0), …, body(count − 1) on this thread and up to threads − 1 helpers, in no fixed order;
    /// returns when all have run. The first exception a chunk throws is rethrown here, once all have stopped.</summary>
    public static void For(long count, int threads, Action<long> body)
    {
        if (threads <= 1 || count <= 1 || _inJob || !BlobRuntime.Installed.HelperThreads)
        {
            for (long c = 0; c < count; c++) body(c);
            return;
        }
        lock (CallerTurn)
        {
            int helpers = (int)Math.Min(threads - 1, count - 1);
            StartHelpers(helpers);
            lock (Sync)
            {
                _body = body; _count = count; _next = 0; _participants = helpers; _pending = helpers; _failure = null;
                _generation++;
                Monitor.PulseAll(Sync);
            }
            _inJob = true;
            try { Work(body, count); }
            catch (Exception e) { lock (Sync) _failure ??= e; }   // the helpers finish their chunks before it is rethrown
            finally { _inJob = false; }
            Exception? failure;
            lock (Sync)
            {
                while (_pending > 0) Monitor.Wait(Sync);
                _body = null;
                failure = _failure;
            }
            if (failure != null) ExceptionDispatchInfo.Throw(failure);
        }
    }

    static void Work(Action<long> body, long count)
    {
        long c;
        while ((c = Interlocked.Increment(ref _next) - 1) < count) body(c);
    }

    static void StartHelpers(int wanted)
    {
        for (; _started < wanted; _started++)
        {
            int index = _started;
            new Thread(() => Helper(index)) { IsBackground = true, Name = $"blob helper {index + 1}" }.Start();
        }
    }

    static void Helper(int index)
    {
        _inJob = true;
        long seen = 0;
        while (true)
        {
            Action<long> body;
            long count;
            lock (Sync)
            {
                while (_generation == seen) Monitor.Wait(Sync);
                seen = _generation;
                if (index >= _participants) continue;
                body = _body!;
                count = _count;
            }
            try { Work(body, count); }
            catch (Exception e) { lock (Sync) _failure ??= e; }
            lock (Sync)
            {
                if (--_pending == 0) Monitor.PulseAll(Sync);
            }
        }
    }
}
