using System.Text.Json;
using System.Text.Json.Serialization;
using Blob.Evaluation;

namespace Blob.Reports;

/// <summary>
/// The outcome of one run (one task, one method, one seed) on its evaluation set, saved as JSON beside the run.
/// Accuracy and ECE are fractions (0..1) here; tables print them ×100 as the paper does. TrainSeconds and EvalSeconds
/// are wall-clock times (training: all of it, across resumptions), absent in results written before they were recorded.
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
    double? EvalSeconds = null)
{
    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static RunResult From(string task, string method, int seed, MetricSet m, IReadOnlyList<string>? notes = null) =>
        new(task, method, seed, m.Count, m.Accuracy, m.Ece, m.Nll, m.Brier, notes);

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Writes the JSON atomically: a reader never sees half a file.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

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
