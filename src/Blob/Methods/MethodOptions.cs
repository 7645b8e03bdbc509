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
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the LoRA input; null: the method's default (0.1 for MC dropout, else 0).</summary>
    public double? LoraDropout { get; init; }
    /// <summary>Module names to adapt, PEFT-style (e.g. q_proj, v_proj, lm_head; query, value).</summary>
    /// <summary>Empty: the model's defaults (see Experiments.ModelZoo).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];
    /// <summary>Modules trained in full alongside the adapters (e.g. a fresh classifier head), like PEFT's modules_to_save.</summary>
    public IReadOnlyList<string> FullyTrained { get; init; } = [];

    /// <summary>ENS: the members and how they are combined.</summary>
    public EnsembleOptions Ensemble { get; init; } = new();
    /// <summary>BLoB's layer and KL settings; Rank and Alpha above take precedence over the section's own.</summary>
    public BlobOptions Blob { get; init; } = new();
    /// <summary>LAP: the post-hoc Laplace approximation.</summary>
    public LaplaceOptions Laplace { get; init; } = new();

    public double Dropout => LoraDropout ?? Kind.DefaultDropout;

    /// <summary>How many weight samples a prediction averages by default (paper: N = 10 for Bayesian methods).</summary>
    public int DefaultSamples => Kind.DefaultSamples;

    /// <summary>
    /// Puts the method's adapters into the targeted linear layers of a model, freezes everything else, and leaves the
    /// <see cref="FullyTrained"/> modules trainable. Returns the names of the adapted layers.
    /// </summary>
    public IReadOnlyList<string> Apply(nn.Module model)
    {
        var names = AdapterInjection.Inject(model, Targets, (layer, _) => Kind.CreateAdapter(layer, this));
        foreach (var (name, p) in model.named_parameters())
            if (FullyTrained.Any(t => AdapterInjection.Matches(name[..Math.Max(0, name.LastIndexOf('.'))], t) && !name.Contains(".adapter.")))
                p.requires_grad = true;
        return names;
    }
}

/// <summary>Reads and writes a method as its registry name.</summary>
public sealed class MethodNameConverter : JsonConverter<FineTuningMethod>
{
    public override FineTuningMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MethodRegistry.Parse(reader.GetString() ?? "");

    public override void Write(Utf8JsonWriter writer, FineTuningMethod value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Name);
}
