using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using Blob.Training;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>MiniLM's attention recomputed in backward trains exactly as the attention that keeps its tensors.</summary>
public class AttentionRecomputationTests
{
    /// <param name="bf16">bf16 precision, whose attention runs its own products instead of scaled_dot_product_attention.</param>
    [Theory]
    [InlineData("blob", false)]
    [InlineData("mle", false)]
    [InlineData("mle", true)]
    public void ATrainingStepGivesTheSameLossAndGradientsBitForBit(string method, bool bf16)
    {
        var model = MiniLm.Load(numLabels: 2, seed: 1, baseDtype: bf16 ? ScalarType.BFloat16 : ScalarType.Float32);
        new MethodOptions { Kind = MethodRegistry.Parse(method), Rank = 4, Alpha = 8, Targets = ["query", "value"], FullyTrained = ["classifier"] }.Apply(model);
        var tokenizer = Blob.Tokenization.TokenizerLoader.MiniLm();
        var texts = new[] { ("A man is playing a guitar.", "Someone plays music."), ("The cat sat on the mat.", "A dog barked loudly at the postman.") };
        var encoded = texts.Select(t => tokenizer.Encode(t.Item1, t.Item2)).ToList();
        int length = encoded.Max(e => e.Length);
        var ids = zeros(encoded.Count, length, ScalarType.Int64);
        var mask = zeros(encoded.Count, length, ScalarType.Int64);
        for (int r = 0; r < encoded.Count; r++)
            for (int j = 0; j < encoded[r].Length; j++) { ids[r, j] = encoded[r].Ids[j]; mask[r, j] = 1; }
        var labels = tensor(new long[] { 1, 0 });
        model.train();

        model.Encoder.RecomputeAttention = false;
        var (keptLoss, keptGrads) = Step(model, ids, mask, labels);
        model.Encoder.RecomputeAttention = true;
        var (recomputedLoss, recomputedGrads) = Step(model, ids, mask, labels);

        Assert.Equal(keptLoss, recomputedLoss);
        Assert.Equal(keptGrads.Length, recomputedGrads.Length);
        Assert.True(keptGrads.Length > 2);
        for (int i = 0; i < keptGrads.Length; i++)
            Assert.True(keptGrads[i].eq(recomputedGrads[i]).all().item<bool>(), $"gradient {i} differs");
    }

    /// <summary>Loss and the trainable parameters' gradients of one step from seed 3 (dropout and flipout draw from it).</summary>
    static (float Loss, Tensor[] Grads) Step(BertForSequenceClassification model, Tensor ids, Tensor mask, Tensor labels)
    {
        var trainable = AdapterInjection.Trainable(model).ToList();
        foreach (var p in trainable) p.grad = null;
        manual_seed(3);
        var loss = nn.functional.cross_entropy(model.Logits(ids, mask), labels);
        loss.backward();
        return (loss.item<float>(), trainable.Select(p => p.grad!.clone()).ToArray());
    }
}
