using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

public class EncoderModelTests(ITestOutputHelper output)
{
    [SharedTheory("fixtures/bert", "fixtures/roberta")]
    [InlineData("bert")]
    [InlineData("roberta")]
    public void MatchesTransformersOnFixture(string name)
    {
        string dir = Shared.PathOf($"fixtures/{name}");
        using var model = EncoderModels.LoadSequenceClassifier(dir);
        var reference = Safetensors.Load(Path.Combine(dir, "reference.safetensors"));
        var ids = reference["input_ids"];
        var mask = reference["attention_mask"];
        using var _ = no_grad();

        var states = model.Encoder.HiddenStates(ids, mask, zeros_like(ids));
        using var logits = model.Logits(ids, mask, zeros_like(ids));

        double first = MaxErrorAtTokens(states[0], reference["first_hidden_state"], mask);
        double last = MaxErrorAtTokens(states[^1], reference["last_hidden_state"], mask);
        double logitError = (logits - reference["logits"]).abs().max().item<float>();
        output.WriteLine($"{name}: first {first:E2}, last {last:E2}, logits {logitError:E2}");
        Assert.Equal(model.Config.GetInt("num_hidden_layers") + 1, states.Count);
        Assert.True(first <= 1e-4, $"first_hidden_state differs by {first}");
        Assert.True(last <= 1e-4, $"last_hidden_state differs by {last}");
        Assert.True(logitError <= 1e-4, $"logits differ by {logitError}");
    }

    [SharedFact("fixtures/bert", "fixtures/roberta")]
    public void ParameterNamesAreHuggingFaces()
    {
        using var bert = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/bert"));
        using var roberta = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/roberta"));
        var bertNames = bert.named_parameters().Select(p => p.name).ToHashSet();
        var robertaNames = roberta.named_parameters().Select(p => p.name).ToHashSet();
        Assert.Contains("bert.encoder.layer.0.attention.self.query.weight", bertNames);
        Assert.Contains("bert.pooler.dense.weight", bertNames);
        Assert.Contains("classifier.weight", bertNames);
        Assert.Contains("roberta.embeddings.position_embeddings.weight", robertaNames);
        Assert.Contains("classifier.dense.weight", robertaNames);
        Assert.Contains("classifier.out_proj.bias", robertaNames);
        // every tensor of the checkpoint, nothing more
        Assert.Equal(Safetensors.Load(Shared.PathOf("fixtures/bert/model.safetensors")).Keys.ToHashSet(), bertNames);
        Assert.Equal(Safetensors.Load(Shared.PathOf("fixtures/roberta/model.safetensors")).Keys.ToHashSet(), robertaNames);
        Assert.All(bert.named_parameters(), p => Assert.False(p.parameter.requires_grad));
    }

    [SharedFact("fixtures/bert")]
    public void MeanPoolingAveragesUnpaddedTokens()
    {
        using var hidden = arange(2 * 3 * 2, dtype: ScalarType.Float32).view(2, 3, 2);
        using var mask = tensor(new long[] { 1, 1, 1, 1, 0, 0 }).view(2, 3);
        using var pooled = BertForSequenceClassification.MeanPool(hidden, mask);
        Assert.Equal(new float[] { 2, 3, 6, 7 }, pooled.data<float>().ToArray());

        using var model = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/bert"), pooling: Pooling.Mean);
        var reference = Safetensors.Load(Shared.PathOf("fixtures/bert/reference.safetensors"));
        using var logits = model.Logits(reference["input_ids"], reference["attention_mask"]);
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
    }

    [SharedFact("fixtures/bert")]
    public void MissingHeadIsInitialisedFreshAndTrainable()
    {
        using var model = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/bert"), numLabels: 5, seed: 7);
        var weight = model.named_parameters().Single(p => p.name == "classifier.weight").parameter;
        Assert.Equal(new long[] { 5, 64 }, weight.shape);
        Assert.True(weight.requires_grad);
        double std = weight.std().item<float>();
        Assert.InRange(std, 0.01, 0.03);
        using var again = EncoderModels.LoadSequenceClassifier(Shared.PathOf("fixtures/bert"), numLabels: 5, seed: 7);
        Assert.True(weight.allclose(again.named_parameters().Single(p => p.name == "classifier.weight").parameter, 0, 0));
    }

    [SharedFact("fixtures/bert", "fixtures/llama")]
    public void OneEntryPointPicksEncoderOrDecoderByModelType()
    {
        using var bert = (BertForSequenceClassification)PretrainedModels.Load(Shared.PathOf("fixtures/bert"), new LoadOptions { NumLabels = 3 });
        Assert.Equal(3, bert.NumLabels);
        var llama = PretrainedModels.Load(Shared.PathOf("fixtures/llama"));
        Assert.IsAssignableFrom<IDecoderModel>(llama);
        ((IDisposable)llama.Module).Dispose();
    }

    [Fact]
    public void MissingCheckpointNamesTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("blob-enc").FullName;
        try
        {
            var e = Assert.Throws<BlobException>(() => EncoderModels.LoadSequenceClassifier(dir));
            Assert.Contains("config.json", e.Message);
            File.WriteAllText(Path.Combine(dir, "model.safetensors"), "not safetensors at all");
            var e2 = Assert.Throws<BlobException>(() => Safetensors.Load(Path.Combine(dir, "model.safetensors")));
            Assert.Contains("model.safetensors", e2.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>max |a - b| over positions where mask is 1.</summary>
    internal static double MaxErrorAtTokens(Tensor a, Tensor b, Tensor mask)
    {
        using var keep = mask.to(ScalarType.Bool);
        using var diff = (a - b).abs();
        using var kept = diff[keep];
        return kept.max().item<float>();
    }
}
