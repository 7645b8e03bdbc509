using Blob.Runtime;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>One tensor's entry in a safetensors header: dtype, shape and byte range within the data section.</summary>
public sealed record SafetensorsEntry(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
}

/// <summary>
/// A safetensors file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes. Tensors are copied out one at a time, so
/// loading a checkpoint never holds more than the model plus its largest tensor in memory.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    public string Path { get; }
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries => _entries;
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    readonly Dictionary<string, SafetensorsEntry> _entries = new();
    readonly Dictionary<string, string> _metadata = new();
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _data;   // start of the data section, just after the header
    bool _disposed;

    SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* start, long dataOffset)
    {
        Path = path; _map = map; _view = view; _data = start + dataOffset;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw Error(path, "no such safetensors file");
        // The length of what the path points to: a Hugging Face cache's snapshot holds symbolic links to its blobs, and
        // FileInfo.Length would give the link's own length.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            stream.Dispose();
            throw Error(path, $"{fileLength} bytes is too short for a safetensors file (truncated?)");
        }
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
        var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        start += view.PointerOffset;
        SafetensorsFile? file = null;
        try
        {
            ulong headerLength = *(ulong*)start;   // little-endian, as are all the machines .NET runs TorchSharp on
            if (headerLength > (ulong)(fileLength - 8))
                throw Error(path, $"the header says it is {headerLength} bytes long but the file has {fileLength} bytes (truncated, or not a safetensors file?)");
            if (headerLength > MaxHeaderLength)   // the reference implementation's limit; it also keeps the length an int
                throw Error(path, $"the header says it is {headerLength} bytes long, more than the {MaxHeaderLength} safetensors allows (not a safetensors file?)");
            file = new SafetensorsFile(path, map, view, start, 8 + (long)headerLength);
            file.ParseHeader(new ReadOnlySpan<byte>(start + 8, (int)headerLength), fileLength - 8 - (long)headerLength, fileLength);
            return file;
        }
        catch (Exception e)
        {
            if (file != null) file.Dispose();
            else { view.SafeMemoryMappedViewHandle.ReleasePointer(); view.Dispose(); map.Dispose(); }
            if (e is BlobException) throw;
            // Whatever else a malformed header makes the parsing throw is still the file's fault: one line naming it.
            throw Error(path, $"the safetensors header is malformed ({e.Message})", e);
        }
    }

    const int MaxHeaderLength = 100_000_000;

    /// <summary>
    /// Reads the header's entries and checks what the format requires, so that a damaged file is refused instead of
    /// loading as shifted or overlapping weights: each entry's byte count fits its dtype and shape, no key appears twice,
    /// and the entries in offset order tile the data section exactly (see <see cref="CheckTiling"/>).
    /// </summary>
    void ParseHeader(ReadOnlySpan<byte> json, long dataLength, long fileLength)
    {
        // Decoding would silently turn invalid bytes into U+FFFD, a tensor name that is not the file's.
        if (!Utf8.IsValid(json)) throw Error(Path, "the safetensors header is not valid UTF-8");
        // JsonDocument rather than JsonNode: it keeps duplicate keys for us to report by name (a JsonObject throws an
        // ArgumentException on them, on first access).
        JsonDocument document;
        try { document = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw Error(Path, $"the safetensors header is not valid JSON ({e.Message})"); }
        using (document)
        {
            var header = document.RootElement;
            if (header.ValueKind != JsonValueKind.Object) throw Error(Path, "the safetensors header is not a JSON object");
            foreach (var (name, node) in Properties(header, "the safetensors header"))
            {
                if (name == "__metadata__")
                {
                    // the format's metadata is a map of strings to strings (the reference reader refuses anything else)
                    if (node.ValueKind != JsonValueKind.Object) throw Error(Path, "__metadata__ is not a JSON object of strings");
                    foreach (var (k, v) in Properties(node, "__metadata__"))
                        _metadata[k] = v.ValueKind == JsonValueKind.String ? v.GetString()!
                            : throw Error(Path, $"__metadata__ '{k}' is not a string");
                    continue;
                }
                _entries[name] = ParseEntry(name, node, dataLength, fileLength);
            }
        }
        CheckTiling(dataLength);
    }

    SafetensorsEntry ParseEntry(string name, JsonElement node, long dataLength, long fileLength)
    {
        if (node.ValueKind != JsonValueKind.Object) throw Error(Path, $"the header entry for '{name}' is not a JSON object");
        var fields = Properties(node, $"the header entry for '{name}'").ToDictionary(p => p.Name, p => p.Value);
        string dtype = fields.GetValueOrDefault("dtype") is { ValueKind: JsonValueKind.String } d ? d.GetString()!
            : throw Error(Path, $"tensor '{name}' has no \"dtype\" string");
        if (!IsKnownDtype(dtype))
            throw Error(Path, $"tensor '{name}' has unknown dtype '{dtype}' (supported: {string.Join(", ", KnownDtypes)})");
        long[] shape = NonNegativeIntegers(fields, "shape", name);
        long[] offsets = NonNegativeIntegers(fields, "data_offsets", name);
        if (offsets.Length != 2) throw Error(Path, $"tensor '{name}' has {offsets.Length} data_offsets, not 2 (begin, end)");
        long begin = offsets[0], end = offsets[1];
        long expected;
        try { expected = shape.Aggregate((long)ElementSize(dtype, name), (a, b) => checked(a * b)); }
        catch (OverflowException) { throw Error(Path, $"tensor '{name}' has shape [{string.Join(", ", shape)}], too large for any file"); }
        if (end < begin || end - begin != expected)
            throw Error(Path, $"tensor '{name}' has data_offsets [{begin}, {end}] but its shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes");
        if (end > dataLength)
        {
            long dataStart = fileLength - dataLength;
            throw Error(Path, $"tensor '{name}' needs bytes {dataStart + begin}..{dataStart + end} but the file has {fileLength} bytes (truncated?)");
        }
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    /// <summary>
    /// The format requires the tensors, in offset order, to fill the data section exactly: the first at 0, each where the
    /// previous ends, the last at its end. A header length a few bytes off shows only here when the header's space
    /// padding absorbs the difference: the JSON still parses, but every tensor would be read a few bytes early or late.
    /// </summary>
    void CheckTiling(long dataLength)
    {
        long position = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in _entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))   // empty tensors may share an offset
        {
            if (e.Begin != position)
                throw Error(Path, previous is null
                    ? $"the first tensor, '{e.Name}', starts at byte {e.Begin} of the data section, not 0 (a gap)"
                    : $"tensor '{e.Name}' starts at byte {e.Begin} of the data section but the previous tensor, '{previous.Name}', ends at {position} " +
                      (e.Begin > position ? "(a gap)" : "(they overlap)"));
            position = e.End;
            previous = e;
        }
        if (position != dataLength)
            throw Error(Path, $"the tensors end at byte {position} but the data section has {dataLength} bytes " +
                              "(the header length may be wrong, or bytes were appended)");
    }

    /// <summary>An object's properties, refusing a key that appears twice (JSON allows it; safetensors does not).</summary>
    IEnumerable<(string Name, JsonElement Value)> Properties(JsonElement obj, string where)
    {
        var seen = new HashSet<string>();
        foreach (var p in obj.EnumerateObject())
        {
            if (!seen.Add(p.Name)) throw Error(Path, $"{where} has the key '{p.Name}' twice");
            yield return (p.Name, p.Value);
        }
    }

    long[] NonNegativeIntegers(Dictionary<string, JsonElement> fields, string field, string tensor)
    {
        var array = fields.GetValueOrDefault(field);
        if (array.ValueKind != JsonValueKind.Array
            || !array.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) && x >= 0))
            throw Error(Path, $"tensor '{tensor}' has no valid \"{field}\" (an array of non-negative integers)");
        return array.EnumerateArray().Select(v => v.GetInt64()).ToArray();
    }

    /// <summary>
    /// An error naming the file, on one line as the command-line tool prints it: tensor names are the file's own text
    /// and may hold escaped line breaks.
    /// </summary>
    static BlobException Error(string path, string problem, Exception? inner = null) =>
        new($"{path}: {problem}".ReplaceLineEndings(" "), inner);

    public bool Contains(string name) => _entries.ContainsKey(name);

    public SafetensorsEntry Entry(string name) => _entries.TryGetValue(name, out var e) ? e
        : throw new BlobException($"{Path}: no tensor '{name}'");

    /// <summary>A new CPU tensor with the stored dtype and shape, holding a copy of the stored bytes.</summary>
    public Tensor Read(string name)
    {
        var e = Entry(name);
        var t = empty(e.Shape, ScalarTypeOf(e.Dtype, name));
        CopyBytes(e, t);
        return t;
    }

    /// <summary>
    /// Copies the stored tensor into <paramref name="destination"/> (any dtype, any device), converting the dtype.
    /// With <paramref name="transpose"/>, the stored 2-D tensor is [in, out] and the destination [out, in] (GPT-2's Conv1D).
    /// A contiguous CPU destination of the stored dtype receives the bytes directly, without a temporary tensor.
    /// </summary>
    public void CopyTo(string name, Tensor destination, bool transpose = false)
    {
        var e = Entry(name);
        long[] expected = transpose ? destination.shape.Reverse().ToArray() : destination.shape;
        if (!e.Shape.SequenceEqual(expected))
            throw new BlobException($"{Path}: tensor '{name}' has shape [{string.Join(", ", e.Shape)}] but the model expects [{string.Join(", ", expected)}]");
        if (destination.is_floating_point() && !e.Dtype.StartsWith('F') && e.Dtype != "BF16")
            throw new BlobException($"{Path}: tensor '{name}' has dtype {e.Dtype}, but the model's weight is floating-point (F32, F16 or BF16)");
        using var _ = no_grad();
        if (!transpose && destination.device_type == DeviceType.CPU && destination.is_contiguous()
            && destination.dtype == ScalarTypeOf(e.Dtype, name))
            CopyBytes(e, destination);
        else
        {
            using var source = Read(name);
            if (transpose) { using var t = source.t(); destination.copy_(t); }
            else destination.copy_(source);
        }
        RequireFinite(name, destination);
    }

    /// <summary>
    /// No weight is NaN, infinite, or so large (above <see cref="Largest"/> in magnitude) that the first product
    /// overflows: such a model predicts NaN, which would be reported as a result. Two reductions, no copy.
    /// </summary>
    void RequireFinite(string name, Tensor weight)
    {
        if (!weight.is_floating_point() || weight.numel() == 0) return;
        using var max = weight.max();
        using var min = weight.min();
        double hi = max.to(ScalarType.Float64).item<double>(), lo = min.to(ScalarType.Float64).item<double>();
        if (!(hi <= Largest && lo >= -Largest)) // NaN fails both comparisons
            throw new BlobException($"{Path}: tensor '{name}' holds {(double.IsNaN(hi) || double.IsNaN(lo) ? "NaN" : double.IsInfinity(hi) || double.IsInfinity(lo) ? "an infinite value" : $"a value of magnitude {Math.Max(Math.Abs(hi), Math.Abs(lo)):G3}")}; a model's weights are finite and far below {Largest:G0}");
    }

    /// <summary>The largest weight magnitude accepted: no trained network comes near it, and products of such weights overflow float32.</summary>
    public const double Largest = 1e10;

    /// <summary>
    /// Copies an entry's bytes into a contiguous CPU tensor of its dtype, then tells the kernel this process no longer
    /// needs those pages of the mapping: they stay in the page cache but leave our resident set, so loading a
    /// checkpoint peaks at about the model's size rather than model plus file.
    /// </summary>
    void CopyBytes(SafetensorsEntry e, Tensor destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (e.ByteCount == 0) return;
        Buffer.MemoryCopy(_data + e.Begin, NativeTensor.Pointer(destination), e.ByteCount, e.ByteCount);
        if (OperatingSystem.IsLinux())
        {
            long page = Environment.SystemPageSize;
            long start = (long)(_data + e.Begin) & ~(page - 1), end = (long)(_data + e.End);
            madvise((IntPtr)start, (UIntPtr)(ulong)(end - start), MadvDontNeed);   // advice only: a failure changes nothing
        }
    }

    const int MadvDontNeed = 4;

    [DllImport("libc", SetLastError = true)]
    static extern int madvise(IntPtr address, UIntPtr length, int advice);

    static readonly string[] KnownDtypes = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"];

    static bool IsKnownDtype(string dtype) => KnownDtypes.Contains(dtype);

    public static int ElementSize(string dtype, string? tensor = null) => dtype switch
    {
        "F64" or "I64" or "U64" => 8,
        "F32" or "I32" or "U32" => 4,
        "F16" or "BF16" or "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new BlobException($"unknown safetensors dtype '{dtype}'{(tensor is null ? "" : $" of tensor '{tensor}'")} (supported: {string.Join(", ", KnownDtypes)})"),
    };

    public ScalarType ScalarTypeOf(string dtype, string tensor) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new BlobException($"{Path}: tensor '{tensor}' has dtype {dtype}, which TorchSharp cannot hold"),
    };

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}

