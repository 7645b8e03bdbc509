using System.CommandLine;
using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;

namespace Blob.Cli.Commands;

/// <summary>`blob generate`: greedy decoding from a prompt (or from BOS), printing the text.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = ModelArguments.Model();
        var revision = ModelArguments.Revision();
        var adapter = ModelArguments.Adapter();
        var precision = ModelArguments.Precision();
        var prompt = new Option<string?>("--prompt") { Description = "Text to continue (default: start from the BOS token)" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Tokens to generate at most", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var command = new Command("generate", "Continue a prompt with greedy decoding") { model, revision, adapter, prompt, maxNewTokens, precision };
        command.SetAction(parsed =>
        {
            int steps = parsed.GetValue(maxNewTokens);
            if (steps < 0) throw new BlobException($"--max-new-tokens must be 0 or more, not {steps}");
            var (lm, tokenizer) = ModelArguments.LoadCausalLM(parsed.GetValue(model)!, parsed.GetValue(revision), parsed.GetValue(adapter), parsed.GetValue(precision));
            string? text = parsed.GetValue(prompt);
            int[] ids = text is null
                ? [tokenizer.BosId ?? tokenizer.EosId ?? throw new BlobException($"{parsed.GetValue(model)}: the tokenizer has no BOS or EOS token to start from; pass --prompt")]
                : tokenizer.Encode(text).Ids;
            if (ids.Length == 0) throw new BlobException("--prompt: the prompt has no tokens");
            var output = Generation.Generate(lm, ids, steps, tokenizer.EosId);
            Console.WriteLine(tokenizer.Decode(output));
            return 0;
        });
        return command;
    }
}
