using TorchSharp;
using TorchSharp.Modules;

namespace Blob.Runtime;

/// <summary>One scalar of a TensorBoard event file: its tag, step, value and wall time (seconds).</summary>
/// <param name="Tag">The series' name in TensorBoard (loss, dev/acc, ...).</param>
/// <param name="Step">The x of the point, the optimiser step.</param>
/// <param name="Value">The value (stored as float32, TensorBoard's simple_value).</param>
/// <param name="Seconds">The event's wall time in seconds (whole seconds are stored: TorchSharp's writer takes an integer).</param>
public sealed record TensorBoardScalar(string Tag, long Step, double Value, double Seconds);

/// <summary>
/// TensorBoard event files written by TorchSharp's own writer (<c>torch.utils.tensorboard.SummaryWriter</c>), one
/// stream of scalars per file, the stream's name (<c>training</c>, <c>metrics</c>) ending the file's name. Two ways:
/// <list type="bullet">
/// <item><see cref="Start"/>: a log appended to as it goes (as TensorBoard's writers do; a write cut short leaves at
/// most a truncated last record, which TensorBoard skips). It begins by deleting the folder's older files of its stream
/// and writing the scalars that are to be kept, so a restarted stream never repeats or contradicts a step.</item>
/// <item><see cref="Write"/>: a whole file at once, atomically (made in a temporary folder beside the target, then
/// renamed in), the stream's older files deleted after.</item>
/// </list>
/// TensorBoard reads the folder's files as one run, in the order of their names, which is the order they were made.
/// </summary>
public sealed class TensorBoardEvents
{
    /// <summary>The event files' folder in a run's folder: <c>tensorboard --logdir RUN/tensorboard</c>.</summary>
    public const string FolderName = "tensorboard";

    /// <summary>What TensorBoard looks for in a file's name.</summary>
    public const string FilePrefix = "events.out.tfevents.";

    readonly SummaryWriter _writer;

    /// <summary>The file this log appends to.</summary>
    public string Path { get; }

    TensorBoardEvents(SummaryWriter writer, string path) { _writer = writer; Path = path; }

    /// <summary>
    /// A fresh file for the <paramref name="stream"/> in <paramref name="folder"/> (created if missing), holding
    /// <paramref name="kept"/>; the stream's older files are deleted first.
    /// </summary>
    public static TensorBoardEvents Start(string folder, string stream, IEnumerable<TensorBoardScalar> kept)
    {
        foreach (var old in Files(folder, stream)) File.Delete(old);
        var writer = torch.utils.tensorboard.SummaryWriter(folder, filename_suffix: stream);
        var log = new TensorBoardEvents(writer, Files(folder, stream).Single());
        foreach (var s in kept) log.Add(s);
        return log;
    }

    /// <summary>Appends one scalar.</summary>
    public void Add(TensorBoardScalar s) => _writer.add_scalar(s.Tag, (float)s.Value, checked((int)s.Step), (long)Math.Round(s.Seconds));

    /// <summary>
    /// Writes <paramref name="scalars"/>, in order, as the only file of the <paramref name="stream"/> in
    /// <paramref name="folder"/>, atomically, and returns its path.
    /// </summary>
    public static string Write(string folder, string stream, IEnumerable<TensorBoardScalar> scalars)
    {
        var full = System.IO.Path.GetFullPath(folder);
        var parent = System.IO.Path.GetDirectoryName(full) ?? full;
        var temp = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var written = Start(temp, stream, scalars).Path;
            using (var f = new FileStream(written, FileMode.Open, FileAccess.ReadWrite)) f.Flush(flushToDisk: true);
            Directory.CreateDirectory(full);
            var target = System.IO.Path.Combine(full, System.IO.Path.GetFileName(written));
            File.Move(written, target, overwrite: true);
            // the new file first, then the old ones go: the folder never lacks a complete file
            foreach (var old in Files(full, stream).Where(f => f != target)) File.Delete(old);
            return target;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The event files of <paramref name="folder"/> (of one stream, or all), oldest first; none if it does not exist.</summary>
    public static IReadOnlyList<string> Files(string folder, string? stream = null) => Directory.Exists(folder)
        ? Directory.GetFiles(folder, FilePrefix + "*" + (stream is null ? "" : "." + stream)).Order(StringComparer.Ordinal).ToList() : [];
}
