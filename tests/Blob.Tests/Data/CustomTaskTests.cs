using Blob.Data;

namespace Blob.Tests.Data;

/// <summary>A user's own jsonl/csv task with a JSON mapping, and the errors that name the file and line.</summary>
public sealed class CustomTaskTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("blob-custom-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    const string PairMapping = """{"text": "premise", "text_pair": "hypothesis", "label": "label", "labels": ["yes", "no"]}""";

    [Fact]
    public void SentencePairsFromJsonl()
    {
        var map = Write("map.json", PairMapping);
        var data = Write("nli.jsonl", """
            {"premise": "A dog runs.", "hypothesis": "An animal moves.", "label": "yes"}
            {"premise": "A dog runs.", "hypothesis": "A cat sleeps.", "label": 1}
            """);
        var task = CustomTask.Load(map, data, data);
        // Without a "name", the task is named after its training file, not "map" (which reads as the MAP method).
        Assert.Equal(("nli", TaskKind.SequenceClassification), (task.Name, task.Kind));
        Assert.Equal(["yes", "no"], task.Labels);
        Assert.Equal(new Example("0", "A dog runs.", "An animal moves.", 0), task.Train[0]);
        Assert.Equal(1, task.Eval[1].Label);
    }

    [Fact]
    public void MultipleChoiceFromCsvWithQuotedFields()
    {
        var map = Write("quiz.json", """{"name": "quiz", "text": "question", "choices": ["a", "b", "c"], "label": "answer"}""");
        var data = Write("quiz.csv", "question,a,b,c,answer\n\"Which, of these\nis red?\",sky,\"the \"\"rose\"\"\",grass,B\n");
        var task = CustomTask.Load(map, data, data);
        var e = task.Eval.Single();
        Assert.Equal(TaskKind.MultipleChoice, task.Kind);
        Assert.Equal(["A", "B", "C"], task.Labels);
        Assert.Equal(1, e.Label);
        Assert.Equal("Select one of the choices that answers the following question: Which, of these\nis red? Choices: A. sky. B. the \"rose\". C. grass. Answer:", e.Text);
    }

    [Fact]
    public void ChoicesFromAListField()
    {
        var map = Write("mc.json", """{"text": "q", "choices": "options", "label": "gold"}""");
        var data = Write("mc.jsonl", """{"q": "2+2?", "options": ["3", "4"], "gold": 1}""");
        Assert.Equal(1, CustomTask.Load(map, data, data).Eval.Single().Label);
    }

    [Fact]
    public void AnUnknownLabelNamesFileAndLine()
    {
        var map = Write("nli.json", PairMapping);
        var data = Write("bad.jsonl", """
            {"premise": "p", "hypothesis": "h", "label": "yes"}

            {"premise": "p", "hypothesis": "h", "label": "maybe"}
            """);
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.Contains($"{data}:3:", e.Message);
        Assert.Contains("\"maybe\"", e.Message);
    }

    [Fact]
    public void AMissingFieldNamesFileAndLine()
    {
        var map = Write("nli.json", PairMapping);
        var data = Write("bad.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"yes\"}\n{\"premise\": \"p\", \"label\": \"no\"}\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.Contains($"{data}:2:", e.Message);
        Assert.Contains("\"hypothesis\"", e.Message);
    }

    [Fact]
    public void AMalformedJsonLineNamesFileAndLine()
    {
        var map = Write("nli.json", PairMapping);
        var data = Write("bad.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"yes\"}\n{\"premise\": \"p\",\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.Contains($"{data}:2:", e.Message);
        Assert.Contains("malformed JSON", e.Message);
    }

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("empty.csv", "")]
    [InlineData("header-only.csv", "premise,hypothesis,label\n")]
    public void AnEmptyFileNamesFileAndLine(string name, string text)
    {
        var map = Write("nli.json", PairMapping);
        var data = Write(name, text);
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.Contains($"{data}:1:", e.Message);
        Assert.Contains("empty", e.Message);
    }

    [Fact]
    public void AnUnclosedCsvQuoteNamesTheLineItStartsOn()
    {
        var map = Write("nli.json", PairMapping);
        var data = Write("bad.csv", "premise,hypothesis,label\np,h,yes\n\"p,h,no\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.Contains($"{data}:3:", e.Message);
    }

    [Fact]
    public void ABadMappingIsNamed()
    {
        var data = Write("d.jsonl", """{"a": "x", "l": "yes"}""");
        var noLabels = Write("m1.json", """{"text": "a", "label": "l"}""");
        Assert.Contains(noLabels, Assert.Throws<BlobException>(() => CustomTask.Load(noLabels, data, data)).Message);
        var broken = Write("m2.json", "{\"text\": ");
        Assert.Contains(broken, Assert.Throws<BlobException>(() => CustomTask.Load(broken, data, data)).Message);
        var missing = Path.Combine(dir, "none.json");
        Assert.Contains(missing, Assert.Throws<BlobException>(() => CustomTask.Load(missing, data, data)).Message);
    }

    [Fact]
    public void ADuplicateCsvHeaderNameNamesFileLineAndBothColumns()
    {
        var map = Write("nli.json", PairMapping);
        var data = Write("dup.csv", "\npremise,hypothesis,premise,label\np,h,q,yes\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.StartsWith($"{data}:2:", e.Message);
        Assert.Contains("\"premise\" twice (columns 1 and 3)", e.Message);
    }

    [Fact]
    public void ARowWithMoreCellsThanTheHeaderIsRefused()
    {
        // an unquoted comma in the premise: cut to the header's three columns, the row would read "p1" and " p2"
        var map = Write("nli.json", PairMapping);
        var data = Write("extra.csv", "premise,hypothesis,label\np,h,yes\np1, p2,h,no\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.StartsWith($"{data}:3:", e.Message);
        Assert.Contains("4 cells, but the header has 3 columns", e.Message);
    }

    /// <summary>"café" in Latin-1 (0xE9 alone is not UTF-8) on the given line of an otherwise valid file.</summary>
    string WriteLatin1(string name, string before, string after)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, [.. System.Text.Encoding.UTF8.GetBytes(before + "caf"), 0xE9, .. System.Text.Encoding.UTF8.GetBytes(after)]);
        return path;
    }

    [Fact]
    public void InvalidUtf8IsRefusedNamingTheLineInsteadOfReadAsReplacementCharacters()
    {
        var map = Write("nli.json", PairMapping);
        var valid = Write("ok.jsonl", """{"premise": "p", "hypothesis": "h", "label": "yes"}""");
        var jsonl = WriteLatin1("latin1.jsonl", "{\"premise\": \"p\", \"hypothesis\": \"h\", \"label\": \"yes\"}\n{\"premise\": \"", "\", \"hypothesis\": \"h\", \"label\": \"no\"}\n");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, valid, jsonl));
        Assert.StartsWith($"{jsonl}:2:", e.Message);
        Assert.Contains("not valid UTF-8", e.Message);

        var csv = WriteLatin1("latin1.csv", "premise,hypothesis,label\np,h,yes\n\n", ",h,no\n");
        Assert.StartsWith($"{csv}:4:", Assert.Throws<BlobException>(() => CustomTask.Load(map, csv, valid)).Message);

        var latinMap = WriteLatin1("latin1.json", "{\"text\": \"premise\", \"label\": \"label\",\n \"labels\": [\"", "\", \"no\"]}");
        Assert.StartsWith($"{latinMap}:2:", Assert.Throws<BlobException>(() => CustomTask.Load(latinMap, valid, valid)).Message);
    }

    [Fact]
    public void AMappingThatNamesALabelTwiceIsBlamedWithItsLine()
    {
        var map = Write("twice.json", "{\"text\": \"premise\", \"text_pair\": \"hypothesis\", \"label\": \"label\",\n \"labels\": [\"yes\",\n \"no\",\n \"yes\"]}");
        var data = Write("d.jsonl", """{"premise": "p", "hypothesis": "h", "label": "yes"}""");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.StartsWith($"{map}:4:", e.Message);
        Assert.Contains("\"yes\" twice", e.Message);
        Assert.DoesNotContain(data, e.Message);
    }

    [Fact]
    public void AMappingWithADuplicateKeyIsRefused()
    {
        var map = Write("keys.json", "{\"text\": \"premise\", \"label\": \"label\",\n \"text\": \"hypothesis\", \"labels\": [\"yes\", \"no\"]}");
        var data = Write("d.jsonl", """{"premise": "p", "hypothesis": "h", "label": "yes"}""");
        var e = Assert.Throws<BlobException>(() => CustomTask.Load(map, data, data));
        Assert.StartsWith($"{map}:2:", e.Message);
        Assert.Contains("\"text\" is given twice", e.Message);
    }
}
