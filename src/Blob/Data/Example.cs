namespace Blob.Data;

/// <summary>How a task is fed to a model.</summary>
public enum TaskKind
{
    /// <summary>An encoder reads Text (and TextPair) and a classifier head picks one of the task's labels.</summary>
    SequenceClassification,

    /// <summary>
    /// A causal LM reads Text, the whole prompt, and the answer is the next token: one of the task's answer tokens
    /// ("A".."E", "True"/"False"), scored among the example's own options only.
    /// </summary>
    MultipleChoice,

    /// <summary>
    /// An encoder reads each (question, choice) pair as a sentence pair (Text with each of Choices) and a one-output
    /// head scores it (Hugging Face's BertForMultipleChoice); the softmax runs over the example's own choices.
    /// </summary>
    EncoderMultipleChoice,
}

/// <summary>
/// One labelled example, independent of any tokenizer. Label indexes the task's labels. For multiple choice,
/// Choices holds the option texts shown in the prompt; option i is answered by the task's label i. For
/// <see cref="TaskKind.EncoderMultipleChoice"/>, choice i is the sentence pair (Text, Choices[i]).
/// </summary>
public sealed record Example(string Id, string Text, string? TextPair, int Label, IReadOnlyList<string>? Choices = null);
