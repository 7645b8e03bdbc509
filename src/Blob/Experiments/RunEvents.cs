using Blob.Reports;
using Blob.Runtime;
using Blob.Training;

namespace Blob.Experiments;

/// <summary>
/// The evaluated splits' metrics in a run's TensorBoard folder (<c>RUN/tensorboard/</c>, beside the training log's
/// stream, <see cref="TrainingLog"/>): each split's acc, ece, nll, brier and aurc at the last training step, tagged
/// SPLIT/acc, ... (SPLIT: dev, validation, ood-TASK; fractions, as in result.json), as the <see cref="Stream"/> stream.
/// The file is rewritten whole and atomically after each split from every split's result so far
/// (<see cref="TensorBoardEvents.Write"/>), so a resumed run's file is an uninterrupted one's.
/// </summary>
public static class RunEvents
{
    /// <summary>The stream's name (the end of its file's name).</summary>
    public const string Stream = "metrics";

    /// <summary>The metrics' tags after the split's name, in this order.</summary>
    public static readonly IReadOnlyList<string> MetricTags = ["acc", "ece", "nll", "brier", "aurc"];

    /// <summary>Rewrites the metrics file of the run in <paramref name="dir"/> with the <paramref name="evaluated"/> splits' results.</summary>
    public static void Write(string dir, long step, IEnumerable<(RunFiles Files, RunResult Result)> evaluated) =>
        TensorBoardEvents.Write(Path.Combine(dir, TensorBoardEvents.FolderName), Stream,
            evaluated.SelectMany(e => Metrics(e.Files.Name, step, e.Result)));

    /// <summary>One split's metrics as scalars at <paramref name="step"/> (AURC only where recorded), wall time training + evaluation seconds.</summary>
    public static IEnumerable<TensorBoardScalar> Metrics(string split, long step, RunResult r)
    {
        double seconds = (r.TrainSeconds ?? 0) + (r.EvalSeconds ?? 0);
        double?[] values = [r.Accuracy, r.Ece, r.Nll, r.Brier, r.Aurc];
        for (int i = 0; i < values.Length; i++)
            if (values[i] is { } v) yield return new TensorBoardScalar($"{split}/{MetricTags[i]}", step, v, seconds);
    }
}
