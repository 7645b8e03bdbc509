using Blob.Data;

namespace Blob.Tests.Data;

/// <summary>The readers on the real benchmark files in ../shared/data; counts from data/SOURCES.tsv and README.</summary>
public class OriginalFormatsTests
{
    static string D(string relative) => Shared.PathOf(Path.Combine("data", relative));

    static int[] LabelCounts(IEnumerable<Example> examples, int labels) =>
        Enumerable.Range(0, labels).Select(l => examples.Count(e => e.Label == l)).ToArray();

    [SharedFact("data/rte/dev.tsv")]
    public void Rte()
    {
        var dev = OriginalFormats.Rte(D("rte/dev.tsv"));
        Assert.Equal(277, dev.Count);
        Assert.Equal([146, 131], LabelCounts(dev, 2));
        Assert.Equal(2490, OriginalFormats.Rte(D("rte/train.tsv")).Count);
        // Quotes are ordinary characters in GLUE TSV: no row swallows the next one.
        Assert.All(dev, e => Assert.DoesNotContain('\t', e.Text + e.TextPair));
        Assert.Equal("Christopher Reeve had an accident.", dev[0].TextPair);
    }

    [SharedFact("data/mrpc/dev.tsv")]
    public void MrpcWithItsByteOrderMark()
    {
        var dev = OriginalFormats.Mrpc(D("mrpc/dev.tsv"));
        Assert.Equal(408, dev.Count);
        Assert.Equal([129, 279], LabelCounts(dev, 2));
        Assert.Equal(3668, OriginalFormats.Mrpc(D("mrpc/train.tsv")).Count);
        Assert.Equal("1355540-1355592", dev[0].Id);
        Assert.StartsWith("\"The foodservice pie business", dev[0].TextPair);
    }

    [SharedFact("data/cola/in_domain_dev.tsv")]
    public void Cola()
    {
        var dev = OriginalFormats.Cola(D("cola/in_domain_dev.tsv"));
        Assert.Equal(527, dev.Count);
        Assert.Equal([162, 365], LabelCounts(dev, 2));
        Assert.Equal("The sailors rode the breeze clear of the rocks.", dev[0].Text);
        Assert.Null(dev[0].TextPair);
        Assert.Equal(8551, OriginalFormats.Cola(D("cola/in_domain_train.tsv")).Count);
    }

    [SharedFact("data/wic/dev.data.txt", "data/wic/dev.gold.txt")]
    public void Wic()
    {
        var dev = OriginalFormats.Wic(D("wic/dev.data.txt"), D("wic/dev.gold.txt"));
        Assert.Equal(638, dev.Count);
        Assert.Equal([319, 319], LabelCounts(dev, 2));
        Assert.Equal(("board: Room and board .", "He nailed boards across the windows .", 0), (dev[0].Text, dev[0].TextPair, dev[0].Label));
        Assert.Equal(5428, OriginalFormats.Wic(D("wic/train.data.txt"), D("wic/train.gold.txt")).Count);
    }

    [SharedFact("data/winogrande/dev.jsonl")]
    public void WinoGrandeRendersTheTable6Prompt()
    {
        var dev = OriginalFormats.WinoGrande(D("winogrande/dev.jsonl"));
        Assert.Equal(1267, dev.Count);
        var first = dev[0].ToExample();
        Assert.Equal("Select one of the choices that answers the following question: Sarah was a much better surgeon " +
            "than Maria so _ always got the easier cases. Choices: A. Sarah. B. Maria. Answer:", first.Text);
        Assert.Equal(1, first.Label);
        Assert.Equal(["Sarah", "Maria"], first.Choices!);
        Assert.Equal([628, 639], LabelCounts(dev.Select(q => q.ToExample()), 2));
        Assert.Equal(160, OriginalFormats.WinoGrande(D("winogrande/train_xs.jsonl")).Count);
        Assert.Equal(640, OriginalFormats.WinoGrande(D("winogrande/train_s.jsonl")).Count);
        Assert.Equal(2558, OriginalFormats.WinoGrande(D("winogrande/train_m.jsonl")).Count);
    }

