using System.Text.Json;
using System.Text.Json.Serialization;
using Blob.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Which method, the adapter hyper-parameters every method shares, and one section of settings per method that has
/// its own (<see cref="Ensemble"/>, <see cref="Blob"/>, <see cref="Laplace"/>); a method reads only its section.
/// </summary>
public sealed record MethodOptions
{
    /// <summary>The method (written as its name, e.g. "blob", wherever options are serialised).</summary>
    [JsonConverter(typeof(MethodNameConverter))]
    public FineTuningMethod Kind { get; init; } = MethodRegistry.Blob;
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 8;
    /// <summary>Dropout on the LoRA input; null: the method's default (0.1 for MC dropout, else 0).</summary>
    public double? LoraDropout { get; init; }
    /// <summary>Module names to adapt, PEFT-style (e.g. q_proj, v_proj, lm_head; query, value).</summary>
    /// <summary>Empty: the model's defaults (see Experiments.ModelZoo).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];
    /// <summary>Modules trained in full alongside the adapters (e.g. a fresh classifier head), like PEFT's modules_to_save.</summary>
    public IReadOnlyList<string> FullyTrained { get; init; } = [];
    /// <summary>How a fresh classification head learns: trained in full, or adapted like the encoder (see <see cref="HeadTraining"/>).</summary>
    public HeadTraining Head { get; init; } = HeadTraining.Trained;
    /// <summary>
    /// Modules initialised fresh from the seed and kept frozen (a head adapted but not trained): saved with the adapter,
    /// since a loader could not make them again. Follows from <see cref="Head"/>, so it is no setting of its own.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyList<string> SavedFrozen { get; init; } = [];

    /// <summary>ENS: the members and how they are combined.</summary>
    public EnsembleOptions Ensemble { get; init; } = new();
    /// <summary>BLoB's layer and KL settings (its rank and alpha are the ones above).</summary>
    public BlobOptions Blob { get; init; } = new();
    /// <summary>LAP: the post-hoc Laplace approximation.</summary>
    public LaplaceOptions Laplace { get; init; } = new();

    [JsonIgnore]
    public double Dropout => LoraDropout ?? Kind.DefaultDropout;

    /// <summary>How many weight samples a prediction averages by default (paper: N = 10 for Bayesian methods).</summary>
    [JsonIgnore]
    public int DefaultSamples => Kind.DefaultSamples;

    /// <summary>
    /// Puts the method's adapters into the targeted linear layers of a model, freezes everything else, and leaves the
    /// <see cref="FullyTrained"/> modules trainable. Returns the names of the adapted layers.
    /// </summary>
    public IReadOnlyList<string> Apply(nn.Module model)
    {
        RequireRankFits(model);
        var names = AdapterInjection.Inject(model, Targets, (layer, _) => Kind.CreateAdapter(layer, this));
        foreach (var (name, p) in model.named_parameters())
            if (FullyTrained.Any(t => AdapterInjection.Matches(name[..Math.Max(0, name.LastIndexOf('.'))], t) && !name.Contains(".adapter.")))
                p.requires_grad = true;
        return names;
    }

    /// <summary>
    /// Refuses a rank beyond both dimensions of the smallest targeted layer before any adapter is allocated: such a
    /// rank only adds parameters there, and a mistyped one (2147483647) would ask for terabytes. A rank above one
    /// dimension alone is allowed (the official BLoB code puts rank 8 on a two-label head).
    /// </summary>
    void RequireRankFits(nn.Module model)
    {
        if (Rank < 1) throw new BlobException($"--rank {Rank}: must be at least 1");
        var smallest = AdapterInjection.LinearLayers(model).Where(l => Targets.Any(t => AdapterInjection.Matches(l.Name, t)))
            .MinBy(l => Math.Max(l.Layer.InFeatures, l.Layer.OutFeatures));
        if (smallest.Layer is { } layer && Rank > Math.Max(layer.InFeatures, layer.OutFeatures))
            throw new BlobException($"--rank {Rank}: larger than both dimensions of '{smallest.Name}' ({layer.OutFeatures} × {layer.InFeatures}), " +
                                    $"the smallest adapted layer; at most {Math.Max(layer.InFeatures, layer.OutFeatures)}");
    }
}

/// <summary>
/// How an encoder's fresh classification head learns. The official BLoB code puts the method's adapter on the head and
/// keeps the head's own weights frozen at their initialisation (<see cref="AdaptedFrozen"/>), so a Bayesian adapter acts
/// on the logits directly; plain fine-tuning trains the head in full (<see cref="Trained"/>).
/// </summary>
public enum HeadTraining
{
    /// <summary>The head is trained in full, deterministically; the method's adapters sit in the encoder only.</summary>
    Trained,
    /// <summary>The head gets the method's adapter and is trained in full as well.</summary>
    Adapted,
    /// <summary>The head gets the method's adapter; its own weights stay at their initialisation (the official code).</summary>
    AdaptedFrozen,
}

/// <summary>Reads and writes a method as its registry name.</summary>
public sealed class MethodNameConverter : JsonConverter<FineTuningMethod>
{
    public override FineTuningMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MethodRegistry.Parse(reader.GetString() ?? "");

    public override void Write(Utf8JsonWriter writer, FineTuningMethod value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Name);
}
