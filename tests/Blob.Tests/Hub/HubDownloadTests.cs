using Blob.Hub;
using Blob.Models;
using Blob.Tokenization;

namespace Blob.Tests.Hub;

/// <summary>
/// Models by Hub id, against <see cref="FakeHub"/> serving ../shared/fixtures: the cache layout huggingface_hub uses,
/// the cache before the network, resumed transfers, checked hashes, and the Hub's refusals in one clear message.
/// </summary>
public sealed class HubDownloadTests : IDisposable
{
    const string Stories = "fixtures/stories260k", Llama = "fixtures/llama";
    readonly string _cache = Path.Combine(Path.GetTempPath(), "blob-hub-" + Guid.NewGuid().ToString("N"));
    readonly FakeHub _hub = new();

    public void Dispose()
    {
        _hub.Dispose();
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    HubSettings Settings => new() { Endpoint = _hub.Endpoint, CacheRoot = _cache, Retries = 2, Timeout = TimeSpan.FromSeconds(10) };

    static HubRepoId Id(string text) => HubRepoId.TryParse(text, out var id) ? id : throw new ArgumentException(text);

    string Resolve(string id, string revision = "main", HubSettings? settings = null, List<DownloadProgress>? progress = null) =>
        HubModels.Resolve(Id(id), revision, settings ?? Settings, p => progress?.Add(p));

    string RepoFolder(string id) => Path.Combine(_cache, Id(id).CacheFolderName);

    [SharedFact(Stories)]
    public void DownloadsIntoTheCacheLayoutOfHuggingFaceHub()
    {
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        var progress = new List<DownloadProgress>();
        string snapshot = Resolve("test-org/stories", progress: progress);

        string commit = FakeHub.CommitOf("test-org/stories"), repo = RepoFolder("test-org/stories");
        Assert.Equal(Path.Combine(repo, "snapshots", commit), snapshot);
        Assert.Equal(commit, File.ReadAllText(Path.Combine(repo, "refs", "main")));
        foreach (var (file, lfs) in new[] { ("config.json", false), ("model.safetensors", true), ("tokenizer.model", true) })
        {
            var bytes = File.ReadAllBytes(Shared.PathOf($"{Stories}/{file}"));
            string etag = lfs ? FakeHub.Sha256(bytes) : FakeHub.GitSha1(bytes);
            var link = new FileInfo(Path.Combine(snapshot, file));
            Assert.Equal(Path.Combine("..", "..", "blobs", etag), link.LinkTarget);
            Assert.Equal(bytes, File.ReadAllBytes(link.FullName));
            Assert.Contains(progress, p => p.File == file && p.Done == bytes.Length && p.Total == bytes.Length);
        }
        // The files the model does not have are remembered as absent, as huggingface_hub does.
        Assert.True(File.Exists(Path.Combine(repo, ".no_exist", commit, "tokenizer.json")));
        Assert.False(File.Exists(Path.Combine(snapshot, "tokenizer.json")));
        Assert.Empty(Directory.GetFiles(Path.Combine(repo, "blobs"), "*.incomplete"));
        Assert.False(File.Exists(Path.Combine(snapshot, "reference.safetensors"))); // only what a run reads
        Assert.Equal(TokenizerLoader.Load(Shared.PathOf(Stories)).Encode("Once upon a time").Ids, TokenizerLoader.Load(snapshot).Encode("Once upon a time").Ids);
    }

    [SharedFact(Stories)]
    public void ACachedModelIsUsedWithoutTheNetwork()
    {
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        string first = Resolve("test-org/stories");
        int requests = _hub.Requests.Count;

        Assert.Equal(first, Resolve("test-org/stories"));
        Assert.Equal(requests, _hub.Requests.Count);
        var offline = Settings with { Endpoint = "http://127.0.0.1:1", Offline = true };
        Assert.Equal(first, Resolve("test-org/stories", settings: offline));
        Assert.Equal(first, Resolve("test-org/stories", FakeHub.CommitOf("test-org/stories"), offline));
    }

    /// <summary>A cache as Python's huggingface_hub leaves it (blobs, relative links, refs/main, no .no_exist markers) is read as it is.</summary>
    [SharedFact(Stories)]
    public void ACacheThatPythonWroteIsUsedAsItIs()
    {
        string commit = "0123456789abcdef0123456789abcdef01234567", repo = RepoFolder("someone/tiny-stories");
        foreach (var file in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.model" })
        {
            var bytes = File.ReadAllBytes(Shared.PathOf($"{Stories}/{file}"));
            string blob = Path.Combine(repo, "blobs", FakeHub.Sha256(bytes));
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            File.WriteAllBytes(blob, bytes);
            string link = Path.Combine(repo, "snapshots", commit, file);
            Directory.CreateDirectory(Path.GetDirectoryName(link)!);
            File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, blob));
        }
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), commit);

        string snapshot = Resolve("someone/tiny-stories", settings: Settings with { Endpoint = "http://127.0.0.1:1" });
        Assert.Equal(Path.Combine(repo, "snapshots", commit), snapshot);
        Assert.Empty(_hub.Requests);
        using var checkpoint = Checkpoint.Open(snapshot);
        Assert.Contains("model.embed_tokens.weight", checkpoint.Names);
    }

    [SharedFact(Llama)]
    public void EveryShardTheIndexNamesIsDownloaded()
    {
        _hub.Add("test-org/llama", Shared.PathOf(Llama));
        string snapshot = Resolve("test-org/llama");

        var shards = Checkpoint.ShardNames(Shared.PathOf($"{Llama}/{Checkpoint.IndexFile}"));
        Assert.Equal(6, shards.Count);
        foreach (var shard in shards)
            Assert.Equal(File.ReadAllBytes(Shared.PathOf($"{Llama}/{shard}")), File.ReadAllBytes(Path.Combine(snapshot, shard)));
        using (var downloaded = Checkpoint.Open(snapshot))
        using (var original = Checkpoint.Open(Shared.PathOf(Llama)))
            Assert.Equal(original.Names.Order(), downloaded.Names.Order());
        // This model has no tokenizer; the .no_exist markers say so, so the cache is complete and asks nothing more.
        int requests = _hub.Requests.Count;
        Resolve("test-org/llama");
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [SharedFact(Stories)]
    public void AnInterruptedTransferResumesWhereItBrokeOff()
    {
        var bytes = File.ReadAllBytes(Shared.PathOf($"{Stories}/model.safetensors"));
        long cut = bytes.Length / 3;
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        _hub.InterruptOnce("model.safetensors", cut);

        string snapshot = Resolve("test-org/stories");

        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        var transfers = _hub.Requests.Where(r => r.Method == "GET" && r.Path == $"/cdn/{FakeHub.Sha256(bytes)}").ToList();
        Assert.Equal(2, transfers.Count);
        Assert.Null(transfers[0].Range);
        Assert.Equal($"bytes={cut}-", transfers[1].Range);
    }

    [SharedFact(Stories)]
    public void APartialDownloadOfAnEarlierRunIsContinued()
    {
        var bytes = File.ReadAllBytes(Shared.PathOf($"{Stories}/model.safetensors"));
        string sha = FakeHub.Sha256(bytes), partial = Path.Combine(RepoFolder("test-org/stories"), "blobs", sha + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        File.WriteAllBytes(partial, bytes[..1000]);
        _hub.Add("test-org/stories", Shared.PathOf(Stories));

        string snapshot = Resolve("test-org/stories");

        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(snapshot, "model.safetensors")));
        var transfer = Assert.Single(_hub.Requests, r => r.Path == $"/cdn/{sha}");
        Assert.Equal("bytes=1000-", transfer.Range);
        Assert.False(File.Exists(partial));
    }

    [SharedFact(Stories)]
    public void DamagedBytesAreRefusedAndNotKept()
    {
        var bytes = File.ReadAllBytes(Shared.PathOf($"{Stories}/model.safetensors"));
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        _hub.Corrupt("model.safetensors");

        var e = Assert.Throws<HubException>(() => Resolve("test-org/stories"));

        Assert.Contains("test-org/stories: model.safetensors:", e.Message);
        Assert.Contains($"the Hub gave {FakeHub.Sha256(bytes)}", e.Message);
        Assert.Contains("sha256", e.Message);
        string repo = RepoFolder("test-org/stories"), commit = FakeHub.CommitOf("test-org/stories");
        Assert.False(File.Exists(Path.Combine(repo, "blobs", FakeHub.Sha256(bytes))));
        Assert.Empty(Directory.GetFiles(Path.Combine(repo, "blobs"), "*.incomplete"));
        Assert.False(File.Exists(Path.Combine(repo, "snapshots", commit, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(repo, "refs", "main"))); // not resolved until complete
    }

    [SharedFact(Stories)]
    public void AnUnknownModelIsA404NamingTheIdAndTheFile()
    {
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        var e = Assert.Throws<HubException>(() => Resolve("test-org/no-such-model"));
        Assert.StartsWith("test-org/no-such-model: config.json: HTTP 404 RepoNotFound:", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        var revision = Assert.Throws<HubException>(() => Resolve("test-org/stories", "v9"));
        Assert.StartsWith("test-org/stories: config.json: HTTP 404 RevisionNotFound:", revision.Message);
    }

    [SharedFact(Stories)]
    public void APrivateModelNeedsItsToken()
    {
        _hub.Add("test-org/private", Shared.PathOf(Stories), token: "hf_secret");

        var e = Assert.Throws<HubException>(() => Resolve("test-org/private"));
        Assert.StartsWith("test-org/private: config.json: HTTP 401", e.Message);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.False(Directory.Exists(Path.Combine(RepoFolder("test-org/private"), "snapshots")));

        var wrong = Assert.Throws<HubException>(() => Resolve("test-org/private", settings: Settings with { Token = "hf_wrong" }));
        Assert.Contains("HTTP 401", wrong.Message);
        Assert.Contains("may not read it", wrong.Message);

        string snapshot = Resolve("test-org/private", settings: Settings with { Token = "hf_secret" });
        Assert.True(File.Exists(Path.Combine(snapshot, "model.safetensors")));
        Assert.All(_hub.Requests.Where(r => r.Path.Contains("/resolve/")).TakeLast(3), r => Assert.Equal("Bearer hf_secret", r.Authorization));
    }

    [SharedFact(Stories)]
    public void ARenamedModelIsFollowedThroughTheHubsRedirect()
    {
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        _hub.Rename("old-org/stories", "test-org/stories");

        string snapshot = Resolve("old-org/stories");

        Assert.StartsWith(RepoFolder("old-org/stories"), snapshot); // cached under the name asked for, as huggingface_hub does
        Assert.True(File.Exists(Path.Combine(snapshot, "tokenizer.model")));
        Assert.Contains(_hub.Requests, r => r.Method == "HEAD" && r.Path.StartsWith("/test-org/stories/resolve/"));
    }

    [SharedFact(Stories)]
    public void ACommitRevisionIsFetchedAsItIsAndWritesNoRef()
    {
        _hub.Add("test-org/stories", Shared.PathOf(Stories));
        string commit = FakeHub.CommitOf("test-org/stories");

        string snapshot = Resolve("test-org/stories", commit);

        Assert.EndsWith(commit, snapshot);
        Assert.All(_hub.Requests.Where(r => r.Path.Contains("/resolve/")), r => Assert.Contains($"/resolve/{commit}/", r.Path));
        Assert.False(Directory.Exists(Path.Combine(RepoFolder("test-org/stories"), "refs")));
    }

    [Fact]
    public void OfflineWithoutTheModelSaysSoAndAsksNothing()
    {
        var e = Assert.Throws<HubException>(() => Resolve("test-org/stories", settings: Settings with { Offline = true }));
        Assert.Contains("test-org/stories", e.Message);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public void AnUnreachableHubIsNamed()
    {
        var e = Assert.Throws<HubException>(() => Resolve("test-org/stories", settings: Settings with { Endpoint = "http://127.0.0.1:1" }));
        Assert.StartsWith("test-org/stories: config.json: cannot reach http://127.0.0.1:1", e.Message);
    }
}
