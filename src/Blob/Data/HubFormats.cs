namespace Blob.Data;

/// <summary>
/// Readers for the same datasets as the Hugging Face Hub distributes them: a parquet file, or jsonl with the Hub's
/// field names (glue/rte, glue/mrpc, glue/cola, super_glue/wic, boolq, ai2_arc, openbookqa, winogrande, cais/mmlu).
/// </summary>
public static class HubFormats
{
    /// <summary>The records of a .parquet or .jsonl file.</summary>
    public static IReadOnlyList<JsonRecord> Records(string path) =>
        Path.GetExtension(path).Equals(".parquet", StringComparison.OrdinalIgnoreCase)
            ? ParquetRows.Read(path)
            : JsonLines.Read(path).ToList();

    /// <summary>glue/rte, glue/mrpc, super_glue/wic style pairs: sentence1, sentence2, label (0/1), idx.</summary>
    public static List<Example> SentencePair(string path) => Records(path).Select((r, i) =>
        new Example(Id(r, i), r.String("sentence1"), r.String("sentence2"), Label(r, "label", 2))).ToList();

    /// <summary>glue/cola: sentence, label (1 = acceptable), idx.</summary>
    public static List<Example> Cola(string path) => Records(path).Select((r, i) =>
        new Example(Id(r, i), r.String("sentence"), null, Label(r, "label", 2))).ToList();

    /// <summary>super_glue/wic: word, sentence1, sentence2, label (1 = same sense); rendered as the original reader does.</summary>
    public static List<Example> Wic(string path) => Records(path).Select((r, i) =>
        new Example(Id(r, i), OriginalFormats.WicText(r.String("word"), r.String("sentence1")), r.String("sentence2"),
            Label(r, "label", 2))).ToList();

    /// <summary>boolq: question, passage, answer (true/false); super_glue/boolq's label (1 = True) is read too.</summary>
    public static List<BoolQuestion> BoolQ(string path) => Records(path).Select((r, i) =>
        new BoolQuestion(Id(r, i), r.String("question"), r.String("passage"),
            r.Has("answer") ? r.Bool("answer") : Label(r, "label", 2) == 1)).ToList();

    /// <summary>ai2_arc: id, question, choices{text[], label[]}, answerKey.</summary>
    public static List<ChoiceQuestion> Arc(string path) => Records(path).Select((r, i) =>
        LetteredChoices(r, Id(r, i), r.String("question"))).ToList();

    /// <summary>openbookqa: id, question_stem, choices{text[], label[]}, answerKey.</summary>
    public static List<ChoiceQuestion> OpenBookQa(string path) => Records(path).Select((r, i) =>
        LetteredChoices(r, Id(r, i), r.String("question_stem"))).ToList();

    /// <summary>winogrande: sentence, option1, option2, answer "1"/"2" (the unlabelled test split has "").</summary>
    public static List<ChoiceQuestion> WinoGrande(string path) => Records(path).Select(OriginalFormats.WinoGrandeRecord).ToList();

    /// <summary>cais/mmlu: question, subject, choices[4], answer (0–3).</summary>
    public static List<ChoiceQuestion> Mmlu(string path) => Records(path).Select((r, i) =>
    {
        var options = r.Strings("choices");
        return new ChoiceQuestion(Id(r, i), r.String("question"), options, Label(r, "answer", options.Count));
    }).ToList();

    static ChoiceQuestion LetteredChoices(JsonRecord r, string id, string question)
    {
        var choices = r.Object("choices");
        var texts = choices.Strings("text");
        var labels = choices.Array("label").Select(n => n?.ToString() ?? "").ToList();
        if (labels.Count != texts.Count) throw r.Error($"{texts.Count} choice texts but {labels.Count} labels");
        return OriginalFormats.Choice(r.Where, id, question, texts, labels, r.Text("answerKey"));
    }

    static string Id(JsonRecord r, int index) =>
        r.Has("id") ? r.Text("id") : r.Has("idx") ? r.Text("idx") : index.ToString();

    /// <summary>An integer label in [0, count); the Hub marks unlabelled rows with -1, which is an error here.</summary>
    static int Label(JsonRecord r, string field, int count)
    {
        int label = r.Int(field);
        return label >= 0 && label < count ? label
            : throw r.Error($"label {label} out of range 0..{count - 1} (an unlabelled test split?)");
    }
}