/// <summary>Writes safetensors files (adapters, synthetic checkpoints) and reads small ones whole.</summary>
public static class Safetensors
{
    /// <summary>
    /// Writes the tensors in the given order, atomically: into a temporary file beside <paramref name="path"/>, then
    /// renamed over it, so a crash never leaves a half-written file under the real name.
    /// </summary>
    public static unsafe void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in list)
        {
            // A repeated name would keep one header entry but write the bytes twice: a file the reader refuses.
            if (name == "__metadata__" || header.ContainsKey(name))
                throw new ArgumentException($"the tensor name '{name}' is repeated or reserved");
            long bytes = t.NumberOfElements * t.ElementSize;
            header[name] = new JsonObject
            {
                ["dtype"] = DtypeName(t.dtype, name),
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;   // the data section starts 8-byte aligned, as the reference writer does
        var headerPadded = new byte[padded];
        Array.Fill(headerPadded, (byte)' ');
        headerBytes.CopyTo(headerPadded, 0);

        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(BitConverter.GetBytes((ulong)padded));
                stream.Write(headerPadded);
                foreach (var (_, t) in list)
                {
                    using var scope = NewDisposeScope();
                    var c = t.detach().cpu().contiguous();
                    byte* p = NativeTensor.Pointer(c);
                    long remaining = c.NumberOfElements * c.ElementSize;
                    while (remaining > 0)
                    {
                        int chunk = (int)Math.Min(remaining, 1 << 30);
                        stream.Write(new ReadOnlySpan<byte>(p, chunk));
                        p += chunk; remaining -= chunk;
                    }
                }
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>Reads every tensor of a (small) file into CPU tensors with their stored dtypes.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Entries.Keys.ToDictionary(k => k, file.Read);
    }

    static string DtypeName(ScalarType t, string name) => t switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"tensor '{name}' has dtype {t}, which safetensors cannot store"),
    };
}
