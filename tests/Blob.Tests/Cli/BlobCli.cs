using System.Diagnostics;
using System.Text;
using Blob.Cli.Commands;

namespace Blob.Tests.Cli;

/// <summary>
/// Runs the real command line (every command, as Program.cs does), in-process or as a child process, and keeps what it
/// printed, so a failing test shows the command's own words instead of a bare exit code.
/// </summary>
public static class BlobCli
{
    public sealed record Outcome(int Code, string Out, string Error)
    {
        /// <summary>For assertion messages: the exit code and everything printed.</summary>
        public override string ToString() => $"exit {Code}\n--- stdout\n{Out}\n--- stderr\n{Error}";
    }

    /// <summary>In this process (tests do not run in parallel, so redirecting the console is safe).</summary>
    public static Outcome Run(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return new Outcome(CommandRunner.Run(BlobCommandLine.Create(), args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }

    static string Dll => Path.Combine(AppContext.BaseDirectory, "Blob.Cli.dll");

    /// <summary>A child process running the tool, its output collected as it comes (read it after WaitForExit).</summary>
    public sealed class Child : IDisposable
    {
        readonly StringBuilder _out = new(), _error = new();
        public Process Process { get; }

        public Child(string[] args, IReadOnlyDictionary<string, string>? environment = null)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
            info.ArgumentList.Add(Dll);
            foreach (var a in args) info.ArgumentList.Add(a);
            Process = Process.Start(info)!;
            Process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_out) _out.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_error) _error.AppendLine(e.Data); };
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Outcome WaitForExit()
        {
            Process.WaitForExit(); // also waits for the output to be read to its end
            lock (_out) lock (_error) return new Outcome(Process.ExitCode, _out.ToString(), _error.ToString());
        }

        public void Dispose() => Process.Dispose();
    }

    /// <summary>
    /// For a child that must succeed: any error prints its stack trace too (BLOB_DEBUG=1), so an unexpected exit shows
    /// where it came from (an unexplained exit 1 is otherwise hard to trace). Not for tests of the one-line error itself.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Debug = new Dictionary<string, string> { ["BLOB_DEBUG"] = "1" };

    /// <summary>Runs the tool in a child process to its end.</summary>
    public static Outcome RunChild(params string[] args) => RunChild(null, args);

    /// <summary>Runs the tool in a child process to its end, with these environment variables set (or replaced).</summary>
    public static Outcome RunChild(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var child = new Child(args, environment);
        return child.WaitForExit();
    }
}
