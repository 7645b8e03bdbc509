using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>
/// The weights of a Hugging Face model folder: one model.safetensors, or shards listed by the weight_map of
/// model.safetensors.index.json. Shards are memory-mapped on first use and tensors copied one at a time.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    public string Directory { get; }
    /// <summary>The file that names the tensors: model.safetensors or the index; errors about absent tensors name it.</summary>
    public string ListingPath { get; }

    readonly Dictionary<string, string> _fileOf;   // tensor name -> path of the file holding it
    readonly Dictionary<string, SafetensorsFile> _open = new();

    Checkpoint(string directory, string listingPath, Dictionary<string, string> fileOf)
    {
        Directory = directory; ListingPath = listingPath; _fileOf = fileOf;
    }

    public static Checkpoint Open(string directory)
    {
        string index = Path.Combine(directory, IndexFile), single = Path.Combine(directory, SingleFile);
        if (File.Exists(index)) return OpenSharded(directory, index);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            var c = new Checkpoint(directory, single, file.Entries.Keys.ToDictionary(k => k, _ => single));
            c._open[single] = file;
            return c;
        }
        throw new BlobException($"{directory}: no {SingleFile} or {IndexFile} (only safetensors checkpoints are supported; "
            + "convert pytorch_model.bin with transformers' save_pretrained(safe_serialization=True))");
    }

    static Checkpoint OpenSharded(string directory, string index)
    {
        var fileOf = new Dictionary<string, string>();
        foreach (var (name, shard) in ReadWeightMap(index))
        {
            string path = Path.Combine(directory, shard);
            if (!File.Exists(path))
                throw new BlobException($"{index}: shard '{Path.GetFileName(path)}' (holding '{name}') is missing from {directory}");
            fileOf[name] = path;
        }
        return new Checkpoint(directory, index, fileOf);
    }

    /// <summary>The shard files an index names (its weight_map's values), each once, in the order they first appear.</summary>
    public static IReadOnlyList<string> ShardNames(string index) => ReadWeightMap(index).Select(e => e.Shard).Distinct().ToList();

    /// <summary>The index's weight_map: tensor name → shard file.</summary>
    static IEnumerable<(string Tensor, string Shard)> ReadWeightMap(string index)
    {
        JsonObject map;
        try
        {
            map = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject
                ?? throw new BlobException($"{index}: no \"weight_map\" object");
        }
        catch (JsonException e) { throw new BlobException($"{index}: not valid JSON ({e.Message})"); }
        return map.Select(entry => (entry.Key, entry.Value is JsonValue v && v.TryGetValue<string>(out var shard) ? shard
            : throw new BlobException($"{index}: the shard of '{entry.Key}' is not a file name")));
    }

    public IEnumerable<string> Names => _fileOf.Keys;

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The stored shape of a tensor.</summary>
    public long[] ShapeOf(string name) => FileHolding(name).Entry(name).Shape;

    /// <summary>Copies a stored tensor into a parameter (converting dtype, checking shape); see <see cref="SafetensorsFile.CopyTo"/>.</summary>
    public void CopyTo(string name, Tensor destination, bool transpose = false)
    {
        FileHolding(name).CopyTo(name, destination, transpose);
        _used.Add(name);
    }

    readonly HashSet<string> _used = [];

    /// <summary>
    /// Checks config.json against the stored shapes before the model is allocated, from the headers alone: each matrix
    /// size it gives (vocab_size, hidden_size, intermediate_size, GPT-2's n_embd and n_inner) must be a dimension of
    /// some stored tensor, and its layer count no more than the layers the tensor names number. A config that disagrees
    /// (hidden_size 1048576 over a 64-wide checkpoint) would otherwise allocate gigabytes before the first tensor is read.
    /// </summary>
    public void RequireSizesOf(ModelConfig config)
    {
        // a tensor the index names but its shard lacks is left to the load, which names it as the model asks for it
        var dimensions = Names.Where(n => FileHolding(n).Contains(n)).SelectMany(ShapeOf).ToHashSet();
        foreach (var key in new[] { "vocab_size", "hidden_size", "intermediate_size", "n_embd", "n_inner" })
            if (config.GetIntOrNull(key) is { } size && !dimensions.Contains(size))
                throw new BlobException($"{config.Path}: {key} is {size}, but no tensor in {ListingPath} has a dimension of that size; config and weights disagree");
        // "model.layers.11.mlp...", "h.11.attn...", "encoder.layer.11...": the first number in a name is its layer
        int stored = Names.Select(n => System.Text.RegularExpressions.Regex.Match(n, @"\.(\d+)\."))
            .Where(m => m.Success && int.TryParse(m.Groups[1].Value, out _)).Select(m => int.Parse(m.Groups[1].Value) + 1).DefaultIfEmpty(0).Max();
        foreach (var key in new[] { "num_hidden_layers", "n_layer" })
            if (config.GetIntOrNull(key) is { } layers && layers > stored)
                throw new BlobException($"{config.Path}: {key} is {layers}, but the tensors in {ListingPath} hold {stored} layers; config and weights disagree");
    }

    /// <summary>
    /// Refuses weights the model left unread (say, layers beyond config.json's num_hidden_layers): config and weights
    /// disagree, and the model would run without them. Buffers that transformers saves but recomputes
    /// (rotary inv_freq, GPT-2's attention masks) and, where <paramref name="alsoUnused"/> says so, a tied lm_head
    /// may be left.
    /// </summary>
    public void RequireAllUsed(Func<string, bool>? alsoUnused = null)
    {
        static bool Recomputed(string name) =>
            name.EndsWith(".rotary_emb.inv_freq") || name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias");
        if (Names.Where(n => !_used.Contains(n) && !Recomputed(n) && alsoUnused?.Invoke(n) != true).Order(StringComparer.Ordinal).FirstOrDefault() is { } unused)
            throw Unused(ListingPath, unused);
    }

    /// <summary>The one-line refusal of a stored tensor the model leaves unread, naming the file and the tensor.</summary>
    public static BlobException Unused(string source, string tensor) =>
        new($"{source}: tensor '{tensor}' is not used by the model its config describes " +
            "(a config with fewer layers, or other names, than its weights); refusing a model whose config and weights disagree");

    SafetensorsFile FileHolding(string name)
    {
        if (!_fileOf.TryGetValue(name, out var path)) throw new BlobException($"{ListingPath}: no tensor '{name}'");
        if (!_open.TryGetValue(path, out var file)) _open[path] = file = SafetensorsFile.Open(path);
        return file;
    }

    public void Dispose()
    {
        foreach (var f in _open.Values) f.Dispose();
        _open.Clear();
    }
}
