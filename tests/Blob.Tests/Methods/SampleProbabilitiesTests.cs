using Blob.Data;
using Blob.Methods;
using Blob.Models;
using Blob.Runtime;
using Blob.Tokenization;
using static TorchSharp.torch;

namespace Blob.Tests.Methods;

/// <summary>The per-sample probabilities of N-sample prediction, and the classifier that scores answers by their sequences.</summary>
public class SampleProbabilitiesTests
{
    static string Stories => Shared.PathOf("fixtures/stories260k");

    /// <summary>Without a random adapter every sample is the one pass, and the mean is what prediction averages.</summary>
    [SharedFact("fixtures/stories260k/model.safetensors")]
    public void TheSamplesAverageToThePrediction()
    {
        var lm = PretrainedModels.LoadCausalLM(Stories);
        var classifier = new ChoiceClassifier(lm, [368, 261, 265, 317]);
        long live = TensorLifetimes.Live;
        using (var scope = NewDisposeScope())
        {
            var ids = tensor(new long[] { 1, 317, 100, 200, 1, 400 }, [2, 3]);
            var batch = new Batch(ids, ones_like(ids), null, zeros(2, ScalarType.Int64));
            var (samples, mean) = BayesianPrediction.SampleProbabilities(classifier, batch, 3);
            Assert.Equal(3, samples.Length);
            Assert.All(samples, s => Assert.Equal(2, s.Length));
            using var _ = no_grad();
            var averaged = BayesianPrediction.AveragedProbabilities(classifier, batch, 3).to(ScalarType.Float64).data<double>().ToArray();
            for (int i = 0; i < 2; i++)
                for (int c = 0; c < 4; c++)
                {
                    Assert.Equal(averaged[i * 4 + c], mean[i][c], 12);
                    Assert.Equal(samples[0][i][c], samples[2][i][c]); // deterministic model: identical samples
                }
        }
        Assert.Equal(live, TensorLifetimes.Live);
    }

    [SharedFact("fixtures/stories260k/model.safetensors")]
    public void AnswerSequencesScoreAsTheirLogProbabilities()
    {
        var lm = PretrainedModels.LoadCausalLM(Stories);
        var tokenizer = TokenizerLoader.Load(Stories);
        var prompt = tokenizer.Encode("Once upon a time").Ids;
        int[][] answers = [[368], [317, 261], [265, 265, 400]];
        var expected = Generation.SequenceLogProbabilities(lm, prompt, answers, tokenizer.PadId);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Length]).repeat(2, 1); // two rows, as two samples would be
        var logits = new AnswerSequenceClassifier(lm, answers, tokenizer.PadId)
            .ClassLogits(new Batch(ids, ones_like(ids), null, zeros(2, ScalarType.Int64))).data<double>().ToArray();
        for (int r = 0; r < 2; r++)
            for (int a = 0; a < 3; a++) Assert.Equal(expected[a], logits[r * 3 + a], 6);
    }
}
