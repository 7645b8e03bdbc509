using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>
/// What a decoder forward returns: float32 logits [batch, seq, vocab]; the embeddings output (transformers'
/// hidden_states[0]) and the final normed hidden state (hidden_states[-1]), both [batch, seq, hidden] in float32.
/// </summary>
public sealed record CausalLMOutput(Tensor Logits, Tensor FirstHiddenState, Tensor LastHiddenState) : IDisposable
{
    public void Dispose()
    {
        Logits.Dispose(); FirstHiddenState.Dispose(); LastHiddenState.Dispose();
    }
}

/// <summary>A causal LM whose forward also takes position ids (for left padding) and returns hidden states.</summary>
public interface IDecoderModel : ICausalLanguageModel
{
    /// <summary>
    /// The forward pass. Without <paramref name="positionIds"/> the positions are 0..T−1 in every row, as in
    /// transformers' forward; pass <see cref="AttentionMask.PositionsSkippingPadding"/> for left-padded batches.
    /// </summary>
    CausalLMOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? positionIds = null);

    /// <summary>Float32 logits; positions skip padding, so left- and right-padded rows score as they would alone.</summary>
    static Tensor LogitsSkippingPadding(IDecoderModel model, Tensor inputIds, Tensor attentionMask)
    {
        using var positions = AttentionMask.PositionsSkippingPadding(attentionMask);
        var output = model.Forward(inputIds, attentionMask, positions);
        output.FirstHiddenState.Dispose();
        output.LastHiddenState.Dispose();
        return output.Logits;
    }

    /// <summary>Row i's vector at position positions[i]: [batch, seq, d] → [batch, d].</summary>
    static Tensor AtPositions(Tensor states, Tensor positions)
    {
        using var rows = arange(states.shape[0], device: states.device);
        return states[rows, positions];
    }
}
