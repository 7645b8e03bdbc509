using System.CommandLine;
using System.Runtime.InteropServices;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>`blob train`: fine-tune one method on one task with one seed, evaluate, write the results.</summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var options = new ExperimentOptions();
        var method = MethodChoice.Option("--method", "The method: " + MethodChoice.Help, new MethodOptions().Kind);
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation, batch order and sampling", DefaultValueFactory = _ => (int)new TrainingOptions().Seed };
        var output = new Option<string?>("--output") { Description = "Output folder (default runs/TASK/METHOD/seed-N)" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in the output folder from its checkpoint (same settings only)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the run (result, adapter, checkpoint) in the output folder" };
        var conformal = ConformalOption.Create();
        var command = new Command("train", "Fine-tune a model on a task with one method and evaluate it (accuracy, ECE, NLL, Brier)");
        options.AddTo(command);
        foreach (var o in new Option[] { method, seed, output, resume, overwrite, conformal }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var kind = p.GetValue(method)!;
            // a bad or busy --output is refused before any download or model load (RunOne holds the lock for the run)
            if (p.GetValue(output) is { } given) RunLock.Probe(given);
            var spec = options.Read(p, kind, p.GetValue(seed));
            if (p.GetValue(conformal) is { } alpha) ConformalOption.Require(spec, alpha);
            string dir = p.GetValue(output) ?? Path.Combine("runs", spec.Task, kind.Name, $"seed-{spec.Training.Seed}");
            if (p.GetValue(resume) && p.GetValue(overwrite)) throw new BlobException("--resume and --overwrite exclude each other: continue the run, or replace it");
            // --resume into a folder with no run in it would silently start afresh; a Slurm task's folder (its record) may start one
            if (p.GetValue(resume) && !File.Exists(Path.Combine(dir, RunSettings.FileName)) && !File.Exists(Path.Combine(dir, Slurm.SubmittedTask.FileName)))
                throw new BlobException($"--resume: {dir} holds no run to continue; start one without --resume");
            var existing = p.GetValue(resume) ? ExistingRun.Resume : p.GetValue(overwrite) ? ExistingRun.Overwrite : ExistingRun.Refuse;
            var result = RunOne(spec, dir, existing, p.GetValue(options.Quiet));
            if (result is null) return StopCode;
            Print(result);
            Console.WriteLine(spec.Splits == EvaluatedSplits.Validation
                ? $"results in {dir}/ (validation.json, validation-predictions.json, validation-reliability.png; dev not evaluated: --evaluate dev or both)"
                : $"results in {dir}/ (result.json, predictions.json, reliability.png{(spec.Splits == EvaluatedSplits.Both ? "; validation.json, …" : "")})");
            if (p.GetValue(conformal) is { } level)
            {
                var sets = RunConformal.Compute(dir, level, spec.OodTasks);
                sets.Save(dir);
                foreach (var line in sets.Lines()) Console.WriteLine(line);
                Console.WriteLine($"conformal sets in {dir}/{RunConformal.FileName}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Runs one experiment with progress and Ctrl-C handling; null when it was stopped. SIGTERM, which Slurm (and kill,
    /// systemd, docker) sends before killing a process, stops it as Ctrl-C does: with a checkpoint to resume from.
    /// </summary>
    /// <summary>The exit code of a run stopped by a signal: 128 + its number, 130 for Ctrl-C (SIGINT), 143 for SIGTERM.</summary>
    public static int StopCode { get; private set; } = 130;

    /// <summary>Cancels on Ctrl-C and on SIGTERM, recording which in <see cref="StopCode"/>; dispose to stop listening.</summary>
    public static IDisposable OnStop(CancellationTokenSource cancel)
    {
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; StopCode = 130; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        var onTerm = OperatingSystem.IsWindows() ? null
            : PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; StopCode = 143; cancel.Cancel(); });
        return new Stop(() => { Console.CancelKeyPress -= onCancel; onTerm?.Dispose(); });
    }

    sealed class Stop(Action dispose) : IDisposable { public void Dispose() => dispose(); }

    public static ExperimentResult? RunOne(ExperimentSpec spec, string dir, ExistingRun existing, bool quiet)
    {
        using var held = RunLock.Folder(dir); // one run per folder, until this one ends
        using var cancel = new CancellationTokenSource();
        using var stop = OnStop(cancel);
        try
        {
            var label = $"{spec.Task} {spec.Training.Method.Kind.Name} seed {spec.Training.Seed}";
            var progress = new ProgressReporter(label, quiet);
            if (existing == ExistingRun.Resume && TrainingCheckpoint.SavedStep(Path.Combine(dir, RunFolder.Checkpoint)) is { } step)
                progress.WriteLine($"{label}: resuming from the checkpoint at step {step}");
            return progress.Run(onStep => Experiment.Run(spec, dir, existing, onStep, cancel.Token, progress.WriteLine, progress.Predicting));
        }
        catch (OperationCanceledException e)
        {
            Console.Error.WriteLine($"{e.Message}; the checkpoint is in {dir}/checkpoint — run the same command with --resume to continue");
            return null;
        }
    }

    public static void Print(ExperimentResult r)
    {
        void Line(Blob.Reports.RunResult x) =>
            Console.WriteLine($"{x.Task + (x.Split is { } s ? $" ({s})" : ""),-14} {x.Method,-5} seed {x.Seed}: ACC {x.Accuracy * 100:F2}  ECE {x.Ece * 100:F2}  NLL {x.Nll:F4}  Brier {x.Brier:F4}  AURC {x.Aurc * 100:F2}  (n = {x.Count})");
        if (r.Validation is { } v && !ReferenceEquals(v, r.Result)) Line(v);
        Line(r.Result);
        foreach (var o in r.OutOfDistribution) Line(o);
        foreach (var c in r.Calibrated) Line(c);
        Console.WriteLine($"training {r.TrainTime.TotalSeconds:F0} s, evaluation {r.EvalTime.TotalSeconds:F0} s");
    }
}
