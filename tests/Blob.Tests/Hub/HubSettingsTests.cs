using Blob.Hub;

namespace Blob.Tests.Hub;

/// <summary>The environment variables huggingface_hub reads, read the same way; and which --model values are Hub ids.</summary>
public sealed class HubSettingsTests : IDisposable
{
    readonly string _home = Path.Combine(Path.GetTempPath(), "blob-hf-home-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home)) Directory.Delete(_home, recursive: true);
    }

    static HubSettings From(params (string Name, string Value)[] variables) =>
        HubSettings.From(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void TheCacheIsHfHubCacheElseHfHomeHubElseTheUsersCache()
    {
        string user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        Assert.Equal("/c/hub-cache", From(("HF_HUB_CACHE", "/c/hub-cache"), ("HF_HOME", "/h")).CacheRoot);
        Assert.Equal(Path.Combine("/h", "hub"), From(("HF_HOME", "/h")).CacheRoot);
        Assert.Equal(Path.Combine(user, ".cache", "huggingface", "hub"), From().CacheRoot);
        Assert.Equal(Path.Combine("/x", "huggingface", "hub"), From(("XDG_CACHE_HOME", "/x")).CacheRoot);
        Assert.Equal(user + "/models", From(("HF_HUB_CACHE", "~/models")).CacheRoot);
    }

    [Fact]
    public void EndpointOfflineAndToken()
    {
        Assert.Equal("https://huggingface.co", From().Endpoint);
        Assert.Equal("http://127.0.0.1:8080", From(("HF_ENDPOINT", "http://127.0.0.1:8080/")).Endpoint);
        foreach (var yes in new[] { "1", "true", "YES", "on" }) Assert.True(From(("HF_HUB_OFFLINE", yes)).Offline, yes);
        foreach (var no in new[] { "0", "false", "" }) Assert.False(From(("HF_HUB_OFFLINE", no)).Offline, no);
        Assert.False(From().Offline);

        Directory.CreateDirectory(_home);
        File.WriteAllText(Path.Combine(_home, "token"), "hf_from_file\n");
        Assert.Equal("hf_from_file", From(("HF_HOME", _home)).Token);            // what `huggingface-cli login` saved
        Assert.Equal("hf_env", From(("HF_HOME", _home), ("HF_TOKEN", "hf_env")).Token);
        Assert.Null(From(("HF_HOME", Path.Combine(_home, "none"))).Token);
    }

    [Theory]
    [InlineData("Qwen/Qwen2.5-0.5B", true)]
    [InlineData("meta-llama/Llama-3.2-1B", true)]
    [InlineData("sentence-transformers/all-MiniLM-L6-v2", true)]
    [InlineData("a_b/c.d", true)]
    [InlineData("minilm", false)]          // no owner: the built-in model or a folder
    [InlineData("runs/rte/mle/seed-1", false)]
    [InlineData("/abs/model", false)]
    [InlineData("./model", false)]
    [InlineData("../shared/fixtures", false)]
    [InlineData("org/-bad", false)]
    [InlineData("org/a--b", false)]
    [InlineData("org/na me", false)]
    public void HubIdsAreOwnerSlashName(string text, bool isId)
    {
        Assert.Equal(isId, HubRepoId.TryParse(text, out var id));
        if (isId) Assert.Equal(text, id.ToString());
    }

    [Fact]
    public void AnIdsCacheFolderIsNamedAsHuggingFaceHubNamesIt()
    {
        Assert.True(HubRepoId.TryParse("Qwen/Qwen2.5-0.5B", out var id));
        Assert.Equal("models--Qwen--Qwen2.5-0.5B", id.CacheFolderName);
    }
}
