using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>The fine-tuning methods the paper compares (Sec. 4.1).</summary>
public enum MethodKind
{
    /// <summary>Plain LoRA, maximum likelihood.</summary>
    Mle,
    /// <summary>LoRA with weight decay 1e-5 (a Gaussian prior, point estimate).</summary>
    Map,
    /// <summary>MC dropout: LoRA dropout 0.1 kept on at test time, N samples averaged.</summary>
    Mcd,
    /// <summary>Deep ensemble: K independently initialised LoRAs trained on the same batches.</summary>
    Ens,
    /// <summary>Bayes by Backprop on A: softplus σ, prior N(0, 1), KL weight 1/M in the same AdamW step.</summary>
    Bbb,
    /// <summary>Laplace-LoRA: MAP training, then a post-hoc K-FAC Laplace approximation over the LoRA weights.</summary>
    Lap,
    /// <summary>BLoB: Bayesian A by variational inference with flipout (the paper's method).</summary>
    Blob,
}

/// <summary>Which method, and the adapter hyper-parameters every method shares.</summary>
public sealed record MethodOptions
{
    public MethodKind Kind { get; init; } = MethodKind.Blob;
    public int Rank { get; init; } = 8;
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the LoRA input (0 for BLoB; 0.1 for MC dropout unless set).</summary>
    public double? LoraDropout { get; init; }
    /// <summary>Module names to adapt, PEFT-style (e.g. q_proj, v_proj, lm_head; query, value).</summary>
    /// <summary>Empty: the model's defaults (see Experiments.ModelZoo).</summary>
    public IReadOnlyList<string> Targets { get; init; } = [];
    /// <summary>Modules trained in full alongside the adapters (e.g. a fresh classifier head), like PEFT's modules_to_save.</summary>
    public IReadOnlyList<string> FullyTrained { get; init; } = [];
    /// <summary>Members of a deep ensemble (paper: 3).</summary>
    public int EnsembleSize { get; init; } = 3;
    /// <summary>How an ensemble combines its members: average the logits (the official code) or the probabilities.</summary>
    public bool EnsembleAveragesProbabilities { get; init; }
    /// <summary>BLoB's layer options (σp, ε, the ablation switches); Rank and Alpha above take precedence.</summary>
    public BlobLayerOptions Blob { get; init; } = new();

    public double Dropout => LoraDropout ?? (Kind == MethodKind.Mcd ? 0.1 : 0.0);

    /// <summary>How many weight samples a prediction averages by default (paper: N = 10 for Bayesian methods).</summary>
    public int DefaultSamples => Kind is MethodKind.Blob or MethodKind.Mcd or MethodKind.Bbb ? 10 : 0;

    public static MethodKind Parse(string name) => TryParse(name, out var kind) ? kind
        : throw new BlobException($"unknown method '{name}' (known: mle, map, mcd, ens, bbb, lap, blob)");

    public static bool TryParse(string name, out MethodKind kind)
    {
        kind = Known(name) ?? default;
        return Known(name) is not null;
    }

    static MethodKind? Known(string name) => name.Trim().ToLowerInvariant() switch
    {
        "mle" or "lora" => MethodKind.Mle,
        "map" => MethodKind.Map,
        "mcd" or "mc-dropout" or "mcdropout" => MethodKind.Mcd,
        "ens" or "ensemble" => MethodKind.Ens,
        "bbb" => MethodKind.Bbb,
        "lap" or "laplace" => MethodKind.Lap,
        "blob" => MethodKind.Blob,
        _ => null,
    };
}

/// <summary>Puts the method's adapters into a model.</summary>
public static class MethodSetup
{
    public static IReadOnlyList<string> Apply(nn.Module model, MethodOptions options)
    {
        var names = AdapterInjection.Inject(model, options.Targets, (layer, _) => Create(layer, options));
        foreach (var (name, p) in model.named_parameters())
            if (options.FullyTrained.Any(t => AdapterInjection.Matches(name[..Math.Max(0, name.LastIndexOf('.'))], t) && !name.Contains(".adapter.")))
                p.requires_grad = true;
        return names;
    }

    static Adapter Create(AdaptableLinear layer, MethodOptions o) => o.Kind switch
    {
        MethodKind.Blob => new BlobAdapter(layer.InFeatures, layer.OutFeatures, o.Blob with { Rank = o.Rank, Alpha = o.Alpha }),
        MethodKind.Mcd => new LoraAdapter(layer.InFeatures, layer.OutFeatures, o.Rank, o.Alpha, o.Dropout) { DropoutAtInference = true },
        MethodKind.Ens => new EnsembleAdapter(layer.InFeatures, layer.OutFeatures, o.EnsembleSize, o.Rank, o.Alpha, o.Dropout),
        MethodKind.Bbb => new BbbAdapter(layer.InFeatures, layer.OutFeatures, o.Rank, o.Alpha),
        _ => new LoraAdapter(layer.InFeatures, layer.OutFeatures, o.Rank, o.Alpha, o.Dropout),
    };
}
