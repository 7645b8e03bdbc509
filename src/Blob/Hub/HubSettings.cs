namespace Blob.Hub;

/// <summary>
/// How to reach the Hugging Face Hub and where its cache is, read from the environment as huggingface_hub reads it:
/// HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (else the token file `huggingface-cli login` writes,
/// $HF_HOME/token), HF_HUB_OFFLINE (1, true, yes or on: the cache only) and the cache folder HF_HUB_CACHE, else
/// $HF_HOME/hub, else ~/.cache/huggingface/hub.
/// </summary>
public sealed record HubSettings
{
    public const string DefaultEndpoint = "https://huggingface.co";

    public string Endpoint { get; init; } = DefaultEndpoint;
    /// <summary>Sent as "Authorization: Bearer TOKEN" to the endpoint (never to the hosts it redirects to).</summary>
    public string? Token { get; init; }
    public bool Offline { get; init; }
    public required string CacheRoot { get; init; }
    /// <summary>How often an interrupted transfer is resumed before the download gives up.</summary>
    public int Retries { get; init; } = 5;
    /// <summary>How long the Hub may stay silent (connecting, or in the middle of a file) before the attempt counts as failed.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public static HubSettings FromEnvironment() => From(Environment.GetEnvironmentVariable);

    /// <summary>The settings that the environment variables <paramref name="variable"/> gives describe.</summary>
    public static HubSettings From(Func<string, string?> variable)
    {
        string? Get(string name) => variable(name) is { Length: > 0 } v ? v : null;
        string home = ExpandHome(Get("HF_HOME") ?? Path.Combine(Get("XDG_CACHE_HOME") ?? Path.Combine(UserHome, ".cache"), "huggingface"));
        return new HubSettings
        {
            Endpoint = (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            Token = Get("HF_TOKEN") ?? ReadTokenFile(ExpandHome(Get("HF_TOKEN_PATH") ?? Path.Combine(home, "token"))),
            Offline = IsTrue(Get("HF_HUB_OFFLINE")),
            CacheRoot = ExpandHome(Get("HF_HUB_CACHE") ?? Path.Combine(home, "hub")),
        };
    }

    static string UserHome => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    static string ExpandHome(string path) => path == "~" || path.StartsWith("~/") ? UserHome + path[1..] : path;

    static bool IsTrue(string? value) => value?.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON";

    static string? ReadTokenFile(string path) => File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } token ? token : null;
}
