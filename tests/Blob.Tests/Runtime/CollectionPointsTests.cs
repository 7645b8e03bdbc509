using Blob.Methods;
using Blob.Runtime;
using Blob.Tests.Training;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Runtime;

/// <summary>Rule 6 of <see cref="TensorLifetimes"/>: after a collection point, no thread can start a collection (the points
/// installed, as the command-line tool installs them).</summary>
public class CollectionPointsTests : IDisposable
{
    readonly InstalledRuntime _runtime = new();

    public void Dispose() => _runtime.Dispose();

    /// <summary>Allocates <paramref name="megabytes"/> MB in 4 KB arrays on a new thread; the gen-0 collections meanwhile.</summary>
    static int CollectionsWhileAnotherThreadAllocates(int megabytes)
    {
        int before = GC.CollectionCount(0);
        var thread = new Thread(() =>
        {
            var keep = new byte[64][];
            for (int i = 0; i < megabytes * 256; i++) keep[i % keep.Length] = new byte[4096];
        });
        thread.Start();
        thread.Join();
        return GC.CollectionCount(0) - before;
    }

    [Fact]
    public void AnotherThreadsAllocationsStartNoCollectionAfterAPoint()
    {
        GC.Collect(); // ends any region: the control runs with ordinary collections
        Assert.False(CollectionPoints.InRegion);
        // the control allocates far past any gen-0 budget: the runtime sizes that budget from the L3 cache, and on a
        // 300 MB L3 48 MB started no collection
        Assert.True(CollectionsWhileAnotherThreadAllocates(1024) > 0, "control: 1 GB on another thread collects without a point");

        CollectionPoints.Reached();
        Assert.True(CollectionPoints.InRegion);
        int inRegion = (int)(CollectionPoints.Budget >> 20) * 3 / 8; // 12 MB, under half the budget
        Assert.Equal(0, CollectionsWhileAnotherThreadAllocates(inRegion));
        Assert.True(CollectionPoints.InRegion);
    }

    [Fact]
    public void APointStartsANewRegionOnlyOnceHalfTheBudgetIsSpent()
    {
        CollectionPoints.Reached();
        int started = CollectionPoints.RegionsStarted;
        CollectionPoints.Reached();
        Assert.Equal(started, CollectionPoints.RegionsStarted); // nothing spent: the same region goes on

        var keep = new byte[64][];
        for (int i = 0; i < (int)(CollectionPoints.Budget / 2 / 4096) + 256; i++) keep[i % keep.Length] = new byte[4096];
        Assert.True(CollectionPoints.InRegion); // more than half, less than all of it: still no collection
        CollectionPoints.Reached();
        Assert.Equal(started + 1, CollectionPoints.RegionsStarted);
        Assert.True(CollectionPoints.InRegion);
    }

    [Fact]
    public void TrainingAndPredictionReachPoints()
    {
        var data = new ToyData(16, seed: 1);
        var (_, classifier) = Toy.Build(new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 });
        var options = new TrainingOptions
        {
            Method = new MethodOptions { Kind = MethodRegistry.Blob, Rank = 2, Alpha = 2 },
            Steps = 3, BatchSize = 8, LearningRate = 1e-2, Seed = 3,
        };

        GC.Collect();
        new Trainer(classifier, data, options, CPU).Train();
        Assert.True(CollectionPoints.InRegion, "training reaches a point every step");

        GC.Collect();
        BayesianPrediction.Predict(classifier, data, samples: 2, batchSize: 8, device: CPU);
        Assert.True(CollectionPoints.InRegion, "prediction reaches a point every batch");
    }
}
