namespace Blob.Data;

/// <summary>A multiple-choice question (WinoGrande, ARC, OpenBookQA, MMLU) before it is rendered as a prompt.</summary>
public sealed record ChoiceQuestion(string Id, string Question, IReadOnlyList<string> Options, int Answer)
{
    /// <summary>The examples' <see cref="Example.Group"/>: questions that must not be split between training and validation.</summary>
    public string? Group { get; init; }

    /// <summary>The Table 6 prompt; the answer is the letter of the right option.</summary>
    public Example ToExample() => new(Id, Prompts.MultipleChoice(Question, Options), null, Answer, Options) { Group = Group };

    /// <summary>For an encoder's multiple-choice head (ARC, OpenBookQA, MMLU): choice i is the pair (question, option i).</summary>
    public Example ToPairExample() => new(Id, Question, null, Answer, Options) { Group = Group };

    /// <summary>
    /// For an encoder's multiple-choice head, a sentence with a blank "_" (WinoGrande): choice i is the pair (the
    /// sentence up to the blank, option i followed by the rest of the sentence), as the WinoGrande authors' BERT and
    /// RoBERTa baselines form it (allenai/winogrande, WinograndeProcessor): "Sarah was a much better surgeon than Maria
    /// so" with "Maria always got the easier cases.". A sentence without a blank falls back to (sentence, option i).
    /// </summary>
    public Example ToBlankPairExample()
    {
        int blank = Question.IndexOf('_');
        if (blank < 0) return ToPairExample();
        string context = Question[..blank].Trim(), rest = Question[(blank + 1)..].Trim();
        var pairs = Options.Select(o => rest.Length == 0 ? o : $"{o} {rest}").ToList();
        return new(Id, context, null, Answer, pairs) { Group = Group };
    }
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
