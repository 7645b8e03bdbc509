using Blob.Data;
using Blob.Evaluation;
using Blob.Experiments;
using Blob.Methods;
using Blob.Reports;
using Blob.Runtime;
using Blob.Tests.Cli;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>
/// Multiple choice with an encoder end to end: MiniLM's multiple-choice head trained on a few OBQA questions (four
/// choices) and evaluated on them and, out of distribution, on ARC-Easy (three to five).
/// </summary>
public class EncoderMultipleChoiceExperimentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-encoder-mc-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ExperimentSpec Spec(string method, params string[] ood) => new()
    {
        Model = ModelZoo.BuiltIn, Task = "obqa", DataRoot = Shared.PathOf("data"), Precision = Precision.Fp32,
        MaxTrain = 8, MaxEval = 6, EvalSamples = 2, EvalBatchSize = 4, Device = "cpu", OodTasks = ood,
        Training = new TrainingOptions
        {
            Method = new MethodOptions { Kind = MethodRegistry.Parse(method), Rank = 2, Alpha = 4, Ensemble = new EnsembleOptions { Size = 2 } },
            Steps = 2, BatchSize = 4, LearningRate = 1e-3, MaxLength = 48, CheckpointEvery = 0,
        },
    };

    [SharedTheory("data/openbookqa", "data/arc-easy")]
    [InlineData("mle")]
    [InlineData("blob")]
    public void MiniLmTrainsOnObqaAndAnswersArcsOwnChoices(string method)
    {
        var spec = Spec(method, "arc-e");
        var run = Experiment.Run(spec, _dir);
        Assert.Equal(("obqa", 6), (run.Result.Task, run.Result.Count));
        Assert.Contains(run.Result.Notes!, n => n.Contains("BertForMultipleChoice"));
        Assert.All(run.Probabilities, p => { Assert.Equal(4, p.Length); Assert.Equal(1.0, p.Sum(), 6); });
        Assert.True(double.IsFinite(run.Result.Nll) && double.IsFinite(run.Result.Ece));

        var arc = Assert.Single(run.OutOfDistribution);
        Assert.Equal(("arc-e", 6), (arc.Task, arc.Count));
        Assert.True(double.IsFinite(arc.Nll));

        var again = Experiment.EvaluateAdapter(spec, Path.Combine(_dir, "adapter"));
        Assert.Equal(["obqa", "arc-e"], again.Select(r => r.Task));
        Assert.All(again, r => Assert.True(double.IsFinite(r.Nll)));
        if (method != "mle") return; // BLoB's weight samples are drawn from another RNG state in eval than in train
        Assert.Equal(run.Result.Nll, again[0].Nll, 10);
        Assert.Equal(arc.Nll, again[1].Nll, 10);
        Assert.Equal(arc.Accuracy, again[1].Accuracy);
    }

    /// <summary>Every other method trains and predicts with the head (Laplace's K-FAC over the choice logits, TFB's bisection, ...).</summary>
    [SharedTheory("data/openbookqa")]
    [InlineData("map")]
    [InlineData("mcd")]
    [InlineData("ens")]
    [InlineData("bbb")]
    [InlineData("lap")]
    [InlineData("tfb")]
    public void EveryMethodWorksWithTheHead(string method)
    {
        var run = Experiment.Run(Spec(method), _dir);
        Assert.Equal(6, run.Result.Count);
        Assert.All(run.Probabilities, p => Assert.Equal(1.0, p.Sum(), 6));
        Assert.True(double.IsFinite(run.Result.Nll), $"NLL {run.Result.Nll}");
    }

    /// <summary>ARC questions with 3, 4 and 5 choices in one batch: each prediction row has the task's five labels, zero beyond the question's own choices.</summary>
    [SharedTheory("data/arc-easy")]
    [InlineData("mle", 0)]
    [InlineData("blob", 2)]
    [InlineData("lap", 0)]
    public void ArcPredictionsGiveMissingChoicesProbabilityZero(string method, int samples)
    {
        var all = Tasks.Load("arc-e", Shared.PathOf("data"), TaskKind.EncoderMultipleChoice);
        var eval = new[] { 3, 4, 5 }.SelectMany(k => all.Eval.Where(e => e.Choices!.Count == k).Take(2)).ToList();
        var task = all with { Train = all.Train.Take(6).ToList(), Eval = eval };
        long before = TensorLifetimes.Live;
        double[][] probs;
        using (var scope = TorchSharp.torch.NewDisposeScope())
        {
            var tm = ModelZoo.Load(ModelZoo.BuiltIn, task, TorchSharp.torch.CPU, seed: 2);
            using var model = tm.Model.Module;
            var options = new MethodOptions { Kind = MethodRegistry.Parse(method), Rank = 2, Alpha = 4, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
            options.Apply(model);
            var train = new TextBatchSource(task, task.Train, tm.Tokenizer, 48);
            var data = new TextBatchSource(task, task.Eval, tm.Tokenizer, 48);
            using var predictor = options.Kind.Predictor(new PredictionSetup(tm.Classifier, train, options, samples, 6, TorchSharp.torch.CPU));
            probs = predictor.Predict(tm.Classifier, data, null);
        }
        Assert.Equal(before, TensorLifetimes.Live);
        for (int i = 0; i < eval.Count; i++)
        {
            Assert.Equal(5, probs[i].Length);
            Assert.Equal(1.0, probs[i].Sum(), 6);
            for (int c = 0; c < 5; c++)
                if (c >= eval[i].Choices!.Count) Assert.Equal(0.0, probs[i][c]);
                else Assert.True(probs[i][c] > 0);
        }
    }

    /// <summary>Table 2's shape: compare tables the adapters' out-of-distribution results, one table per --ood set, a row per method and seed.</summary>
    [SharedFact("data/openbookqa", "data/arc-easy")]
    public void CompareTablesEachOutOfDistributionSet()
    {
        string output = Path.Combine(_dir, "compare");
        string[] compare = ["compare", "--model", "minilm", "--task", "obqa", "--ood", "arc-e", "--methods", "mle", "blob",
            "--seeds", "1", "--steps", "1", "--samples", "2", "--batch-size", "4", "--max-train", "4", "--max-eval", "4",
            "--max-length", "32", "--device", "cpu", "--data-root", Shared.PathOf("data"), "--output", output, "--quiet"];
        var outcome = BlobCli.Run(compare);
        Assert.True(outcome.Code == 0, outcome.ToString());
        string table = File.ReadAllText(Path.Combine(output, "table-ood-arc-e.csv"));
        foreach (var method in new[] { "mle", "blob" })
        {
            var ood = RunResult.Load(Path.Combine(output, method, "seed-1", "ood-arc-e.json"));
            Assert.Equal("arc-e", ood.Task);
            var row = table.Split('\n').Single(l => l.StartsWith($"NLL,{method},arc-e,"));
            Assert.Equal(ood.Nll, double.Parse(row.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture), 6);
        }
        Assert.DoesNotContain("blob-n0", table); // no mean-weights row: out of distribution, only N samples are evaluated
        Assert.True(File.Exists(Path.Combine(output, "table.csv"))); // dev's table as before
        // each run keeps its out-of-distribution predictions, so the set gets the overlaid diagrams, as dev does
        foreach (var method in new[] { "mle", "blob" })
        {
            var (probs, labels) = Experiment.LoadPredictions(Path.Combine(output, method, "seed-1", "ood-arc-e-predictions.json"));
            Assert.Equal(4, labels.Length);
            Assert.Equal(RunResult.Load(Path.Combine(output, method, "seed-1", "ood-arc-e.json")).Accuracy,
                Metrics.Evaluate(probs, labels).Accuracy, 12);
        }
        string overlay = Path.Combine(output, "ood-arc-e-reliability.png");
        Assert.True(File.Exists(overlay));
        Assert.True(File.Exists(Path.Combine(output, "ood-arc-e-risk-coverage.png")));

        // a run finished before out-of-distribution predictions were saved is still finished: reused, tabled, not drawn
        File.Delete(Path.Combine(output, "mle", "seed-1", "ood-arc-e-predictions.json"));
        File.Delete(overlay);
        var again = BlobCli.Run(compare);
        Assert.True(again.Code == 0, again.ToString());
        Assert.Contains("mle seed 1: reusing", again.ToString());
        Assert.Contains("blob seed 1: reusing", again.ToString());
        Assert.Equal(table, File.ReadAllText(Path.Combine(output, "table-ood-arc-e.csv")));
        Assert.False(File.Exists(overlay));
    }

    [SharedFact("data/openbookqa")]
    public void TheCliTrainsTheHeadAndARunLeavesNoLiveTensors()
    {
        long before = TensorLifetimes.Live;
        var outcome = BlobCli.Run("train", "--model", "minilm", "--task", "obqa", "--method", "mle", "--steps", "1",
            "--batch-size", "4", "--max-train", "4", "--max-eval", "4", "--max-length", "32", "--device", "cpu",
            "--data-root", Shared.PathOf("data"), "--output", Path.Combine(_dir, "cli"), "--quiet");
        Assert.True(outcome.Code == 0, outcome.ToString());
        Assert.Contains("ACC", outcome.ToString());
        Assert.Equal(before, TensorLifetimes.Live);
    }
}
