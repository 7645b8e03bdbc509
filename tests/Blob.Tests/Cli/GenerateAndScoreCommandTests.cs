using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Cli.Commands;

namespace Blob.Tests.Cli;

/// <summary>`blob generate` and `blob score`, run in-process on the stories260k fixture and on broken copies of it.</summary>
public class GenerateAndScoreCommandTests
{
    static string Stories => Shared.PathOf("fixtures/stories260k");

    /// <summary>
    /// Runs the command line as Program.cs does and returns its exit code, stdout and stderr. In fp32 unless the
    /// arguments say otherwise: the command line's default (auto) is bf16 on CPUs that have it, and these tests compare
    /// with float32 references.
    /// </summary>
    static (int Code, string Out, string Error) Run(params string[] args)
    {
        if (args.Length > 0 && !args.Contains("--precision") && !args.Contains("--help")) args = [.. args, "--precision", "fp32"];
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

    /// <summary>Single-token answers of this tokenizer (the reference's "A", "True", "False" take several tokens).</summary>
    static readonly (string Answer, int Token)[] OneTokenAnswers = [("B", 368), ("a", 261), ("the", 265), ("Lily", 317)];

    [SharedFact("fixtures/stories260k/prompt_reference.json")]
    public void ScoreMatchesSoftmaxOfTheReferenceLogitsOverTheAnswerTokens()
    {
        var rows = JsonNode.Parse(File.ReadAllText(Path.Combine(Stories, "prompt_reference.json")))!.AsArray();
        Assert.Equal(2, rows.Count);
        foreach (var row in rows)
        {
            var logits = row!["last_logits"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            var (code, output, error) = Run("score", "--model", Stories, "--prompt", row["prompt"]!.GetValue<string>(),
                "--choices", string.Join(",", OneTokenAnswers.Select(a => a.Answer)));
            Assert.True(code == 0, error);

            var result = JsonNode.Parse(output)!;
            Assert.Equal("next token", result["scoring"]!.GetValue<string>());
            int[] tokens = OneTokenAnswers.Select(a => a.Token).ToArray();
            double[] exp = tokens.Select(t => Math.Exp(logits[t] - tokens.Max(u => logits[u]))).ToArray();
            int i = 0;
            foreach (var (answer, _) in OneTokenAnswers)
            {
                Assert.Equal(tokens[i], result["token_ids"]![answer]!.GetValue<int>());
                double expected = exp[i] / exp.Sum(), actual = result["probabilities"]![answer]!.GetValue<double>();
                Assert.True(Math.Abs(expected - actual) <= 1e-4, $"{answer}: {actual} vs {expected}");
                i++;
            }
        }
    }

    /// <summary>One-token answers give exactly the numbers the command gave before it scored sequences.</summary>
    [SharedFact("fixtures/stories260k")]
    public void OneTokenAnswersScoreExactlyAsTheNextToken()
    {
        const string prompt = "Once upon a time";
        var (code, output, error) = Run("score", "--model", Stories, "--prompt", prompt, "--choices", string.Join(",", OneTokenAnswers.Select(a => a.Answer)));
        Assert.True(code == 0, error);

        var model = Blob.Models.PretrainedModels.LoadCausalLM(Stories);
        var tokenizer = Blob.Tokenization.TokenizerLoader.Load(Stories);
        double[] before = Blob.Models.Generation.ScoreChoices(model, tokenizer.Encode(prompt).Ids, OneTokenAnswers.Select(a => a.Token).ToArray());
        var result = JsonNode.Parse(output)!;
        for (int i = 0; i < OneTokenAnswers.Length; i++)
            Assert.Equal(before[i], result["probabilities"]![OneTokenAnswers[i].Answer]!.GetValue<double>());
    }

    /// <summary>
    /// "True" and "Lilyanne" end in the same token, so scoring by the last token alone would give them the same
    /// probability. Each answer is scored by its whole sequence, the probabilities a softmax of those.
    /// </summary>
    [SharedFact("fixtures/stories260k/prompt_reference.json")]
    public void MultiTokenAnswersAreScoredByTheirSequenceLogProbability()
    {
        var (code, output, error) = Run("score", "--model", Stories, "--prompt", "Once upon a time", "--choices", "True,Lilyanne,e");
        Assert.True(code == 0, error);
        var result = JsonNode.Parse(output)!;
        Assert.Equal("sequence log-probability", result["scoring"]!.GetValue<string>());
        string[] answers = ["True", "Lilyanne", "e"];
        var tokens = answers.Select(a => result["token_ids"]![a]!.AsArray().Select(t => t!.GetValue<int>()).ToArray()).ToArray();
        Assert.Equal(tokens[0][^1], tokens[1][^1]); // the case the last-token scoring could not tell apart
        var logProbs = answers.Select(a => result["log_probabilities"]![a]!.GetValue<double>()).ToArray();
        var probs = answers.Select(a => result["probabilities"]![a]!.GetValue<double>()).ToArray();
        Assert.NotEqual(probs[0], probs[1]);
        Assert.Equal(1.0, probs.Sum(), 12);
        for (int i = 0; i < answers.Length; i++)
            Assert.Equal(Math.Exp(logProbs[i]) / logProbs.Sum(Math.Exp), probs[i], 12);

        // The reference's answers, with its tokenisation ("A" is "▁" then "A"); "B" is one token, so its sequence
        // log-probability is the reference's log-softmax at the prompt's last position.
        var row = JsonNode.Parse(File.ReadAllText(Path.Combine(Stories, "prompt_reference.json")))!.AsArray()[0]!;
        var reference = row["answer_token_ids"]!.AsObject();
        (code, output, error) = Run("score", "--model", Stories, "--prompt", row["prompt"]!.GetValue<string>(),
            "--choices", string.Join(",", reference.Select(a => a.Key)));
        Assert.True(code == 0, error);
        result = JsonNode.Parse(output)!;
        foreach (var (answer, ids) in reference)
            Assert.Equal(ids!.AsArray().Select(t => t!.GetValue<int>()), result["token_ids"]![answer]!.AsArray().Select(t => t!.GetValue<int>()));
        var logits = row["last_logits"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
        double logSumExp = logits.Max() + Math.Log(logits.Sum(l => Math.Exp(l - logits.Max())));
        Assert.Equal(logits[368] - logSumExp, result["log_probabilities"]!["B"]!.GetValue<double>(), 4);
    }

    /// <summary>Two answers with the same tokens could not be told apart by any scoring: refused, naming both.</summary>
    [Fact]
    public void AnswersWithTheSameTokensAreRefused()
    {
        var uncased = Blob.Tokenization.TokenizerLoader.MiniLm(); // lower-cases: "True" and "TRUE" are one token sequence
        var e = Assert.Throws<BlobException>(() => Blob.Experiments.ModelZoo.AnswerTokenSequences(uncased, ["yes", "True", "TRUE"], "--choices"));
        Assert.Contains("'True' and 'TRUE'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Equal(2, Blob.Experiments.ModelZoo.AnswerTokenSequences(uncased, ["True", "False"], "--choices").Length);
    }

    /// <summary>A task's labels that end in the same token would share one logit: refused as well.</summary>
    [SharedFact("fixtures/stories260k")]
    public void TaskLabelsSharingTheirLastTokenAreRefused()
    {
        var tokenizer = Blob.Tokenization.TokenizerLoader.Load(Stories);
        var e = Assert.Throws<BlobException>(() => Blob.Experiments.ModelZoo.ChoiceTokenIds(tokenizer, ["True", "Lilyanne"], "custom"));
        Assert.Contains("'True' and 'Lilyanne'", e.Message);
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
        // caught before the model is allocated, from the stored shapes alone
        Assert.Matches(@"^error: .*config\.json: vocab_size is 500, but no tensor in .*model\.safetensors has a dimension of that size", error);
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
