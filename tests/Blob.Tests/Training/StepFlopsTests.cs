using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using Blob.Training;

namespace Blob.Tests.Training;

/// <summary>The bench's FLOP count against MiniLM's closed form.</summary>
public class StepFlopsTests
{
    [Fact]
    public void MiniLmsStepAt32By256MatchesItsClosedForm()
    {
        var model = MiniLm.Load(numLabels: 2, seed: 1);
        var settings = ((BertForSequenceClassification)model).Encoder.Settings;
        new MethodOptions { Kind = MethodRegistry.Mle, Rank = 8, Alpha = 8, Targets = ["query", "value"], FullyTrained = ["classifier"] }.Apply(model);
        const long b = 32, s = 256, h = 384, i = 1536, L = 6, r = 8;
        double T = b * s;
        // per layer: Q, K, V, O (h → h) and the feed-forward (h → i → h); LoRA on Q and V; attention's two products
        double linear = 2 * T * (4 * h * h + 2 * h * i), lora = 2 * 2 * T * r * (h + h), attention = 4.0 * b * s * s * h;
        Assert.Equal(L * (2 * linear + 3 * lora + 3 * attention), StepFlops.TrainingStep(model, settings, b, s), 6);
        Assert.Equal(L * (linear + lora + attention), StepFlops.ForwardPass(model, settings, b, s), 6);
        Assert.InRange(StepFlops.TrainingStep(model, settings, b, s) / 1e9, 400, 420); // ≈ 409 GFLOP a step (≈ 190 at 128 tokens)
        model.Dispose();
    }
}
