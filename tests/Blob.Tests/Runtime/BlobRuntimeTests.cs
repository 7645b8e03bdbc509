using System.Runtime;
using Blob.Layers;
using Blob.Methods;
using Blob.Runtime;
using Blob.Tests.Cli;
using Blob.Tests.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Runtime;

/// <summary>The runtime's workarounds are the host's choice: none without <see cref="BlobRuntime.Configure"/>, and
/// those it names with it.</summary>
public class BlobRuntimeTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-runtime-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The managed threads that ran chunks of a parallel loop over 64 chunks on 2 threads.</summary>
    static HashSet<int> ThreadsOfAFor()
    {
        var threads = new int[64];
        HelperThreads.For(64, 2, c => { threads[c] = Environment.CurrentManagedThreadId; Thread.SpinWait(20_000); });
        return [.. threads];
    }

    [Fact]
    public void ALibraryRunWithoutTheRuntimeChangesNothingProcessWide()
    {
        Assert.Equal(BlobRuntimeOptions.None, BlobRuntime.Installed); // nothing installs it but the host (tests restore it)
        GC.Collect(); // no region of anyone's in progress
        var latency = GCSettings.LatencyMode;
        int regions = CollectionPoints.RegionsStarted, helpers = HelperThreads.Started, purges = NativeAllocator.Purges;
        int collections = GC.CollectionCount(0);

        // a whole run of training and prediction (and the purges between its phases), TFB's fit included
        var outcome = BlobCli.Run("compare", "--task", "demo-facts", "--methods", "blob", "tfb", "--seeds", "1", "--steps", "2",
            "--batch-size", "4", "--max-train", "8", "--max-eval", "8", "--max-length", "16", "--device", "cpu",
            "--output", Path.Combine(_dir, "compare"), "--quiet");
        Assert.True(outcome.Code == 0, outcome.ToString());
        // a dropout mask of many chunks, with torch's threads to share them
        int threads = get_num_threads();
        try
        {
            set_num_threads(2);
            using var mask = FastDropout.Mask([1 << 20], 0.1);
            Assert.InRange(mask.mean().item<float>(), 0.95f, 1.05f);
        }
        finally { set_num_threads(threads); }

        Assert.Equal(latency, GCSettings.LatencyMode);
        Assert.False(CollectionPoints.InRegion);
        Assert.Equal(regions, CollectionPoints.RegionsStarted);
        Assert.Equal(helpers, HelperThreads.Started);
        Assert.Equal(purges, NativeAllocator.Purges);
        Assert.True(GC.CollectionCount(0) > collections, "collections are the runtime's own, not held off");
        var results = Directory.EnumerateFiles(Path.Combine(_dir, "compare"), "*.json", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(results);
        Assert.All(results, f => Assert.DoesNotContain("NaN", File.ReadAllText(f))); // finite metrics
    }

    [Fact]
    public void TfbsFitLeavesTheGlobalGeneratorUntouched()
    {
        var (_, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Mle, Rank = 3, Alpha = 6 });
        using (no_grad())
            foreach (var (_, a) in AdapterInjection.Adapters(classifier.Module)) ((LoraAdapter)a).lora_B.normal_(0, 0.3);
        manual_seed(123);
        using var before = random.get_rng_state();
        var fit = TfbFit.Fit(classifier, new ToyData(32, seed: 11), batchSize: 32, CPU);
        using var after = random.get_rng_state();
        Assert.True(after.shape.SequenceEqual(before.shape) && after.eq(before).all().item<bool>(), "TFB's fit drew from the global generator");
        Assert.True(double.IsFinite(fit.Beta) && double.IsFinite(fit.Change));
        Assert.All(AdapterInjection.Adapters(classifier.Module), a => Assert.Null(((BlobAdapter)a.Adapter).Generator)); // later samples: the caller's stream
    }

    [Fact]
    public void ConfigureInstallsWhatItNamesAndNothingElse()
    {
        int purges = NativeAllocator.Purges, caller = Environment.CurrentManagedThreadId;
        using (new InstalledRuntime(BlobRuntimeOptions.All))
        {
            Assert.Equal(BlobRuntimeOptions.All, BlobRuntime.Installed);
            int regions = CollectionPoints.RegionsStarted;
            GC.Collect();
            CollectionPoints.Reached();
            Assert.True(CollectionPoints.InRegion);
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            Assert.Equal(regions + 1, CollectionPoints.RegionsStarted);
            Assert.Contains(ThreadsOfAFor(), t => t != caller); // a helper took chunks
            Assert.True(HelperThreads.Started >= 1);
            NativeAllocator.ReleaseFreePages();
            Assert.Equal(purges + 1, NativeAllocator.Purges);

            BlobRuntime.Configure(BlobRuntimeOptions.None); // uninstalled again: the region ends, the rest stops
            Assert.False(CollectionPoints.InRegion);
            CollectionPoints.Reached();
            Assert.False(CollectionPoints.InRegion);
            Assert.Equal(regions + 1, CollectionPoints.RegionsStarted);
            Assert.Equal([caller], ThreadsOfAFor());
            NativeAllocator.ReleaseFreePages();
            Assert.Equal(purges + 1, NativeAllocator.Purges);

            BlobRuntime.Configure(new BlobRuntimeOptions(CollectionPoints: false, HelperThreads: true, AllocatorPurges: false));
            CollectionPoints.Reached();
            Assert.False(CollectionPoints.InRegion);
            Assert.Contains(ThreadsOfAFor(), t => t != caller);
            NativeAllocator.ReleaseFreePages();
            Assert.Equal(purges + 1, NativeAllocator.Purges);
        }
        Assert.Equal(BlobRuntimeOptions.None, BlobRuntime.Installed);
        Assert.False(CollectionPoints.InRegion);
    }

    [Fact]
    public void ConfigureWithoutOptionsInstallsWhatTheToolDoes()
    {
        using var _ = new InstalledRuntime();
        BlobRuntime.Configure();
        Assert.Equal(new BlobRuntimeOptions(CollectionPoints: true, HelperThreads: true, AllocatorPurges: true), BlobRuntime.Installed);
    }
}
