using Blob.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>Which side of a batch's shorter sequences the padding goes.</summary>
public enum PaddingSide { Left, Right }

/// <summary>Greedy decoding and multiple-choice scoring by next-token or whole-answer probabilities.</summary>
public static class Generation
{
    /// <summary>
    /// Greedy decoding: appends the most likely next token until maxNewTokens or eosId. Returns the prompt followed by
    /// the new tokens (as transformers' generate). Recomputes the whole sequence each step (no KV cache).
    /// </summary>
    public static int[] Generate(ICausalLanguageModel model, int[] promptIds, int maxNewTokens, int? eosId = null)
    {
        if (promptIds.Length == 0) throw new ArgumentException("the prompt needs at least one token (e.g. BOS)");
        var ids = new List<int>(promptIds);
        var device = DeviceOf(model);
        using var _ = no_grad();
        for (int step = 0; step < maxNewTokens; step++)
        {
            CollectionPoints.Reached();
            using var scope = NewDisposeScope();
            var input = tensor(ids.Select(i => (long)i).ToArray(), device: device).unsqueeze(0);
            var logits = model.LogitsAt(input, ones_like(input), tensor(new long[] { ids.Count - 1 }, device: device));
            int next = (int)logits[0].argmax().item<long>();
            ids.Add(next);
            if (next == eosId) break;
        }
        return ids.ToArray();
    }

    /// <summary>
    /// The probabilities of the choices as the next token after the prompt: softmax of the last position's logits
    /// restricted to <paramref name="choiceTokenIds"/>.
    /// </summary>
    public static double[] ScoreChoices(ICausalLanguageModel model, int[] promptIds, int[] choiceTokenIds)
        => ScoreChoices(model, [promptIds], choiceTokenIds, padId: 0)[0];

    /// <summary>
    /// <see cref="ScoreChoices(ICausalLanguageModel, int[], int[])"/> for a batch of prompts padded to one length
    /// (left by default, as for generation); each prompt is scored at its last real token.
    /// </summary>
    public static double[][] ScoreChoices(ICausalLanguageModel model, IReadOnlyList<int[]> prompts, int[] choiceTokenIds,
        int padId, PaddingSide side = PaddingSide.Left)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (ids, mask) = Pad(prompts, padId, side, DeviceOf(model));
        var last = LastTokenLogits(model, ids, mask);
        var choices = tensor(choiceTokenIds.Select(i => (long)i).ToArray(), device: last.device);
        var probs = last.index_select(1, choices).to(ScalarType.Float64).softmax(-1).cpu();
        return Enumerable.Range(0, prompts.Count).Select(r => probs[r].data<double>().ToArray()).ToArray();
    }

    /// <summary>
    /// log p(answer | prompt) of each answer, teacher-forced: the sum over the answer's tokens of their log-softmax
    /// probability at the position before each (prompt, then the answer's earlier tokens). The prompt followed by each
    /// answer runs in one batch padded on the right, so every sequence keeps its own positions.
    /// </summary>
    public static double[] SequenceLogProbabilities(ICausalLanguageModel model, int[] promptIds, IReadOnlyList<int[]> answers, int padId)
    {
        if (promptIds.Length == 0) throw new ArgumentException("the prompt needs at least one token (e.g. BOS)");
        if (answers.Any(a => a.Length == 0)) throw new ArgumentException("every answer needs at least one token");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (ids, mask) = Pad(answers.Select(a => promptIds.Concat(a).ToArray()).ToList(), padId, PaddingSide.Right, DeviceOf(model));
        var logits = model.Logits(ids, mask); // [answers, T, vocab]; position t predicts token t + 1
        var result = new double[answers.Count];
        for (int i = 0; i < answers.Count; i++)
        {
            int from = promptIds.Length - 1, n = answers[i].Length;
            var logProbs = logits[i, from..(from + n)].to(ScalarType.Float64).log_softmax(-1);
            var targets = tensor(answers[i].Select(t => (long)t).ToArray(), device: logits.device).unsqueeze(1);
            result[i] = logProbs.gather(1, targets).sum().item<double>();
        }
        return result;
    }

    /// <summary>
    /// Logits [batch, vocab] at each row's last real token, for left or right padding; the LM head runs there only.
    /// Positions skip padding (cumsum(mask) − 1), so a left-padded prompt sees the same positions as it would unpadded.
    /// </summary>
    public static Tensor LastTokenLogits(ICausalLanguageModel model, Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        long t = inputIds.shape[1];
        // the last real token is the masked position with the largest index
        var lastIndex = (attentionMask.to(ScalarType.Int64) * arange(t, device: attentionMask.device)).argmax(-1);
        return model.LogitsAt(inputIds, attentionMask, lastIndex).MoveToOuterDisposeScope();
    }

    /// <summary>Pads token id lists into input_ids and attention_mask [batch, longest].</summary>
    public static (Tensor InputIds, Tensor AttentionMask) Pad(IReadOnlyList<int[]> sequences, int padId, PaddingSide side, Device? device = null)
    {
        int longest = sequences.Max(s => s.Length);
        var ids = new long[sequences.Count * longest];
        var mask = new long[sequences.Count * longest];
        for (int r = 0; r < sequences.Count; r++)
        {
            int start = side == PaddingSide.Left ? longest - sequences[r].Length : 0;
            for (int j = 0; j < longest; j++) ids[r * longest + j] = padId;
            for (int j = 0; j < sequences[r].Length; j++)
            {
                ids[r * longest + start + j] = sequences[r][j];
                mask[r * longest + start + j] = 1;
            }
        }
        return (tensor(ids, [sequences.Count, longest], device: device), tensor(mask, [sequences.Count, longest], device: device));
    }

    static Device DeviceOf(ICausalLanguageModel model) => model.Module.parameters().FirstOrDefault()?.device ?? CPU;
}
