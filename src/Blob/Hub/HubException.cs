namespace Blob.Hub;

/// <summary>
/// A model could not be had from the Hub or its cache: the message names the model, the file and what went wrong
/// (the HTTP status, a hash that did not match, offline mode), on one line.
/// </summary>
public sealed class HubException(string message, Exception? inner = null) : BlobException(message, inner);
