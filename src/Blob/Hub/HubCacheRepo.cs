using System.Text.RegularExpressions;
using Blob.Runtime;

namespace Blob.Hub;

/// <summary>
/// One model repository in the Hugging Face cache, laid out as huggingface_hub lays it out, so that either program
/// uses what the other downloaded:
/// <code>
/// models--OWNER--NAME/
///   refs/REVISION                the commit a branch or tag pointed to when it was last resolved
///   blobs/ETAG                   each file's bytes, named by the Hub's ETag (sha256 for LFS files, git sha1 otherwise)
///   blobs/ETAG.incomplete        a download under way, resumed from its length
///   snapshots/COMMIT/FILE        a relative symbolic link to ../../blobs/ETAG (a copy where links are refused)
///   .no_exist/COMMIT/FILE        an empty marker: the Hub has no such file at that commit
/// </code>
/// </summary>
public sealed partial class HubCacheRepo(string cacheRoot, HubRepoId id)
{
    public HubRepoId Id { get; } = id;
    public string Folder { get; } = Path.Combine(cacheRoot, id.CacheFolderName);

    public static bool IsCommitHash(string revision) => CommitHash().IsMatch(revision);

    /// <summary>The commit a revision names: itself when it is a commit hash, else what refs/REVISION holds (null: never resolved).</summary>
    public string? CommitOf(string revision)
    {
        if (IsCommitHash(revision)) return revision;
        string path = Path.Combine(Folder, "refs", revision);
        return File.Exists(path) && File.ReadAllText(path).Trim() is { } commit && IsCommitHash(commit) ? commit : null;
    }

    public void WriteRef(string revision, string commit)
    {
        if (!IsCommitHash(revision)) AtomicFile.WriteAllText(Path.Combine(Folder, "refs", revision), commit);
    }

    public string SnapshotFolder(string commit) => Path.Combine(Folder, "snapshots", commit);

    public string SnapshotFile(string commit, string file) => Path.Combine(SnapshotFolder(commit), file);

    /// <summary>True when the snapshot has the file and, if it is a link, the blob it points to.</summary>
    public bool Has(string commit, string file) => File.Exists(SnapshotFile(commit, file));

    public string BlobPath(string etag) => Path.Combine(Folder, "blobs", etag);

    public bool KnownAbsent(string commit, string file) => File.Exists(Path.Combine(Folder, ".no_exist", commit, file));

    public void MarkAbsent(string commit, string file) => AtomicFile.WriteAllText(Path.Combine(Folder, ".no_exist", commit, file), "");

    /// <summary>
    /// Makes snapshots/COMMIT/FILE point at blobs/ETAG: a relative symbolic link, made under a temporary name and
    /// renamed into place, or a copy on a file system without links.
    /// </summary>
    public void Link(string commit, string file, string etag)
    {
        string link = SnapshotFile(commit, file), blob = BlobPath(etag);
        string folder = Path.GetDirectoryName(link)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(link)}.{Guid.NewGuid():N}.tmp");
        try
        {
            try { File.CreateSymbolicLink(temp, Path.GetRelativePath(folder, blob)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                File.Copy(blob, temp);
            }
            File.Move(temp, link, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();
}
