using Blob.Training;
using Spectre.Console;

namespace Blob.Cli.Commands;

/// <summary>
/// Shows training progress: a live bar (step, loss, KL, learning rate, ETA) on a terminal, or, with --quiet or when
/// the output is redirected, one log line every tenth of the run.
/// </summary>
public sealed class ProgressReporter
{
    readonly bool _live;
    readonly string _label;
    ProgressTask? _task;
    long _lastLogged = -1;

    public ProgressReporter(string label, bool quiet)
    {
        _label = label;
        _live = !quiet && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    }

    /// <summary>Runs <paramref name="work"/>, giving it the per-step callback.</summary>
    public T Run<T>(Func<Action<TrainingProgress>, T> work)
    {
        if (!_live) return work(LogLine);
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                _task = ctx.AddTask(Markup.Escape(_label), maxValue: 1);
                result = work(Update);
                _task.Value = _task.MaxValue;
            });
        return result;
    }

    void Update(TrainingProgress p)
    {
        _task!.MaxValue = p.TotalSteps;
        _task.Value = p.Step;
        _task.Description = Markup.Escape($"{_label} step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" +
                                          (p.KlWeight > 0 ? $" KL {p.Kl:G3}" : "") + $" lr {p.LearningRate:G2}");
    }

    void LogLine(TrainingProgress p)
    {
        long every = Math.Max(1, p.TotalSteps / 10);
        if (p.Step != p.TotalSteps && p.Step / every == _lastLogged / every) return;
        _lastLogged = p.Step;
        var eta = p.Step > 0 ? TimeSpan.FromSeconds(p.Elapsed.TotalSeconds / p.Step * (p.TotalSteps - p.Step)) : TimeSpan.Zero;
        Console.WriteLine($"{_label} step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  train-acc {p.TrainAccuracy:P1}" +
                          (p.KlWeight > 0 ? $"  KL {p.Kl:G4} (λ {p.KlWeight:G3})" : "") +
                          $"  lr {p.LearningRate:G3}  elapsed {p.Elapsed:mm\\:ss}  eta {eta:mm\\:ss}");
    }
}
