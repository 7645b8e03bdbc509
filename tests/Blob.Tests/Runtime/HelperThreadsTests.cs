using Blob.Layers;
using Blob.Runtime;
using static TorchSharp.torch;

namespace Blob.Tests.Runtime;

/// <summary>Rule 5 of <see cref="TensorLifetimes"/>: helper threads that run every chunk once and allocate nothing (the
/// helpers installed, as the command-line tool installs them).</summary>
public class HelperThreadsTests : IDisposable
{
    readonly InstalledRuntime _runtime = new();

    public void Dispose() => _runtime.Dispose();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 1000)]
    [InlineData(8, 3)]
    public void EveryChunkRunsExactlyOnce(int threads, int count)
    {
        for (int round = 0; round < 20; round++)
        {
            var runs = new int[count];
            HelperThreads.For(count, threads, c => Interlocked.Increment(ref runs[c]));
            Assert.All(runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void AForInsideAChunkRunsOnItsThread()
    {
        var runs = new int[8 * 8];
        HelperThreads.For(8, 2, outer => HelperThreads.For(8, 2, inner => Interlocked.Increment(ref runs[outer * 8 + inner])));
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void AHelpersExceptionReachesTheCaller()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            HelperThreads.For(64, 2, c => { if (c == 40) throw new InvalidOperationException("chunk 40"); Thread.SpinWait(100); }));
        Assert.Equal("chunk 40", e.Message);
        var runs = new int[16];
        HelperThreads.For(16, 2, c => Interlocked.Increment(ref runs[c])); // and the helpers still work afterwards
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void HelpersAllocateNothingFromOneJobToTheNext()
    {
        var helpers = OwnAllocations((n, body) => HelperThreads.For(n, 2, body));
        // The measure can fail: the same jobs with chunks that allocate 1 KB each.
        var allocating = OwnAllocations((n, body) => HelperThreads.For(n, 2, c => { body(c); GC.KeepAlive(new byte[1024]); }));

        string seen = $"helpers {Show(helpers)}; allocating chunks {Show(allocating)}";
        Assert.True(helpers.Count > 0 && allocating.Count > 0, "no helper ran a chunk: " + seen);
        Assert.True(helpers.Values.All(b => b == 0), "a helper allocated: " + seen);
        Assert.True(allocating.Values.All(b => b > 0), "the measure missed the chunks' allocations: " + seen);
    }

    static string Show(Dictionary<int, long> bytes) => string.Join(", ", bytes.Select(b => $"thread {b.Key}: {b.Value} B"));

    /// <summary>Ten jobs of 24 chunks run by <paramref name="run"/>, after one to warm up: for each thread but this
    /// one, the bytes it allocated from its first chunk to its last, read by the thread itself inside each chunk.</summary>
    static Dictionary<int, long> OwnAllocations(Action<long, Action<long>> run)
    {
        const int jobs = 11, chunks = 24;
        var thread = new int[jobs * chunks];
        var bytes = new long[jobs * chunks];
        int next = -1;
        for (int job = 0; job < jobs; job++)
            run(chunks, _ =>
            {
                int i = Interlocked.Increment(ref next);
                thread[i] = Environment.CurrentManagedThreadId;
                bytes[i] = GC.GetAllocatedBytesForCurrentThread();
                Thread.SpinWait(100_000); // long enough that every thread takes chunks in every job
            });
        int caller = Environment.CurrentManagedThreadId;
        return Enumerable.Range(chunks, (jobs - 1) * chunks).Where(i => thread[i] != caller).GroupBy(i => thread[i])
            .ToDictionary(g => g.Key, g => g.Max(i => bytes[i]) - g.Min(i => bytes[i]));
    }

    [Fact]
    public void AMaskIsTheSameOnOneThreadAndOnTwo()
    {
        int threads = get_num_threads();
        try
        {
            long[] shape = [8, 12, 128, 128]; // 1.6 M elements: 24 chunks
            set_num_threads(1);
            manual_seed(5);
            using var one = FastDropout.KeepMask(shape, 0.1, ScalarType.BFloat16);
            set_num_threads(2);
            manual_seed(5);
            using var two = FastDropout.KeepMask(shape, 0.1, ScalarType.BFloat16);
            using var same = one.eq(two).all();
            Assert.True(same.item<bool>());
            Assert.True(HelperThreads.Started >= 1, "no helper thread started");
        }
        finally { set_num_threads(threads); }
    }
}
