using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>
/// Loads BERT and RoBERTa sequence classifiers from a Hugging Face folder (config.json + model.safetensors, or shards
/// listed by model.safetensors.index.json), memory-mapped and copied tensor by tensor like the decoders.
/// </summary>
public static class EncoderModels
{
    public static readonly string[] Types = ["bert", "roberta"];

    /// <summary>
    /// BertForSequenceClassification or RobertaForSequenceClassification from DIR. numLabels defaults to the
    /// config's (id2label, num_labels, else 2). A head missing from the checkpoint (or of another number of labels)
    /// is initialised fresh from seed and left trainable; every other parameter is frozen. Returned in eval mode.
    /// baseDtype: see <see cref="BertModel"/> (BFloat16 for bf16 precision).
    /// </summary>
    public static BertForSequenceClassification LoadSequenceClassifier(
        string dir, Device? device = null, int? numLabels = null, Pooling pooling = Pooling.Cls, long seed = 0,
        ScalarType baseDtype = ScalarType.Float32)
    {
        var config = ModelConfig.Load(dir);
        if (!Types.Contains(PretrainedModels.ModelType(config))) throw PretrainedModels.Unsupported(config, Types);
        using var checkpoint = Checkpoint.Open(Path.GetDirectoryName(config.Path)!);
        checkpoint.RequireSizesOf(config);   // before the model is allocated
        var model = new BertForSequenceClassification(config, BertSettings.FromConfig(config), numLabels ?? NumLabels(config), pooling, baseDtype);
        LoadWeights(model, checkpoint, seed);
        model.eval();
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        return model;
    }

    /// <summary>
    /// BertForMultipleChoice or RobertaForMultipleChoice from DIR: the encoder with its pooler and a one-output
    /// classifier, which a multiple-choice checkpoint supplies (classifier.weight [1, hidden]); a checkpoint without one
    /// (or with another head) gets a fresh, trainable head from seed, and a missing pooler is fresh too. Every other
    /// parameter is frozen. Returned in eval mode.
    /// </summary>
    public static BertForMultipleChoice LoadMultipleChoice(
        string dir, Device? device = null, Pooling pooling = Pooling.Cls, long seed = 0, ScalarType baseDtype = ScalarType.Float32)
    {
        var config = ModelConfig.Load(dir);
        if (!Types.Contains(PretrainedModels.ModelType(config))) throw PretrainedModels.Unsupported(config, Types);
        using var checkpoint = Checkpoint.Open(Path.GetDirectoryName(config.Path)!);
        checkpoint.RequireSizesOf(config);   // before the model is allocated
        var model = new BertForMultipleChoice(config, BertSettings.FromConfig(config), pooling, baseDtype);
        LoadWeights(model, checkpoint, seed);
        model.eval();
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        return model;
    }

    static int NumLabels(ModelConfig config) =>
        config.Raw["id2label"] is JsonObject labels && labels.Count > 0 ? labels.Count : config.GetInt("num_labels", 2);

    /// <summary>
    /// Copies the checkpoint's tensors into the model by Hugging Face name (a bare encoder checkpoint, without the
    /// "bert."/"roberta." prefix, also fits). The head (classifier, pooler) may be absent: it is then initialised
    /// normal(0, 0.02) with zero biases from seed and made trainable. A missing encoder tensor is an error, and so is a
    /// stored tensor the model leaves unread, unless <see cref="LeftUnread"/> allows it.
    /// </summary>
    internal static void LoadWeights(nn.Module model, Checkpoint checkpoint, long seed) =>
        LoadWeights(model, checkpoint.Names, name => checkpoint.Contains(name) ? checkpoint.ShapeOf(name) : null,
            (name, p) => checkpoint.CopyTo(name, p), checkpoint.ListingPath, seed);

    /// <summary>The same from tensors in memory (MiniLM's ONNX initializers).</summary>
    internal static void LoadWeights(nn.Module model, IReadOnlyDictionary<string, Tensor> weights,
        string source, long seed) =>
        LoadWeights(model, weights.Keys, name => weights.TryGetValue(name, out var t) ? t.shape : null,
            (name, p) => { using var _ = no_grad(); p.copy_(weights[name]); }, source, seed);

    /// <summary>
    /// names: every tensor the source holds; shapeOf(name) is null where it has no such tensor; copy(name, p) copies
    /// it into p. The first unread tensor (in ordinal order) that is not <see cref="LeftUnread"/> is refused.
    /// </summary>
    static void LoadWeights(nn.Module model, IEnumerable<string> names, Func<string, long[]?> shapeOf, Action<string, Parameter> copy,
        string source, long seed)
    {
        using var _ = no_grad();
        var fresh = new List<(string Name, Parameter P)>();
        var used = new HashSet<string>();
        foreach (var (name, p) in model.named_parameters())
        {
            string key = shapeOf(name) is null && shapeOf(StripPrefix(name)) is not null ? StripPrefix(name) : name;
            long[]? shape = shapeOf(key);
            bool head = name.StartsWith("classifier.") || name.Contains(".pooler.");
            if (shape is null || (head && !shape.SequenceEqual(p.shape)))
            {
                if (head) { fresh.Add((name, p)); continue; }
                throw new BlobException($"{source}: has no tensor '{name}' (or '{StripPrefix(name)}')");
            }
            if (!shape.SequenceEqual(p.shape))
                throw new BlobException($"{source}: '{key}' has shape [{string.Join(", ", shape)}], the config asks for [{string.Join(", ", p.shape)}]");
            copy(key, p);
            used.Add(key);
            p.requires_grad = false;
        }
        if (names.Where(n => !used.Contains(n) && !LeftUnread(n)).Order(StringComparer.Ordinal).FirstOrDefault() is { } unused)
            throw Checkpoint.Unused(source, unused);
        InitFresh(fresh, seed);
    }

    /// <summary>
    /// Tensors that real Hugging Face encoder checkpoints hold and these models may leave unread: the buffers
    /// embeddings.position_ids and embeddings.token_type_ids (recomputed here); the pretraining heads, BERT's cls.*
    /// (masked LM, next sentence) and RoBERTa's lm_head.*; and a head the model lacks or replaces, pooler.* (RoBERTa's
    /// sequence classifier has no pooler) and classifier.* (of another number of labels, or another kind, initialised
    /// fresh). Anything else unread means config and weights disagree (say, more layers stored than configured).
    /// </summary>
    internal static bool LeftUnread(string name)
    {
        string bare = StripPrefix(name);
        return bare is "embeddings.position_ids" or "embeddings.token_type_ids"
            || name.StartsWith("cls.") || name.StartsWith("lm_head.")
            || bare.StartsWith("pooler.") || name.StartsWith("classifier.");
    }

    /// <summary>normal(0, 0.02) weights and zero biases (Hugging Face's initializer_range), from a seeded generator.</summary>
    internal static void InitFresh(IEnumerable<(string Name, Parameter P)> parameters, long seed)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed);
        foreach (var (name, p) in parameters)
        {
            if (name.EndsWith("bias")) p.zero_();
            else
            {
                using var r = randn(p.shape, generator: generator);
                p.copy_(r.mul_(0.02));
            }
            p.requires_grad = true;
        }
    }

    static string StripPrefix(string name) =>
        name.StartsWith("bert.") ? name[5..] : name.StartsWith("roberta.") ? name[8..] : name;
}
