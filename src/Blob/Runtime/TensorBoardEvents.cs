using TorchSharp;

namespace Blob.Runtime;

/// <summary>One scalar of a TensorBoard event file: its tag, step, value and wall time (seconds).</summary>
/// <param name="Tag">The series' name in TensorBoard (loss, dev/acc, ...).</param>
/// <param name="Step">The x of the point, the optimiser step.</param>
/// <param name="Value">The value (stored as float32, TensorBoard's simple_value).</param>
/// <param name="Seconds">The event's wall time in seconds (whole seconds are stored: TorchSharp's writer takes an integer).</param>
public sealed record TensorBoardScalar(string Tag, long Step, double Value, double Seconds);

/// <summary>
/// TensorBoard event files written by TorchSharp's own writer (<c>torch.utils.tensorboard.SummaryWriter</c>), whole
/// and atomically: <see cref="Write"/> puts all of a folder's scalars into one fresh file (made in a temporary folder
/// beside it, then renamed in), and then deletes the folder's older event files. So the folder always holds one
/// complete file, each (tag, step) appears as often as the caller gives it (a run's log gives each step once, also
/// after a resumption), and a killed write leaves the previous file. TensorBoard started afterwards reads it as one
/// run; one that is already running picks up the new file (its name sorts after the old one's).
/// </summary>
public static class TensorBoardEvents
{
    /// <summary>The event files' folder in a run's folder: <c>tensorboard --logdir RUN/tensorboard</c>.</summary>
    public const string FolderName = "tensorboard";

    /// <summary>What TensorBoard looks for in a file's name.</summary>
    public const string FilePrefix = "events.out.tfevents.";

    /// <summary>
    /// Writes <paramref name="scalars"/>, in order, as the only event file of <paramref name="folder"/> (created if
    /// missing) and returns its path.
    /// </summary>
    public static string Write(string folder, IEnumerable<TensorBoardScalar> scalars)
    {
        var full = Path.GetFullPath(folder);
        var parent = Path.GetDirectoryName(full) ?? full;
        var temp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            var writer = torch.utils.tensorboard.SummaryWriter(temp);
            foreach (var s in scalars)
                writer.add_scalar(s.Tag, (float)s.Value, checked((int)s.Step), (long)Math.Round(s.Seconds));
            var written = Directory.GetFiles(temp, FilePrefix + "*").Single();
            Directory.CreateDirectory(full);
            var target = Path.Combine(full, Path.GetFileName(written));
            using (var f = new FileStream(written, FileMode.Open, FileAccess.ReadWrite)) f.Flush(flushToDisk: true);
            File.Move(written, target, overwrite: true);
            // the new file first, then the old ones go: the folder never lacks a complete file
            foreach (var old in Directory.GetFiles(full, FilePrefix + "*").Where(f => f != target)) File.Delete(old);
            return target;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>The event files in <paramref name="folder"/>, oldest name first (none if it does not exist).</summary>
    public static IReadOnlyList<string> Files(string folder) => Directory.Exists(folder)
        ? Directory.GetFiles(folder, FilePrefix + "*").Order(StringComparer.Ordinal).ToList() : [];
}
