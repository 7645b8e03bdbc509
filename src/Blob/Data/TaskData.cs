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

    /// <summary>
    /// Which training examples belong together, or null when each stands alone: examples with the same key fall on one side
    /// of the validation split (<see cref="ValidationSplit"/>). WinoGrande's twins (qIDs PREFIX-1 and PREFIX-2: one
    /// sentence with one word changed and the other answer) share a key, so that a model is not trained on one twin and
    /// judged on the other.
    /// </summary>
    public Func<Example, string>? Group { get; init; }

    /// <summary>The validation split carved from the training split (<see cref="ValidationSplit"/>); empty without one.</summary>
    public IReadOnlyList<Example> Validation { get; init; } = [];

    /// <summary>The answer tokens of one example: the first Choices.Count labels, or all labels without choices.</summary>
    public IReadOnlyList<string> AnswerTokens(Example example) =>
        example.Choices is { } c ? Labels.Take(c.Count).ToList() : Labels;
}
