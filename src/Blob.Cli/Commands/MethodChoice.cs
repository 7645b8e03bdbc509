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
                                   "matched or beat blob's dev NLL on every task, in and out of distribution; blob has the lowest ECE without held-out data on all tasks but one";

    /// <summary>
    /// The option, parsed into its method here, once; <paramref name="problem"/> says why a method is refused (null: fine).
    /// Without <paramref name="defaultMethod"/> it is null when not given.
    /// </summary>
    public static Option<FineTuningMethod?> Option(string name, string description, FineTuningMethod? defaultMethod, Func<FineTuningMethod, string?>? problem = null)
    {
        var option = new Option<FineTuningMethod?>(name)
        {
            Description = description,
            HelpName = "method",
            CustomParser = result =>
            {
                var word = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                string? why = !MethodRegistry.TryParse(word, out var method) ? $"unknown method '{word}' (known: {MethodRegistry.Names})" : problem?.Invoke(method);
                if (why is null) return method;
                result.AddError($"{name} '{word}': {why}");
                return null;
            },
        };
        if (defaultMethod is not null) option.DefaultValueFactory = _ => defaultMethod;
        option.CompletionSources.Add(MethodRegistry.All.Select(m => m.Name).ToArray());
        return option;
    }
}
