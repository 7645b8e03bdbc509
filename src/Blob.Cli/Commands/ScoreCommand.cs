using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Experiments;
using Blob.Models;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob score`: the probability of each answer after the prompt. Answers of one token each are scored as the paper
/// scores multiple-choice tasks: softmax of the last position's logits over the answers' tokens ("next token").
/// Otherwise each answer is scored by its whole sequence: log p(answer | prompt), summed over its tokens with the
/// earlier ones fed in, and the probabilities are the softmax of these over the answers ("sequence log-probability";
/// for one-token answers the two are the same quantity). Answers are tokenised without special tokens. Prints JSON.
/// </summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var model = ModelArguments.Model();
        var revision = ModelArguments.Revision();
        var adapter = ModelArguments.Adapter();
        var precision = ModelArguments.Precision();
        var prompt = new Option<string>("--prompt") { Description = "The question, in the task's prompt template", Required = true };
        var choices = new Option<string>("--choices") { Description = "Comma-separated answers, e.g. A,B,C,D or True,False", Required = true };
        var command = new Command("score", "Probabilities of the answers after a prompt (next token, or the whole answer's log-probability)") { model, revision, adapter, prompt, choices, precision };
        command.SetAction(parsed =>
        {
            var answers = parsed.GetValue(choices)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (answers.Length < 2) throw new BlobException($"--choices: give at least two answers separated by commas, not '{parsed.GetValue(choices)}'");
            if (answers.Distinct().Count() < answers.Length) throw new BlobException($"--choices: an answer is repeated in '{parsed.GetValue(choices)}'");
            var (lm, tokenizer) = ModelArguments.LoadCausalLM(parsed.GetValue(model)!, parsed.GetValue(revision), parsed.GetValue(adapter), parsed.GetValue(precision)!);
            var tokens = ModelZoo.AnswerTokenSequences(tokenizer, answers, "--choices");
            var promptIds = tokenizer.Encode(parsed.GetValue(prompt)!).Ids;
            if (promptIds.Length == 0) throw new BlobException("--prompt: the prompt tokenises to nothing");

            var json = tokens.All(t => t.Length == 1)
                ? NextToken(answers, tokens.Select(t => t[0]).ToArray(), Generation.ScoreChoices(lm, promptIds, tokens.Select(t => t[0]).ToArray()))
                : Sequences(answers, tokens, Generation.SequenceLogProbabilities(lm, promptIds, tokens, tokenizer.PadId));
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    /// <summary>One token per answer: as the paper scores (and as this command always did), token ids as numbers.</summary>
    static JsonObject NextToken(string[] answers, int[] tokens, double[] probabilities) => new()
    {
        ["scoring"] = "next token",
        ["probabilities"] = PerAnswer(answers, i => probabilities[i]),
        ["token_ids"] = PerAnswer(answers, i => tokens[i]),
    };

    static JsonObject Sequences(string[] answers, int[][] tokens, double[] logProbabilities)
    {
        double max = logProbabilities.Max();
        var weights = logProbabilities.Select(l => Math.Exp(l - max)).ToArray();
        double sum = weights.Sum();
        return new JsonObject
        {
            ["scoring"] = "sequence log-probability",
            ["probabilities"] = PerAnswer(answers, i => weights[i] / sum),
            ["log_probabilities"] = PerAnswer(answers, i => logProbabilities[i]),
            ["token_ids"] = PerAnswer(answers, i => new JsonArray(tokens[i].Select(t => (JsonNode?)t).ToArray())),
        };
    }

    static JsonObject PerAnswer(string[] answers, Func<int, JsonNode?> value) =>
        new(answers.Select((a, i) => KeyValuePair.Create(a, value(i))));
}
