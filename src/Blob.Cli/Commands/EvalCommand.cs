using System.CommandLine;
using Blob.Experiments;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>`blob eval`: evaluate a saved adapter (ours, or one PEFT wrote) on a task, in and out of distribution.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var options = new ExperimentOptions();
        var adapter = new Option<string>("--adapter") { Description = "Adapter folder (adapter_config.json + adapter_model.safetensors, or member-* folders of an ensemble)", Required = true };
        var laplace = new Option<bool>("--laplace") { Description = "Fit the Laplace approximation (LAP) on the task's training split and predict with it" };
        var output = new Option<string?>("--output") { Description = "Write the results as JSON to this file" };
        var command = new Command("eval", "Evaluate a saved adapter: accuracy, ECE, NLL, Brier (with N-sample prediction for Bayesian adapters)");
        options.AddEvaluationTo(command);
        foreach (var o in new Option[] { adapter, laplace, output }) command.Options.Add(o);
        command.SetAction(p =>
        {
            var spec = options.Read(p, MethodKind.Mle, 1);
            var results = Experiment.EvaluateAdapter(spec, p.GetValue(adapter)!, p.GetValue(laplace), Console.WriteLine);
            foreach (var r in results)
                Console.WriteLine($"{r.Task,-14} {r.Method,-5}: ACC {r.Accuracy * 100:F2}  ECE {r.Ece * 100:F2}  NLL {r.Nll:F4}  Brier {r.Brier:F4}  (n = {r.Count})");
            if (p.GetValue(output) is { } path)
                Blob.Reports.AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(results, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }
}
