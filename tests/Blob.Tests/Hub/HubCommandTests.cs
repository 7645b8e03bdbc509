using Blob.Tests.Cli;

namespace Blob.Tests.Hub;

/// <summary>
/// `--model owner/name` on the real command line, in a child process whose environment points HF_ENDPOINT at
/// <see cref="FakeHub"/> and HF_HUB_CACHE at a fresh folder: the model downloads and runs, and a refusal is one line
/// naming the id, the file and the HTTP status, with exit code 2.
/// </summary>
public sealed class HubCommandTests : IDisposable
{
    const string Stories = "fixtures/stories260k";
    readonly string _cache = Path.Combine(Path.GetTempPath(), "blob-hub-cli-" + Guid.NewGuid().ToString("N"));
    readonly FakeHub _hub = new();

    public void Dispose()
    {
        _hub.Dispose();
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    Dictionary<string, string> Environment(params (string, string)[] more) => new[]
        {
            ("HF_ENDPOINT", _hub.Endpoint), ("HF_HUB_CACHE", _cache), ("HF_HUB_OFFLINE", "0"), ("HF_TOKEN", ""),
            ("HF_HOME", Path.Combine(_cache, "home")),
        }.Concat(more).GroupBy(v => v.Item1).ToDictionary(g => g.Key, g => g.Last().Item2); // later values replace earlier ones

    [SharedFact(Stories + "/greedy.json")]
    public void GenerateDownloadsAHubModelThenRunsItFromTheCache()
    {
        _hub.Add("test-org/stories260k", Shared.PathOf(Stories));

        var first = BlobCli.RunChild(Environment(), "generate", "--model", "test-org/stories260k", "--max-new-tokens", "40");
        Assert.True(first.Code == 0, first.ToString());
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", first.Out);
        Assert.Contains("downloaded test-org/stories260k model.safetensors", first.Error); // progress goes to stderr
        int requests = _hub.Requests.Count;

        var offline = BlobCli.RunChild(Environment(("HF_HUB_OFFLINE", "1")), "generate", "--model", "test-org/stories260k", "--max-new-tokens", "40");
        Assert.True(offline.Code == 0, offline.ToString());
        Assert.Equal(first.Out, offline.Out);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [SharedFact(Stories)]
    public void AMissingModelIsOneLineWithTheStatusAndExitCode2()
    {
        _hub.Add("test-org/stories260k", Shared.PathOf(Stories));

        var missing = BlobCli.RunChild(Environment(), "generate", "--model", "test-org/nothing-here");
        Assert.True(missing.Code == 2, missing.ToString());
        var line = Assert.Single(missing.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: test-org/nothing-here: config.json: HTTP 404 RepoNotFound:", line);

        var revision = BlobCli.RunChild(Environment(), "generate", "--model", Shared.PathOf(Stories), "--revision", "main");
        Assert.True(revision.Code == 2, revision.ToString());
        Assert.StartsWith("error: --revision main: applies to a Hub model", revision.Error);

        var badRevision = BlobCli.Run("generate", "--model", "test-org/stories260k", "--revision", "../../etc");
        Assert.True(badRevision.Code == 2, badRevision.ToString());
        Assert.StartsWith("error: --revision '../../etc': must be a branch, tag or commit name", badRevision.Error);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("etc"));
    }
}
