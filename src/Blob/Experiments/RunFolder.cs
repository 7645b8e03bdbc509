using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Training;

namespace Blob.Experiments;

/// <summary>What to do when a run's output folder already holds a run (a result or a checkpoint).</summary>
public enum ExistingRun
{
    /// <summary>Stop with an error naming what is there: nothing is replaced by accident.</summary>
    Refuse,
    /// <summary>Continue it (from its checkpoint), provided it was made with the same settings.</summary>
    Resume,
    /// <summary>Delete the run's files, then start afresh.</summary>
    Overwrite,
}

/// <summary>
/// A run's output folder: settings.json (written first), the training checkpoint, then adapter/, result.json,
/// predictions.json, reliability.png and ood-*.json. A run is finished when result.json and predictions.json exist.
/// The rules that keep results honest live here: a folder's run is never replaced without <see cref="ExistingRun.Overwrite"/>,
/// and never continued or reused under other settings.
/// </summary>
public static class RunFolder
{
    public const string Result = "result.json", Predictions = "predictions.json", Checkpoint = "checkpoint";

    public static bool IsFinished(string dir) =>
        File.Exists(Path.Combine(dir, Result)) && File.Exists(Path.Combine(dir, Predictions));

    public static bool HasCheckpoint(string dir) => TrainingCheckpoint.Exists(Path.Combine(dir, Checkpoint));

    /// <summary>
    /// Makes the folder ready for a run with these settings, or throws a <see cref="BlobException"/> that says what is
    /// there and what to do. Resume and reuse require the recorded settings to equal these.
    /// </summary>
    public static void Prepare(string dir, RunSettings settings, ExistingRun existing)
    {
        if (existing == ExistingRun.Overwrite) Clear(dir);
        else if (Holds(dir) is { } what)
        {
            if (existing == ExistingRun.Refuse)
                throw new BlobException($"{dir} already holds {what}; continue it with --resume, replace it with --overwrite, or choose another --output");
            RequireSameSettings(dir, settings, what);
        }
        Directory.CreateDirectory(dir);
        settings.Save(dir);
    }

    /// <summary>
    /// Throws, as <see cref="Prepare"/> would for a resumption, when the folder holds a run made with other settings;
    /// writes nothing. Lets a comparison refuse such a run before any other run trains, or is submitted to a cluster.
    /// </summary>
    public static void RequireResumable(string dir, RunSettings settings)
    {
        if (Holds(dir) is { } what) RequireSameSettings(dir, settings, what);
    }

    /// <summary>"a finished run (result.json)" or "the checkpoint of an unfinished run"; null for a folder without a run.</summary>
    static string? Holds(string dir) =>
        File.Exists(Path.Combine(dir, Result)) ? $"a finished run ({Result})"
        : HasCheckpoint(dir) ? "the checkpoint of an unfinished run" : null;

    /// <summary>
    /// True when the folder holds a finished run made with these settings (so its result can be reused); false when it
    /// holds no finished run; a <see cref="BlobException"/> naming the differences when its settings differ.
    /// </summary>
    public static bool CanReuse(string dir, RunSettings settings)
    {
        if (!IsFinished(dir)) return false;
        RequireSameSettings(dir, settings, $"a finished run ({Result})");
        // result.json is written before the out-of-distribution sets are evaluated: a run stopped among them is
        // resumed (its training is done; only the evaluation runs again), not reused without them.
        return OodTasks(settings).All(name => File.Exists(Path.Combine(dir, $"ood-{name}.json")));
    }

    static IEnumerable<string> OodTasks(RunSettings settings) =>
        settings.Values.GetValueOrDefault("ood_tasks", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);

    static void RequireSameSettings(string dir, RunSettings settings, string what)
    {
        var recorded = RunSettings.Load(dir)
            ?? throw new BlobException($"{dir} holds {what} that records no settings ({RunSettings.FileName}; written by an older version), so it cannot be continued or reused safely; replace it with --overwrite, or choose another --output");
        var differences = settings.DifferencesFrom(recorded);
        if (differences.Count > 0)
            throw new BlobException($"{dir} holds {what} made with other settings ({string.Join("; ", differences)}); " +
                                    "use the same options, replace it with --overwrite, or choose another --output");
    }

    /// <summary>Deletes the files a run writes (and nothing else the user may have put in the folder).</summary>
    public static void Clear(string dir)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var name in new[] { Checkpoint, Checkpoint + ".tmp", Checkpoint + ".old", "adapter" })
            if (Directory.Exists(Path.Combine(dir, name))) Directory.Delete(Path.Combine(dir, name), recursive: true);
        foreach (var name in new[] { Result, Predictions, "reliability.png", RunSettings.FileName })
            File.Delete(Path.Combine(dir, name));
        foreach (var ood in Directory.GetFiles(dir, "ood-*.json")) File.Delete(ood);
    }
}
