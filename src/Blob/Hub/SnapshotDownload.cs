using Blob.Models;

namespace Blob.Hub;

/// <summary>
/// Fills a cache snapshot with what a run reads (<see cref="ModelFiles"/>): each file's metadata by HEAD, its bytes
/// by <see cref="BlobDownload"/> unless the blob is cached already, then the snapshot's link to it. The first file
/// resolves the revision to a commit, and every later request asks for that commit, so that a branch that moves
/// during the download cannot mix two versions. Files the Hub does not have are marked in .no_exist.
/// </summary>
public sealed class SnapshotDownload(HubClient client, HubCacheRepo cache, BlobDownload blobs)
{
    /// <summary>Downloads what the snapshot lacks and returns its folder.</summary>
    public string Run(string revision)
    {
        string commit = cache.CommitOf(revision) ?? ResolveWithConfig(revision);
        Require(ModelFiles.Config, commit);
        FetchWeights(commit);
        foreach (var file in ModelFiles.Tokenizer) Fetch(file, commit);
        cache.WriteRef(revision, commit);
        return cache.SnapshotFolder(commit);
    }

    /// <summary>Fetches config.json at a branch or tag and returns the commit the Hub resolved it to.</summary>
    string ResolveWithConfig(string revision)
    {
        var config = Head(ModelFiles.Config, revision);
        string commit = config.Commit is { } c && HubCacheRepo.IsCommitHash(c) ? c
            : throw new HubException($"{client.Id}: {ModelFiles.Config}: the Hub did not say which commit '{revision}' is " +
                                     "(no X-Repo-Commit header); give --revision a commit hash");
        Store(config, commit);
        return commit;
    }

    void FetchWeights(string commit)
    {
        if (Fetch(Checkpoint.IndexFile, commit))
        {
            foreach (var shard in Checkpoint.ShardNames(cache.SnapshotFile(commit, Checkpoint.IndexFile)))
            {
                if (!ModelFiles.IsRepositoryPath(shard))
                    throw new HubException($"{client.Id}: {Checkpoint.IndexFile} names the shard '{shard}', which is not a file of the model");
                Require(shard, commit);
            }
        }
        else if (!Fetch(Checkpoint.SingleFile, commit))
            throw new HubException($"{client.Id}: neither {Checkpoint.SingleFile} nor {Checkpoint.IndexFile} is on the Hub (HTTP 404) " +
                                   $"at commit {commit}; only safetensors checkpoints are supported");
    }

    /// <summary>A file the model must have, fetched unless the snapshot has it.</summary>
    void Require(string file, string commit)
    {
        if (!cache.Has(commit, file)) Store(Head(file, commit), commit);
    }

    /// <summary>A file the model may have: true when the snapshot has it now, false when the Hub has not (marked absent).</summary>
    bool Fetch(string file, string commit)
    {
        if (cache.Has(commit, file)) return true;
        if (cache.KnownAbsent(commit, file)) return false;
        if (client.Head(file, commit) is not { } info)
        {
            cache.MarkAbsent(commit, file);
            return false;
        }
        Store(info, commit);
        return true;
    }

    HubFileInfo Head(string file, string revision) => client.Head(file, revision)
        ?? throw new HubException($"{client.Id}: {file}: HTTP 404: " +
                                  (file == ModelFiles.Config ? "no such model, or it has no config.json" : "the model has no such file") +
                                  $" at '{revision}' ({client.ResolveUrl(file, revision)})");

    void Store(HubFileInfo info, string commit)
    {
        string blob = cache.BlobPath(info.Etag);
        if (!File.Exists(blob)) blobs.Fetch(info, blob);
        cache.Link(commit, info.File, info.Etag);
    }
}
