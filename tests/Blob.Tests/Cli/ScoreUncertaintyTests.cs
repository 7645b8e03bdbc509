using Blob.Runtime;
using System.CommandLine;
using System.Text.Json.Nodes;
using Blob.Cli.Commands;
using Blob.Data;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Methods;
using Blob.Training;

namespace Blob.Tests.Cli;

/// <summary>
/// `blob score --adapter` with a tiny adapter trained on stories260k (ARC-Easy prompts): N-sample probabilities, the
/// predictive entropy, the mutual information and --abstain-below.
/// </summary>
public sealed class ScoreUncertaintyTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-score-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Stories => Shared.PathOf("fixtures/stories260k");
    const string OneToken = "B,a,the,Lily", MultiToken = "True,Lilyanne,e";

    static (int Code, string Out, string Error) Run(params string[] args)
    {
        var root = new RootCommand("test");
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(ScoreCommand.Create());
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CommandRunner.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }

    static JsonNode Score(params string[] args)
    {
        var (code, output, error) = Run(["score", "--model", Stories, "--prompt", "Lily saw", .. args]);
        Assert.True(code == 0, error);
        return JsonNode.Parse(output)!;
    }

    /// <summary>A few steps of training on ARC-Easy: enough for an adapter of the method to be saved.</summary>
    string Train(FineTuningMethod kind, MethodOptions? options = null)
    {
        var dir = Path.Combine(_dir, kind.Name);
        var spec = new ExperimentSpec
        {
            Model = Stories, Task = "arc-e", DataRoot = Shared.PathOf("data"), MaxTrain = 8, MaxEval = 2, EvalSamples = 2, Device = "cpu", Precision = Precision.Fp32,
            Training = new TrainingOptions
            {
                Method = (options ?? new MethodOptions()) with { Kind = kind, Rank = 4, Alpha = 8 }, Steps = 2, BatchSize = 4, LearningRate = 1e-2,
            },
        };
        Experiment.Run(spec, dir);
        return Path.Combine(dir, "adapter");
    }

    static double[] Probabilities(JsonNode result, string choices) =>
        choices.Split(',').Select(a => result["probabilities"]![a]!.GetValue<double>()).ToArray();

    static double[][] Samples(JsonNode result, string choices) =>
        result["sample_probabilities"]!.AsArray().Select(s => choices.Split(',').Select(a => s![a]!.GetValue<double>()).ToArray()).ToArray();

    static void AssertConsistent(JsonNode result, string choices, int samples)
    {
        var p = Probabilities(result, choices);
        Assert.Equal(samples, result["samples"]!.GetValue<int>());
        Assert.Equal(1.0, p.Sum(), 6);
        Assert.Equal(Uncertainty.Entropy(p), result["entropy"]!.GetValue<double>(), 12);
        var answers = choices.Split(',');
        Assert.Equal(answers[Metrics.ArgMax(p)], result["answer"]!.GetValue<string>());
        Assert.Equal(p.Max(), result["top_probability"]!.GetValue<double>());
        if (samples <= 1)
        {
            Assert.Equal(0, result["mutual_information"]!.GetValue<double>());
            Assert.Null(result["sample_probabilities"]);
            return;
        }
        var s = Samples(result, choices);
        Assert.Equal(samples, s.Length);
        var mean = Uncertainty.Mean(s);
        for (int c = 0; c < p.Length; c++) Assert.Equal(mean[c], p[c], 6); // float32 softmax, summed then divided
        Assert.Equal(Uncertainty.MutualInformation(s), result["mutual_information"]!.GetValue<double>(), 12);
        Assert.True(s.Any(x => !x.SequenceEqual(s[0])), "the samples should differ");
    }

    [SharedFact("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    public void ABlobAdapterScoresWithNSamplesEntropyAndMutualInformation()
    {
        var adapter = Train(MethodRegistry.Blob);

        var sampled = Score("--adapter", adapter, "--choices", OneToken);
        Assert.Equal("blob", sampled["method"]!.GetValue<string>());
        Assert.Equal("next token", sampled["scoring"]!.GetValue<string>());
        AssertConsistent(sampled, OneToken, samples: 10); // BLoB's N
        Assert.True(sampled["mutual_information"]!.GetValue<double>() > 0);
        Assert.Equal(sampled.ToJsonString(), Score("--adapter", adapter, "--choices", OneToken).ToJsonString()); // the seed fixes the samples
        Assert.NotEqual(sampled.ToJsonString(), Score("--adapter", adapter, "--choices", OneToken, "--seed", "2").ToJsonString());

        AssertConsistent(Score("--adapter", adapter, "--choices", OneToken, "--samples", "3"), OneToken, samples: 3);
        var mean = Score("--adapter", adapter, "--choices", OneToken, "--samples", "0"); // the mean weights, one pass
        AssertConsistent(mean, OneToken, samples: 0);

        var sequences = Score("--adapter", adapter, "--choices", MultiToken, "--samples", "4");
        Assert.Equal("sequence log-probability", sequences["scoring"]!.GetValue<string>());
        AssertConsistent(sequences, MultiToken, samples: 4);
        Assert.Null(sequences["log_probabilities"]); // an average of samples has probabilities only
        Assert.NotNull(Score("--adapter", adapter, "--choices", MultiToken, "--samples", "0")["log_probabilities"]);

        // --abstain-below: "unsure" below the threshold, the probabilities still listed
        var unsure = Score("--adapter", adapter, "--choices", OneToken, "--abstain-below", "1");
        Assert.Equal(ScoreCommand.Unsure, unsure["answer"]!.GetValue<string>());
        Assert.True(unsure["abstained"]!.GetValue<bool>());
        Assert.Equal(1.0, unsure["abstain_below"]!.GetValue<double>());
        Assert.Equal(Probabilities(sampled, OneToken), Probabilities(unsure, OneToken));
        var sure = Score("--adapter", adapter, "--choices", OneToken, "--abstain-below", "0");
        Assert.False(sure["abstained"]!.GetValue<bool>());
        Assert.Equal(sampled["answer"]!.GetValue<string>(), sure["answer"]!.GetValue<string>());
    }

    /// <summary>Without an adapter, and with a plain LoRA: one pass, MI = 0.</summary>
    [SharedFact("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    public void DeterministicScoringHasNoMutualInformation()
    {
        var plain = Score("--choices", OneToken);
        AssertConsistent(plain, OneToken, samples: 0);
        Assert.Null(plain["method"]);
        Assert.Null(plain["abstained"]);

        var lora = Score("--adapter", Train(MethodRegistry.Mle), "--choices", MultiToken);
        Assert.Equal("mle", lora["method"]!.GetValue<string>());
        AssertConsistent(lora, MultiToken, samples: 0);
        Assert.NotNull(lora["log_probabilities"]);
    }

    /// <summary>An ensemble's members are its samples: MI from their disagreement, combined as the ensemble was saved.</summary>
    [SharedFact("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    public void AnEnsembleScoresWithItsMembers()
    {
        var adapter = Train(MethodRegistry.Ens, new MethodOptions { Ensemble = new EnsembleOptions { Size = 2, AveragesProbabilities = true } });
        var result = Score("--adapter", adapter, "--choices", OneToken);
        Assert.Equal("ens", result["method"]!.GetValue<string>());
        AssertConsistent(result, OneToken, samples: 2);
    }

    [Fact]
    public void AnAbstentionThresholdOutsideZeroToOneIsRefused()
    {
        var (code, _, error) = Run("score", "--model", "x", "--prompt", "p", "--choices", "A,B", "--abstain-below", "1.5");
        Assert.Equal(2, code);
        Assert.Contains("--abstain-below", error);
    }
}
