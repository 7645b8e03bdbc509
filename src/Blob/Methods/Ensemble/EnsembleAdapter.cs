using Blob.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Deep ensemble of LoRA adapters on one frozen layer (the paper's ENS baseline): K independently initialised
/// members, of which one is active at a time. The frozen base model is held once in memory; the trainer runs every
/// member on the same batches and the predictor combines their outputs (see <see cref="EnsembleMethod"/>).
/// </summary>
public sealed class EnsembleAdapter : Adapter
{
    public readonly ModuleList<LoraAdapter> members;

    public int Active { get; set; }

    public EnsembleAdapter(long inFeatures, long outFeatures, int size, int rank, double alpha, double dropout)
        : base(nameof(EnsembleAdapter))
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), "an ensemble needs at least one member");
        members = new ModuleList<LoraAdapter>(Enumerable.Range(0, size)
            .Select(_ => new LoraAdapter(inFeatures, outFeatures, rank, alpha, dropout)).ToArray());
        RegisterComponents();
    }

    /// <summary>An ensemble of adapters trained before (the members of a saved ensemble).</summary>
    public EnsembleAdapter(IReadOnlyList<LoraAdapter> trained) : base(nameof(EnsembleAdapter))
    {
        if (trained.Count < 1) throw new ArgumentOutOfRangeException(nameof(trained), "an ensemble needs at least one member");
        members = new ModuleList<LoraAdapter>(trained.ToArray());
        RegisterComponents();
    }

    public int Size => members.Count;

    public override Tensor forward(Tensor x) => members[Active].forward(x);

    public override Tensor MeanDeltaWeight() => members[Active].MeanDeltaWeight();

    public override int Rank => members[Active].Rank;
    public override double Scaling => members[Active].Scaling;
    public override double Dropout => members[Active].Dropout;
}

/// <summary>Switching and combining the members of the ensembles in a model.</summary>
public static class Ensembles
{
    /// <summary>The ensemble size of the model (0 when it has no ensemble adapters).</summary>
    public static int Size(nn.Module model) =>
        AdapterInjection.Adapters(model).Select(a => a.Adapter).OfType<EnsembleAdapter>().Select(e => e.Size).DefaultIfEmpty(0).Max();

    public static void SetActive(nn.Module model, int member)
    {
        foreach (var e in AdapterInjection.Adapters(model).Select(a => a.Adapter).OfType<EnsembleAdapter>()) e.Active = member;
    }
}
