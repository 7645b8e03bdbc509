using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>How to load a pretrained model: where it runs and the dtype of its frozen base weights.</summary>
public sealed record LoadOptions
{
    public Device Device { get; init; } = CPU;
    /// <summary>
    /// Float32, or BFloat16 (or Float16): the dtype the frozen base's matrix-product weights (every linear layer of the
    /// pretrained network, and a decoder's embeddings, which a tied lm_head shares) are stored and multiplied in, at
    /// half the memory. Activations, norms and trained heads stay float32 (see <see cref="Blob.Runtime.Precision"/>).
    /// Stored weights are converted.
    /// </summary>
    public ScalarType BaseDtype { get; init; } = ScalarType.Float32;

    // Sequence classifiers only (BERT, RoBERTa):
    /// <summary>Labels of the classification head; null: the config's. A head of another size is initialised fresh.</summary>
    public int? NumLabels { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Cls;
    /// <summary>Seed of a freshly initialised head.</summary>
    public long HeadSeed { get; init; }
}

/// <summary>
/// Loads Hugging Face model folders (config.json + safetensors weights). config.json's model_type picks the network;
/// each family is one line of a switch below.
/// </summary>
public static class PretrainedModels
{
    public static readonly string[] CausalLMTypes = ["llama", "mistral", "qwen2", "qwen3", "gpt2"];

    /// <summary>
    /// The one entry point: a causal LM (<see cref="IDecoderModel"/>) or a sequence classifier
    /// (<see cref="ISequenceClassifier"/>), picked by config.json's model_type.
    /// </summary>
    public static ILanguageModel Load(string directory, LoadOptions? options = null)
    {
        var config = ModelConfig.Load(directory);
        string type = ModelType(config);
        if (CausalLMTypes.Contains(type)) return LoadCausalLM(directory, options);
        if (EncoderModels.Types.Contains(type)) return LoadSequenceClassifier(directory, options);
        throw Unsupported(config, [.. CausalLMTypes, .. EncoderModels.Types]);
    }

    /// <summary>A decoder-only LM with frozen weights (requires_grad = false), in eval mode, on options.Device.</summary>
    public static IDecoderModel LoadCausalLM(string directory, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        CheckDtype(options.BaseDtype);
        var config = ModelConfig.Load(directory);
        using var checkpoint = Checkpoint.Open(directory);
        if (CausalLMTypes.Contains(ModelType(config))) checkpoint.RequireSizesOf(config);
        switch (ModelType(config))
        {
            case "llama" or "mistral" or "qwen2" or "qwen3":
            {
                var model = new LlamaForCausalLM(config, options.BaseDtype);
                Place(model, options);
                model.LoadWeights(checkpoint);
                checkpoint.RequireAllUsed(name => model.Tied && name == "lm_head.weight");
                return model;
            }
            case "gpt2":
            {
                var model = new Gpt2LMHeadModel(config, options.BaseDtype);
                Place(model, options);
                model.LoadWeights(checkpoint);
                checkpoint.RequireAllUsed(name => name == "lm_head.weight"); // GPT-2 always ties it
                return model;
            }
            default: throw Unsupported(config, CausalLMTypes);
        }
    }

    /// <summary>A BERT or RoBERTa classifier (see <see cref="EncoderModels.LoadSequenceClassifier"/>).</summary>
    public static BertForSequenceClassification LoadSequenceClassifier(string directory, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        CheckDtype(options.BaseDtype);
        return EncoderModels.LoadSequenceClassifier(directory, options.Device, options.NumLabels, options.Pooling, options.HeadSeed,
            options.BaseDtype);
    }

    /// <summary>model_type, or when absent the family named by architectures[0] (e.g. "Qwen2ForCausalLM" → "qwen2").</summary>
    public static string ModelType(ModelConfig config)
    {
        if (config.ModelType != "") return config.ModelType;
        string arch = config.Architecture ?? "";
        foreach (var suffix in new[] { "ForCausalLM", "LMHeadModel", "ForSequenceClassification", "Model" })
            if (arch.EndsWith(suffix)) return arch[..^suffix.Length].ToLowerInvariant();
        return arch.ToLowerInvariant();
    }

    public static BlobException Unsupported(ModelConfig config, IEnumerable<string> supported)
    {
        string type = ModelType(config);
        return new BlobException($"{config.Path}: model_type '{(type == "" ? "(none)" : type)}'"
            + (config.Architecture is { } a ? $" ({a})" : "")
            + $" is not supported here; supported: {string.Join(", ", supported)}");
    }

    /// <summary>Moves the freshly built (zero) model to its device, frozen and in eval mode, before weights are copied in.</summary>
    static void Place(nn.Module model, LoadOptions options)
    {
        model.to(options.Device);
        foreach (var p in model.parameters()) p.requires_grad = false;
        model.eval();
    }

    static void CheckDtype(ScalarType dtype)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16))
            throw new ArgumentException($"BaseDtype must be Float32, BFloat16 or Float16, not {dtype}");
    }
}
