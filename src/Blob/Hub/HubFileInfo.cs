namespace Blob.Hub;

/// <summary>
/// What the Hub says of one file at a revision (the headers of a HEAD on resolve/REVISION/FILE): the commit it
/// resolved to (X-Repo-Commit), the file's ETag (X-Linked-Etag for LFS files, else ETag), its size in bytes
/// (X-Linked-Size, else Content-Length) and where its bytes are (the redirect's Location, or the same address).
/// </summary>
public sealed record HubFileInfo(string File, string? Commit, string Etag, long Size, Uri Location);
