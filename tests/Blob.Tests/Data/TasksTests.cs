using Blob.Data;

namespace Blob.Tests.Data;

public class TasksTests
{
    static readonly string Root = Shared.PathOf("data");

    [SharedTheory("data/SOURCES.tsv")]
    [InlineData("rte", TaskKind.SequenceClassification, 2, 2490, 277)]
    [InlineData("mrpc", TaskKind.SequenceClassification, 2, 3668, 408)]
    [InlineData("wic", TaskKind.SequenceClassification, 2, 5428, 638)]
    [InlineData("cola", TaskKind.SequenceClassification, 2, 8551, 527)]
    [InlineData("boolq", TaskKind.MultipleChoice, 2, 2270, 1000)]
    [InlineData("winogrande-s", TaskKind.MultipleChoice, 2, 640, 1267)]
    [InlineData("winogrande-m", TaskKind.MultipleChoice, 2, 2558, 1267)]
    [InlineData("arc-c", TaskKind.MultipleChoice, 5, 1119, 299)]
    [InlineData("arc-e", TaskKind.MultipleChoice, 5, 2251, 570)]
    [InlineData("obqa", TaskKind.MultipleChoice, 4, 4957, 500)]
    [InlineData("mmlu-chem", TaskKind.MultipleChoice, 4, 0, 100)]
    [InlineData("mmlu-phys", TaskKind.MultipleChoice, 4, 0, 102)]
    public void EveryTaskLoads(string name, TaskKind kind, int labels, int train, int eval)
    {
        var task = Tasks.Load(name, Root);
        Assert.Equal((name, kind, labels, train, eval), (task.Name, task.Kind, task.NumLabels, task.Train.Count, task.Eval.Count));
        Assert.All(task.Train.Concat(task.Eval), e => Assert.InRange(e.Label, 0, labels - 1));
        if (kind == TaskKind.MultipleChoice)
            Assert.All(task.Eval, e => Assert.EndsWith(name == "boolq" ? "." : "Answer:", e.Text));
    }

    [SharedFact("data/boolq/dev.jsonl")]
    public void BoolQSplitIsDeterministicDisjointAndReported()
    {
        var a = Tasks.Load("boolq", Root);
        var b = Tasks.Load("boolq", Root, TaskKind.SequenceClassification);
        Assert.Equal(a.Eval.Select(e => e.Id), b.Eval.Select(e => e.Id));
        Assert.Empty(a.Train.Select(e => e.Id).Intersect(a.Eval.Select(e => e.Id)));
        Assert.Equal(Tasks.BoolQNote, a.Note);
        Assert.Contains("2,270 train / 1,000 test", a.Note);
        Assert.Equal(TaskKind.SequenceClassification, b.Kind);
        Assert.NotNull(b.Eval[0].TextPair);
        // Both answers are well represented on each side of the split (62% True overall).
        Assert.InRange(a.Eval.Count(e => e.Label == 1), 550, 690);
    }

    [SharedFact("data/arc-challenge/ARC-Challenge-Dev.jsonl")]
    public void AnswerTokensFollowTheExamplesChoices()
    {
        var arc = Tasks.Load("arc-c", Root);
        var three = arc.Eval.First(e => e.Choices!.Count == 3);
        Assert.Equal(["A", "B", "C"], arc.AnswerTokens(three));
        var boolq = Tasks.Load("boolq", Root);
        Assert.Equal(["False", "True"], boolq.AnswerTokens(boolq.Eval[0]));
    }

    [Fact]
    public void UnknownNamesListTheKnownOnes()
    {
        var e = Assert.Throws<BlobException>(() => Tasks.Load("squad", "/nonexistent"));
        Assert.Contains("squad", e.Message);
        Assert.All(Tasks.Names, n => Assert.Contains(n, e.Message));
    }

    [SharedFact("data/rte/dev.tsv")]
    public void KindsATaskCannotTakeAreRefused()
    {
        var e = Assert.Throws<BlobException>(() => Tasks.Load("rte", Root, TaskKind.MultipleChoice));
        Assert.Contains("rte", e.Message);
    }

    [Fact]
    public void AMissingDataFolderIsNamed()
    {
        var e = Assert.Throws<BlobException>(() => Tasks.Load("rte", "/no/such/folder"));
        Assert.Contains("/no/such/folder", e.Message);
    }

    [Fact]
    public void DefaultDataRootIsSharedBesideTheRepository() =>
        Assert.Equal(Path.Combine(Shared.Root, "data"), Tasks.DefaultDataRoot);

    [Fact]
    public void SplitIsReproducibleAndCoversEverything()
    {
        var items = Enumerable.Range(0, 100).ToList();
        var (train, test) = DeterministicSplit.Split(items, 30, 7);
        Assert.Equal((70, 30), (train.Count, test.Count));
        Assert.Equal(items, train.Concat(test).Order());
        Assert.Equal(test, DeterministicSplit.Split(items, 30, 7).Test);
        Assert.NotEqual(test, DeterministicSplit.Split(items, 30, 8).Test);
    }
}
