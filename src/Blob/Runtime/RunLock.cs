using System.Runtime.InteropServices;
using System.Text;

namespace Blob.Runtime;

/// <summary>
/// One run per output: an exclusive OS lock (flock on Unix, a share lock on Windows) on a lock file, held from before
/// anything is written until the run ends. The kernel drops it when the process dies, so a killed run leaves no stale
/// lock; the file itself stays (deleting it on release would let two runs lock two different files). The holder writes
/// its process id into the file, so that a run refused names the process that holds the lock.
/// </summary>
public sealed class RunLock : IDisposable
{
    /// <summary>The lock file inside a run's folder.</summary>
    public const string FileName = ".blob.lock";

    readonly FileStream _stream;
    public string Path { get; }

    RunLock(string path, FileStream stream) => (Path, _stream) = (path, stream);

    /// <summary>
    /// Locks the folder (created if need be) for this run, or throws a <see cref="BlobException"/> naming the folder
    /// and the process that holds it. <paramref name="option"/> ("--output") is named when the folder cannot be written.
    /// </summary>
    public static RunLock Folder(string dir, string option = "--output")
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new BlobException($"{option}: the path is empty");
        if (File.Exists(dir)) throw new BlobException($"{option} {dir}: is a file, not a folder");
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BlobException($"{option} {dir}: cannot create the folder ({e.Message})");
        }
        return Acquire(System.IO.Path.Combine(dir, FileName), dir, option);
    }

    /// <summary>
    /// Checks an output folder before a run starts, without creating it: an empty path, a file, or a folder another run
    /// holds is refused as <see cref="Folder"/> refuses it; a folder that does not exist yet is left to the run.
    /// </summary>
    public static void Probe(string dir, string option = "--output")
    {
        if (string.IsNullOrWhiteSpace(dir)) throw new BlobException($"{option}: the path is empty");
        if (File.Exists(dir)) throw new BlobException($"{option} {dir}: is a file, not a folder");
        if (Directory.Exists(dir)) Folder(dir, option).Dispose();
    }

    /// <summary>Locks an output file (through "FILE.lock" beside it) for one writer, as <see cref="Folder"/> does a folder.</summary>
    public static RunLock OutputFile(string file, string option = "--output")
    {
        if (string.IsNullOrWhiteSpace(file)) throw new BlobException($"{option}: the path is empty");
        if (Directory.Exists(file)) throw new BlobException($"{option} {file}: is a folder; expected a file to write the results to");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file))!;
        try { Directory.CreateDirectory(dir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BlobException($"{option} {file}: cannot create its folder ({e.Message})");
        }
        return Acquire(file + ".lock", file, option);
    }

    static RunLock Acquire(string lockPath, string what, string option)
    {
        FileStream stream;
        try { stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (UnauthorizedAccessException e)
        {
            throw new BlobException($"{option} {what}: cannot write there ({e.Message})");
        }
        catch (IOException e) when (File.Exists(lockPath) && !Directory.Exists(lockPath))
        {
            // the lock is held: by whom, as far as the holder wrote it
            var holder = Holder(lockPath) is { } pid ? $"process {pid}" : "another process";
            throw new BlobException($"{what} is in use by another run ({holder} holds {lockPath}); wait for it to end, or choose another {option}", e);
        }
        catch (IOException e)
        {
            throw new BlobException($"{option} {what}: cannot write there ({e.Message})");
        }
        try
        {
            var pid = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString());
            stream.SetLength(0);
            stream.Write(pid);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            stream.Dispose();
            throw new BlobException($"{option} {what}: cannot write there ({e.Message})");
        }
        return new RunLock(lockPath, stream);
    }

    /// <summary>The process id the holder wrote, or null (unreadable, or not written yet).</summary>
    public static int? Holder(string lockPath)
    {
        // .NET's own readers take a shared flock, which the holder's exclusive one refuses: read with plain open/read.
        if (OperatingSystem.IsWindows()) return null;
        int fd = Open(lockPath, 0 /* O_RDONLY */);
        if (fd < 0) return null;
        try
        {
            var buffer = new byte[32];
            nint n = Read(fd, buffer, buffer.Length);
            return n > 0 && int.TryParse(Encoding.ASCII.GetString(buffer, 0, (int)n).Trim(), out var pid) ? pid : null;
        }
        finally { Close(fd); }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    static extern nint Read(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "close")]
    static extern int Close(int fd);

    /// <summary>Releases the lock; the file stays, emptied, for the next run.</summary>
    public void Dispose()
    {
        try { _stream.SetLength(0); } catch (IOException) { } // an empty file: no pid that looks current
        _stream.Dispose();
    }
}
