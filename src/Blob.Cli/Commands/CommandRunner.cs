using System.CommandLine;
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

    public static int Run(Command root, string[] args)
    {
        var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
        bool verbose = parsed.GetValue(CommonOptions.Verbose) || Environment.GetEnvironmentVariable("BLOB_DEBUG") == "1";
        if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
        {
            // One line, not the usage text: the first error names the option and the value; --help has the rest.
            var command = string.Join(" ", parsed.CommandResult.Command.Parents().Reverse().Append(parsed.CommandResult.Command)
                .Select(c => c.Name));
            Console.Error.WriteLine($"error: {parsed.Errors[0].Message} (see '{command} --help')");
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
                Console.Error.WriteLine($"error: {inner.Message}");
                if (verbose) Console.Error.WriteLine(inner);
                return 2;
            }
            Console.Error.WriteLine($"error: {inner.GetType().Name}: {inner.Message}");
            Console.Error.WriteLine(verbose ? inner.ToString() : "(run with --verbose for the stack trace)");
            return 1;
        }
    }
}
