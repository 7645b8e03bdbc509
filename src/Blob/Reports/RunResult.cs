using System.Globalization;
using System.Text.Json;
using System.Text.Encodings.Web;
using System.Text.Json.Serialization;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;

namespace Blob.Reports;

/// <summary>
/// The outcome of one run (one task, one method, one seed) on its evaluation set, saved as JSON beside the run.
/// Accuracy and ECE are fractions (0..1) here; tables print them ×100 as the paper does. TrainSeconds and EvalSeconds
/// are wall-clock times (training: all of it, across resumptions), absent in results written before they were recorded.
/// Split is "validation" for a result on the validation split carved from the training split, absent for the task's
/// reported (dev) split. Aurc is the area under the risk–coverage curve (<see cref="Metrics.Aurc"/>), a fraction like
/// the error rate; absent in results written before it was recorded. Tool is the version of BLoB.NET that computed the
/// result (<see cref="ToolVersion"/>: package version + git commit), for provenance only: it is not a setting, so a kept
/// result made by other code is still reused (see docs/cli.md, What is reused); absent in results written before it was
/// recorded.
/// A metric that is not finite (NaN, ±∞: a diverged model's probabilities) is written as null with a note, and read
/// back as NaN: JSON has no such numbers, and a run must not be lost to writing its result.
/// </summary>
public sealed record RunResult(
    string Task,
    string Method,
    int Seed,
    int Count,
    double Accuracy,
    double Ece,
    double Nll,
    double Brier,
    IReadOnlyList<string>? Notes = null,
    double? TrainSeconds = null,
    double? EvalSeconds = null,
    string? Split = null,
    double? Aurc = null,
    string? Tool = null)
{
    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new NonFiniteAsNullConverter() },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file to read: "+", "σ" as they are, not \u002B
    };

    public static RunResult From(string task, string method, int seed, MetricSet m, IReadOnlyList<string>? notes = null) =>
        new(task, method, seed, m.Count, m.Accuracy, m.Ece, m.Nll, m.Brier, notes, Aurc: m.Aurc, Tool: ToolVersion.Current);

    public string ToJson() => JsonSerializer.Serialize(WithNonFiniteNotes(), Options);

    /// <summary>Writes the JSON atomically: a reader never sees half a file.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>This result with a note for each metric that is not finite ("nll is not finite (NaN): ..."), once each.</summary>
    public RunResult WithNonFiniteNotes()
    {
        var metrics = new (string Name, double Value)[] { ("accuracy", Accuracy), ("ece", Ece), ("nll", Nll), ("brier", Brier), ("aurc", Aurc ?? 0) };
        var notes = (Notes ?? []).ToList();
        foreach (var (name, value) in metrics.Where(m => !double.IsFinite(m.Value)))
        {
            // once per metric: a result read back has NaN where ∞ was, and already says so
            if (!notes.Any(n => n.StartsWith($"{name} is not finite", StringComparison.Ordinal)))
                notes.Add($"{name} is not finite ({value.ToString(CultureInfo.InvariantCulture)}): written as null");
        }
        return notes.Count == (Notes?.Count ?? 0) ? this : this with { Notes = notes };
    }

    public static RunResult Load(string path)
    {
        Data.TextFile.RequireExists(path);
        try
        {
            return JsonSerializer.Deserialize<RunResult>(File.ReadAllText(path), Options)
                ?? throw new BlobException($"{path}: empty result file");
        }
        catch (JsonException e) { throw new BlobException($"{path}: not a result file ({e.Message})"); }
    }
}

/// <summary>Writes a double that is not finite as JSON null (which the JSON writer would refuse) and reads null as NaN.</summary>
public sealed class NonFiniteAsNullConverter : JsonConverter<double>
{
    public override bool HandleNull => true;

    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteNullValue();
    }
}
