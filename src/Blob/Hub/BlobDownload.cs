using System.Net;

namespace Blob.Hub;

/// <summary>
/// Fetches one file's bytes into the cache as huggingface_hub does: into blobs/ETAG.incomplete, continuing what is
/// already there with a Range request (left by an earlier run, or by a transfer interrupted a moment ago, which is
/// resumed up to <see cref="HubSettings.Retries"/> times), then checks its size and its hash against the ETag and
/// only then renames it to blobs/ETAG. Bytes that do not match are deleted, never kept.
/// </summary>
public sealed class BlobDownload(HubClient client, HubSettings settings, Action<DownloadProgress>? progress)
{
    const int BufferSize = 1 << 20;

    public void Fetch(HubFileInfo file, string blobPath)
    {
        string partial = blobPath + ".incomplete";
        Directory.CreateDirectory(Path.GetDirectoryName(blobPath)!);
        for (int attempt = 0; !File.Exists(blobPath); attempt++)
        {
            try
            {
                if (!File.Exists(partial) || Length(partial) != file.Size) Transfer(file, partial); // else complete, but unchecked
            }
            catch (Exception e) when (IsInterruption(e) && attempt < settings.Retries)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(4000, 250 << attempt)));
                continue;
            }
            catch (Exception e) when (IsInterruption(e))
            {
                throw new HubException($"{client.Id}: {file.File}: the transfer from {file.Location.GetLeftPart(UriPartial.Authority)} " +
                                       $"broke off {attempt + 1} times ({e.Message}); run again to resume from {Length(partial):N0} of {file.Size:N0} bytes", e);
            }
            Verify(file, partial);
            File.Move(partial, blobPath, overwrite: true);
        }
    }

    /// <summary>One GET: appends to the partial file from its length on (or starts it again where the server sends the whole file).</summary>
    void Transfer(HubFileInfo file, string partial)
    {
        long have = Length(partial);
        if (have > file.Size) { File.Delete(partial); have = 0; }
        using var response = client.Get(file, have);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable || !ContinuesAt(response, have))
        {
            File.Delete(partial); // nothing to resume from: the next attempt starts from the beginning
            if (have == 0) throw new HubException($"{client.Id}: {file.File}: HTTP {(int)response.StatusCode} for the whole file ({file.Location})");
            throw new IOException($"the server would not resume at byte {have:N0}");
        }
        if (response.StatusCode == HttpStatusCode.OK) have = 0; // the whole file, not the range: start again
        using var output = new FileStream(partial, have == 0 ? FileMode.Create : FileMode.Append, FileAccess.Write, FileShare.None, BufferSize);
        using var body = response.Content.ReadAsStream();
        var buffer = new byte[BufferSize];
        progress?.Invoke(new DownloadProgress(client.Id.ToString(), file.File, have, file.Size));
        for (int n; (n = Read(body, buffer)) > 0;)
        {
            if (have + n > file.Size)
            {
                output.Dispose();
                File.Delete(partial);
                throw new HubException($"{client.Id}: {file.File}: the server sent more than the {file.Size:N0} bytes the Hub announced");
            }
            output.Write(buffer, 0, n);
            have += n;
            progress?.Invoke(new DownloadProgress(client.Id.ToString(), file.File, have, file.Size));
        }
        output.Flush(flushToDisk: true);
        if (have < file.Size) throw new IOException($"the answer ended at byte {have:N0} of {file.Size:N0}");
    }

    /// <summary>A read that fails, instead of waiting for ever, when the server stays silent longer than the timeout.</summary>
    int Read(Stream body, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(settings.Timeout);
        return body.ReadAsync(buffer, timeout.Token).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>True for a full answer (200), or a partial one (206) that starts where the partial file ends.</summary>
    static bool ContinuesAt(HttpResponseMessage response, long have) =>
        response.StatusCode == HttpStatusCode.OK
        || (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == have);

    void Verify(HubFileInfo file, string partial)
    {
        long size = Length(partial);
        string? hash = size == file.Size ? ContentHash.Of(partial, file.Etag) : null;
        if (size == file.Size && (hash is null || hash == file.Etag)) return;
        File.Delete(partial);
        throw new HubException(size != file.Size
            ? $"{client.Id}: {file.File}: {size:N0} bytes arrived but the Hub announced {file.Size:N0}; the download was deleted"
            : $"{client.Id}: {file.File}: the bytes that arrived have {ContentHash.Name(file.Etag)} {hash}, but the Hub gave {file.Etag}; the download was deleted");
    }

    static bool IsInterruption(Exception e) => e is IOException or OperationCanceledException or HttpRequestException
        || e is HubException { InnerException: HttpRequestException or TaskCanceledException };

    static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;
}
