namespace Blob.Data;

/// <summary>A multiple-choice question (WinoGrande, ARC, OpenBookQA, MMLU) before it is rendered as a prompt.</summary>
public sealed record ChoiceQuestion(string Id, string Question, IReadOnlyList<string> Options, int Answer)
{
    /// <summary>The Table 6 prompt; the answer is the letter of the right option.</summary>
    public Example ToExample() => new(Id, Prompts.MultipleChoice(Question, Options), null, Answer, Options);
}

/// <summary>A BoolQ question with its passage. Label 1 = True, 0 = False (the task's labels are "False","True").</summary>
public sealed record BoolQuestion(string Id, string Question, string Passage, bool Answer)
{
    public static readonly IReadOnlyList<string> Labels = ["False", "True"];

    /// <summary>For a causal LM, the Table 6 prompt; for an encoder, the pair (question, passage).</summary>
    public Example ToExample(TaskKind kind) => kind == TaskKind.MultipleChoice
        ? new(Id, Prompts.BoolQ(Question, Passage), null, Answer ? 1 : 0)
        : new(Id, Question, Passage, Answer ? 1 : 0);
}