    [SharedFact("data/arc-challenge/ARC-Challenge-Dev.jsonl")]
    public void ArcWithLetterAndNumberLabels()
    {
        var dev = OriginalFormats.Arc(D("arc-challenge/ARC-Challenge-Dev.jsonl"));
        Assert.Equal(299, dev.Count);
        Assert.Equal(1119, OriginalFormats.Arc(D("arc-challenge/ARC-Challenge-Train.jsonl")).Count);
        Assert.Equal(2251, OriginalFormats.Arc(D("arc-easy/ARC-Easy-Train.jsonl")).Count);
        Assert.Equal(570, OriginalFormats.Arc(D("arc-easy/ARC-Easy-Dev.jsonl")).Count);
        Assert.Equal(3, dev.Count(q => q.Options.Count == 3));
        Assert.Equal(1, dev.Count(q => q.Options.Count == 5));
        // Answer keys "1".."4" become positions: the README counts two "1", one "2", one "4" in the dev set.
        Assert.Equal([64, 73, 78, 83, 1], Enumerable.Range(0, 5).Select(i => dev.Count(q => q.Answer == i)).ToArray());

        var first = dev[0].ToExample();
        Assert.Equal("Select one of the choices that answers the following question: Juan and LaKeisha roll a few objects " +
            "down a ramp. They want to see which object rolls the farthest. What should they do so they can repeat their " +
            "investigation? Choices: A. Put the objects in groups.. B. Change the height of the ramp.. C. Choose different " +
            "objects to roll.. D. Record the details of the investigation.. Answer:", first.Text);
        Assert.Equal(3, first.Label);
    }

    [SharedFact("data/openbookqa/train.jsonl", "data/openbookqa/train.tsv", "data/openbookqa/dev.tsv")]
    public void OpenBookQaTsvAgreesWithJsonl()
    {
        var jsonl = OriginalFormats.Arc(D("openbookqa/train.jsonl"));
        var tsv = OriginalFormats.OpenBookQaTsv(D("openbookqa/train.tsv")).ToDictionary(q => q.Id);
        Assert.Equal(4957, jsonl.Count);
        Assert.Equal(4957, tsv.Count);
        foreach (var q in jsonl)
        {
            var t = tsv[q.Id];
            Assert.Equal(q.Answer, t.Answer);
            Assert.Equal(q.Options, t.Options);
        }
        var dev = OriginalFormats.OpenBookQaTsv(D("openbookqa/dev.tsv"));
        Assert.Equal(500, dev.Count);
        Assert.Equal(["Deep sea animals", "fish", "Long Sea Fish", "Far Sea Animals"], dev[0].Options);
        Assert.All(dev, q => Assert.Equal(4, q.Options.Count));
    }

    [SharedFact("data/boolq/dev.jsonl")]
    public void BoolQ()
    {
        var all = OriginalFormats.BoolQ(D("boolq/dev.jsonl"));
        Assert.Equal(3270, all.Count);
        Assert.Equal(2033, all.Count(q => q.Answer));
        var prompt = all[0].ToExample(TaskKind.MultipleChoice);
        Assert.StartsWith("Answer the question with only True or False: does ethanol take more energy make that produces Context: All biomass", prompt.Text);
        Assert.EndsWith(".", prompt.Text);
        Assert.Equal(0, prompt.Label);
        var pair = all[0].ToExample(TaskKind.SequenceClassification);
        Assert.Equal(("does ethanol take more energy make that produces", 0), (pair.Text, pair.Label));
        Assert.StartsWith("All biomass", pair.TextPair);
    }

    [SharedFact("data/mmlu/college_physics_test.csv")]
    public void MmluCsvQuoting()
    {
        var phys = OriginalFormats.Mmlu(D("mmlu/college_physics_test.csv"));
        Assert.Equal(102, phys.Count);
        Assert.Equal(100, OriginalFormats.Mmlu(D("mmlu/college_chemistry_test.csv")).Count);
        Assert.Equal("an average of 10 times, with an rms deviation of about 4", phys[0].Options[0]);
        Assert.Equal(1, phys[0].Answer);
        Assert.Equal(["500 nm", "550 nm", "600 nm", "650 nm"], phys[1].Options);
        // A quoted question over several lines (CRLF inside the field) is one row.
        var val = OriginalFormats.Mmlu(D("mmlu/college_physics_val.csv"));
        Assert.Equal(11, val.Count);
        Assert.Contains(val, q => q.Question.Contains("\nI. The average velocity") && !q.Question.Contains('\r'));
    }
}
