namespace Blob;

/// <summary>
/// An error caused by the user's input (a file, a flag, a dataset row), with a message that names the file and the
/// problem. The command-line tool prints its message alone on one line, without a stack trace.
/// </summary>
public class BlobException(string message, Exception? inner = null) : Exception(message, inner);
