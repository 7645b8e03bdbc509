using System.CommandLine;
using Blob.Methods;

namespace Blob.Cli.Commands;

/// <summary>A --method option whose choices and help are the registered methods (<see cref="MethodRegistry"/>).</summary>
public static class MethodChoice
{
    /// <summary>"mle (plain LoRA, maximum likelihood), map (...), ..." for help.</summary>
    public static string Help => string.Join("; ", MethodRegistry.All.Select(m => $"{m.Name}: {m.Summary}")) + ". " + Advice;

    /// <summary>The README's "Which method should I use?" in one line, from the kept tables (docs/results.md).</summary>
    public static string Advice => $"Which to use: on MiniLM, mle with --calibrate {MethodRegistry.Calibrators[0].Name} (fitted on --validation-fraction's split) " +
                                   "matched or beat blob's dev NLL on every task, in and out of distribution; blob has the lowest ECE without held-out data";

    public static Option<string> Option(string name, string description, string? defaultName, Func<FineTuningMethod, string?>? problem = null)
    {
        var option = new Option<string>(name) { Description = description };
        if (defaultName is not null) option.DefaultValueFactory = _ => defaultName;
        return option.Must(value => !MethodRegistry.TryParse(value, out var method) ? $"unknown method '{value}' (known: {MethodRegistry.Names})"
            : problem?.Invoke(method));
    }
}
