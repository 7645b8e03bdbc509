using Blob.Data;
using Blob.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Data;

/// <summary>
/// Tokenises a task's examples once and pads them into batches. Encoders read (Text, TextPair) with special tokens,
/// truncated longest-first and padded on the right; a causal LM reads the whole prompt Text, truncated from the left
/// (the question's end and the answer cue matter most) and padded on the left so every prompt ends at the last position.
/// </summary>
public sealed class TextBatchSource : IBatchSource
{
    readonly IReadOnlyList<Example> _examples;
    readonly TaskData _task;
    readonly TokenizedText[] _encoded;
    readonly int _padId;
    readonly bool _decoder;

    public TextBatchSource(TaskData task, IReadOnlyList<Example> examples, ITextTokenizer tokenizer, int maxLength)
    {
        _task = task;
        _examples = examples;
        _decoder = task.Kind == TaskKind.MultipleChoice;
        _padId = tokenizer.PadId;
        _encoded = examples.Select(e => _decoder ? EncodePrompt(tokenizer, e.Text, maxLength)
                                                 : EncodePair(tokenizer, e.Text, e.TextPair, maxLength))
                           .ToArray();
        MaxLength = maxLength;
    }

    /// <summary>The maximum sequence length the examples were cut to.</summary>
    public int MaxLength { get; }

    /// <summary>How many examples were longer than <see cref="MaxLength"/> and lost tokens to truncation.</summary>
    public int Truncated { get; private set; }

    /// <summary>"12 of 277 examples truncated to 128 tokens", or null when none was.</summary>
    public string? TruncationNote(string what) =>
        Truncated == 0 ? null : $"{Truncated} of {Count} {what} examples truncated to {MaxLength} tokens (--max-length)";

    TokenizedText EncodePair(ITextTokenizer tokenizer, string text, string? pair, int maxLength)
    {
        var full = tokenizer.Encode(text, pair, addSpecialTokens: true);
        if (full.Length <= maxLength) return full;
        Truncated++;
        return tokenizer.Encode(text, pair, addSpecialTokens: true, maxLength: maxLength);
    }

    public int Count => _examples.Count;
    public int NumClasses => _task.NumLabels;
    public IReadOnlyList<Example> Examples => _examples;
    public int Length(int index) => _encoded[index].Length;
    public int[] Labels => _examples.Select(e => e.Label).ToArray();

    TokenizedText EncodePrompt(ITextTokenizer tokenizer, string prompt, int maxLength)
    {
        var full = tokenizer.Encode(prompt, addSpecialTokens: true);
        if (full.Length <= maxLength) return full;
        Truncated++;
        // Keep a leading BOS, then the last tokens.
        bool bos = tokenizer.BosId is { } b && full.Ids.Length > 0 && full.Ids[0] == b;
        int keep = maxLength - (bos ? 1 : 0);
        var ids = (bos ? full.Ids[..1] : []).Concat(full.Ids[^keep..]).ToArray();
        return new TokenizedText(ids, new int[ids.Length]);
    }

    public Batch Make(IReadOnlyList<int> indices, Device device)
    {
        int b = indices.Count, t = indices.Max(i => _encoded[i].Length), c = NumClasses;
        var ids = new long[b * t];
        var mask = new long[b * t];
        var types = new long[b * t];
        var labels = new long[b];
        var classMask = new bool[b * c];
        bool anyMasked = false;
        for (int row = 0; row < b; row++)
        {
            var e = _encoded[indices[row]];
            int offset = _decoder ? t - e.Length : 0; // left padding for prompts, right for encoders
            for (int j = 0; j < t; j++) ids[row * t + j] = _padId;
            for (int j = 0; j < e.Length; j++)
            {
                ids[row * t + offset + j] = e.Ids[j];
                mask[row * t + offset + j] = 1;
                types[row * t + offset + j] = e.TypeIds[j];
            }
            var example = _examples[indices[row]];
            labels[row] = example.Label;
            int options = _task.AnswerTokens(example).Count;
            for (int k = 0; k < c; k++) classMask[row * c + k] = k < options;
            anyMasked |= options < c;
        }
        return new Batch(
            tensor(ids, new long[] { b, t }, device: device),
            tensor(mask, new long[] { b, t }, device: device),
            _decoder ? null : tensor(types, new long[] { b, t }, device: device),
            tensor(labels, device: device),
            anyMasked ? tensor(classMask, new long[] { b, c }, device: device) : null);
    }
}
