using Blob.Data;
using Blob.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Data;

/// <summary>
/// Tokenises a task's examples once and pads them into batches. Encoders read (Text, TextPair) with special tokens,
/// truncated longest-first and padded on the right; a causal LM reads the whole prompt Text, truncated from the left
/// (the question's end and the answer cue matter most) and padded on the left so every prompt ends at the last position.
/// For an encoder's multiple-choice head (<see cref="TaskKind.EncoderMultipleChoice"/>) every choice is the pair
/// (Text, Choices[i]), encoded as an encoder's pair; a batch is [questions, choices, seq], padded to the batch's most
/// choices and longest pair, and its ClassMask [questions, labels] marks each question's own choices.
/// </summary>
public sealed class TextBatchSource : IBatchSource
{
    readonly IReadOnlyList<Example> _examples;
    readonly TaskData _task;
    readonly TokenizedText[] _encoded;
    readonly TokenizedText[][]? _choicePairs; // per example, per choice (EncoderMultipleChoice only)
    readonly int _padId;
    readonly bool _decoder;

    /// <summary>
    /// Tokenises <paramref name="examples"/> (of <paramref name="task"/>, which says how they are read and how many
    /// classes there are) with <paramref name="tokenizer"/>, truncated to <paramref name="maxLength"/> tokens.
    /// </summary>
    public TextBatchSource(TaskData task, IReadOnlyList<Example> examples, ITextTokenizer tokenizer, int maxLength)
    {
        _task = task;
        _examples = examples;
        _decoder = task.Kind == TaskKind.MultipleChoice;
        _padId = tokenizer.PadId;
        if (task.Kind == TaskKind.EncoderMultipleChoice)
        {
            _choicePairs = examples.Select(e => EncodeChoices(tokenizer, e, maxLength)).ToArray();
            _encoded = _choicePairs.Select(c => c.MaxBy(p => p.Length)!).ToArray(); // the longest pair gives the length
        }
        else
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

    /// <summary>Each choice as the pair (Text, choice); an example counts once as truncated when any pair was.</summary>
    TokenizedText[] EncodeChoices(ITextTokenizer tokenizer, Example example, int maxLength)
    {
        var choices = example.Choices is { Count: > 0 } c ? c
            : throw new BlobException($"{_task.Name}: example {example.Id} has no choices");
        int before = Truncated;
        var pairs = choices.Select(choice => EncodePair(tokenizer, example.Text, choice, maxLength)).ToArray();
        Truncated = Math.Min(Truncated, before + 1);
        return pairs;
    }

    /// <inheritdoc/>
    public int Count => _examples.Count;
    /// <inheritdoc/>
    public int NumClasses => _task.NumLabels;
    /// <summary>The examples, in the order of the predictions made from this source.</summary>
    public IReadOnlyList<Example> Examples => _examples;
    /// <inheritdoc/>
    public int Length(int index) => _encoded[index].Length;
    /// <summary>Every example's label, in order.</summary>
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

    /// <inheritdoc/>
    public Batch Make(IReadOnlyList<int> indices, Device device)
    {
        if (_choicePairs is not null) return MakeChoices(indices, device);
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

    /// <summary>
    /// A multiple-choice batch: ids, attention mask and token types [questions, choices, seq], right-padded; a
    /// question with fewer choices than the batch's most gets padding rows (attention mask all 0), which the classifier
    /// masks by ClassMask [questions, labels] (always given, so that its width says the task's number of labels).
    /// </summary>
    Batch MakeChoices(IReadOnlyList<int> indices, Device device)
    {
        var pairs = indices.Select(i => _choicePairs![i]).ToArray();
        int b = indices.Count, k = pairs.Max(p => p.Length), t = pairs.Max(p => p.Max(e => e.Length)), c = NumClasses;
        var ids = new long[b * k * t];
        var mask = new long[b * k * t];
        var types = new long[b * k * t];
        var labels = new long[b];
        var classMask = new bool[b * c];
        Array.Fill(ids, (long)_padId);
        for (int row = 0; row < b; row++)
        {
            for (int choice = 0; choice < pairs[row].Length; choice++)
            {
                var e = pairs[row][choice];
                int offset = (row * k + choice) * t;
                for (int j = 0; j < e.Length; j++)
                {
                    ids[offset + j] = e.Ids[j];
                    mask[offset + j] = 1;
                    types[offset + j] = e.TypeIds[j];
                }
            }
            labels[row] = _examples[indices[row]].Label;
            if (pairs[row].Length > c)
                throw new BlobException($"{_task.Name}: example {_examples[indices[row]].Id} has {pairs[row].Length} choices, the task {c} labels");
            for (int j = 0; j < c; j++) classMask[row * c + j] = j < pairs[row].Length;
        }
        long[] shape = [b, k, t];
        return new Batch(tensor(ids, shape, device: device), tensor(mask, shape, device: device), tensor(types, shape, device: device),
            tensor(labels, device: device), tensor(classMask, new long[] { b, c }, device: device));
    }
}
