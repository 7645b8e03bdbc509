using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Training;
using Blob.Tests.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Training;

/// <summary>A synthetic 3-class problem whose inputs are 6-dimensional features (carried in Batch.InputIds).</summary>
sealed class ToyData : IBatchSource
{
    readonly Tensor _x, _y;
    public ToyData(int count, long seed)
    {
        var g = new Generator((ulong)seed);
        _x = randn(new long[] { count, 6 }, generator: g);
        var w = randn(new long[] { 6, 3 }, generator: g);
        _y = _x.matmul(w).argmax(1);
    }
    public int Count => (int)_x.shape[0];
    public int NumClasses => 3;
    /// <summary>What Length reports (1 for every example unless set): lets a test make prediction reorder the examples.</summary>
    public Func<int, int>? Lengths { get; init; }
    /// <summary>Every batch asked for, in order.</summary>
    public List<int[]> Made { get; } = [];
    public int Length(int index) => Lengths?.Invoke(index) ?? 1;
    public Batch Make(IReadOnlyList<int> indices, Device device)
    {
        Made.Add([.. indices]);
        var idx = tensor(indices.Select(i => (long)i).ToArray());
        var x = _x.index_select(0, idx);
        return new Batch(x, ones(x.shape[0], 1), null, _y.index_select(0, idx));
    }
}

/// <summary>ToyBlock read as a 3-class classifier (its first three outputs).</summary>
sealed class ToyClassifier(ToyBlock block) : IClassifier
{
    public nn.Module Module => block;
    public Tensor ClassLogits(Batch batch) => block.forward(batch.InputIds)[.., ..3];
}

static class Toy
{
    public static (ToyBlock Model, ToyClassifier Classifier) Build(MethodOptions method, long seed = 7)
    {
        manual_seed(seed);
        var model = new ToyBlock();
        (method with { Targets = ["q_proj", "v_proj", "o_proj"] }).Apply(model);
        return (model, new ToyClassifier(model));
    }

    public static float[] Parameters(nn.Module model) =>
        model.parameters().Where(p => p.requires_grad).SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
}
