using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using Blob.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// Decoders compute logits only where they are read: the LM head and its adapter run on the last token of each
/// prompt, and the numbers are those of the full computation's last position up to float32 rounding. Not bit for bit:
/// libtorch's matrix product rounds a row differently when it multiplies 2 rows instead of all 12 (measured here: up to
/// 1.8e-7 on logits of magnitude about 1, one or two units in the last place), so the bounds below are relative to 1e-6.
/// </summary>
public class LastPositionLogitsTests(ITestOutputHelper output)
{
    static string Fixture(string name) => Shared.PathOf($"fixtures/{name}");

    /// <summary>A decoder with LoRA on q_proj, v_proj and lm_head, whose B matrices are random so that every adapter counts.</summary>
    static IDecoderModel WithAdapters(string name)
    {
        var model = PretrainedModels.LoadCausalLM(Fixture(name));
        var targets = name == "gpt2" ? new[] { "c_attn", "lm_head" } : ["q_proj", "v_proj", "lm_head"];
        new MethodOptions { Kind = MethodRegistry.Mle, Rank = 4, Alpha = 8, Targets = targets }.Apply(model.Module);
        using var generator = new Generator(7);
        using (no_grad())
            foreach (var (_, adapter) in AdapterInjection.Adapters(model.Module))
                ((LoraAdapter)adapter).lora_B.normal_(0, 0.1, generator);
        return model;
    }

    /// <summary>Two left-padded prompts of 6 and 3 tokens.</summary>
    static Batch Prompts()
    {
        var (ids, mask) = Generation.Pad([[5, 17, 30, 42, 9, 88], [7, 11, 3]], padId: 0, PaddingSide.Left);
        return new Batch(ids, mask, null, tensor(new long[] { 1, 0 }));
    }

    [SharedTheory("fixtures")]
    [InlineData("llama")]
    [InlineData("qwen3")]
    [InlineData("gpt2")]
    public void LogitsAtTheLastTokenEqualTheFullComputationsLastPosition(string name)
    {
        using var scope = NewDisposeScope();
        var model = WithAdapters(name);
        var batch = Prompts();
        var last = ChoiceClassifier.LastTokenIndex(batch.AttentionMask);
        using var _ = no_grad();
        var full = model.Logits(batch.InputIds, batch.AttentionMask);
        var expected = full[arange(2), last];
        var actual = model.LogitsAt(batch.InputIds, batch.AttentionMask, last);
        Assert.Equal(expected.shape, actual.shape);
        AssertClose(expected, actual, $"{name} logits");
    }

    /// <summary>
    /// Training through the classifier: the class logits and the loss are those of the full computation, and so are the
    /// adapters' gradients (the head's adapter now sees one token, whose gradient is the only one that was not zero).
    /// </summary>
    [SharedTheory("fixtures")]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void TrainingLossAndGradientsAreThoseOfTheFullComputation(string name)
    {
        using var scope = NewDisposeScope();
        var model = WithAdapters(name);
        var batch = Prompts();
        int[] choices = [3, 4, 5];
        var (lastOnly, lastOnlyGrads) = LossAndGradients(new ChoiceClassifier(model, choices), model, batch);
        var (every, everyGrads) = LossAndGradients(new ChoiceClassifier(model, choices).WithHeadOnEveryPosition(), model, batch);
        output.WriteLine($"{name} loss: {lastOnly:R} against {every:R}");
        Assert.True(Math.Abs(lastOnly - every) <= 1e-6 * Math.Abs(every), $"loss {lastOnly} against {every}");
        Assert.Equal(everyGrads.Length, lastOnlyGrads.Length);
        for (int i = 0; i < everyGrads.Length; i++) AssertClose(everyGrads[i], lastOnlyGrads[i], $"{name} gradient {i}");
    }

    /// <summary>max |actual − expected| ≤ 1e-5 · max |expected|, and expected not zero (the part took part). Float32
    /// rounding, not a bound on mistakes: the two computations sum in different shapes, and GPT-2's gradient 0 has
    /// been seen to differ by 1.07e-6 of its scale in a fresh-clone build (1e-6 is too tight); a wrong gradient
    /// differs by far more.</summary>
    void AssertClose(Tensor expected, Tensor actual, string what)
    {
        double difference = (actual - expected).abs().max().item<float>();
        double scale = expected.abs().max().item<float>();
        output.WriteLine($"{what}: max |Δ| {difference:E2} of {scale:E2}");
        Assert.True(scale > 0, $"{what} is zero");
        Assert.True(difference <= 1e-5 * scale, $"{what} differs by {difference} (scale {scale})");
    }

    static (float Loss, Tensor[] Gradients) LossAndGradients(IClassifier classifier, IDecoderModel model, Batch batch)
    {
        var trainable = AdapterInjection.Trainable(model.Module).ToList();
        foreach (var p in trainable) p.grad = null;
        var loss = nn.functional.cross_entropy(classifier.ClassLogits(batch), batch.Labels);
        loss.backward();
        return (loss.item<float>(), trainable.Select(p => p.grad!.clone()).ToArray());
    }
}
