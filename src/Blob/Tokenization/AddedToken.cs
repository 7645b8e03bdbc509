namespace Blob.Tokenization;

/// <summary>
/// A token matched literally in the text before any other processing (&lt;|endoftext|&gt;, &lt;|im_start|&gt;).
/// Special ones are dropped by Decode when asked to skip special tokens.
/// </summary>
public sealed record AddedToken(string Content, int Id, bool Special);
