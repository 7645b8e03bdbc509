using Blob.Reports;
using Blob.Runtime;
using Blob.Training;

namespace Blob.Experiments;

/// <summary>
/// A run's TensorBoard event file (<c>RUN/tensorboard/</c>, <see cref="TensorBoardEvents"/>) once it is evaluated:
/// the training log's scalars (<see cref="TrainingLog.Scalars"/>: loss, kl, lambda, lr, train_accuracy per step), then
/// the metrics of each evaluated split at the last training step, tagged SPLIT/acc, SPLIT/ece, SPLIT/nll, SPLIT/brier
/// and SPLIT/aurc (SPLIT: dev, validation, ood-TASK; fractions, as in result.json). The file is rewritten whole after
/// each split, from training-log.csv and the splits' results, so a resumed run's file is the same as an
/// uninterrupted one's.
/// </summary>
public static class RunEvents
{
    /// <summary>The metrics' tags after the split's name, in this order.</summary>
    public static readonly IReadOnlyList<string> MetricTags = ["acc", "ece", "nll", "brier", "aurc"];

    /// <summary>Rewrites the event file of the run in <paramref name="dir"/> with its training log and <paramref name="evaluated"/> splits.</summary>
    public static void Write(string dir, long step, IEnumerable<(RunFiles Files, RunResult Result)> evaluated)
    {
        var log = Path.Combine(dir, TrainingLog.FileName);
        var rows = File.Exists(log) ? TrainingLog.Read(log) : [];
        TensorBoardEvents.Write(TrainingLog.TensorBoardFolderOf(log),
            TrainingLog.Scalars(rows).Concat(evaluated.SelectMany(e => Metrics(e.Files.Name, step, e.Result))));
    }

    /// <summary>One split's metrics as scalars at <paramref name="step"/> (AURC only where recorded), wall time training + evaluation seconds.</summary>
    public static IEnumerable<TensorBoardScalar> Metrics(string split, long step, RunResult r)
    {
        double seconds = (r.TrainSeconds ?? 0) + (r.EvalSeconds ?? 0);
        double?[] values = [r.Accuracy, r.Ece, r.Nll, r.Brier, r.Aurc];
        for (int i = 0; i < values.Length; i++)
            if (values[i] is { } v) yield return new TensorBoardScalar($"{split}/{MetricTags[i]}", step, v, seconds);
    }
}
