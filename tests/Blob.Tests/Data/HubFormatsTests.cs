using Blob.Data;
using Parquet.Serialization;

namespace Blob.Tests.Data;

/// <summary>The Hub readers on small parquet and jsonl files written here with the Hub's field names.</summary>
public sealed class HubFormatsTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("blob-hub-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // Row shapes of the Hub's parquet files (property names are the column names).
    sealed class PairRow { public string sentence1 { get; set; } = ""; public string sentence2 { get; set; } = ""; public long label { get; set; } public int idx { get; set; } }
    sealed class WicRow { public string word { get; set; } = ""; public string sentence1 { get; set; } = ""; public string sentence2 { get; set; } = ""; public long label { get; set; } public int idx { get; set; } }
    sealed class BoolQRow { public string question { get; set; } = ""; public bool answer { get; set; } public string passage { get; set; } = ""; }
    sealed class Choices { public List<string> text { get; set; } = []; public List<string> label { get; set; } = []; }
    sealed class ArcRow { public string id { get; set; } = ""; public string question { get; set; } = ""; public Choices choices { get; set; } = new(); public string answerKey { get; set; } = ""; }
    sealed class MmluRow { public string question { get; set; } = ""; public string subject { get; set; } = ""; public List<string> choices { get; set; } = []; public long answer { get; set; } }

    string Parquet<T>(string name, params T[] rows)
    {
        var path = Path.Combine(dir, name);
        ParquetSerializer.SerializeAsync(rows, path).GetAwaiter().GetResult();
        return path;
    }

    string Jsonl(string name, params string[] lines)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void GlueRteParquet()
    {
        var path = Parquet("rte.parquet",
            new PairRow { sentence1 = "A man sleeps.", sentence2 = "A person rests.", label = 0, idx = 0 },
            new PairRow { sentence1 = "It rains.", sentence2 = "It is dry.", label = 1, idx = 1 });
        var task = Tasks.LoadHub("rte", path, path);
        Assert.Equal(TaskKind.SequenceClassification, task.Kind);
        Assert.Equal(2, task.Eval.Count);
        Assert.Equal(new Example("1", "It rains.", "It is dry.", 1), task.Eval[1]);
    }

    [Fact]
    public void UnlabelledHubRowsAreAnErrorNamingTheRow()
    {
        var path = Parquet("test.parquet", new PairRow { sentence1 = "a", sentence2 = "b", label = -1, idx = 0 });
        var e = Assert.Throws<BlobException>(() => Tasks.LoadHub("mrpc", null, path));
        Assert.Contains($"{path}: row 1", e.Message);
        Assert.Contains("label -1", e.Message);
    }

    [Fact]
    public void SuperGlueWicParquet()
    {
        var path = Parquet("wic.parquet", new WicRow { word = "board", sentence1 = "Room and board.", sentence2 = "He nailed boards.", label = 0 });
        var e = Tasks.LoadHub("wic", null, path).Eval.Single();
        Assert.Equal(("board: Room and board.", "He nailed boards.", 0), (e.Text, e.TextPair, e.Label));
    }

    [Fact]
    public void BoolQParquetAsPromptAndAsPair()
    {
        var path = Parquet("boolq.parquet", new BoolQRow { question = "is the sun hot", answer = true, passage = "The sun is hot" });
        var prompt = Tasks.LoadHub("boolq", path, path).Eval.Single();
        Assert.Equal(("Answer the question with only True or False: is the sun hot Context: The sun is hot.", 1), (prompt.Text, prompt.Label));
        var pair = Tasks.LoadHub("boolq", null, path, TaskKind.SequenceClassification).Eval.Single();
        Assert.Equal(("is the sun hot", "The sun is hot", 1), (pair.Text, pair.TextPair, pair.Label));
    }

    [Fact]
    public void Ai2ArcParquetWithNestedChoices()
    {
        var path = Parquet("arc.parquet",
            new ArcRow { id = "q1", question = "Which is a metal?", answerKey = "2",
                choices = new Choices { text = ["wood", "iron", "glass"], label = ["1", "2", "3"] } });
        var task = Tasks.LoadHub("arc-c", path, path);
        var e = task.Eval.Single();
        Assert.Equal("Select one of the choices that answers the following question: Which is a metal? Choices: A. wood. B. iron. C. glass. Answer:", e.Text);
        Assert.Equal(1, e.Label);
        Assert.Equal(["A", "B", "C"], task.AnswerTokens(e));
    }

    [Fact]
    public void CaisMmluParquet()
    {
        var path = Parquet("mmlu.parquet", new MmluRow { question = "2 + 2 =", subject = "math", choices = ["3", "4", "5", "6"], answer = 1 });
        var task = Tasks.LoadHub("mmlu-phys", null, path);
        Assert.Empty(task.Train);
        Assert.Equal((1, 4), (task.Eval.Single().Label, task.Eval.Single().Choices!.Count));
    }

    [Fact]
    public void WinoGrandeAndOpenBookQaJsonl()
    {
        var wg = Jsonl("wg.jsonl", """{"sentence": "Sarah beat Maria so _ won.", "option1": "Sarah", "option2": "Maria", "answer": "1"}""");
        Assert.Equal(0, Tasks.LoadHub("winogrande-s", wg, wg).Eval.Single().Label);

        var obqa = Jsonl("obqa.jsonl", """{"id": "7-980", "question_stem": "The sun is responsible for", "choices": {"text": ["a", "b", "c", "d"], "label": ["A", "B", "C", "D"]}, "answerKey": "D"}""");
        var e = Tasks.LoadHub("obqa", obqa, obqa).Eval.Single();
        Assert.Equal(("7-980", 3), (e.Id, e.Label));
    }

    [Fact]
    public void GlueColaJsonl()
    {
        var cola = Jsonl("cola.jsonl", """{"sentence": "The book was written.", "label": 1, "idx": 0}""", "",
            """{"sentence": "Book the written was.", "label": 0, "idx": 1}""");
        var task = Tasks.LoadHub("cola", cola, cola);
        Assert.Equal([1, 0], task.Eval.Select(e => e.Label));
    }

    [Fact]
    public void AnAnswerKeyNotAmongTheLabelsNamesTheLine()
    {
        var obqa = Jsonl("bad.jsonl",
            """{"id": "1", "question_stem": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "A"}""",
            """{"id": "2", "question_stem": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "E"}""");
        var e = Assert.Throws<BlobException>(() => Tasks.LoadHub("obqa", null, obqa));
        Assert.Contains($"{obqa}:2:", e.Message);
        Assert.Contains("\"E\"", e.Message);
    }

    [Fact]
    public void ANonParquetFileIsNamed()
    {
        var path = Path.Combine(dir, "broken.parquet");
        File.WriteAllText(path, "not parquet");
        var e = Assert.Throws<BlobException>(() => Tasks.LoadHub("rte", null, path));
        Assert.Contains(path, e.Message);
    }
}
