using System.Text.RegularExpressions;

namespace Blob.Hub;

/// <summary>
/// A model's id on the Hub, "owner/name" (e.g. Qwen/Qwen2.5-0.5B): letters, digits, '-', '_' and '.', neither part
/// starting or ending with '-' or '.', no "--" or ".." (huggingface_hub's rules), at most 96 characters.
/// </summary>
public sealed partial record HubRepoId(string Owner, string Name)
{
    public override string ToString() => $"{Owner}/{Name}";

    /// <summary>The repository's folder in the cache: models--OWNER--NAME.</summary>
    public string CacheFolderName => $"models--{Owner}--{Name}";

    public static bool TryParse(string text, out HubRepoId id)
    {
        id = null!;
        if (text.Length > 96 || text.Contains("--") || text.Contains("..")) return false;
        var parts = text.Split('/');
        if (parts.Length != 2 || !parts.All(p => Part().IsMatch(p))) return false;
        id = new HubRepoId(parts[0], parts[1]);
        return true;
    }

    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")]
    private static partial Regex Part();
}
