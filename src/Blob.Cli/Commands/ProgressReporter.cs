using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Evaluation;
using Blob.Training;
using Spectre.Console;

namespace Blob.Cli.Commands;

/// <summary>
/// Shows training progress: a live bar (step, loss, KL, learning rate, ETA) on a terminal, or, with --quiet or when
/// the output is redirected, one log line every tenth of the run. Prediction (the evaluation after training, or
/// `blob eval`) is shown the same way: a bar per evaluation set, or a log line every tenth of its examples.
/// </summary>
public sealed class ProgressReporter
{
    readonly bool _live;
    readonly string _label;
    ProgressTask? _task;
    long _lastLogged = -1;
    ProgressContext? _context;
    ProgressTask? _predictionTask;
    string? _predicting;
    int _lastPredictionLogged = -1;

    public ProgressReporter(string label, bool quiet)
    {
        _label = label;
        _live = !quiet && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    }

    /// <summary>Runs <paramref name="work"/>, giving it the per-step callback.</summary>
    public T Run<T>(Func<Action<TrainingProgress>, T> work)
    {
        if (!_live) return work(LogLine);
        return Live(ctx =>
        {
            _task = ctx.AddTask(Markup.Escape(_label), maxValue: 1);
            var result = work(Update);
            _task.Value = _task.MaxValue;
            return result;
        });
    }

    /// <summary>Runs <paramref name="body"/> inside one live Spectre display (bars, percentage, ETA). It redraws when a
    /// step or a batch reports, not on Spectre's refresh thread, which would allocate while the tensors compute
    /// (rule 5 of <see cref="TensorLifetimes"/>).</summary>
    T Live<T>(Func<ProgressContext, T> body)
    {
        T result = default!;
        AnsiConsole.Progress()
            .AutoRefresh(false)
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                _context = ctx;
                result = body(ctx);
            });
        return result;
    }

    void Update(TrainingProgress p)
    {
        _task!.MaxValue = p.TotalSteps;
        _task.Value = p.Step;
        _task.Description = Markup.Escape($"{_label} step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" +
                                          (p.KlWeight > 0 ? $" KL {p.Kl:G3}" : "") + $" lr {p.LearningRate:G2}");
        _context!.Refresh();
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

    /// <summary>A line of output; during a live display through Spectre, which prints it above the bars instead of through them.</summary>
    public void WriteLine(string line)
    {
        if (_live && _context is not null) AnsiConsole.WriteLine(line);
        else Console.WriteLine(line);
    }

    /// <summary>Runs prediction alone (`blob eval`), giving it <see cref="Predicting"/>.</summary>
    public T RunPrediction<T>(Func<Action<PredictionProgress>, T> work)
    {
        return _live ? Live(_ => work(Predicting)) : work(Predicting);
    }

    /// <summary>The prediction callback: call it inside <see cref="Run{T}"/> or <see cref="RunPrediction{T}"/>.</summary>
    public void Predicting(PredictionProgress p)
    {
        string what = (_label.Length > 0 ? $"{_label} " : "") + $"evaluating {p.Task ?? "the evaluation set"}";
        bool next = what != _predicting; // a new evaluation set (or ensemble member) starts
        _predicting = what;
        if (_live && _context is not null) UpdatePrediction(p, what, next);
        else LogPrediction(p, what, next);
    }

    void UpdatePrediction(PredictionProgress p, string what, bool next)
    {
        if (next)
        {
            if (_predictionTask is not null) _predictionTask.Value = _predictionTask.MaxValue;
            _predictionTask = _context!.AddTask(Markup.Escape(what), maxValue: Math.Max(1, p.Total));
        }
        _predictionTask!.Value = p.Done;
        _predictionTask.Description = Markup.Escape($"{what} {p.Done}/{p.Total}" + (p.Passes > 1 ? $" pass {p.Pass}/{p.Passes}" : ""));
        _context!.Refresh();
    }

    /// <summary>A line when a set starts, then when a batch completes a new tenth of its examples.</summary>
    void LogPrediction(PredictionProgress p, string what, bool next)
    {
        int every = Math.Max(1, p.Total / 10);
        if (next) _lastPredictionLogged = -1;
        else if (p.Pass != p.Passes || (p.Done != p.Total && p.Done / every == _lastPredictionLogged / every)) return;
        _lastPredictionLogged = p.Done;
        Console.WriteLine($"{what}: {p.Done}/{p.Total} examples" + (p.Passes > 1 ? $" ({p.Passes} passes each)" : ""));
    }
}
