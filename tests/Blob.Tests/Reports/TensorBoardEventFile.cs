using Google.Protobuf;

namespace Blob.Tests.Reports;

/// <summary>
/// A reader of TensorBoard event files written independently of TorchSharp's writer, for the tests: TFRecord framing
/// (uint64 length, uint32 masked CRC-32C of the length's bytes, the data, uint32 masked CRC-32C of the data), every
/// CRC checked, and of each record's <c>Event</c> protobuf the fields a scalar needs (wall_time = 1, step = 2,
/// file_version = 3, summary = 5 → value = 1 → tag = 1, simple_value = 2).
/// </summary>
static class TensorBoardEventFile
{
    public sealed record Scalar(string Tag, long Step, float Value, double WallTime);

    public sealed record Contents(string? FileVersion, IReadOnlyList<Scalar> Scalars, int Records);

    public static Contents Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var scalars = new List<Scalar>();
        string? version = null;
        int at = 0, records = 0;
        while (at < bytes.Length)
        {
            Assert.True(at + 12 <= bytes.Length, $"{path}: a truncated record header at byte {at}");
            ulong length = BitConverter.ToUInt64(bytes, at);
            Assert.Equal(MaskedCrc(bytes.AsSpan(at, 8)), BitConverter.ToUInt32(bytes, at + 8));
            int data = at + 12;
            Assert.True(data + (long)length + 4 <= bytes.Length, $"{path}: a truncated record at byte {at}");
            var record = bytes.AsSpan(data, (int)length);
            Assert.Equal(MaskedCrc(record), BitConverter.ToUInt32(bytes, data + (int)length));
            var (v, s) = ParseEvent(record.ToArray());
            version ??= v;
            scalars.AddRange(s);
            at = data + (int)length + 4;
            records++;
        }
        return new Contents(version, scalars, records);
    }

    static (string? Version, List<Scalar> Scalars) ParseEvent(byte[] data)
    {
        var input = new CodedInputStream(data);
        double wallTime = 0;
        long step = 0;
        string? version = null;
        var values = new List<(string Tag, float Value)>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wallTime = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: version = input.ReadString(); break;
                case 5: values.AddRange(ParseSummary(input.ReadBytes().ToByteArray())); break;
                default: input.SkipLastField(); break;
            }
        }
        return (version, values.Select(v => new Scalar(v.Tag, step, v.Value, wallTime)).ToList());
    }

    static IEnumerable<(string, float)> ParseSummary(byte[] data)
    {
        var input = new CodedInputStream(data);
        var values = new List<(string, float)>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 1) { input.SkipLastField(); continue; }
            var value = new CodedInputStream(input.ReadBytes().ToByteArray());
            string name = "";
            float simple = float.NaN;
            uint t;
            while ((t = value.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(t))
                {
                    case 1: name = value.ReadString(); break;
                    case 2: simple = value.ReadFloat(); break;
                    default: value.SkipLastField(); break;
                }
            }
            values.Add((name, simple));
        }
        return values;
    }

    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1; // CRC-32C (Castagnoli), reflected
        return c;
    }).ToArray();

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    /// <summary>TFRecord's mask: rotate right by 15 bits and add 0xa282ead8.</summary>
    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
