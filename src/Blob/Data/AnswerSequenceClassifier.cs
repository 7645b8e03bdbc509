using Blob.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Data;

/// <summary>
/// A causal LM answering a prompt with answers of any length: the class logit of answer a is its sequence
/// log-probability log p(answer | prompt), the sum over its tokens of their log-softmax at the position before each
/// (as <see cref="Generation.SequenceLogProbabilities"/>), so the softmax over classes is the softmax over the answers'
/// log-probabilities. Each row of the batch (its real tokens, by the attention mask) followed by each answer becomes
/// one sequence, in one forward call, row-major (row r's answers are sequences r·C … r·C + C − 1), so that a batch
/// repeated for k weight samples stays sample-major (<see cref="Layers.ISampleBatchedAdapter"/>).
/// </summary>
public sealed class AnswerSequenceClassifier(ICausalLanguageModel model, IReadOnlyList<int[]> answers, int padId) : IClassifier
{
    public nn.Module Module => model.Module;

    public Tensor ClassLogits(Batch batch)
    {
        if (answers.Any(a => a.Length == 0)) throw new ArgumentException("every answer needs at least one token");
        using var ids = batch.InputIds.cpu();
        using var mask = batch.AttentionMask.cpu();
        int rows = (int)ids.shape[0], t = (int)ids.shape[1], c = answers.Count;
        var idData = ids.to(ScalarType.Int64).data<long>().ToArray();
        var maskData = mask.to(ScalarType.Int64).data<long>().ToArray();
        var prompts = Enumerable.Range(0, rows)
            .Select(r => Enumerable.Range(0, t).Where(j => maskData[r * t + j] != 0).Select(j => (int)idData[r * t + j]).ToArray()).ToArray();
        if (prompts.Any(p => p.Length == 0)) throw new ArgumentException("a prompt without tokens");
        var sequences = prompts.SelectMany(p => answers.Select(a => p.Concat(a).ToArray())).ToList();
        var (input, attention) = Generation.Pad(sequences, padId, PaddingSide.Right, batch.InputIds.device);
        var logits = model.Logits(input, attention); // [rows·C, L, V]; position j predicts token j + 1
        int length = (int)input.shape[1];
        // per sequence: the positions that predict an answer token, and those tokens
        var target = new long[sequences.Count * length];
        var weight = new double[sequences.Count * length];
        for (int r = 0; r < rows; r++)
            for (int a = 0; a < c; a++)
            {
                int s = r * c + a, from = prompts[r].Length - 1;
                for (int j = 0; j < answers[a].Length; j++)
                {
                    target[s * length + from + j] = answers[a][j];
                    weight[s * length + from + j] = 1;
                }
            }
        var targets = tensor(target, [sequences.Count, length], device: logits.device).unsqueeze(2);
        var weights = tensor(weight, [sequences.Count, length], device: logits.device);
        var logProbs = logits.to(ScalarType.Float64).log_softmax(-1).gather(2, targets).squeeze(2); // [rows·C, L]
        return logProbs.mul(weights).sum([1L]).view(rows, c);
    }
}
