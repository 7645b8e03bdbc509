using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Blob.Runtime;
using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Reports;
using Blob.Training;

namespace Blob.Experiments;

/// <summary>
/// Every setting a run's results depend on, as flat "name: value" pairs (e.g. "training.learning_rate: 0.001"), saved
/// as settings.json in the run's folder when the run starts. A finished run is reused, and an unfinished one resumed,
/// only when its recorded settings equal this run's; otherwise the differences are named.
/// The pairs are read off the whole <see cref="ExperimentSpec"/> by serialisation, so an option added to the spec is
/// covered without listing it here; the examples themselves enter as content hashes (a changed data file counts).
/// </summary>
public sealed class RunSettings
{
    public const string FileName = "settings.json";

    /// <summary>
    /// Spec fields that change no result: how often to checkpoint, the post-hoc calibration (it adds calibrated results
    /// beside the raw ones, <see cref="RunCalibration"/>), the BLoB layer's own rank and alpha (the method's
    /// rank and alpha take precedence), which splits are evaluated (<see cref="Splits"/>: a run trained for the
    /// validation table is the same run when the dev table asks for it), and how many examples the Laplace fit takes
    /// at a time (its factors are sums over the examples: only the order of the additions changes). Dropped from
    /// recorded settings too, so a run recorded while one of them was still listed stays reusable.
    /// </summary>
    static readonly HashSet<string> Ignored = ["training.checkpoint_every", "training.method.blob.rank", "training.method.blob.alpha", "evaluate", "calibrate",
        "training.method.laplace.batch_size"];

    /// <summary>
    /// The settings only one method reads, "training.method.SECTION." (<see cref="FineTuningMethod.OptionsSection"/>):
    /// an MLE run stays reusable when only BLoB's prior changes, so a comparison can vary one method's settings and keep
    /// the other methods' runs.
    /// </summary>
    static bool ReadByAnotherMethod(string key, FineTuningMethod method) => MethodRegistry.All
        .Select(m => m.OptionsSection).OfType<string>().Distinct()
        .Any(section => section != method.OptionsSection && key.StartsWith($"training.method.{section}.", StringComparison.Ordinal));

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = true,
    };

    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>The splits this run evaluates (not recorded: it changes no result, only which results exist).</summary>
    public EvaluatedSplits Splits { get; }

    RunSettings(IReadOnlyDictionary<string, string> values, EvaluatedSplits splits = EvaluatedSplits.Dev) => (Values, Splits) = (values, splits);

    public static RunSettings Of(ExperimentSpec spec, TaskData task)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Flatten(JsonSerializer.SerializeToNode(spec, Json), "", values);
        foreach (var key in Ignored) values.Remove(key);
        foreach (var key in values.Keys.Where(k => ReadByAnotherMethod(k, spec.Training.Method.Kind)).ToList())
            values.Remove(key);
        var device = Runtime.Devices.Parse(spec.Device);
        values["device"] = device.ToString(); // "auto" as resolved: CPU and GPU numbers differ
        values["precision"] = Runtime.Precisions.Name(Runtime.Precisions.Resolve(spec.Precision, device)); // likewise
        values["data.task"] = task.Name;
        values["data.train"] = Digest(task.Train);
        values["data.eval"] = Digest(task.Eval);
        // a run without a validation split has the settings it had before the option existed, so it stays reusable
        if (spec.ValidationFraction == 0) values.Remove("validation_fraction");
        else values["data.validation"] = Digest(task.Validation);
        // likewise a run whose head is trained in full, as every run was before --head
        if (spec.Training.Method.Head == HeadTraining.Trained) values.Remove("training.method.head");
        return new RunSettings(values, spec.Splits);
    }

    static void Flatten(JsonNode? node, string prefix, IDictionary<string, string> into)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o) Flatten(child, prefix.Length == 0 ? key : $"{prefix}.{key}", into);
                break;
            case JsonArray a:
                into[prefix] = string.Join(" ", a.Select(x => x?.ToString() ?? "null"));
                break;
            case JsonValue v when v.TryGetValue<double>(out var d):
                into[prefix] = d.ToString("R", CultureInfo.InvariantCulture);
                break;
            default:
                into[prefix] = node?.ToString() ?? "null";
                break;
        }
    }

    /// <summary>"N examples, sha256 XXXXXXXXXXXX…" of the examples' ids, texts, choices and labels.</summary>
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

    /// <summary>The pairs that differ, as "name: recorded → this run" (a side's "(absent)" when only the other has it).</summary>
    public IReadOnlyList<string> DifferencesFrom(RunSettings recorded) =>
        recorded.Values.Keys.Union(Values.Keys).Order(StringComparer.Ordinal)
            .Where(k => recorded.Values.GetValueOrDefault(k) != Values.GetValueOrDefault(k))
            .Select(k => $"{k}: {recorded.Values.GetValueOrDefault(k) ?? "(absent)"} → {Values.GetValueOrDefault(k) ?? "(absent)"}")
            .ToList();

    /// <summary>
    /// Runs recorded before --precision have "base_in_bfloat16" instead. false is today's fp32 (the same numbers), so
    /// those runs stay reusable; true was a decoder in bfloat16 throughout, which no setting reproduces now.
    /// </summary>
    static void UpgradeBfloat16Flag(IDictionary<string, string> values)
    {
        if (!values.Remove("base_in_bfloat16", out var bf16) || values.ContainsKey("precision")) return;
        values["precision"] = bf16 == "false" ? "fp32" : "bf16 throughout (before --precision)";
    }

    public void Save(string runDir) =>
        AtomicFile.WriteAllText(Path.Combine(runDir, FileName), JsonSerializer.Serialize(Values, Json) + "\n");

    /// <summary>The settings recorded in a run's folder; null when it has none (a run written before they were recorded).</summary>
    public static RunSettings? Load(string runDir)
    {
        string path = Path.Combine(runDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var values = JsonSerializer.Deserialize<SortedDictionary<string, string>>(File.ReadAllText(path), Json)
                ?? throw new JsonException("empty");
            UpgradeBfloat16Flag(values);
            foreach (var key in Ignored) values.Remove(key);
            return new RunSettings(values);
        }
        catch (JsonException e) { throw new BlobException($"{path}: not a settings file ({e.Message})"); }
    }
}
