namespace Blob.Data;

/// <summary>
/// A task ready for training and evaluation: its examples and the names of its labels (for multiple choice, the
/// answer tokens: "A","B",... or "False","True"). Note says anything results must report (e.g. how a split was made).
/// </summary>
/// <param name="Name">The task's name (rte, mrpc, ... or your own), for results.</param>
/// <param name="Kind">How the task is fed to a model: a sequence classifier's head, or multiple choice.</param>
/// <param name="Labels">The names of the labels, in the order of <see cref="Example.Label"/>.</param>
/// <param name="Train">The training examples.</param>
/// <param name="Eval">The evaluation examples (the dev or test split).</param>
/// <param name="Note">What results must report about the data, or null.</param>
public sealed record TaskData(
    string Name,
    TaskKind Kind,
    IReadOnlyList<string> Labels,
    IReadOnlyList<Example> Train,
    IReadOnlyList<Example> Eval,
    string? Note = null)
{
    /// <summary>How many labels the task has.</summary>
    public int NumLabels => Labels.Count;

    /// <summary>The validation split carved from the training split (<see cref="ValidationSplit"/>); empty without one.</summary>
    public IReadOnlyList<Example> Validation { get; init; } = [];

    /// <summary>The answer tokens of one example: the first Choices.Count labels, or all labels without choices.</summary>
    public IReadOnlyList<string> AnswerTokens(Example example) =>
        example.Choices is { } c ? Labels.Take(c.Count).ToList() : Labels;
}
