namespace Blob.Data;

/// <summary>The prompt templates of the paper's Table 6 (not the official code's "Return the label of ..." wording).</summary>
public static class Prompts
{
    public static readonly IReadOnlyList<string> Letters = ["A", "B", "C", "D", "E", "F", "G", "H"];

    /// <summary>WinoGrande, ARC, OpenBookQA and MMLU: "… Choices: A. {c1}. B. {c2}. … Answer:".</summary>
    public static string MultipleChoice(string question, IReadOnlyList<string> choices)
    {
        if (choices.Count > Letters.Count) throw new ArgumentException($"at most {Letters.Count} choices", nameof(choices));
        var options = string.Join(" ", choices.Select((c, i) => $"{Letters[i]}. {c}."));
        return $"Select one of the choices that answers the following question: {question} Choices: {options} Answer:";
    }

    /// <summary>BoolQ: "Answer the question with only True or False: {question} Context: {passage}.".</summary>
    public static string BoolQ(string question, string passage) =>
        $"Answer the question with only True or False: {question} Context: {passage}.";
}
