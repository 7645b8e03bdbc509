using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Adapters;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>Loads BERT and RoBERTa sequence classifiers from a Hugging Face folder (config.json + model.safetensors).</summary>
public static class EncoderModels
{
    /// <summary>
    /// BertForSequenceClassification or RobertaForSequenceClassification from DIR. numLabels defaults to the
    /// config's (id2label, num_labels, else 2). A head missing from the checkpoint (or of another number of labels)
    /// is initialised fresh from seed and left trainable; every other parameter is frozen. Returned in eval mode.
    /// </summary>
    public static BertForSequenceClassification LoadSequenceClassifier(
        string dir, Device? device = null, int? numLabels = null, Pooling pooling = Pooling.Cls, long seed = 0)
    {
        var config = ModelConfig.Load(dir);
        if (config.ModelType is not ("bert" or "roberta"))
            throw new BlobException($"{config.Path}: model_type '{config.ModelType}' is not a BERT or RoBERTa encoder");
        var model = new BertForSequenceClassification(config, BertSettings.FromConfig(config), numLabels ?? NumLabels(config), pooling);

        string file = Path.Combine(Path.GetDirectoryName(config.Path)!, "model.safetensors");
        if (!File.Exists(file))
            throw new BlobException($"{file}: not found (only single-file safetensors checkpoints are read for encoders)");
        var weights = SafetensorsLite.Read(file);
        try { LoadWeights(model, weights, file, seed); }
        finally { foreach (var t in weights.Values) t.Dispose(); }

        model.eval();
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        return model;
    }

    static int NumLabels(ModelConfig config) =>
        config.Raw["id2label"] is JsonObject labels && labels.Count > 0 ? labels.Count : config.GetInt("num_labels", 2);

    /// <summary>
    /// Copies the checkpoint's tensors into the model by Hugging Face name (a bare encoder checkpoint, without the
    /// "bert."/"roberta." prefix, also fits). The head (classifier, pooler) may be absent: it is then initialised
    /// normal(0, 0.02) with zero biases from seed and made trainable. A missing encoder tensor is an error.
    /// </summary>
    internal static void LoadWeights(BertForSequenceClassification model, IReadOnlyDictionary<string, Tensor> weights,
        string source, long seed)
    {
        using var _ = no_grad();
        var fresh = new List<(string Name, Parameter P)>();
        foreach (var (name, p) in model.named_parameters())
        {
            var t = Find(weights, name);
            bool head = name.StartsWith("classifier.") || name.Contains(".pooler.");
            if (t is null || (head && !t.shape.SequenceEqual(p.shape)))
            {
                if (head) { fresh.Add((name, p)); continue; }
                throw new BlobException($"{source}: has no tensor '{name}' (or '{StripPrefix(name)}')");
            }
            if (!t.shape.SequenceEqual(p.shape))
                throw new BlobException($"{source}: '{name}' has shape [{string.Join(", ", t.shape)}], the config asks for [{string.Join(", ", p.shape)}]");
            p.copy_(t);
            p.requires_grad = false;
        }
        InitFresh(fresh, seed);
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

    static Tensor? Find(IReadOnlyDictionary<string, Tensor> weights, string name) =>
        weights.TryGetValue(name, out var t) ? t : weights.GetValueOrDefault(StripPrefix(name));

    static string StripPrefix(string name) =>
        name.StartsWith("bert.") ? name[5..] : name.StartsWith("roberta.") ? name[8..] : name;
}

/// <summary>
/// A minimal safetensors reader (8-byte little-endian header length, JSON header {name: {dtype, shape,
/// data_offsets}}, raw bytes), enough for the encoder checkpoints and fixtures. Returns float tensors as float32.
/// TODO(merge): replace with the shared Safetensors reader from the decoders branch.
/// </summary>
internal static class SafetensorsLite
{
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: not found");
        byte[] bytes = File.ReadAllBytes(path);
        var result = new Dictionary<string, Tensor>();
        try
        {
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            if (headerLength <= 0 || 8 + headerLength > bytes.Length) throw new FormatException("bad header length");
            var header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength)) as JsonObject ?? throw new FormatException("header is not an object");
            int dataStart = 8 + (int)headerLength;
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__") continue;
                string dtype = node!["dtype"]!.GetValue<string>();
                long[] shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray();
                int begin = dataStart + (int)offsets[0]!.GetValue<long>(), end = dataStart + (int)offsets[1]!.GetValue<long>();
                if (begin > end || end > bytes.Length) throw new FormatException($"'{name}' lies outside the file");
                result[name] = ToTensor(bytes.AsSpan(begin, end - begin), dtype, shape, name);
            }
            return result;
        }
        catch (Exception e) when (e is FormatException or JsonException or NullReferenceException or InvalidOperationException or ArgumentException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new BlobException($"{path}: not a readable safetensors file ({e.Message})", e);
        }
    }

    static Tensor ToTensor(ReadOnlySpan<byte> data, string dtype, long[] shape, string name)
    {
        switch (dtype)
        {
            case "F32": return tensor(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape);
            case "I64": return tensor(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape);
            case "I32": return tensor(MemoryMarshal.Cast<byte, int>(data).ToArray(), shape);
            case "F16":
                return tensor(MemoryMarshal.Cast<byte, Half>(data).ToArray().Select(h => (float)h).ToArray(), shape);
            case "BF16":
                var bits = MemoryMarshal.Cast<byte, ushort>(data);
                var f = new float[bits.Length];
                for (int i = 0; i < f.Length; i++) f[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                return tensor(f, shape);
            default: throw new FormatException($"'{name}' has dtype {dtype}, which is not read");
        }
    }
}
