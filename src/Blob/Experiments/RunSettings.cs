using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Training;

namespace Blob.Experiments;

/// <summary>The examples a run reads, each split as "N examples, sha256 XXXXXXXXXXXXXXXX" of its content; Validation is null without one.</summary>
public sealed record RunData(string Task, string Train, string Eval, string? Validation);

/// <summary>
/// Every setting a run's results depend on: its <see cref="ExperimentSpec"/>, with what "auto" and the method's
/// defaults resolve to, and the examples it reads by content (a changed data file counts). Saved as settings.json when
/// the run starts: the spec's canonical JSON (<see cref="SettingsJson"/>, which leaves out what changes no result and
/// the sections of other methods) between "format_version" and "data". A finished run is reused, and an unfinished
/// one resumed, only when its recorded settings equal this run's; otherwise the differences are named.
/// </summary>
public sealed record RunSettings(ExperimentSpec Spec, RunData Data)
{
    public const string FileName = "settings.json";

    /// <summary>The layout of settings.json this build writes and reads.</summary>
    public const int FormatVersion = 2;

    /// <summary>The settings of a run of <paramref name="spec"/> on <paramref name="task"/> (as <see cref="Experiment.LoadSubsampledTask"/> gives it).</summary>
    public static RunSettings Of(ExperimentSpec spec, TaskData task)
    {
        var device = Devices.Parse(spec.Device);
        var method = spec.Training.Method;
        // what a default or "auto" stands for is recorded, since CPU and GPU, or two methods' defaults, give other numbers
        var resolved = spec with
        {
            Device = device.ToString(),
            Precision = Precisions.Resolve(spec.Precision, device),
            EvalSamples = spec.EvalSamples ?? method.DefaultSamples,
            Training = spec.Training with
            {
                WeightDecay = spec.Training.EffectiveWeightDecay,
                Method = method with { LoraDropout = method.Dropout },
            },
        };
        return new RunSettings(resolved, new RunData(task.Name, Digest(task.Train), Digest(task.Eval),
            spec.ValidationFraction > 0 ? Digest(task.Validation) : null));
    }

    /// <summary>"N examples, sha256 XXXXXXXXXXXXXXXX" of the examples' ids, texts, choices and labels.</summary>
    static string Digest(IReadOnlyList<Example> examples)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var e in examples)
        {
            var line = JsonSerializer.Serialize(new { e.Id, e.Text, e.TextPair, e.Label, e.Choices });
            sha.AppendData(Encoding.UTF8.GetBytes(line + "\n"));
        }
        return $"{examples.Count} examples, sha256 {Convert.ToHexStringLower(sha.GetHashAndReset())[..16]}";
    }

    /// <summary>The canonical JSON, settings.json's content: equal settings have equal text.</summary>
    public string Json
    {
        get
        {
            var node = new JsonObject { ["format_version"] = FormatVersion };
            foreach (var (key, value) in JsonSerializer.SerializeToNode(Spec, SettingsJson.Options)!.AsObject().ToList())
                node[key] = value?.DeepClone();
            node["data"] = JsonSerializer.SerializeToNode(Data, SettingsJson.Options);
            return node.ToJsonString(SettingsJson.Options) + "\n";
        }
    }

    /// <summary>What a checkpoint must have been written under to be resumed by this run (see <see cref="TrainingCheckpoint"/>).</summary>
    public string Fingerprint => Json;

    /// <summary>The settings that differ, as "name: recorded → this run" (a side's "(absent)" when only the other has it).</summary>
    public IReadOnlyList<string> DifferencesFrom(RunSettings recorded) => SettingsJson.Differences(recorded.Json, Json);

    public void Save(string runDir) => AtomicFile.WriteAllText(Path.Combine(runDir, FileName), Json);

    /// <summary>The settings recorded in a run's folder; null when it has none (a run written before they were recorded).</summary>
    public static RunSettings? Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new JsonException("empty");
            int? format = node["format_version"]?.GetValue<int>();
            if (format != FormatVersion)
                throw new BlobException($"{path}: settings of format {format?.ToString() ?? "1 (no format_version)"}, where this build reads format {FormatVersion}; " +
                                        "replace the run with --overwrite, or choose another --output");
            var data = node["data"]?.Deserialize<RunData>(SettingsJson.Options) ?? throw new JsonException("no \"data\"");
            node.Remove("format_version");
            node.Remove("data");
            return new RunSettings(node.Deserialize<ExperimentSpec>(SettingsJson.Options) ?? throw new JsonException("empty"), data);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new BlobException($"{path}: not a settings file ({e.Message})");
        }
    }
}
