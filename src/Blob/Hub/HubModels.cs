namespace Blob.Hub;

/// <summary>
/// Models by Hub id ("Qwen/Qwen2.5-0.5B"): the local Hugging Face cache first, so that a model Python transformers
/// already downloaded is used as it is and no network is touched; otherwise the files a run needs are downloaded
/// into the same cache (see <see cref="SnapshotDownload"/>), unless HF_HUB_OFFLINE forbids it.
/// </summary>
public static class HubModels
{
    public const string DefaultRevision = "main";

    /// <summary>The snapshot folder holding the model's files at the revision (a branch, tag or commit hash).</summary>
    public static string Resolve(HubRepoId id, string revision, HubSettings settings, Action<DownloadProgress>? progress = null)
    {
        if (!ModelFiles.IsRepositoryPath(revision)) throw new HubException($"{id}: revision '{revision}' is not a branch, tag or commit name");
        var cache = new HubCacheRepo(settings.CacheRoot, id);
        string? commit = cache.CommitOf(revision);
        var missing = commit is null ? ["the revision"] : ModelFiles.Missing(cache, commit);
        if (missing.Count == 0) return cache.SnapshotFolder(commit!);
        if (settings.Offline)
            throw new HubException($"{id}: {string.Join(", ", missing)} at '{revision}' not in the Hugging Face cache ({cache.Folder}), " +
                                   "and HF_HUB_OFFLINE forbids downloading");
        using var client = new HubClient(settings, id);
        return new SnapshotDownload(client, cache, new BlobDownload(client, settings, progress)).Run(revision);
    }
}
