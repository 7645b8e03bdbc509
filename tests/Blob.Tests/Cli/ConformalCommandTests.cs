using Blob.Runtime;
using System.Text.Json.Nodes;
using Blob.Evaluation;
using Blob.Experiments;

namespace Blob.Tests.Cli;

/// <summary>
/// --conformal on train and compare, the guarantee tables from run folders, and score --conformal-from: through the
/// real command line where it runs in seconds, on hand-made run folders for the out-of-distribution table.
/// </summary>
public sealed class ConformalCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-conformal-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Tiny = ["--task", "demo-facts", "--max-train", "40", "--max-eval", "12", "--max-length", "16",
        "--batch-size", "8", "--device", "cpu", "--quiet", "--steps", "3", "--samples", "3"];

    [Fact]
    public void CompareWritesTheConformalTableAndPicturesAndEachRunsFile()
    {
        string output = Path.Combine(_dir, "table");
        var r = BlobCli.Run(["compare", .. Tiny, "--methods", "mle", "blob", "--seeds", "1", "--validation-fraction", "0.25",
            "--evaluate", "both", "--output", output, "--conformal", "0.5"]);
        Assert.True(r.Code == 0, r.ToString());
        var table = File.ReadAllText(Path.Combine(output, "table-conformal.md"));
        Assert.Contains("| dev | mle | 1 |", table);
        Assert.Contains("| dev | blob | 1 |", table);
        foreach (var picture in new[] { "conformal-coverage.png", "conformal-set-size.png" })
            Assert.True(new FileInfo(Path.Combine(output, picture)).Length > 1000, picture);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "blob", "seed-1", RunConformal.FileName)))!;
        Assert.Equal(0.5, json["alpha"]!.GetValue<double>());
        Assert.Equal("dev", json["splits"]![0]!["split"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(output, "table-ood-detection.md")), "no --ood set, no detection table");

        // the same numbers again from the same records, and a finished run is reused with or without --conformal
        var again = BlobCli.Run(["compare", .. Tiny, "--methods", "mle", "blob", "--seeds", "1", "--validation-fraction", "0.25",
            "--evaluate", "both", "--output", output, "--conformal", "0.5"]);
        Assert.Contains("reusing", again.Out);
        Assert.Equal(table, File.ReadAllText(Path.Combine(output, "table-conformal.md")));
    }

    [Fact]
    public void TrainPrintsEachSplitsSetsAndWritesConformalJson()
    {
        string run = Path.Combine(_dir, "run");
        var r = BlobCli.Run(["train", .. Tiny, "--method", "mle", "--validation-fraction", "0.25", "--evaluate", "both", "--output", run, "--conformal", "0.2"]);
        Assert.True(r.Code == 0, r.ToString());
        Assert.Contains("dev at α = 0.2: LAC coverage", r.Out);
        Assert.True(File.Exists(Path.Combine(run, RunConformal.FileName)));
    }

    [Theory]
    [InlineData("--conformal 1", "--conformal 1: must be above 0 and below 1")]
    [InlineData("--conformal 0", "--conformal 0: must be above 0 and below 1")]
    [InlineData("--conformal 0.1", "--conformal 0.1: answer sets are calibrated on the validation split; carve one with --validation-fraction")]
    [InlineData("--conformal 0.1 --validation-fraction 0.25", "--conformal 0.1: calibrated on the validation split and reported on dev, so both are evaluated; add --evaluate both")]
    public void BadConformalOptionsAreOneLineAndExitTwoBeforeTraining(string options, string message)
    {
        foreach (var command in new[] { "train", "compare" })
        {
            string output = Path.Combine(_dir, command);
            var r = BlobCli.Run([command, .. Tiny, "--output", output, .. options.Split(' ')]);
            Assert.Equal(2, r.Code);
            Assert.Contains(message, r.Error);
            Assert.Single(r.Error.Trim().Split('\n'));
            Assert.False(Directory.Exists(output), $"{command} trained before refusing");
        }
    }

    /// <summary>
    /// Two seeds of one method and one of another; the second seed of "a" kept no OOD predictions: its row has s = 1. An
    /// OOD set whose questions are all less confident than dev's is detected perfectly (AUROC 100, FPR95 0).
    /// </summary>
    [Fact]
    public void TheDetectionTableUsesTheSeedsThatKeptBothPredictionsAndSaysMutualInformationIsNotRecorded()
    {
        var random = new Random(3);
        ComparedRun Run(string method, int seed, bool withOod)
        {
            var dir = Path.Combine(_dir, method, $"seed-{seed}");
            Directory.CreateDirectory(dir);
            double[][] Confident(int n) => Enumerable.Range(0, n).Select(_ => { double p = 0.7 + 0.3 * random.NextDouble(); return new[] { p, 1 - p }; }).ToArray();
            Experiment.SavePredictions(Path.Combine(dir, "validation-predictions.json"), Confident(40), new int[40]);
            Experiment.SavePredictions(Path.Combine(dir, "predictions.json"), Confident(30), new int[30]);
            if (withOod)
                Experiment.SavePredictions(Path.Combine(dir, "ood-far-predictions.json"),
                    Enumerable.Range(0, 20).Select(_ => { double p = 0.5 + 0.15 * random.NextDouble(); return new[] { p, 1 - p }; }).ToArray(), new int[20]);
            return new ComparedRun(method, seed, dir);
        }
        var runs = new[] { Run("a", 1, true), Run("a", 2, false), Run("b", 1, true) };
        ConformalComparison.Write(runs, ["far"], _dir, 0.1, "toy");

        var detection = File.ReadAllText(Path.Combine(_dir, "table-ood-detection.md"));
        Assert.Contains("| far | a | 1 | 100.0 | 0.0 | 100.0 | 0.0 | n/a | n/a |", detection);
        Assert.Contains("| far | b | 1 |", detection);
        Assert.True(File.Exists(Path.Combine(_dir, "ood-roc.png")));
        var conformal = File.ReadAllText(Path.Combine(_dir, "table-conformal.md"));
        Assert.Contains("| dev | a | 2 |", conformal);
        Assert.Contains("| ood-far | a | 1 |", conformal);
        // every label is class 0, the more probable: LAC's sets hold it wherever its threshold reaches
        Assert.Contains("ood-far", File.ReadAllText(Path.Combine(runs[0].Dir, RunConformal.FileName)));
    }

    /// <summary>
    /// Runs whose predictions record each question's mutual information get MI's AUROC and FPR95: OOD questions whose
    /// samples all disagree more than dev's are detected perfectly by it, though their top probabilities say nothing.
    /// </summary>
    [Fact]
    public void RecordedMutualInformationIsADetectionScore()
    {
        var random = new Random(4);
        double[][] Probabilities(int n) => Enumerable.Range(0, n).Select(_ => { double p = 0.5 + 0.5 * random.NextDouble(); return new[] { p, 1 - p }; }).ToArray();
        double[] Between(int n, double low, double high) => Enumerable.Range(0, n).Select(_ => low + (high - low) * random.NextDouble()).ToArray();
        var runs = new List<ComparedRun>();
        foreach (var seed in new[] { 1, 2 })
        {
            var dir = Path.Combine(_dir, "s", $"seed-{seed}");
            Directory.CreateDirectory(dir);
            Experiment.SavePredictions(Path.Combine(dir, "validation-predictions.json"), Probabilities(20), new int[20], Between(20, 0, 0.1));
            Experiment.SavePredictions(Path.Combine(dir, "predictions.json"), Probabilities(30), new int[30], Between(30, 0, 0.1));
            Experiment.SavePredictions(Path.Combine(dir, "ood-far-predictions.json"), Probabilities(20), new int[20], Between(20, 0.2, 0.6));
            runs.Add(new ComparedRun("s", seed, dir));
        }
        ConformalComparison.Write(runs, ["far"], _dir, 0.1, "toy");
        Assert.Contains("| far | s | 2 |", File.ReadAllText(Path.Combine(_dir, "table-ood-detection.md")));
        Assert.Matches(@"\| far \| s \| 2 \|( [^|]+ \|){4} 100\.0 ± 0\.0 \| 0\.0 ± 0\.0 \|", File.ReadAllText(Path.Combine(_dir, "table-ood-detection.md")));
        Assert.True(File.Exists(Path.Combine(_dir, "ood-roc.png")));

        // a file whose mutual information does not match its questions is refused, naming it
        var bad = Path.Combine(_dir, "bad-predictions.json");
        File.WriteAllText(bad, """{"labels":[0,1],"probabilities":[[0.5,0.5],[0.4,0.6]],"mutual_information":[0.1]}""");
        Assert.Contains(bad, Assert.Throws<BlobException>(() => Experiment.LoadMutualInformation(bad)).Message);
        Assert.Equal(2, Experiment.LoadPredictions(bad).Labels.Length);
    }

    [Fact]
    public void AGuaranteeTableNeedsTheValidationPredictions()
    {
        var dir = Path.Combine(_dir, "bare");
        Directory.CreateDirectory(dir);
        var e = Assert.Throws<BlobException>(() => RunConformal.Compute(dir, 0.1, []));
        Assert.Contains("validation-predictions.json is missing", e.Message);
    }

    [Theory]
    [InlineData("--alpha 0.1", "--alpha 0.1: only with --conformal-from RUN")]
    [InlineData("--conformal-from NOWHERE", "--conformal-from NOWHERE: give the sets' level with --alpha")]
    [InlineData("--conformal-from NOWHERE --alpha 0.1", "--conformal-from NOWHERE: no such folder")]
    [InlineData("--conformal-from EMPTY --alpha 0.1", "no validation-predictions.json there or in the folder above")]
    [InlineData("--conformal-from EMPTY --alpha 2", "--alpha 2: must be above 0 and below 1")]
    public void ScoreRefusesBadConformalOptionsInOneLine(string options, string message)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        var args = options.Replace("NOWHERE", Path.Combine(_dir, "nowhere")).Replace("EMPTY", Path.Combine(_dir, "empty")).Split(' ');
        var r = BlobCli.Run(["score", "--model", "x", "--prompt", "p", "--choices", "A,B", .. args]);
        Assert.Equal(2, r.Code);
        Assert.Contains(message.Replace("NOWHERE", Path.Combine(_dir, "nowhere")), r.Error);
        Assert.Single(r.Error.Trim().Split('\n'));
    }

    /// <summary>
    /// A tiny decoder trained on ARC-Easy with a validation split of 2: at α = 0.1 that is too few (every answer, said so),
    /// at α = 0.5 the sets are calibrated; APS's is never empty and both list answers of --choices.
    /// </summary>
    [SharedFact("fixtures/stories260k/model.safetensors", "data/arc-easy")]
    public void ScoreReturnsTheAnswerSetsBesideTheProbabilities()
    {
        var run = Path.Combine(_dir, "arc");
        var spec = new ExperimentSpec
        {
            Model = Shared.PathOf("fixtures/stories260k"), Task = "arc-e", DataRoot = Shared.PathOf("data"), MaxTrain = 8, MaxEval = 2, Precision = Precision.Fp32,
            Device = "cpu", ValidationFraction = 0.25, Evaluate = EvaluatedSplits.Both,
            Training = new Blob.Training.TrainingOptions
            {
                Method = new Blob.Methods.MethodOptions { Kind = Blob.Methods.MethodRegistry.Mle, Rank = 4, Alpha = 8 }, Steps = 2, BatchSize = 4, LearningRate = 1e-2,
            },
        };
        Experiment.Run(spec, run);
        JsonNode Score(double alpha)
        {
            var r = BlobCli.Run(["score", "--model", Shared.PathOf("fixtures/stories260k"), "--prompt", "Lily saw", "--choices", "A,B,C,D",
                "--adapter", Path.Combine(run, "adapter"), "--conformal-from", Path.Combine(run, "adapter"), "--alpha", alpha.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            Assert.True(r.Code == 0, r.ToString());
            return JsonNode.Parse(r.Out)!["conformal"]!;
        }
        var all = Score(0.1);
        Assert.Equal(4, all["lac"]!.AsArray().Count);
        Assert.Contains("too few", all["note"]!.GetValue<string>());
        var sets = Score(0.5);
        Assert.Null(sets["note"]);
        Assert.NotEmpty(sets["aps"]!.AsArray());
        Assert.All(sets["lac"]!.AsArray().Concat(sets["aps"]!.AsArray()), a => Assert.Contains(a!.GetValue<string>(), new[] { "A", "B", "C", "D" }));
        Assert.Equal(Experiment.LoadPredictions(Path.Combine(run, "validation-predictions.json")).Labels.Length, sets["calibration_count"]!.GetValue<int>());
    }
}
