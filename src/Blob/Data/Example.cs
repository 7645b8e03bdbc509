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
/// <param name="Id">A name for the example, unique within its task (results refer to it).</param>
/// <param name="Text">The text, or the first of a sentence pair; for a causal LM, the whole prompt.</param>
/// <param name="TextPair">The second sentence of a pair, or null.</param>
/// <param name="Label">The index of the right label among the task's labels.</param>
/// <param name="Choices">A multiple-choice question's option texts, or null.</param>
public sealed record Example(string Id, string Text, string? TextPair, int Label, IReadOnlyList<string>? Choices = null)
{
    /// <summary>
    /// Examples with the same Group fall on one side of the validation split (<see cref="ValidationSplit"/>); null: the
    /// example stands alone. WinoGrande's twins (one sentence with one word changed and the other answer) share one.
    /// </summary>
    public string? Group { get; init; }
}
