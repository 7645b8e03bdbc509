using Blob.Hub;
using Spectre.Console;

namespace Blob.Cli.Commands;

/// <summary>
/// Shows model downloads on stderr (stdout stays the command's own output, e.g. score's JSON): on a terminal a bar per
/// file with its size, speed and time left; otherwise, or with --quiet, a line when a file starts and when it is done.
/// </summary>
public sealed class DownloadView(bool quiet)
{
    readonly bool _live = !quiet && !Console.IsErrorRedirected;
    readonly Dictionary<string, ProgressTask> _bars = new();
    readonly HashSet<string> _started = new();
    ProgressContext? _context;

    /// <summary>Runs <paramref name="work"/>, giving it the progress callback; the display lasts as long as the work.</summary>
    public T Run<T>(Func<Action<DownloadProgress>, T> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (!_live || !console.Profile.Capabilities.Interactive) return work(Log);
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                _context = ctx;
                result = work(Update);
            });
        return result;
    }

    void Update(DownloadProgress p)
    {
        if (!_bars.TryGetValue(p.File, out var bar))
            _bars[p.File] = bar = _context!.AddTask(Markup.Escape($"{p.Model} {p.File}"), maxValue: Math.Max(1, p.Total));
        bar.Value = p.Done;
    }

    void Log(DownloadProgress p)
    {
        if (_started.Add(p.File))
            Console.Error.WriteLine($"downloading {p.Model} {p.File} ({Size(p.Total)}" + (p.Done > 0 ? $", resuming at {Size(p.Done)})" : ")"));
        else if (p.Finished) Console.Error.WriteLine($"downloaded {p.Model} {p.File}");
    }

    static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} kB",
        _ => $"{bytes} bytes",
    };
}
