namespace Blob.Data;

/// <summary>
/// Readers for the benchmark files in their original distributions' formats (the files under ../shared/data).
/// </summary>
public static class OriginalFormats
{
    // ---- GLUE / SuperGLUE sentence tasks (encoders) ----

    /// <summary>RTE: TSV with header sentence1, sentence2, label (0 = entailment, 1 = not entailment), idx.</summary>
    public static List<Example> Rte(string path) => Tsv.Read(path, hasHeader: true)
        .Select(r => new Example(r.Has("idx") ? r.Cell("idx") : r.Where, r.Cell("sentence1"), r.Cell("sentence2"),
            ParseLabel(r.Where, r.Cell("label"), ["0", "1"], ["entailment", "not_entailment"])))
        .ToList();

    /// <summary>MRPC: GLUE TSV Quality, #1 ID, #2 ID, #1 String, #2 String (Quality 1 = paraphrase).</summary>
    public static List<Example> Mrpc(string path) => Tsv.Read(path, hasHeader: true)
        .Select(r => new Example($"{r.Cell("#1 ID")}-{r.Cell("#2 ID")}", r.Cell("#1 String"), r.Cell("#2 String"),
            ParseLabel(r.Where, r.Cell("Quality"), ["0", "1"])))
        .ToList();

    /// <summary>CoLA: headerless TSV source, label (1 = acceptable), original mark, sentence.</summary>
    public static List<Example> Cola(string path) => Tsv.Read(path, hasHeader: false)
        .Select((r, i) => new Example($"{r.Cell(0)}-{i}", r.Cell(3), null, ParseLabel(r.Where, r.Cell(1), ["0", "1"])))
        .ToList();

    /// <summary>
    /// WiC: data lines word, POS, index1-index2, sentence1, sentence2 and a gold file of T/F lines (T = 1).
    /// The target word is put in front of the first sentence: Text = "word: sentence1", TextPair = sentence2.
    /// </summary>
    public static List<Example> Wic(string dataPath, string goldPath)
    {
        var data = Tsv.Read(dataPath, hasHeader: false).ToList();
        var gold = Tsv.Read(goldPath, hasHeader: false).ToList();
        if (gold.Count != data.Count)
            throw new BlobException($"{goldPath}: {gold.Count} gold labels for {data.Count} lines in {dataPath}");
        return Enumerable.Range(0, data.Count).Select(i => new Example($"wic-{i}",
                WicText(data[i].Cell(0), data[i].Cell(3)), data[i].Cell(4), ParseLabel(gold[i].Where, gold[i].Cell(0), ["F", "T"])))
            .ToList();
    }

    public static string WicText(string word, string sentence) => $"{word}: {sentence}";

    // ---- Multiple choice (causal LMs) ----

    /// <summary>WinoGrande jsonl: qID, sentence (with "_"), option1, option2, answer "1"/"2".</summary>
    public static List<ChoiceQuestion> WinoGrande(string path) => JsonLines.Read(path).Select(WinoGrandeRecord).ToList();

    internal static ChoiceQuestion WinoGrandeRecord(JsonRecord r)
    {
        string? qid = r.Has("qID") ? r.String("qID") : null;
        string option1 = r.String("option1"), option2 = r.String("option2");
        return new(qid ?? r.Where, r.String("sentence"), [option1, option2], ParseLabel(r.Where, r.Text("answer"), ["1", "2"]))
        {
            Group = WinoGrandeTwins(qid, option1, option2),
        };
    }

    /// <summary>
    /// WinoGrande's twin key: the qID without its "-1"/"-2" ending; where a file has no qIDs (the Hub's parquet), the
    /// two options, which twins share (so do some unrelated questions, which are then held out together too).
    /// </summary>
    public static string WinoGrandeTwins(string? qid, string option1, string option2)
    {
        if (qid is null) return $"options:{option1}\u001f{option2}";
        int dash = qid.LastIndexOf('-');
        return dash > 0 && qid[(dash + 1)..] is "1" or "2" ? $"qID:{qid[..dash]}" : $"qID:{qid}";
    }

