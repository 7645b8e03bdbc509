using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Models;

namespace Blob.Cli.Commands;

/// <summary>
/// `blob score`: the probability of each answer as the next token after the prompt, as the paper scores multiple-choice
/// tasks: softmax of the last position's logits over the answers' tokens (each answer's last token, tokenised without
/// special tokens). Prints JSON.
/// </summary>
public static class ScoreCommand
{
    public static Command Create()
    {
        var model = ModelArguments.Model();
        var adapter = ModelArguments.Adapter();
        var precision = ModelArguments.Precision();
        var prompt = new Option<string>("--prompt") { Description = "The question, in the task's prompt template", Required = true };
        var choices = new Option<string>("--choices") { Description = "Comma-separated answers, e.g. A,B,C,D or True,False", Required = true };
        var command = new Command("score", "Probabilities of the answers as the next token after a prompt") { model, adapter, prompt, choices, precision };
        command.SetAction(parsed =>
        {
            var answers = parsed.GetValue(choices)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (answers.Length < 2) throw new BlobException($"--choices: give at least two answers separated by commas, not '{parsed.GetValue(choices)}'");
            if (answers.Distinct().Count() < answers.Length) throw new BlobException($"--choices: an answer is repeated in '{parsed.GetValue(choices)}'");
            var (lm, tokenizer) = ModelArguments.LoadCausalLM(parsed.GetValue(model)!, parsed.GetValue(adapter), parsed.GetValue(precision)!);
            int[] tokens = answers.Select(a => Blob.Experiments.ModelZoo.LastTokenId(tokenizer, a, "--choices")).ToArray();
            double[] probabilities = Generation.ScoreChoices(lm, tokenizer.Encode(parsed.GetValue(prompt)!).Ids, tokens);

            var json = new JsonObject
            {
                ["probabilities"] = new JsonObject(answers.Select((a, i) => KeyValuePair.Create(a, (JsonNode?)probabilities[i]))),
                ["token_ids"] = new JsonObject(answers.Select((a, i) => KeyValuePair.Create(a, (JsonNode?)tokens[i]))),
            };
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }
}
