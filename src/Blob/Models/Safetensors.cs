using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
        if (!File.Exists(path)) throw new BlobException($"{path}: no such safetensors file");
        long fileLength = new FileInfo(path).Length;
        if (fileLength < 8) throw new BlobException($"{path}: {fileLength} bytes is too short for a safetensors file (truncated?)");

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
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
                throw new BlobException($"{path}: the header says it is {headerLength} bytes long but the file has {fileLength} bytes (truncated, or not a safetensors file?)");
            file = new SafetensorsFile(path, map, view, start, 8 + (long)headerLength);
            file.ParseHeader(new ReadOnlySpan<byte>(start + 8, (int)headerLength), fileLength - 8 - (long)headerLength, fileLength);
            return file;
        }
        catch
        {
            if (file != null) file.Dispose();
            else { view.SafeMemoryMappedViewHandle.ReleasePointer(); view.Dispose(); map.Dispose(); }
            throw;
        }
    }

    void ParseHeader(ReadOnlySpan<byte> json, long dataLength, long fileLength)
    {
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(json)) as JsonObject
                ?? throw new BlobException($"{Path}: the safetensors header is not a JSON object");
        }
        catch (JsonException e) { throw new BlobException($"{Path}: the safetensors header is not valid JSON ({e.Message})"); }

        long dataStart = fileLength - dataLength;
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is JsonObject meta)
                    foreach (var (k, v) in meta) _metadata[k] = v?.ToString() ?? "";
                continue;
            }
            try
            {
                string dtype = node!["dtype"]!.GetValue<string>();
                long[] shape = node["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray();
                long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
                if (!IsKnownDtype(dtype))
                    throw new BlobException($"{Path}: tensor '{name}' has unknown dtype '{dtype}' (supported: {string.Join(", ", KnownDtypes)})");
                int elementSize = ElementSize(dtype, name);
                long expected = shape.Aggregate(1L, (a, b) => a * b) * elementSize;
                if (begin < 0 || end < begin || end - begin != expected)
                    throw new BlobException($"{Path}: tensor '{name}' has data_offsets [{begin}, {end}] but its shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes");
                if (end > dataLength)
                    throw new BlobException($"{Path}: tensor '{name}' needs bytes {dataStart + begin}..{dataStart + end} but the file has {fileLength} bytes (truncated?)");
                _entries[name] = new SafetensorsEntry(name, dtype, shape, begin, end);
            }
            catch (Exception e) when (e is not BlobException)
            {
                throw new BlobException($"{Path}: the header entry for '{name}' is malformed ({e.Message})");
            }
        }
    }

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
        using var _ = no_grad();
        if (!transpose && destination.device_type == DeviceType.CPU && destination.is_contiguous()
            && destination.dtype == ScalarTypeOf(e.Dtype, name))
        {
            CopyBytes(e, destination);
            return;
        }
        using var source = Read(name);
        if (transpose) { using var t = source.t(); destination.copy_(t); }
        else destination.copy_(source);
    }

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

/// <summary>The address of a CPU tensor's bytes (TorchSharp 0.107 has no public data_ptr).</summary>
static unsafe class NativeTensor
{
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    public static byte* Pointer(Tensor t)
    {
        if (t.device_type != DeviceType.CPU || !t.is_contiguous())
            throw new ArgumentException("expected a contiguous CPU tensor");
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero && t.NumberOfElements > 0) torch.CheckForErrors();
        return (byte*)p;
    }
}
