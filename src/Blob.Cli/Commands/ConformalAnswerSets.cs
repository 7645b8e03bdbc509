using System.Text.Json.Nodes;
using Blob.Evaluation;
using Blob.Experiments;

namespace Blob.Cli.Commands;

/// <summary>
/// score's --conformal-from RUN --alpha A: the LAC and APS thresholds from the run's validation predictions
/// (<see cref="RunConformal.Calibrate"/>), and the answer sets of one scored prompt. The guarantee holds for prompts
/// like the run's questions, scored by the run's model and adapter.
/// </summary>
public sealed record ConformalAnswerSets(string Run, ConformalThreshold Lac, ConformalThreshold Aps)
{
    /// <summary>The thresholds, or null without --conformal-from; a <see cref="BlobException"/> naming the option for a missing --alpha or folder.</summary>
    public static ConformalAnswerSets? Calibrate(string? from, double? alpha)
    {
        if (from is null)
            return alpha is null ? null : throw new BlobException($"--alpha {alpha}: only with --conformal-from RUN (the run whose validation predictions calibrate the sets)");
        if (alpha is not { } a) throw new BlobException($"--conformal-from {from}: give the sets' level with --alpha (e.g. 0.1 for 90% coverage)");
        if (!Directory.Exists(from)) throw new BlobException($"--conformal-from {from}: no such folder");
        // an adapter folder sits inside its run's folder
        var run = File.Exists(Path.Combine(from, RunFiles.Validation.Predictions!)) ? from
            : Path.GetDirectoryName(Path.GetFullPath(from).TrimEnd(Path.DirectorySeparatorChar)) is { } parent && File.Exists(Path.Combine(parent, RunFiles.Validation.Predictions!)) ? parent
            : throw new BlobException($"--conformal-from {from}: no {RunFiles.Validation.Predictions} there or in the folder above (a run trained with --validation-fraction holds one)");
        var (lac, aps) = RunConformal.Calibrate(run, a);
        return new ConformalAnswerSets(run, lac, aps);
    }

    /// <summary>The JSON beside the probabilities: α, the calibration, and each score's set (most probable first); APS's u from the seed.</summary>
    public JsonObject Describe(string[] answers, double[] probabilities, int seed)
    {
        JsonArray Set(ConformalThreshold t, double u) => new(Conformal.AnswerSet(t, probabilities, u).Select(c => (JsonNode?)answers[c]).ToArray());
        var json = new JsonObject
        {
            ["alpha"] = Lac.Alpha,
            ["calibrated_on"] = Path.Combine(Run, RunFiles.Validation.Predictions!),
            ["calibration_count"] = Lac.CalibrationCount,
            ["lac"] = Set(Lac, 0),
            ["aps"] = Set(Aps, new Random(seed).NextDouble()),
        };
        if (Lac.AllClasses) json["note"] = $"the validation split's {Lac.CalibrationCount} examples are too few for alpha {Lac.Alpha}: every set holds every answer";
        return json;
    }
}
