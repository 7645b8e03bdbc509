using Blob.Layers;
using Blob.Models;

namespace Blob.Training;

/// <summary>
/// The model FLOPs of one training step, and of one prediction pass, of an encoder with adapters, counted from the
/// shapes as MFU is counted: a multiply-add is 2 FLOPs, and only the matrix products count (embeddings, norms, softmax,
/// dropout and the head are left out: well under 1% here), not the attention core that training recomputes in
/// backward, nor BLoB's second low-rank product for its noise (BLoB has LoRA's model FLOPs).
/// T = batch × sequence tokens, padding included (it is computed on).
/// </summary>
public static class StepFlops
{
    /// <summary>A frozen linear layer [in → out] over T rows, forward: 2·T·in·out. Backward costs as much (the input's gradient; no weight gradient).</summary>
    public static double FrozenLinear(double rows, long inFeatures, long outFeatures) => 2.0 * rows * inFeatures * outFeatures;

    /// <summary>A rank-r adapter x·Aᵀ·Bᵀ on [in → out] over T rows, forward: 2·T·r·(in + out). Backward costs twice that (the input's, A's and B's gradients).</summary>
    public static double Adapter(double rows, long inFeatures, long outFeatures, int rank) => 2.0 * rows * rank * (inFeatures + outFeatures);

    /// <summary>Attention's products Q·Kᵀ and P·V in one layer, forward: 4·b·s²·h. Backward costs twice that (both operands need gradients).</summary>
    public static double Attention(long batch, long sequence, long hidden) => 4.0 * batch * sequence * sequence * hidden;

    /// <summary>One training step (forward and backward) at batch × sequence.</summary>
    public static double TrainingStep(TorchSharp.torch.nn.Module model, BertSettings settings, long batch, long sequence) =>
        Count(model, settings, batch, sequence, frozenBackward: 1, trainedBackward: 2);

    /// <summary>One forward pass (a prediction pass) at batch × sequence.</summary>
    public static double ForwardPass(TorchSharp.torch.nn.Module model, BertSettings settings, long batch, long sequence) =>
        Count(model, settings, batch, sequence, frozenBackward: 0, trainedBackward: 0);

    /// <summary>
    /// Every linear layer under "encoder.layer." over all T tokens, with its adapter, and attention in each layer; each
    /// forward term times (1 + its backward's multiple).
    /// </summary>
    static double Count(TorchSharp.torch.nn.Module model, BertSettings settings, long batch, long sequence, int frozenBackward, int trainedBackward)
    {
        double rows = (double)batch * sequence, flops = 0;
        foreach (var (_, layer) in AdapterInjection.LinearLayers(model).Where(l => l.Name.Contains("encoder.layer.", StringComparison.Ordinal)))
        {
            flops += (1 + frozenBackward) * FrozenLinear(rows, layer.InFeatures, layer.OutFeatures);
            if (layer.Adapter is { } adapter) flops += (1 + trainedBackward) * Adapter(rows, layer.InFeatures, layer.OutFeatures, adapter.Rank);
        }
        return flops + (1 + trainedBackward) * settings.NumLayers * Attention(batch, sequence, settings.HiddenSize);
    }
}
