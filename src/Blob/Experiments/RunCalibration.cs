using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Evaluation;
using Blob.Methods;
using Blob.Reports;
using Blob.Runtime;

namespace Blob.Experiments;

/// <summary>
/// A post-hoc calibration (<see cref="Calibrator"/>, --calibrate) of a finished run, from the files its folder holds:
/// fitted on validation-predictions.json and saved as calibration.json (and into adapter/, where the run kept its
/// adapter, so that eval and score apply it), then applied to each evaluated split's predictions, whose calibrated
/// results are written beside the raw ones under "calibrated-" (calibrated-result.json, calibrated-validation.json,
/// calibrated-ood-TASK.json, with their predictions). The method of a calibrated result is "METHOD+TS". The network is
/// never run: a run reused from its records is calibrated as well as one just trained.
/// </summary>
public static class RunCalibration
{
    public const string FileName = "calibration.json";
    public const string Prefix = "calibrated-";

    /// <summary>The method name of a calibrated result: "mle+ts".</summary>
    public static string MethodName(string method, Calibrator calibrator) => $"{method}+{calibrator.DisplayName.ToLowerInvariant()}";

    /// <summary>The calibrated counterpart of a split's files: its result and predictions under "calibrated-".</summary>
    public static RunFiles FilesOf(RunFiles split) =>
        new(Prefix + split.Result, split.Predictions is null ? null : Prefix + split.Predictions, Split: split.Split, PredictionsOptional: split.PredictionsOptional);

    /// <summary>
    /// Fits the calibration on the run's validation predictions (or reads the one calibration.json holds, when it is of
    /// the same kind) and writes the calibrated files of every split in <paramref name="splits"/> whose predictions the
    /// folder holds and whose calibrated files it lacks. Returns the calibration.
    /// </summary>
    public static Calibration Apply(string runDir, Calibrator calibrator, IEnumerable<RunFiles> splits)
    {
        var saved = Load(runDir);
        if (saved is not null && saved.Kind != calibrator) Clear(runDir); // another kind's files are not this one's
        var calibration = saved?.Kind == calibrator ? saved : Fit(runDir, calibrator);
        foreach (var split in splits)
        {
            var files = FilesOf(split);
            if (split.Predictions is null || files.Exists(runDir) || !File.Exists(Path.Combine(runDir, split.Predictions))) continue;
            var (raw, probs, labels) = split.Load(runDir);
            if (labels.Length == 0) continue;
            var calibrated = calibration.Apply(probs);
            var result = RunResult.From(raw.Task, MethodName(raw.Method, calibrator), raw.Seed, Metrics.Evaluate(calibrated, labels),
                [.. raw.Notes ?? [], calibration.Note]) with { Split = raw.Split };
            Experiment.SavePredictions(Path.Combine(runDir, files.Predictions!), calibrated, labels);
            result.Save(Path.Combine(runDir, files.Result));
        }
        return calibration;
    }

    /// <summary>Deletes calibration.json and every calibrated file of the run (not the adapter's copy).</summary>
    public static void Clear(string runDir)
    {
        if (!Directory.Exists(runDir)) return;
        File.Delete(Path.Combine(runDir, FileName));
        foreach (var file in Directory.GetFiles(runDir, Prefix + "*")) File.Delete(file);
    }

    /// <summary>Fits on validation-predictions.json and saves calibration.json (and adapter/calibration.json).</summary>
    static Calibration Fit(string runDir, Calibrator calibrator)
    {
        string path = Path.Combine(runDir, RunFiles.Validation.Predictions!);
        if (!File.Exists(path))
            throw new BlobException($"--calibrate {calibrator.Name}: {runDir} has no validation predictions ({RunFiles.Validation.Predictions}) to fit on; " +
                                    "carve a validation split with --validation-fraction");
        var (probs, labels) = Experiment.LoadPredictions(path);
        var calibration = calibrator.Fit(probs, labels);
        Save(runDir, calibration);
        string adapter = Path.Combine(runDir, "adapter");
        if (Directory.Exists(adapter)) Save(adapter, calibration);
        return calibration;
    }

    /// <summary>Writes DIR/calibration.json: {"calibration": NAME, "parameters": {...}}.</summary>
    public static void Save(string dir, Calibration calibration)
    {
        var json = new JsonObject { ["calibration"] = calibration.Kind.Name, ["parameters"] = calibration.Parameters() };
        AtomicFile.WriteAllText(Path.Combine(dir, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// The calibration DIR/calibration.json holds (an adapter folder's or a run's), or null where there is none or,
    /// when <paramref name="kind"/> is given, where it is of another kind. Errors name the file.
    /// </summary>
    public static Calibration? Load(string dir, Calibrator? kind = null)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not an object"); }
        catch (JsonException e) { throw new BlobException($"{path}: not a calibration file ({e.Message})"); }
        string name = json["calibration"] is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new BlobException($"{path}: \"calibration\" must name a calibration ({string.Join(", ", MethodRegistry.Calibrators.Select(c => c.Name))})");
        var calibrator = MethodRegistry.Calibrators.FirstOrDefault(c => c.Name == name)
            ?? throw new BlobException($"{path}: unknown calibration '{name}' (known: {string.Join(", ", MethodRegistry.Calibrators.Select(c => c.Name))})");
        if (kind is not null && calibrator != kind) return null;
        var parameters = json["parameters"] as JsonObject ?? throw new BlobException($"{path}: \"parameters\" must be an object");
        return calibrator.Read(parameters, path);
    }
}
