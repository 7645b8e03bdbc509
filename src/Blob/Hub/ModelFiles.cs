using Blob.Models;

namespace Blob.Hub;

/// <summary>
/// The files of a Hub model that a run reads: config.json, the safetensors weights (model.safetensors, or the index
/// and every shard it names) and the tokenizer's files, and whether a cached snapshot has them all.
/// </summary>
public static class ModelFiles
{
    public const string Config = "config.json";

    /// <summary>Every tokenizer file <see cref="Blob.Tokenization.TokenizerLoader"/> may read; most models have a few.</summary>
    public static readonly string[] Tokenizer =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "vocab.txt"];

    /// <summary>Any one of these makes a tokenizer (vocab.json with merges.txt); the rest only adjust it.</summary>
    static readonly string[] TokenizerVocabularies = ["tokenizer.json", "tokenizer.model", "vocab.json", "vocab.txt"];

    /// <summary>
    /// What a snapshot lacks for a run, empty when nothing: config.json, the weights, and a tokenizer — unless every
    /// tokenizer file is known to be absent from the Hub (.no_exist), as for a model without one. Optional tokenizer
    /// files are not required, so a snapshot that Python transformers downloaded is used as it is.
    /// </summary>
    public static IReadOnlyList<string> Missing(HubCacheRepo cache, string commit)
    {
        var missing = new List<string>();
        if (!cache.Has(commit, Config)) missing.Add(Config);
        missing.AddRange(MissingWeights(cache, commit));
        bool tokenizer = TokenizerVocabularies.Any(f => cache.Has(commit, f)) || Tokenizer.All(f => cache.KnownAbsent(commit, f));
        if (!tokenizer) missing.Add("a tokenizer (" + string.Join(", ", TokenizerVocabularies) + ")");
        return missing;
    }

    static IEnumerable<string> MissingWeights(HubCacheRepo cache, string commit)
    {
        if (cache.Has(commit, Checkpoint.IndexFile))
            return Checkpoint.ShardNames(cache.SnapshotFile(commit, Checkpoint.IndexFile)).Where(s => !cache.Has(commit, s));
        return cache.Has(commit, Checkpoint.SingleFile) ? [] : [Checkpoint.SingleFile];
    }

    /// <summary>True for a relative path inside the repository (no "..", not rooted), as an index's shard names must be.</summary>
    public static bool IsRepositoryPath(string file) =>
        file.Length > 0 && !Path.IsPathRooted(file) && !file.Contains('\\')
        && file.Split('/').All(part => part is not ("" or "." or ".."));
}
