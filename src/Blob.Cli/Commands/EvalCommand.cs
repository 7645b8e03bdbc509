using System.CommandLine;
using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Reports;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>`blob eval`: evaluate a saved adapter (ours, or one PEFT wrote) on a task, in and out of distribution.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var options = new ExperimentOptions();
        var adapter = new Option<string>("--adapter") { Description = "Adapter folder (adapter_config.json + adapter_model.safetensors, or member-* folders of an ensemble)", Required = true };
        var posthoc = MethodRegistry.All.Where(m => m.AppliesToTrainedLora).Select(m => m.Name).ToList();
        var method = MethodChoice.Option("--method",
            $"Apply a post-hoc method to a saved LoRA adapter, fitted on the task's training split: {string.Join(", ", posthoc)} " +
            "(default: predict as the method that saved the adapter)", null,
            m => m.AppliesToTrainedLora ? null : $"{m.Name} trains its own adapters; a saved adapter takes {string.Join(" or ", posthoc)}");
        var output = new Option<string?>("--output") { Description = "Write the results as JSON to this file (rewritten after each task)" };
        var command = new Command("eval", "Evaluate a saved adapter: accuracy, ECE, NLL, Brier (with N-sample prediction for Bayesian adapters)");
        options.AddEvaluationTo(command);
        foreach (var o in new Option[] { adapter, method, output }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var spec = options.Read(p, MethodRegistry.Mle, 1);
            var applying = p.GetValue(method);
            string? path = p.GetValue(output);
            // checked and locked before any model loads, so that the results cannot be lost at the end, nor mixed with another eval's
            using var held = path is null ? null : RunLock.OutputFile(path);
            var results = new List<RunResult>();
            // Each task's result as soon as it is computed: a later task's failure or Ctrl-C loses none.
            var progress = new ProgressReporter("", p.GetValue(options.Quiet));
            void Report(RunResult r)
            {
                progress.WriteLine($"{r.Task,-14} {r.Method,-5}: ACC {r.Accuracy * 100:F2}  ECE {r.Ece * 100:F2}  NLL {r.Nll:F4}  Brier {r.Brier:F4}  AURC {r.Aurc * 100:F2}  (n = {r.Count})");
                results.Add(r);
                if (path is not null) AtomicFile.WriteAllText(path, ToJson(results));
            }

            using var cancel = new CancellationTokenSource();
            using var stop = TrainCommand.OnStop(cancel); // Ctrl-C or SIGTERM: the results so far stay in --output
            try
            {
                progress.RunPrediction(onPredict => Experiment.EvaluateAdapter(spec, p.GetValue(adapter)!, applying,
                    progress.WriteLine, Report, onPredict, cancel.Token));
                return 0;
            }
            catch (OperationCanceledException e)
            {
                Console.Error.WriteLine(e.Message + (path is not null && results.Count > 0 ? $"; the results before it are in {path}" : ""));
                return TrainCommand.StopCode;
            }
        });
        return command;
    }

    /// <summary>The results as an indented JSON array (metrics that are not finite as null, with a note).</summary>
    static string ToJson(IEnumerable<RunResult> results) =>
        JsonSerializer.Serialize(results.Select(r => r.WithNonFiniteNotes()),
            new JsonSerializerOptions { WriteIndented = true, Converters = { new NonFiniteAsNullConverter() } });
}
