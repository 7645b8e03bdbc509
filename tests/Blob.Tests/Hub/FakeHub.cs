using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Blob.Tests.Hub;

/// <summary>
/// A stand-in for the Hugging Face Hub on 127.0.0.1 (a port of its own, for the life of a test), serving folders in
/// the Hub's URL layout, with the Hub's headers:
/// - HEAD/GET /OWNER/NAME/resolve/REVISION/FILE: files kept in git answer 200 with their git blob sha1 as ETag;
///   LFS files (*.safetensors, tokenizer.model) answer 302 to /cdn/SHA256 (an absolute address, as the Hub's CDN
///   is) with X-Linked-Etag and X-Linked-Size; every answer carries X-Repo-Commit;
/// - /cdn/SHA256: the bytes, with Range requests answered 206;
/// - refusals as the Hub words them: 404 with X-Error-Code RepoNotFound, RevisionNotFound or EntryNotFound, 401 for
///   a private model without its token, 307 with a relative Location for a renamed model.
/// Tests can make a transfer break off once, or serve damaged bytes, and read the requests it saw.
/// </summary>
public sealed class FakeHub : IDisposable
{
    public sealed record Request(string Method, string Path, string? Range, string? Authorization);
    sealed record Repo(string Folder, string Commit, string? Token);

    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<string, Repo> _repos = new();
    readonly ConcurrentDictionary<string, string> _renamed = new();
    readonly ConcurrentDictionary<string, (byte[] Bytes, string File)> _lfs = new();   // sha256 -> bytes and file name
    readonly ConcurrentDictionary<string, long> _interruptAt = new();   // file name -> bytes sent before breaking off, once
    readonly ConcurrentDictionary<string, bool> _corrupt = new();       // file names served with one byte changed
    readonly ConcurrentQueue<Request> _requests = new();
    readonly Task _loop;

