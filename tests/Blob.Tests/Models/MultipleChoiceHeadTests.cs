using Blob.Data;
using Blob.Methods;
using Blob.Models;
using Blob.Runtime;
using Blob.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// The encoder's multiple-choice head (BertForMultipleChoice with MiniLM): one logit per (question, choice) pair,
/// the softmax over each question's own choices, padding of choices and tokens without effect.
/// </summary>
public class MultipleChoiceHeadTests
{
    static readonly IReadOnlyList<string> ABCDE = ["A", "B", "C", "D", "E"];

    /// <summary>Questions with 2 to 5 choices and pairs of quite different lengths.</summary>
    static readonly List<Example> Questions =
    [
        new("q3", "Which is a mammal?", null, 1, ["a trout", "a whale", "a sparrow"]),
        new("q5", "What do plants need in order to make their own food through photosynthesis in their leaves?", null, 2,
            ["sand", "music", "sunlight, water and carbon dioxide from the air", "darkness", "salt"]),
        new("q2", "Sarah was a much better surgeon than Maria so", null, 1,
            ["Sarah always got the easier cases.", "Maria always got the easier cases."]),
        new("q4", "Water boils at", null, 0, ["100 degrees Celsius at sea level", "10 degrees", "0 degrees", "50 degrees"]),
    ];

