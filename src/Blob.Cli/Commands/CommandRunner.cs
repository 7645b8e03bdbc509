using System.CommandLine;
using System.Reflection;
using Blob;

namespace Blob.Cli.Commands;

/// <summary>Options every command understands.</summary>
public static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print stack traces for errors (also: BLOB_DEBUG=1)",
        Recursive = true,
    };
}

/// <summary>
/// Runs the parsed command. A parse error (an unknown option, a value out of range) is one line on stderr and exit code 2. A <see cref="BlobException"/> (bad input: a file, a flag, a row) becomes one line on
/// stderr and exit code 2; any other exception exit code 1; stack traces only with --verbose or BLOB_DEBUG=1.
/// </summary>
public static class CommandRunner
{
    static IEnumerable<Command> Parents(this Command command)
    {
        for (var p = command.Parents.OfType<Command>().FirstOrDefault(); p != null; p = p.Parents.OfType<Command>().FirstOrDefault())
            yield return p;
    }

    /// <summary>
    /// The first "--name" the command does not know. A list option (--seeds 1 2) would otherwise take it as one of its
    /// values and report that it cannot parse it, hiding that the option itself is unknown.
    /// </summary>
    static string? UnknownOption(Command command, string[] args)
    {
        var known = command.Options.Concat(command.Parents().SelectMany(p => p.Options.Where(o => o.Recursive)))
            .SelectMany(o => o.Aliases.Prepend(o.Name)).ToHashSet();
        foreach (var arg in args.TakeWhile(a => a != "--"))
        {
            if (!arg.StartsWith("--") || arg.Length == 2) continue;
            string name = arg.Split('=', 2)[0];
            if (!known.Contains(name) && name != "--help") return name;
        }
        return null;
    }

    /// <summary>"expected type 'System.Nullable`1[System.Int32]'" and the like, in words.</summary>
    static string WithoutTypeNames(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"(?:expected )?type '?(System\.[\w`\[\]\.,]+)'?", m =>
        {
            string type = m.Groups[1].Value;
            string words = type.Contains("Int") ? "a whole number" : type.Contains("Double") || type.Contains("Single") || type.Contains("Decimal") ? "a number"
                : type.Contains("Boolean") ? "true or false" : "a value";
            return type.Contains("[]") ? $"{words.Replace("a ", "")}s" : words;
        });

    public static int Run(Command root, string[] args)
    {
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        bool verbose = parsed.GetValue(CommonOptions.Verbose) || Environment.GetEnvironmentVariable("BLOB_DEBUG") == "1";
        // an unknown "--name" is refused even where a list option (--targets) swallowed it as a value
        var unknown = parsed.Action is System.CommandLine.Help.HelpAction ? null : UnknownOption(parsed.CommandResult.Command, args);
        if ((parsed.Errors.Count > 0 || unknown is not null) && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            // One line, not the usage text: the first error names the option and the value; --help has the rest.
            var command = string.Join(" ", parsed.CommandResult.Command.Parents().Reverse().Append(parsed.CommandResult.Command)
                .Select(c => c.Name));
            var message = unknown is not null ? $"unknown option '{unknown}'" : WithoutTypeNames(parsed.Errors[0].Message);
            Console.Error.WriteLine($"error: {message} (see '{command} --help')");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerException! : e;
            if (inner is BlobException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
            {
                Console.Error.WriteLine($"error: {FirstLine(inner.Message)}");
                if (verbose) Console.Error.WriteLine(inner);
                return 2;
            }
            Console.Error.WriteLine($"error: {Describe(inner)}");
            Console.Error.WriteLine(verbose ? inner.ToString() : "(run with --verbose for the stack trace)");
            return 1;
        }
    }

    /// <summary>
    /// An unexpected error in one line, by its cause: a type that failed to start (TorchSharp's native library not
    /// loading) or a call through reflection says what went wrong inside, not only that something did.
    /// </summary>
    public static string Describe(Exception e)
    {
        string prefix = "";
        while (e.InnerException is { } cause && e is TypeInitializationException or TargetInvocationException or AggregateException)
        {
            if (e is TypeInitializationException t) prefix += $"{t.TypeName} could not start: ";
            e = cause;
        }
        return $"{prefix}{e.GetType().Name}: {FirstLine(e.Message)}";
    }

    /// <summary>
    /// The first line of an error's message. libtorch's errors carry its C++ stack in their message ("Exception raised
    /// from ... frame #0: ..."), which only --verbose prints.
    /// </summary>
    public static string FirstLine(string message) =>
        message.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.Trim().Length > 0) ?? "";
}
