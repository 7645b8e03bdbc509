namespace Blob.Data;

/// <summary>
/// A task ready for training and evaluation: its examples and the names of its labels (for multiple choice, the
/// answer tokens: "A","B",... or "False","True"). Note says anything results must report (e.g. how a split was made).
/// </summary>
public sealed record TaskData(
    string Name,
    TaskKind Kind,
    IReadOnlyList<string> Labels,
    IReadOnlyList<Example> Train,
    IReadOnlyList<Example> Eval,
    string? Note = null)
{
    public int NumLabels => Labels.Count;

    /// <summary>The validation split carved from the training split (<see cref="ValidationSplit"/>); empty without one.</summary>
    public IReadOnlyList<Example> Validation { get; init; } = [];

    /// <summary>The answer tokens of one example: the first Choices.Count labels, or all labels without choices.</summary>
    public IReadOnlyList<string> AnswerTokens(Example example) =>
        example.Choices is { } c ? Labels.Take(c.Count).ToList() : Labels;
}