    static readonly Lazy<BertForMultipleChoice> Model = new(() =>
    {
        var model = MiniLm.LoadMultipleChoice(seed: 3);
        // LoRA on query/value with a non-zero B, so that the adapters take part in what is compared
        new MethodOptions { Kind = MethodRegistry.Mle, Rank = 4, Alpha = 8, Targets = ["query", "value"], FullyTrained = ["classifier"] }.Apply(model);
        using (no_grad())
        using (var g = new Generator(5))
            foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith("lora_B")))
                p.copy_(randn(p.shape, generator: g).mul_(0.05));
        model.eval();
        return model;
    });

    static readonly Lazy<WordPieceTokenizer> Tokenizer = new(() => TokenizerLoader.MiniLm());

    /// <summary>The shared model is made here, outside every test's dispose scope, which would otherwise free its adapters.</summary>
    public MultipleChoiceHeadTests() => _ = Model.Value;

    static TaskData Task() => new("mc", TaskKind.EncoderMultipleChoice, ABCDE, Questions, Questions);

    [Fact]
    public void TheHeadsLogitsAreEachPairScoredAlone()
    {
        using var scope = NewDisposeScope();
        var source = new TextBatchSource(Task(), Questions, Tokenizer.Value, maxLength: 128);
        var batch = source.Make([0, 1, 2, 3], CPU);
        Assert.Equal(new long[] { 4, 5, Enumerable.Range(0, 4).Max(source.Length) }, batch.InputIds.shape);
        var classifier = new MultipleChoiceClassifier(Model.Value);
        float[] logits;
        using (no_grad()) logits = classifier.ClassLogits(batch).data<float>().ToArray();   // [4, 5]

        for (int q = 0; q < Questions.Count; q++)
            for (int c = 0; c < ABCDE.Count; c++)
            {
                if (c >= Questions[q].Choices!.Count) { Assert.Equal(float.NegativeInfinity, logits[q * 5 + c]); continue; }
                var pair = Tokenizer.Value.Encode(Questions[q].Text, Questions[q].Choices![c], addSpecialTokens: true);
                long t = pair.Length;
                var ids = tensor(pair.Ids.Select(i => (long)i).ToArray(), [1, 1, t]);
                var types = tensor(pair.TypeIds.Select(i => (long)i).ToArray(), [1, 1, t]);
                float alone;
                using (no_grad()) alone = Model.Value.Logits(ids, ones_like(ids), types).item<float>();
                Assert.True(Math.Abs(alone - logits[q * 5 + c]) <= 2e-5 * Math.Max(1, Math.Abs(alone)),
                    $"question {q} choice {c}: {logits[q * 5 + c]} in the batch, {alone} alone");
            }
    }

    /// <summary>
    /// The Laplace fit's one backward pass over choices scored alone (direction √(p(1 − p))) gives the same K-FAC
    /// factors as a pass per column of the Hessian's square root, also with questions of 2 to 5 choices in one batch;
    /// so does the predictive's one pass for the Jacobians of all classes.
    /// </summary>
    [Fact]
    public void TheLaplaceOnePassOverTheChoicesEqualsAPassPerClass()
    {
        using var scope = NewDisposeScope();
        var source = new TextBatchSource(Task(), Questions, Tokenizer.Value, maxLength: 128);
        var classifier = new MultipleChoiceClassifier(Model.Value);
        var options = new LaplaceOptions { PriorPrecision = 1, BatchSize = 3 };
        using var onePass = LaplaceLora.Fit(classifier, source, options, CPU);
        using var perClass = LaplaceLora.Fit(classifier, source, options, CPU, passPerClass: true);
        Assert.Equal(perClass.Blocks.Count, onePass.Blocks.Count);
        Assert.Equal(perClass.LogLikelihood, onePass.LogLikelihood, 9);
        for (int m = 0; m < onePass.Blocks.Count; m++)
        {
            var expected = perClass.Blocks[m].OutputFactor;
            double scale = expected.abs().max().item<float>();
            Assert.True(scale > 0, $"{perClass.Blocks[m].Name}: the output factor should not vanish");
            double error = (expected - onePass.Blocks[m].OutputFactor).abs().max().item<float>();
            Assert.True(error <= 1e-4 * scale, $"{perClass.Blocks[m].Name}: |difference| {error:g3} against {scale:g3}");
            Assert.True(perClass.Blocks[m].InputFactor.allclose(onePass.Blocks[m].InputFactor, rtol: 0, atol: 0));
        }

        // the predictive's covariance J Σ Jᵀ from one pass equals a pass per class, with all five choices in the batch
        // and with fewer choices than classes (questions of 3 and 2 among five classes)
        foreach (int[] questions in new[] { new[] { 2, 0, 3, 1 }, new[] { 0, 2 } })
        {
            var batch = source.Make(questions, CPU);
            var (mean, covariance) = onePass.LogitDistribution(batch);
            var (meanPerClass, covariancePerClass) = onePass.LogitDistribution(batch, passPerClass: true);
            Assert.True(mean.allclose(meanPerClass, rtol: 0, atol: 0));
            double scale = covariancePerClass.abs().max().item<double>();
            double error = (covariancePerClass - covariance).abs().max().item<double>();
            Assert.True(scale > 0, "the covariance should not vanish");
            Assert.True(error <= 1e-5 * scale, $"questions {string.Join(", ", questions)}: covariance |difference| {error:g3} against {scale:g3}");
        }
    }

    [Fact]
    public void PaddingChoicesAndTokensChangesNoQuestionsProbabilities()
    {
        using var scope = NewDisposeScope();
        var source = new TextBatchSource(Task(), Questions, Tokenizer.Value, maxLength: 128);
        var classifier = new MultipleChoiceClassifier(Model.Value);
        double[] Probabilities(params int[] indices)
        {
            using var _ = no_grad();
            return classifier.ClassLogits(source.Make(indices, CPU)).softmax(-1).to(ScalarType.Float64).data<double>().ToArray();
        }
        var mixed = Probabilities(2, 0, 3, 1); // 2, 3, 4 and 5 choices, and pairs of different lengths
        int[] order = [2, 0, 3, 1];
        for (int row = 0; row < order.Length; row++)
        {
            var alone = Probabilities(order[row]);
            int choices = Questions[order[row]].Choices!.Count;
            for (int c = 0; c < 5; c++)
            {
                if (c >= choices) { Assert.Equal(0.0, mixed[row * 5 + c]); Assert.Equal(0.0, alone[c]); }
                else Assert.Equal(alone[c], mixed[row * 5 + c], 5);
            }
            Assert.Equal(1.0, mixed.Skip(row * 5).Take(5).Sum(), 6);
        }
    }

    [Fact]
    public void AChoiceBatchIsQuestionsByChoicesBySequence()
    {
        using var scope = NewDisposeScope();
        var source = new TextBatchSource(Task(), Questions, Tokenizer.Value, maxLength: 12);
        var batch = source.Make([0, 2], CPU);       // 3 and 2 choices
        Assert.Equal(2, batch.Size);                 // questions, not pairs
        Assert.Equal(3, batch.InputIds.shape[1]);    // the batch's most choices
        Assert.True(batch.InputIds.shape[2] <= 12);
        Assert.Equal([true, true, true, false, false, true, true, false, false, false], batch.ClassMask!.data<bool>().ToArray());
        // question 2's missing third choice is all padding
        Assert.Equal(0, batch.AttentionMask[1, 2].sum().item<long>());
        Assert.Equal([1L, 1L], batch.Labels.data<long>().ToArray());
        Assert.True(source.Truncated >= 1); // one count per question, however many of its pairs were cut
        Assert.True(source.Truncated <= Questions.Count);
    }

    [Fact]
    public void WinoGrandeFillsTheBlankWithEachOption()
    {
        var q = new ChoiceQuestion("w", "Sarah was a much better surgeon than Maria so _ always got the easier cases.", ["Sarah", "Maria"], 1);
        var e = q.ToBlankPairExample();
        Assert.Equal("Sarah was a much better surgeon than Maria so", e.Text);
        Assert.Equal(["Sarah always got the easier cases.", "Maria always got the easier cases."], e.Choices);
        Assert.Equal(1, e.Label);
        var arc = new ChoiceQuestion("a", "Which is a mammal?", ["trout", "whale"], 1).ToPairExample();
        Assert.Equal(("Which is a mammal?", (string?)null), (arc.Text, arc.TextPair));
        Assert.Equal(["trout", "whale"], arc.Choices);
    }

    [Theory]
    [InlineData("obqa", false, TaskKind.MultipleChoice)]
    [InlineData("obqa", true, TaskKind.EncoderMultipleChoice)]
    [InlineData("winogrande-s", true, TaskKind.EncoderMultipleChoice)]
    [InlineData("mmlu-chem", true, TaskKind.EncoderMultipleChoice)]
    [InlineData("boolq", true, TaskKind.SequenceClassification)]
    [InlineData("boolq", false, TaskKind.MultipleChoice)]
    [InlineData("rte", true, TaskKind.SequenceClassification)]
    public void AnEncoderReadsMultipleChoiceTasksAsPairs(string task, bool encoder, TaskKind kind) =>
        Assert.Equal(kind, Tasks.KindFor(task, encoder));

    [SharedFact("data/winogrande", "data/arc-easy")]
    public void TheTasksLoadAsChoicePairs()
    {
        var wino = Tasks.Load("winogrande-xs", Shared.PathOf("data"), TaskKind.EncoderMultipleChoice);
        Assert.Equal(TaskKind.EncoderMultipleChoice, wino.Kind);
        Assert.All(wino.Eval, e => Assert.Equal(2, e.Choices!.Count));
        Assert.DoesNotContain(wino.Eval, e => e.Text.Contains('_') || e.Choices!.Any(c => c.Contains('_')));
        var arc = Tasks.Load("arc-e", Shared.PathOf("data"), TaskKind.EncoderMultipleChoice);
        Assert.Contains(arc.Eval, e => e.Choices!.Count != 4); // 3 to 5 choices
        Assert.DoesNotContain(arc.Eval, e => e.Text.StartsWith("Select one of the choices"));
    }

    /// <summary>
    /// Hugging Face's BertForMultipleChoice state_dict: bert.* (with the pooler), classifier.weight [1, hidden] and
    /// classifier.bias [1]; a checkpoint with those names loads its head instead of a fresh one.
    /// </summary>
    [SharedFact("fixtures/bert")]
    public void ABertForMultipleChoiceCheckpointLoadsByItsNames()
    {
        string dir = Directory.CreateTempSubdirectory("blob-mc-").FullName;
        try
        {
            var config = ModelConfig.Load(Shared.PathOf("fixtures/bert"));
            using var sequence = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/bert"));
            using var fresh = new BertForMultipleChoice(config, BertSettings.FromConfig(config), Pooling.Cls);
            var names = fresh.state_dict().Keys.ToHashSet();
            Assert.Equal(sequence.state_dict().Keys.ToHashSet(), names);   // the same names as HF's: bert.*, classifier.*
            Assert.Contains("bert.pooler.dense.weight", names);
            long hidden = config.GetInt("hidden_size", 0);
            Assert.Equal([1L, hidden], fresh.state_dict()["classifier.weight"].shape);
            Assert.Equal([1L], fresh.state_dict()["classifier.bias"].shape);

            // a BertForMultipleChoice checkpoint: the fixture's encoder and a head of our own
            var tensors = sequence.state_dict().Where(kv => !kv.Key.StartsWith("classifier."))
                .Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value)).ToList();
            using var weight = arange(hidden, ScalarType.Float32).div_(hidden).unsqueeze(0);
            using var bias = tensor(new[] { 0.25f });
            tensors.Add(new("classifier.weight", weight));
            tensors.Add(new("classifier.bias", bias));
            Safetensors.Save(Path.Combine(dir, "model.safetensors"), tensors);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Shared.PathOf("fixtures/bert/config.json")))!.AsObject();
            json["architectures"] = new System.Text.Json.Nodes.JsonArray("BertForMultipleChoice");
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());

            using var loaded = EncoderModels.LoadMultipleChoice(dir, seed: 1);
            Assert.True(loaded.Classifier.weight.allclose(weight, 0, 0));
            Assert.True(loaded.Classifier.bias!.allclose(bias, 0, 0));
            Assert.True(loaded.state_dict()["bert.pooler.dense.weight"].allclose(sequence.state_dict()["bert.pooler.dense.weight"], 0, 0));
        }
        finally { Directory.Delete(dir, true); }
    }
}