    /// <summary>ARC (and OpenBookQA) jsonl: id, question{stem, choices[{text,label}]}, answerKey (A–E or 1–5).</summary>
    public static List<ChoiceQuestion> Arc(string path) => JsonLines.Read(path).Select(r =>
    {
        var question = r.Object("question");
        var choices = question.Array("choices").Select(c => new JsonRecord(r.Where,
            c as System.Text.Json.Nodes.JsonObject ?? throw r.Error("a choice is not an object"))).ToList();
        return Choice(r.Where, r.String("id"), question.String("stem"),
            choices.Select(c => c.String("text")).ToList(), choices.Select(c => c.Text("label")).ToList(), r.Text("answerKey"));
    }).ToList();

    /// <summary>OpenBookQA TSV: ID, Question Stem, Choices "(A) .. (B) .. (C) .. (D) ..", Complete Question, Answer Key.</summary>
    public static List<ChoiceQuestion> OpenBookQaTsv(string path) => Tsv.Read(path, hasHeader: true).Select(r =>
    {
        var options = SplitLetteredChoices(r, r.Cell("Choices"));
        var letters = Prompts.Letters.Take(options.Count).ToList();
        return Choice(r.Where, r.Cell("ID"), r.Cell("Question Stem"), options, letters, r.Cell("Answer Key").Trim());
    }).ToList();

    /// <summary>MMLU: headerless CSV question, A, B, C, D, answer letter.</summary>
    public static List<ChoiceQuestion> Mmlu(string path) => Csv.Read(path, hasHeader: false).Select((r, i) =>
        Choice(r.Where, $"{Path.GetFileNameWithoutExtension(path)}-{i}", r.Cell(0),
            [r.Cell(1), r.Cell(2), r.Cell(3), r.Cell(4)], ["A", "B", "C", "D"], r.Cell(5).Trim())).ToList();

    /// <summary>BoolQ jsonl: question, passage, title, answer true/false.</summary>
    public static List<BoolQuestion> BoolQ(string path) => JsonLines.Read(path)
        .Select((r, i) => new BoolQuestion($"boolq-{i}", r.String("question"), r.String("passage"), r.Bool("answer")))
        .ToList();

    // ---- helpers ----

    /// <summary>Index of the answer key among the choice labels; an unknown key is an error at that row.</summary>
    internal static ChoiceQuestion Choice(string where, string id, string question, IReadOnlyList<string> options,
        IReadOnlyList<string> labels, string answerKey)
    {
        int answer = labels.ToList().IndexOf(answerKey);
        if (answer < 0) throw Error(where, $"answer \"{answerKey}\" is not one of the choice labels {string.Join(", ", labels)}");
        if (options.Count > Prompts.Letters.Count) throw Error(where, $"{options.Count} choices, at most {Prompts.Letters.Count} supported");
        return new ChoiceQuestion(id, question, options, answer);
    }

    /// <summary>
    /// "(A) x (B) y (C) z (D) w" → [x, y, z, w]. Markers are found right to left (the last " (D) ", then the last
    /// " (C) " before it, ...) because an option's own text may contain one: OpenBookQA 12-1145's option C reads
    /// "ducks sitting on their eggs (D) baby birds chewing worms".
    /// </summary>
    internal static List<string> SplitLetteredChoices(Row row, string text)
    {
        int count = Prompts.Letters.TakeWhile(l => text.Contains($"({l}) ")).Count();
        if (count < 2 || !text.StartsWith("(A) ")) throw row.Error($"choices not in the form \"(A) .. (B) ..\": {text}");
        var options = new string[count];
        int end = text.Length;
        for (int i = count - 1; i >= 0; i--)
        {
            string marker = i == 0 ? "(A) " : $" ({Prompts.Letters[i]}) ";
            int at = i == 0 ? 0 : text[..end].LastIndexOf(marker, StringComparison.Ordinal);
            if (at < 0) throw row.Error($"choices not in the form \"(A) .. (B) ..\": {text}");
            options[i] = text[(at + marker.Length)..end].Trim();
            end = at;
        }
        return [.. options];
    }

    /// <summary>The index of value among accepted values (or among names), or an error naming the row.</summary>
    internal static int ParseLabel(string where, string value, IReadOnlyList<string> accepted, IReadOnlyList<string>? names = null)
    {
        int i = accepted.ToList().IndexOf(value.Trim());
        if (i < 0 && names is not null) i = names.ToList().IndexOf(value.Trim());
        return i >= 0 ? i : throw Error(where, $"unknown label \"{value}\" (expected one of {string.Join(", ", accepted)})");
    }

    internal static BlobException Error(string where, string problem) => new($"{where}: {problem}");
}
