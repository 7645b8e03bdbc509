using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// The reader refuses what the safetensors format forbids (a header length that is off, gaps, overlaps, trailing bytes,
/// duplicate keys) with a one-line <see cref="BlobException"/>, and nothing a damaged file holds makes it throw anything else.
/// </summary>
public class SafetensorsValidationTests(ITestOutputHelper output) : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-st-check").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A file from its JSON header, space-padded, with the given header length (default: the true one) and data.</summary>
    string Write(string json, byte[] data, int padding = 0, long? headerLength = null, string name = "w.safetensors")
    {
        var header = Encoding.UTF8.GetBytes(json + new string(' ', padding));
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)(headerLength ?? header.Length)), .. header, .. data]);
        return path;
    }

    /// <summary>Opens the file and reads every tensor, as loading a model does.</summary>
    static void OpenAndReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var name in file.Entries.Keys) file.Read(name).Dispose();
    }

    BlobException Refused(string path)
    {
        var e = Assert.Throws<BlobException>(() => OpenAndReadAll(path));
        output.WriteLine(e.Message);
        Assert.Contains(Path.GetFileName(path), e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        return e;
    }

    const string TwoTensors = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[2],"data_offsets":[8,12]}}""";

    [Fact]
    public void ValidFilesLoadWithOrWithoutPadding()
    {
        byte[] data = [.. BitConverter.GetBytes(1.5f), .. BitConverter.GetBytes(-2f), 7, 0, 255, 255];
        foreach (int padding in new[] { 0, 4, 100 })
        {
            using var file = SafetensorsFile.Open(Write(TwoTensors, data, padding));
            using var a = file.Read("a");
            using var b = file.Read("b");
            Assert.Equal([1.5f, -2f], a.data<float>().ToArray());
            Assert.Equal([(short)7, (short)-1], b.data<short>().ToArray());
        }
    }

    [Fact]
    public void FileWithoutTensorsLoadsWhenItsDataSectionIsEmpty()
    {
        using (var file = SafetensorsFile.Open(Write("""{"__metadata__":{"format":"pt"}}""", [], padding: 3)))
        {
            Assert.Empty(file.Entries);
            Assert.Equal("pt", file.Metadata["format"]);
        }
        using (var file = SafetensorsFile.Open(Write("{}", []))) Assert.Empty(file.Entries);
        Assert.Contains("data section has 4 bytes", Refused(Write("{}", [1, 2, 3, 4])).Message);
    }

    [Fact]
    public void HeaderLengthFourBytesShortIsRefused()
    {
        // The JSON stays valid (the 4 bytes lost are padding), so only the tiling shows that every tensor would start
        // 4 bytes early: the data section is 4 bytes longer than the tensors.
        byte[] data = [.. Enumerable.Range(1, 12).Select(i => (byte)i)];
        int headerBytes = TwoTensors.Length + 8;
        var e = Refused(Write(TwoTensors, data, padding: 8, headerLength: headerBytes - 4));
        Assert.Contains("the tensors end at byte 12", e.Message);
        Assert.Contains("16 bytes", e.Message);
    }

    [Fact]
    public void SavedFileWithHeaderLengthFourBytesShortIsRefused()
    {
        // The same through our writer: pad its header with 4 more spaces so that a length 4 short still parses.
        string path = Path.Combine(_dir, "saved.safetensors");
        using (var scope = NewDisposeScope())
            Safetensors.Save(path, [new("x", arange(6, dtype: ScalarType.Float32).reshape(2, 3)), new("y", ones(3, dtype: ScalarType.Int64))]);
        var bytes = File.ReadAllBytes(path);
        int length = (int)BitConverter.ToUInt64(bytes, 0);
        var header = Encoding.UTF8.GetString(bytes, 8, length);
        var broken = Write(header + "    ", bytes[(8 + length)..], headerLength: length, name: "broken.safetensors");
        Assert.Contains("the tensors end at byte", Refused(broken).Message);
        OpenAndReadAll(path);   // the writer's own file tiles exactly

        // A repeated name would write one header entry but both tensors' bytes: the writer refuses it.
        using (var scope = NewDisposeScope())
            Assert.Throws<ArgumentException>(() => Safetensors.Save(path, [new("x", ones(2)), new("x", ones(3))]));
        OpenAndReadAll(path);   // and leaves the file as it was
    }

    [Fact]
    public void GapIsRefused()
    {
        var e = Refused(Write("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}""", new byte[16]));
        Assert.Contains("'b' starts at byte 12", e.Message);
        Assert.Contains("gap", e.Message);
        Assert.Contains("gap", Refused(Write("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12])).Message);
    }

    [Fact]
    public void OverlapIsRefused()
    {
        var e = Refused(Write("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]));
        Assert.Contains("'b' starts at byte 4", e.Message);
        Assert.Contains("overlap", e.Message);
        // Two views of the same bytes are an overlap too.
        Refused(Write("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]));
    }

    [Fact]
    public void EmptyTensorsMayShareAnOffset()
    {
        using var file = SafetensorsFile.Open(Write(
            """{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,4]},"c":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}""",
            new byte[6]));
        using var z = file.Read("z");
        Assert.Equal([0L, 3L], z.shape);
    }

    [Fact]
    public void DataSectionLongerThanTheTensorsIsRefused()
    {
        var e = Refused(Write(TwoTensors, new byte[20]));
        Assert.Contains("the tensors end at byte 12", e.Message);
        Assert.Contains("data section has 20 bytes", e.Message);
    }

    /// <summary>The format's metadata is a map of strings to strings: anything else is refused by name.</summary>
    [Fact]
    public void MalformedMetadataIsRefused()
    {
        Assert.Contains("__metadata__ is not a JSON object", Refused(Write("""{"__metadata__":[1]}""", [])).Message);
        Assert.Contains("__metadata__ 'format' is not a string", Refused(Write("""{"__metadata__":{"format":{"x":1}}}""", [])).Message);
        Assert.Contains("__metadata__ 'n' is not a string", Refused(Write("""{"__metadata__":{"n":3}}""", [])).Message);
    }

    [Fact]
    public void DuplicateKeysAreRefusedByName()
    {
        const string a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        Assert.Contains("'a'", Refused(Write($"{{{a},{a}}}", new byte[8])).Message);
        Assert.Contains("'dtype'", Refused(Write("""{"a":{"dtype":"F32","shape":[2],"dtype":"F32","data_offsets":[0,8]}}""", new byte[8])).Message);
        Assert.Contains("'k'", Refused(Write("""{"__metadata__":{"k":"v","k":"w"}}""", [])).Message);
    }

    [Theory]
    [InlineData("""[1, 2]""", 0)]
    [InlineData("""{"a":5}""", 0)]
    [InlineData("""{"a":{"shape":[2],"data_offsets":[0,8]}}""", 8)]
    [InlineData("""{"a":{"dtype":7,"shape":[2],"data_offsets":[0,8]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","data_offsets":[0,8]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1,-2],"data_offsets":[0,8]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}""", 0)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}""", 16)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775808]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}""", 8)]
    [InlineData("""{"a\nb":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}""", 8)]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}""", 8)]
    [InlineData("", 0)]
    public void MalformedHeaderIsRefusedOnOneLine(string json, int dataBytes) => Refused(Write(json, new byte[dataBytes]));

    [Fact]
    public void InvalidUtf8InTheHeaderIsRefused()
    {
        string path = Path.Combine(_dir, "utf8.safetensors");
        byte[] header = [.. Encoding.UTF8.GetBytes("{\"a"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}")];
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 9]);
        Assert.Contains("UTF-8", Refused(path).Message);
    }

    [SharedFact("fixtures")]
    public void EveryFixtureFilePassesTheChecks()
    {
        var files = Directory.GetFiles(Shared.PathOf("fixtures"), "*.safetensors", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var path in files) OpenAndReadAll(path);
    }

    // ---- fuzzing -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Thousands of damaged copies of a small valid file (fixed seed): each either loads as a well-formed file (tensors
    /// tile the data section, every one readable with the shape and dtype its header gives) or is refused with a
    /// one-line BlobException. Any other exception, or a load that breaks the format, fails the case.
    /// </summary>
    [Fact]
    public void DamagedFilesLoadCorrectlyOrAreRefusedOnOneLine()
    {
        const int Cases = 3000;
        string valid = Path.Combine(_dir, "valid.safetensors");
        using (var scope = NewDisposeScope())
            Safetensors.Save(valid,
            [
                new("embed.weight", arange(12, dtype: ScalarType.Float32).reshape(3, 4)),
                new("norm.bias", linspace(-1, 1, 5).to(ScalarType.BFloat16)),
                new("ids", tensor(new long[] { 1, -2, 300 })),
                new("mask", tensor(new[] { true, false, true, true })),
                new("half", ones(2, 2, dtype: ScalarType.Float16)),
                new("bytes", tensor(new byte[] { 0, 128, 255 })),
                new("scale", tensor(0.5, dtype: ScalarType.Float64)),
                new("none", zeros(0, 2, dtype: ScalarType.Int32)),
            ], new Dictionary<string, string> { ["format"] = "pt" });
        byte[] original = File.ReadAllBytes(valid);
        int headerLength = (int)BitConverter.ToUInt64(original, 0);
        OpenAndReadAll(valid);

        // Whole entries as they appear in the header, for mutations that repeat a key.
        using var json = JsonDocument.Parse(original.AsMemory(8, headerLength));
        var entries = json.RootElement.EnumerateObject().Select(p => $"{JsonSerializer.Serialize(p.Name)}:{p.Value.GetRawText()}").ToArray();

        var rng = new Random(15);
        string path = Path.Combine(_dir, "case.safetensors");
        var failures = new List<string>();
        int loaded = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (int i = 0; i < Cases; i++)
        {
            var (bytes, what) = Mutate(original, headerLength, entries, rng);
            File.WriteAllBytes(path, bytes);
            try
            {
                CheckLoadsAsWellFormed(path, bytes);
                loaded++;
            }
            catch (BlobException e) when (!e.Message.Contains('\n') && !e.Message.Contains('\r') && e.Message.Contains(path))
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({what}): {e.GetType().Name}: {e.Message}");
            }
        }
        clock.Stop();
        cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        output.WriteLine($"{Cases} cases in {clock.Elapsed.TotalSeconds:F2} s ({cpu.TotalSeconds:F2} s CPU): {loaded} loaded, {refused} refused, {failures.Count} failed");
        foreach (var f in failures.Take(20)) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases failed; the first: {failures.FirstOrDefault()}");
        Assert.True(loaded > 0 && refused > 0, $"{loaded} loaded, {refused} refused: the mutations should produce both");
    }

    /// <summary>Loads the file and checks it against the format itself, independently of the reader's own checks.</summary>
    static void CheckLoadsAsWellFormed(string path, byte[] bytes)
    {
        using var file = SafetensorsFile.Open(path);
        long dataLength = bytes.Length - 8 - (long)BitConverter.ToUInt64(bytes, 0);
        long position = 0;
        foreach (var e in file.Entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != position) throw new Exception($"loaded, but '{e.Name}' starts at {e.Begin} where the previous tensor ends at {position}");
            position = e.End;
            using var t = file.Read(e.Name);
            if (!t.shape.SequenceEqual(e.Shape) || t.dtype != file.ScalarTypeOf(e.Dtype, e.Name)
                || t.NumberOfElements * t.ElementSize != e.ByteCount)
                throw new Exception($"loaded, but '{e.Name}' reads as {t.dtype} [{string.Join(", ", t.shape)}] while the header says {e.Dtype} [{string.Join(", ", e.Shape)}], {e.ByteCount} bytes");
        }
        if (position != dataLength) throw new Exception($"loaded, but the tensors end at {position} of a {dataLength}-byte data section");
    }

    /// <summary>One to three random changes to the file: its length prefix, its header's bytes and digits, its size.</summary>
    static (byte[] Bytes, string What) Mutate(byte[] original, int headerLength, string[] entries, Random rng)
    {
        var bytes = new List<byte>(original);
        int headerEnd = 8 + headerLength;   // follows insertions and deletions in the header
        var what = new List<string>();
        ulong Length() => BitConverter.ToUInt64(bytes.GetRange(0, 8).ToArray());
        void SetLength(ulong length) { var b = BitConverter.GetBytes(length); for (int k = 0; k < 8; k++) bytes[k] = b[k]; }
        void Resize(int by, bool keepLength) { headerEnd += by; if (keepLength) SetLength((ulong)((long)Length() + by)); }

        int steps = rng.Next(1, 4);
        for (int s = 0; s < steps; s++)
        {
            int end = Math.Min(headerEnd, bytes.Count);
            bool hasLength = bytes.Count >= 8, hasHeader = hasLength && end > 8;
            int op = rng.Next(13);
            if (!hasLength && op < 11) op = 11;
            if (!hasHeader && op is >= 2 and < 10) op = 0;
            int at = hasHeader ? rng.Next(8, end) : 0;
            bool keep = rng.Next(2) == 0;
            switch (op)
            {
                case 0:
                    int bit = rng.Next(64);
                    SetLength(Length() ^ (1UL << bit));
                    what.Add($"length bit {bit} flipped");
                    break;
                case 1:
                    int delta = rng.Next(-12, 13);
                    SetLength((ulong)((long)Length() + delta));
                    what.Add($"length {delta:+0;-0}");
                    break;
                case 2:
                    bytes[at] = (byte)rng.Next(256);
                    what.Add($"header byte {at} = {bytes[at]}");
                    break;
                case 3:
                    const string JsonChars = "{}[],:\"0123456789-.eE \\ntf";
                    bytes[at] = (byte)JsonChars[rng.Next(JsonChars.Length)];
                    what.Add($"header byte {at} = '{(char)bytes[at]}'");
                    break;
                case 4 or 5 or 6:
                    var digits = Enumerable.Range(8, end - 8).Where(k => bytes[k] is >= (byte)'0' and <= (byte)'9').ToList();
                    if (digits.Count == 0) break;
                    at = digits[rng.Next(digits.Count)];
                    if (op == 4) { bytes[at] = (byte)('0' + rng.Next(10)); what.Add($"digit at {at} = {(char)bytes[at]}"); }
                    else
                    {
                        byte inserted = op == 5 ? (byte)'-' : (byte)('0' + rng.Next(10));
                        bytes.Insert(at, inserted);
                        Resize(1, keep);
                        what.Add($"'{(char)inserted}' inserted at {at}{(keep ? "" : ", length unchanged")}");
                    }
                    break;
                case 7:
                    bytes.RemoveAt(at);
                    Resize(-1, keep);
                    what.Add($"header byte {at} deleted{(keep ? "" : ", length unchanged")}");
                    break;
                case 8:
                    int count = rng.Next(1, Math.Min(40, end - at) + 1);
                    bytes.InsertRange(at, bytes.GetRange(at, count));
                    Resize(count, keep);
                    what.Add($"header bytes {at}..{at + count} repeated{(keep ? "" : ", length unchanged")}");
                    break;
                case 9:
                    var entry = Encoding.UTF8.GetBytes(entries[rng.Next(entries.Length)] + ",");
                    bytes.InsertRange(9, entry);   // just after the opening brace: a duplicate key
                    Resize(entry.Length, keepLength: true);
                    what.Add("an entry repeated");
                    break;
                case 10:
                    if (bytes.Count <= headerEnd) break;
                    int d = rng.Next(headerEnd, bytes.Count);
                    bytes[d] ^= (byte)(1 << rng.Next(8));
                    what.Add($"data byte {d} flipped");
                    break;
                case 11:
                    int size = rng.Next(0, bytes.Count);
                    bytes.RemoveRange(size, bytes.Count - size);
                    what.Add($"truncated to {size}");
                    break;
                default:
                    int extra = rng.Next(1, 17);
                    for (int k = 0; k < extra; k++) bytes.Add((byte)rng.Next(256));
                    what.Add($"{extra} bytes appended");
                    break;
            }
        }
        return (bytes.ToArray(), string.Join("; ", what));
    }
}
