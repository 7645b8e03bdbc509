using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Cli.Commands;

namespace Blob.Tests.Cli;

/// <summary>`blob generate` and `blob score`, run in-process on the stories260k fixture and on broken copies of it.</summary>
public class GenerateAndScoreCommandTests
{
    static string Stories => Shared.PathOf("fixtures/stories260k");

    /// <summary>Runs the command line as Program.cs does and returns its exit code, stdout and stderr.</summary>
    static (int Code, string Out, string Error) Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CommandRunner.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }

    [SharedFact("fixtures/stories260k/greedy.json")]
    public void GenerateFromBosTellsTheStory()
    {
        var (code, output, error) = Run("generate", "--model", Stories, "--max-new-tokens", "40");
        Assert.True(code == 0, error);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", output);
    }

    [SharedFact("fixtures/stories260k/prompt_reference.json")]
    public void ScoreMatchesSoftmaxOfTheReferenceLogitsOverTheAnswerTokens()
    {
        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(Stories, "prompt_reference.json")))!.AsArray();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var answers = row!["answer_token_ids"]!.AsObject();
            var logits = row["last_logits"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var (code, output, error) = Run("score", "--model", Stories, "--prompt", row["prompt"]!.GetValue<string>(),
                "--choices", string.Join(",", answers.Select(a => a.Key)));
            Assert.True(code == 0, error);

            var result = JsonNode.Parse(output)!;
            int[] tokens = answers.Select(a => a.Value!.AsArray()[^1]!.GetValue<int>()).ToArray();
            double[] exp = tokens.Select(t => Math.Exp(logits[t] - tokens.Max(u => logits[u]))).ToArray();
            int i = 0;
            foreach (var (answer, _) in answers)
            {
                Assert.Equal(tokens[i], result["token_ids"]![answer]!.GetValue<int>());
                double expected = exp[i] / exp.Sum(), actual = result["probabilities"]![answer]!.GetValue<double>();
                Assert.True(Math.Abs(expected - actual) <= 1e-4, $"{answer}: {actual} vs {expected}");
                i++;
            }
        }
    }

    /// <summary>A temporary copy of the fixture, broken by <paramref name="edit"/>; the command must fail in one line.</summary>
    static string FailsInOneLine(Action<string> edit, params string[] extraArgs)
    {
        string dir = Directory.CreateTempSubdirectory("blob-cli-").FullName;
        try
        {
            foreach (var f in Directory.GetFiles(Stories)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            edit(dir);
            var (code, output, error) = Run(["score", "--model", dir, "--prompt", "Lily saw", "--choices", "A,B", .. extraArgs]);
            Assert.Equal(2, code);
            Assert.Equal("", output);
            Assert.StartsWith("error: ", error);
            Assert.Single(error.TrimEnd().Split('\n'));   // no stack trace
            return error.Trim();
        }
        finally { Directory.Delete(dir, true); }
    }

    static void EditConfig(string dir, Action<JsonObject> change)
    {
        string path = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(config);
        File.WriteAllText(path, config.ToJsonString());
    }

    [SharedFact("fixtures/stories260k")]
    public void TruncatedSafetensorsIsOneLine()
    {
        string error = FailsInOneLine(dir =>
        {
            using var f = File.OpenWrite(Path.Combine(dir, "model.safetensors"));
            f.SetLength(f.Length / 2);
        });
        Assert.Matches(@"^error: .*model\.safetensors: .*truncated", error);
    }

    [SharedFact("fixtures/stories260k")]
    public void UnknownArchitectureIsOneLine()
    {
        string error = FailsInOneLine(dir => EditConfig(dir, c => c["model_type"] = "mamba"));
        Assert.Matches(@"^error: .*config\.json: model_type 'mamba'", error);
    }

    [SharedFact("fixtures/stories260k")]
    public void ShapeMismatchIsOneLine()
    {
        string error = FailsInOneLine(dir => EditConfig(dir, c => c["vocab_size"] = 500));
        Assert.Matches(@"^error: .*model\.safetensors: tensor '.*' has shape \[512, 64\] but the model expects \[500, 64\]", error);
    }

    [SharedFact("fixtures/stories260k")]
    public void MissingTokenizerIsOneLine()
    {
        string error = FailsInOneLine(dir => File.Delete(Path.Combine(dir, "tokenizer.model")));
        Assert.Matches(@"^error: .*: no tokenizer found", error);
    }

    [SharedFact("fixtures/stories260k")]
    public void BadAdapterIsOneLine()
    {
        string adapter = Directory.CreateTempSubdirectory("blob-cli-adapter-").FullName;
        try
        {
            // an adapter made for another model: its layer names do not exist here
            File.WriteAllText(Path.Combine(adapter, "adapter_config.json"), """{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["c_attn"]}""");
            Blob.Models.Safetensors.Save(Path.Combine(adapter, "adapter_model.safetensors"),
                [new("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", TorchSharp.torch.zeros(2, 64)),
                 new("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", TorchSharp.torch.zeros(192, 2))]);
            string error = FailsInOneLine(_ => { }, "--adapter", adapter);
            Assert.Matches(@"^error: .*adapter_model\.safetensors: .*'transformer\.h\.0\.attn\.c_attn', which is not a linear layer of this model", error);
        }
        finally { Directory.Delete(adapter, true); }
    }
}
