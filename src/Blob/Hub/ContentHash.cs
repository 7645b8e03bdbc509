using System.Security.Cryptography;
using System.Text;

namespace Blob.Hub;

/// <summary>
/// Checks a downloaded file against the ETag the Hub gave for it: an LFS file's ETag is the sha256 of its bytes
/// (64 hex digits), a file kept in git has its git blob id, the sha1 of "blob SIZE\0" followed by the bytes
/// (40 hex digits). Other ETags (a mirror's own) cannot be checked; the size still is.
/// </summary>
public static class ContentHash
{
    public enum Kind { Sha256, GitSha1, Unknown }

    public static Kind KindOf(string etag) => etag.Length switch
    {
        64 when IsHex(etag) => Kind.Sha256,
        40 when IsHex(etag) => Kind.GitSha1,
        _ => Kind.Unknown,
    };

    /// <summary>The file's hash of the ETag's kind, lower-case hex; null for an ETag that is not a hash.</summary>
    public static string? Of(string path, string etag)
    {
        var kind = KindOf(etag);
        if (kind == Kind.Unknown) return null;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        if (kind == Kind.Sha256) return Convert.ToHexStringLower(SHA256.HashData(stream));
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {stream.Length}\0"));
        var buffer = new byte[1 << 20];
        for (int n; (n = stream.Read(buffer)) > 0;) sha1.AppendData(buffer, 0, n);
        return Convert.ToHexStringLower(sha1.GetHashAndReset());
    }

    /// <summary>The hash name the ETag's kind has, for messages.</summary>
    public static string Name(string etag) => KindOf(etag) == Kind.Sha256 ? "sha256" : "git sha1";

    static bool IsHex(string s) => s.All(char.IsAsciiHexDigitLower);
}
