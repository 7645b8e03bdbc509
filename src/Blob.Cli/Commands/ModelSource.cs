using System.CommandLine;
using Blob.Experiments;
using Blob.Hub;

namespace Blob.Cli.Commands;

/// <summary>
/// What --model names, as a folder the model loaders read: the built-in model's name and existing folders as they
/// are, a Hub id (owner/name) as its snapshot in the Hugging Face cache, downloaded first where it is not there.
/// </summary>
public static class ModelSource
{
    public static Option<string?> Revision() => new Option<string?>("--revision")
    {
        Description = $"Hub model (--model owner/name): the branch, tag or commit to use (default {HubModels.DefaultRevision})",
    }.Must(r => r!.Length > 0 && !r.Any(char.IsWhiteSpace) && !r.Split('/').Contains(".."), "must be a branch, tag or commit name");

    /// <summary>The folder to load, downloading a Hub model's files (with a progress display) where the cache lacks them.</summary>
    public static string Resolve(string model, string? revision, bool quiet = false)
    {
        bool local = model.Equals(ModelZoo.BuiltIn, StringComparison.OrdinalIgnoreCase) || Directory.Exists(model);
        if (local || !HubRepoId.TryParse(model, out var id))
        {
            if (revision is not null)
                throw new BlobException($"--revision {revision}: applies to a Hub model (--model owner/name), not to '{model}'");
            return model; // a folder (or not, which the loader reports)
        }
        var settings = HubSettings.FromEnvironment();
        string rev = revision ?? HubModels.DefaultRevision;
        return HubModels.Cached(id, rev, settings) ?? new DownloadView(quiet).Run(report => HubModels.Resolve(id, rev, settings, report));
    }
}
