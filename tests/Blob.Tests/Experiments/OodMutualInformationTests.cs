using Blob.Experiments;
using Blob.Tests.Cli;

namespace Blob.Tests.Experiments;

/// <summary>
/// Mutual information as an out-of-distribution score end to end: a tiny decoder (stories260k) trained on a few OBQA
/// questions by a method that samples and by one that does not, compared with --conformal and --ood arc-e. The sampling
/// method's predictions (MC dropout, N = 10 by default) keep each question's MI and its row of the detection table has
/// an MI AUROC; the other's (MLE, one pass by default) is n/a.
/// </summary>
public sealed class OodMutualInformationTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-ood-mi-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SharedFact("fixtures/stories260k/model.safetensors", "data/openbookqa", "data/arc-easy")]
    public void ASamplingMethodsDetectionRowHasAMutualInformationAuroc()
    {
        string output = Path.Combine(_dir, "compare");
        var r = BlobCli.Run("compare", "--model", Shared.PathOf("fixtures/stories260k"), "--task", "obqa", "--ood", "arc-e",
            "--methods", "mle", "mcd", "--seeds", "1", "--steps", "2", "--batch-size", "4", "--max-train", "12",
            "--max-eval", "8", "--max-length", "64", "--validation-fraction", "0.25", "--evaluate", "both", "--conformal", "0.5",
            "--device", "cpu", "--data-root", Shared.PathOf("data"), "--output", output, "--quiet");
        Assert.True(r.Code == 0, r.ToString());

        foreach (var file in new[] { "predictions.json", "ood-arc-e-predictions.json", "validation-predictions.json" })
        {
            var path = Path.Combine(output, "mcd", "seed-1", file);
            var mi = Experiment.LoadMutualInformation(path);
            Assert.NotNull(mi);
            Assert.Equal(Experiment.LoadPredictions(path).Labels.Length, mi.Length);
            Assert.All(mi, v => Assert.True(v >= 0 && double.IsFinite(v), $"{file}: {v}"));
            Assert.Null(Experiment.LoadMutualInformation(Path.Combine(output, "mle", "seed-1", file)));
        }

        var rows = File.ReadAllLines(Path.Combine(output, "table-ood-detection.csv"));
        var auroc = Assert.Single(rows, l => l.StartsWith("arc-e,mcd,AUROC MI,"));
        Assert.InRange(double.Parse(auroc.Split(',')[3], System.Globalization.CultureInfo.InvariantCulture), 0, 100);
        Assert.Single(rows, l => l.StartsWith("arc-e,mcd,FPR95 MI,"));
        Assert.DoesNotContain(rows, l => l.StartsWith("arc-e,mle,AUROC MI,")); // n/a: one pass, no samples
        Assert.Matches(@"\| arc-e \| mle \| 1 \|( [^|]+ \|){4} n/a \| n/a \|", File.ReadAllText(Path.Combine(output, "table-ood-detection.md")));
        Assert.True(new FileInfo(Path.Combine(output, "ood-roc.png")).Length > 1000);
    }
}
