using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Models;
using Blob.Evaluation;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob score`: the probability of each answer after the prompt. Answers of one token each are scored as the paper
/// scores multiple-choice tasks: softmax of the last position's logits over the answers' tokens ("next token").
/// Otherwise each answer is scored by its whole sequence: log p(answer | prompt), summed over its tokens with the
/// earlier ones fed in, and the probabilities are the softmax of these over the answers ("sequence log-probability";
/// for one-token answers the two are the same quantity). Answers are tokenised without special tokens. Prints JSON.
/// <para>
/// With <c>--adapter DIR</c> the adapter is loaded as the method that saved it predicts
/// (<see cref="MethodRegistry.OfSavedAdapter"/>): BLoB, BBB and MC dropout average N samples (<c>--samples</c>, default
/// the method's N; drawn as evaluation draws them, <see cref="BayesianPrediction.SampleProbabilities"/>, from
/// <c>--seed</c>), an ensemble its members (each member a sample), MLE/MAP and N = 0 run one pass with the mean weights,
/// exactly as without sampling. The JSON adds the answer (the most probable, or "unsure" below
/// <c>--abstain-below</c>), the predictive entropy H[p̄] and the mutual information MI = H[p̄] − mean_s H[p_s] in nats
/// (<see cref="Uncertainty"/>; 0 for one sample), and each sample's probabilities.
/// </para>
/// </summary>
public static class ScoreCommand
{
    public const string Unsure = "unsure";

    public static Command Create()
    {
        var model = ModelArguments.Model();
        var revision = ModelArguments.Revision();
        var adapter = new Option<string?>("--adapter")
        {
            Description = "A saved adapter of any method (train's adapter/ folder, or a PEFT LoRA): BLoB, BBB and MC dropout predict with N samples, an ensemble with its members",
        };
        var precision = ModelArguments.Precision();
        var prompt = new Option<string>("--prompt") { Description = "The question, in the task's prompt template", Required = true };
        var choices = new Option<string>("--choices") { Description = "Comma-separated answers, e.g. A,B,C,D or True,False", Required = true };
        var samples = new Option<int?>("--samples") { Description = "N samples averaged with a stochastic adapter (default: the method's, 10 for blob/bbb/mcd; 0 = the mean weights)" }.AtLeast(0);
        var seed = new Option<int>("--seed") { Description = "Seed of the N weight samples", DefaultValueFactory = _ => 1 };
        var abstain = new Option<double?>("--abstain-below")
        {
            Description = "Answer \"unsure\" when the top probability is below P (0..1); the probabilities are still listed",
        }.Must(v => v is null || (v >= 0 && v <= 1), "must be in [0, 1]");
        var conformalFrom = new Option<string?>("--conformal-from")
        {
            Description = "A run folder (or its adapter/ folder) whose validation-predictions.json calibrates conformal answer sets: the JSON adds the LAC and APS sets at --alpha",
        };
        var alpha = new Option<double?>("--alpha") { Description = "With --conformal-from: the sets' level (0.1: they hold the right answer 90% of the time)" }
            .Must(a => a is null || (a > 0 && a < 1), "must be above 0 and below 1");
        var command = new Command("score", "Probabilities of the answers after a prompt (next token, or the whole answer's log-probability), with the predictive entropy and mutual information")
            { model, revision, adapter, prompt, choices, precision, samples, seed, abstain, conformalFrom, alpha };
        command.SetAction(parsed =>
        {
            var answers = parsed.GetValue(choices)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (answers.Length < 2) throw new BlobException($"--choices: give at least two answers separated by commas, not '{parsed.GetValue(choices)}'");
            if (answers.Distinct().Count() < answers.Length) throw new BlobException($"--choices: an answer is repeated in '{parsed.GetValue(choices)}'");
            var thresholds = ConformalAnswerSets.Calibrate(parsed.GetValue(conformalFrom), parsed.GetValue(alpha)); // before the model loads: a bad folder fails at once
            string? adapterDir = parsed.GetValue(adapter);
            var method = adapterDir is null ? null : MethodRegistry.OfSavedAdapter(adapterDir);
            if (method is { AppliesToTrainedLora: true })
                throw new BlobException($"{adapterDir}: a {method.DisplayName} adapter fits its posterior on a task's training split; evaluate it with `blob eval --task ... --adapter {adapterDir}`");
            var (lm, tokenizer) = ModelArguments.LoadCausalLM(parsed.GetValue(model)!, parsed.GetValue(revision), null, parsed.GetValue(precision));
            var options = new MethodOptions { Kind = method ?? MethodRegistry.Mle };
            if (method is not null)
            {
                options = method.Load(lm, adapterDir!, options);
                lm.Module.eval();
            }
            var tokens = ModelZoo.AnswerTokenSequences(tokenizer, answers, "--choices");
            var promptIds = tokenizer.Encode(parsed.GetValue(prompt)!).Ids;
            if (promptIds.Length == 0) throw new BlobException("--prompt: the prompt tokenises to nothing");

            bool oneToken = tokens.All(t => t.Length == 1);
            int n = method is null ? 0 : parsed.GetValue(samples) ?? method.DefaultSamples;
            TorchSharp.torch.manual_seed(parsed.GetValue(seed));
            var scored = method == MethodRegistry.Ens ? Members(lm, promptIds, tokens, tokenizer.PadId, oneToken, options.Ensemble.AveragesProbabilities)
                : n > 0 ? Sampled(lm, promptIds, tokens, tokenizer.PadId, oneToken, n)
                : Deterministic(lm, promptIds, tokens, tokenizer.PadId, oneToken);
            // a calibration saved with the adapter (train --calibrate) applies to the averaged probabilities, as eval applies it
            var calibration = adapterDir is null ? null : RunCalibration.Load(adapterDir);
            double[]? raw = null;
            if (calibration is not null)
            {
                raw = scored.Probabilities;
                scored = scored with { Probabilities = calibration.Apply([scored.Probabilities])[0] };
            }
            var json = oneToken
                ? NextToken(answers, tokens.Select(t => t[0]).ToArray(), scored.Probabilities)
                : Sequences(answers, tokens, scored.Probabilities, scored.LogProbabilities);
            if (calibration is not null)
            {
                json["calibration"] = calibration.Note;
                json["uncalibrated_probabilities"] = PerAnswer(answers, i => raw![i]);
            }
            AddUncertainty(json, answers, scored, method, parsed.GetValue(abstain));
            if (thresholds is not null) json["conformal"] = thresholds.Describe(answers, scored.Probabilities, parsed.GetValue(seed));
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// What the command prints for one prompt: the answers' probabilities, each sample's (one row for a single pass;
    /// SampleCount = 0 where that pass used the mean weights) and, for a single deterministic pass of sequence scoring,
    /// the answers' log-probabilities.
    /// </summary>
    public sealed record Scored(double[] Probabilities, double[][] Samples, int SampleCount, double[]? LogProbabilities = null);

    /// <summary>One pass without sampling: exactly what this command printed before it knew of samples.</summary>
    static Scored Deterministic(IDecoderModel lm, int[] promptIds, int[][] tokens, int padId, bool oneToken)
    {
        AdapterInjection.SetSampling(lm.Module, false);
        try
        {
            if (oneToken)
            {
                var p = Generation.ScoreChoices(lm, promptIds, tokens.Select(t => t[0]).ToArray());
                return new Scored(p, [p], 0);
            }
            var logProbabilities = Generation.SequenceLogProbabilities(lm, promptIds, tokens, padId);
            var q = Softmax(logProbabilities);
            return new Scored(q, [q], 0, logProbabilities);
        }
        finally { AdapterInjection.SetSampling(lm.Module, true); }
    }

    /// <summary>N weight samples (k per forward call), through the classifier that evaluation would use.</summary>
    static Scored Sampled(IDecoderModel lm, int[] promptIds, int[][] tokens, int padId, bool oneToken, int samples)
    {
        IClassifier classifier = oneToken ? new ChoiceClassifier(lm, tokens.Select(t => t[0]).ToArray()) : new AnswerSequenceClassifier(lm, tokens, padId);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var ids = TorchSharp.torch.tensor(promptIds.Select(i => (long)i).ToArray(), [1, promptIds.Length]);
        var batch = new Batch(ids, TorchSharp.torch.ones_like(ids), null, TorchSharp.torch.zeros(1, TorchSharp.torch.ScalarType.Int64));
        var (perSample, mean) = BayesianPrediction.SampleProbabilities(classifier, batch, samples);
        return new Scored(mean[0], perSample.Select(s => s[0]).ToArray(), samples);
    }

    /// <summary>
    /// An ensemble: every member's pass (each a sample), combined as the ensemble was saved to combine them — the mean
    /// of the members' probabilities, or the softmax of their mean logits (equivalently of their mean log-probabilities
    /// over the answers, which differ from the logits by a constant per member).
    /// </summary>
    static Scored Members(IDecoderModel lm, int[] promptIds, int[][] tokens, int padId, bool oneToken, bool averagesProbabilities)
    {
        int size = Math.Max(1, Ensembles.Size(lm.Module));
        var members = new double[size][];
        try
        {
            for (int m = 0; m < size; m++)
            {
                Ensembles.SetActive(lm.Module, m);
                members[m] = Deterministic(lm, promptIds, tokens, padId, oneToken).Probabilities;
            }
        }
        finally { Ensembles.SetActive(lm.Module, 0); }
        var combined = averagesProbabilities ? Uncertainty.Mean(members)
            : Softmax(Enumerable.Range(0, tokens.Length).Select(c => members.Average(p => Math.Log(Math.Max(p[c], double.Epsilon)))).ToArray());
        return new Scored(combined, members, size);
    }

    /// <summary>The answer, "unsure" where the top probability is below the threshold, entropy, MI and the samples.</summary>
    static void AddUncertainty(JsonObject json, string[] answers, Scored scored, FineTuningMethod? method, double? abstainBelow)
    {
        int top = Blob.Evaluation.Metrics.ArgMax(scored.Probabilities);
        bool abstained = abstainBelow is { } p && scored.Probabilities[top] < p;
        json["answer"] = abstained ? Unsure : answers[top];
        json["top_probability"] = scored.Probabilities[top];
        if (abstainBelow is { } threshold)
        {
            json["abstain_below"] = threshold;
            json["abstained"] = abstained;
        }
        json["entropy"] = Uncertainty.Entropy(scored.Probabilities);
        json["mutual_information"] = scored.Samples.Length > 1 ? Uncertainty.MutualInformation(scored.Samples) : 0.0;
        json["samples"] = scored.SampleCount;
        if (method is not null) json["method"] = method.Name;
        if (scored.Samples.Length > 1)
            json["sample_probabilities"] = new JsonArray(scored.Samples.Select(s => (JsonNode?)PerAnswer(answers, i => s[i])).ToArray());
    }

    static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var weights = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = weights.Sum();
        return weights.Select(w => w / sum).ToArray();
    }

    /// <summary>One token per answer: as the paper scores (and as this command always did), token ids as numbers.</summary>
    static JsonObject NextToken(string[] answers, int[] tokens, double[] probabilities) => new()
    {
        ["scoring"] = "next token",
        ["probabilities"] = PerAnswer(answers, i => probabilities[i]),
        ["token_ids"] = PerAnswer(answers, i => tokens[i]),
    };

    /// <summary>Sequence scoring; the log-probabilities are listed for a single pass (a sampled prediction averages probabilities).</summary>
    static JsonObject Sequences(string[] answers, int[][] tokens, double[] probabilities, double[]? logProbabilities)
    {
        var json = new JsonObject
        {
            ["scoring"] = "sequence log-probability",
            ["probabilities"] = PerAnswer(answers, i => probabilities[i]),
        };
        if (logProbabilities is not null) json["log_probabilities"] = PerAnswer(answers, i => logProbabilities[i]);
        json["token_ids"] = PerAnswer(answers, i => new JsonArray(tokens[i].Select(t => (JsonNode?)t).ToArray()));
        return json;
    }

    static JsonObject PerAnswer(string[] answers, Func<int, JsonNode?> value) =>
        new(answers.Select((a, i) => KeyValuePair.Create(a, value(i))));
}
