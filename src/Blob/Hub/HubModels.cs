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
        if (Cached(id, revision, settings) is { } folder) return folder;
        var cache = new HubCacheRepo(settings.CacheRoot, id);
        if (settings.Offline) throw NotCached(cache, revision);
        using var client = new HubClient(settings, id);
        return new SnapshotDownload(client, cache, new BlobDownload(client, settings, progress)).Run(revision);
    }

    /// <summary>The snapshot folder when the cache has everything a run reads at the revision, else null; never uses the network.</summary>
    public static string? Cached(HubRepoId id, string revision, HubSettings settings)
    {
        if (!ModelFiles.IsRepositoryPath(revision)) throw new HubException($"{id}: revision '{revision}' is not a branch, tag or commit name");
        var cache = new HubCacheRepo(settings.CacheRoot, id);
        return cache.CommitOf(revision) is { } commit && ModelFiles.Missing(cache, commit).Count == 0 ? cache.SnapshotFolder(commit) : null;
    }

    static HubException NotCached(HubCacheRepo cache, string revision)
    {
        string what = cache.CommitOf(revision) is { } commit
            ? $"the cached snapshot of '{revision}' lacks {string.Join(", ", ModelFiles.Missing(cache, commit))}"
            : $"'{revision}' is not in the Hugging Face cache";
        return new HubException($"{cache.Id}: {what} ({cache.Folder}), and HF_HUB_OFFLINE forbids downloading");
    }
}