    public FakeHub()
    {
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    public IReadOnlyList<Request> Requests => [.. _requests];

    /// <summary>Serves a folder's files as the model ID at the commit <see cref="CommitOf"/> gives; with a token, as a private model.</summary>
    public void Add(string id, string folder, string? token = null)
    {
        _repos[id] = new Repo(folder, CommitOf(id), token);
        foreach (var path in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(IsLfs))
        {
            var bytes = File.ReadAllBytes(path);
            _lfs[Sha256(bytes)] = (bytes, Path.GetRelativePath(folder, path));
        }
    }

    /// <summary>Requests for oldId are redirected (relatively, as the Hub does for a renamed model) to newId.</summary>
    public void Rename(string oldId, string newId) => _renamed[oldId] = newId;

    /// <summary>The first transfer of the file from byte 0 stops after <paramref name="bytes"/> bytes and the connection closes.</summary>
    public void InterruptOnce(string file, long bytes) => _interruptAt[file] = bytes;

    /// <summary>The file's bytes are served with one byte changed (its size and ETag stay those of the real file).</summary>
    public void Corrupt(string file) => _corrupt[file] = true;

    public static string CommitOf(string id) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes("commit of " + id)));

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string GitSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));

    static bool IsLfs(string path) => path.EndsWith(".safetensors") || Path.GetFileName(path) == "tokenizer.model";

    async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => Handle(client));
        }
    }

    void Handle(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var (method, path, headers) = ReadRequest(stream);
                headers.TryGetValue("range", out var range);
                headers.TryGetValue("authorization", out var authorization);
                _requests.Enqueue(new Request(method, path, range, authorization));
                Respond(stream, method, Uri.UnescapeDataString(path.Split('?')[0]), range, authorization);
            }
            catch (IOException) { } // the client went away
        }
    }

    void Respond(Stream stream, string method, string path, string? range, string? authorization)
    {
        var parts = path.TrimStart('/').Split('/');
        if (parts.Length == 2 && parts[0] == "cdn" && _lfs.TryGetValue(parts[1], out var blob))
        {
            ServeBytes(stream, method, blob.Bytes, range, blob.File, headers: []);
            return;
        }
        if (parts.Length < 5 || parts[2] != "resolve") { Status(stream, 404, "Not Found", []); return; }
        string id = $"{parts[0]}/{parts[1]}", revision = parts[3], file = string.Join("/", parts[4..]);
        if (_renamed.TryGetValue(id, out var newId))
        {
            Status(stream, 307, "Temporary Redirect", [("Location", $"/{newId}/resolve/{Uri.EscapeDataString(revision)}/{file}")]);
            return;
        }
        if (!_repos.TryGetValue(id, out var repo)) { Status(stream, 404, "Not Found", [("X-Error-Code", "RepoNotFound")]); return; }
        if (repo.Token is { } token && authorization != $"Bearer {token}")
        {
            Status(stream, 401, "Unauthorized", [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", "Invalid username or password.")]);
            return;
        }
        if (revision != "main" && revision != repo.Commit) { Status(stream, 404, "Not Found", [("X-Error-Code", "RevisionNotFound")]); return; }
        var commit = ("X-Repo-Commit", repo.Commit);
        string local = Path.Combine(repo.Folder, file);
        if (file.Split('/').Contains("..") || !File.Exists(local)) { Status(stream, 404, "Not Found", [("X-Error-Code", "EntryNotFound"), commit]); return; }

        var bytes = File.ReadAllBytes(local);
        if (IsLfs(local))
        {
            string sha = Sha256(bytes);
            Status(stream, 302, "Found", [("Location", $"{Endpoint}/cdn/{sha}"), ("X-Linked-Etag", $"\"{sha}\""),
                ("X-Linked-Size", bytes.Length.ToString()), ("ETag", $"\"{GitSha1(bytes)}\""), commit]);
            return;
        }
        ServeBytes(stream, method, bytes, range, file, [("ETag", $"\"{GitSha1(bytes)}\""), commit]);
    }

    /// <summary>200 with the bytes, or 206 with those from the range's start; a break-off or damage where the test asked for it.</summary>
    void ServeBytes(Stream stream, string method, byte[] bytes, string? range, string file, (string, string)[] headers)
    {
        long from = range is { } r && r.StartsWith("bytes=") ? long.Parse(r[6..].Split('-')[0]) : 0;
        if (from >= bytes.Length && bytes.Length > 0) { Status(stream, 416, "Range Not Satisfiable", [.. headers, ("Content-Range", $"bytes */{bytes.Length}")]); return; }
        var body = bytes[(int)from..];
        if (_corrupt.ContainsKey(file) && body.Length > 0) { body = [.. body]; body[body.Length / 2] ^= 0xFF; }
        (string, string)[] extra = from > 0 ? [("Content-Range", $"bytes {from}-{bytes.Length - 1}/{bytes.Length}")] : [];
        WriteHead(stream, from > 0 ? 206 : 200, from > 0 ? "Partial Content" : "OK", [.. headers, .. extra], body.Length);
        if (method == "HEAD") return;
        if (from == 0 && _interruptAt.TryRemove(file, out var cut))
        {
            stream.Write(body, 0, (int)cut);
            stream.Flush();
            return; // the connection closes with the body unfinished
        }
        stream.Write(body);
    }

    static void Status(Stream stream, int code, string reason, (string, string)[] headers) => WriteHead(stream, code, reason, headers, 0);

    static void WriteHead(Stream stream, int code, string reason, (string Name, string Value)[] headers, long length)
    {
        var head = new StringBuilder($"HTTP/1.1 {code} {reason}\r\n");
        foreach (var (name, value) in headers) head.Append($"{name}: {value}\r\n");
        head.Append($"Content-Length: {length}\r\nConnection: close\r\n\r\n");
        stream.Write(Encoding.ASCII.GetBytes(head.ToString()));
    }

    /// <summary>The request line and headers (names lower-cased); these requests have no body.</summary>
    static (string Method, string Path, Dictionary<string, string> Headers) ReadRequest(Stream stream)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        for (int b; (b = stream.ReadByte()) >= 0;)
        {
            if (b == '\n')
            {
                string text = line.ToString().TrimEnd('\r');
                if (text.Length == 0) break;
                lines.Add(text);
                line.Clear();
            }
            else line.Append((char)b);
        }
        if (lines.Count == 0) throw new IOException("empty request");
        var first = lines[0].Split(' ');
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        return (first[0], first[1], headers);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
