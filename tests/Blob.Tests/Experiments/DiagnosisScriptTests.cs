using System.Diagnostics;
using System.Globalization;
using Blob.Data;

namespace Blob.Tests.Experiments;

/// <summary>
/// The diagnosis scripts that compute something themselves: experiments/carve.py must carve the validation split
/// exactly as <see cref="ValidationSplit"/> does (the WiC and WinoGrande scripts rest on it), and
/// experiments/nll-floor.py must find the temperature a closed form gives.
/// </summary>
public class DiagnosisScriptTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-diagnosis-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Python(string script, params string[] args)
    {
        var info = new ProcessStartInfo("python3", ["-c", script, .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = Path.Combine(Shared.RepoRoot, "experiments"),
        };
        using var python = Process.Start(info)!;
        var error = python.StandardError.ReadToEndAsync();
        string output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, error.Result);
        return output;
    }

    [Theory]
    [InlineData(500, 3, 0.15)]
    [InlineData(97, 2, 0.5)]
    [InlineData(1000, 5, 0.01)]
    public void CarvePyHoldsOutWhatValidationSplitHoldsOut(int n, int labels, double fraction)
    {
        var train = Enumerable.Range(0, n).Select(i => new Example($"e{i}", "t", null, i * 7 % 11 % labels)).ToList();
        var (_, validation) = ValidationSplit.Carve(train, fraction);
        var expected = validation.Select(e => int.Parse(e.Id[1..], CultureInfo.InvariantCulture)).Order();

        string held = Python("import sys; from carve import held_out; " +
            "print(' '.join(map(str, sorted(held_out([int(x) for x in sys.argv[1].split()], float(sys.argv[2]))))))",
            string.Join(' ', train.Select(e => e.Label)), fraction.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected, held.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse));
    }

    /// <summary>
    /// Four examples, each predicted [0.9, 0.1], three of them labelled 0: the NLL-best tempered probability of class 0 is
    /// the frequency 3/4, so 0.9^(1/T) / (0.9^(1/T) + 0.1^(1/T)) = 3/4, T = ln 9 / ln 3 = 2, and the NLL there is the
    /// entropy of 3/4 (0.5623). The same on the validation split and on dev.
    /// </summary>
    [Fact]
    public void NllFloorFindsTheClosedFormTemperature()
    {
        string run = Path.Combine(_dir, "table", "mle", "seed-1");
        Directory.CreateDirectory(run);
        const string predictions = """{"labels": [0, 0, 0, 1], "probabilities": [[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]]}""";
        File.WriteAllText(Path.Combine(run, "predictions.json"), predictions);
        File.WriteAllText(Path.Combine(run, "validation-predictions.json"), predictions);
        double nll = -(3 * Math.Log(0.9) + Math.Log(0.1)) / 4;
        File.WriteAllText(Path.Combine(run, "result.json"),
            FormattableString.Invariant($$"""{"accuracy": 0.75, "ece": 0.15, "nll": {{nll}}, "brier": 0.3}"""));

        string table = Python(File.ReadAllText(Path.Combine(Shared.RepoRoot, "experiments", "nll-floor.py")), Path.Combine(_dir, "table"));
        var row = table.Split('\n').Single(l => l.StartsWith("| table (1 seeds)", StringComparison.Ordinal))
            .Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(nll.ToString("F3", CultureInfo.InvariantCulture), row[2]);
        var atValidation = row[4].Split(", ").Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(atValidation[0], 1.98, 2.02);          // T, on a grid of 1% steps
        Assert.InRange(atValidation[1], 0.562, 0.563);        // NLL: the entropy of 3/4, 0.5623
        Assert.InRange(atValidation[2], 0.0, 0.1);            // ECE x 100: the confidence is the accuracy, to the grid
        var atDev = row[5].Split(", ").Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        Assert.InRange(atDev[0], 1.98, 2.02);
        Assert.InRange(atDev[1], 0.562, 0.563);
    }
    /// <summary>
    /// experiments/ts-goal.py: BLoB beats MLE + TS on a split only with lower NLL and lower ECE at accuracy within 2
    /// points; it averages the seeds both have, and reads BLoB from another table where given (TABLE=BLOB_TABLE), and MLE
    /// from a third (TABLE=BLOB_TABLE=MLE_TABLE).
    /// </summary>
    [Fact]
    public void TsGoalComparesBlobWithTheCalibratedMleSplitBySplit()
    {
        void Write(string table, string method, int seed, string file, double accuracy, double ece, double nll)
        {
            string run = Path.Combine(_dir, table, method, $"seed-{seed}");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, file), string.Create(CultureInfo.InvariantCulture,
                $$"""{"accuracy": {{accuracy}}, "ece": {{ece}}, "nll": {{nll}}}"""));
        }
        foreach (int seed in new[] { 1, 2 })
        {
            Write("t", "mle", seed, "calibrated-result.json", 0.80, 0.05, 0.50);
            Write("t", "blob", seed, "result.json", 0.79, 0.04, 0.49);      // better on both, 1 point less accurate
            Write("t", "blob", seed, "ood-x.json", 0.70, 0.04, 0.60);
            Write("t", "mle", seed, "calibrated-ood-x.json", 0.75, 0.05, 0.55); // 5 points less accurate and a higher NLL
            Write("u", "blob", seed, "result.json", 0.80, 0.06, 0.49);       // another setup: a higher ECE
            Write("v", "mle", seed, "calibrated-result.json", 0.80, 0.07, 0.60); // MLE in another setup: worse on both
        }
        Write("t", "blob", 3, "result.json", 0.10, 0.90, 9.0); // a seed MLE + TS lacks: left out
        string output = Python("import runpy, sys; sys.argv = ['ts-goal.py'] + sys.argv[1:]; runpy.run_path('ts-goal.py', run_name='__main__')",
            Path.Combine(_dir, "t"), $"{Path.Combine(_dir, "t")}={Path.Combine(_dir, "u")}",
            $"{Path.Combine(_dir, "t")}={Path.Combine(_dir, "u")}={Path.Combine(_dir, "v")}");
        var rows = output.Split('\n').Where(l => l.StartsWith("| t |") || l.StartsWith("| t (")).ToList();
        Assert.Equal(6, rows.Count);
        Assert.Contains("| dev | 2 | -1.00 |", rows[0]);
        Assert.EndsWith("| yes |", rows[0]);
        Assert.EndsWith("| no: NLL, ACC |", rows[1]);
        Assert.Contains("(BLoB: u) | dev", rows[2]);
        Assert.EndsWith("| no: ECE |", rows[2]);
        Assert.Contains("(BLoB: u) (MLE: v) | dev", rows[4]);
        Assert.EndsWith("| yes |", rows[4]);
    }

    /// <summary>
    /// experiments/decisive-table.py: the kept table's rows, then BLoB and MLE in the setups the study chose (named from
    /// TABLE-setup/chosen.txt), each followed by its "+ TS" row; a method a folder lacks has no row.
    /// </summary>
    [Fact]
    public void DecisiveTableAddsTheChosenSetupsAfterTheKeptRows()
    {
        void Write(string table, string method, int seed, string file, double accuracy)
        {
            string run = Path.Combine(_dir, table, method, $"seed-{seed}");
            Directory.CreateDirectory(run);
            File.WriteAllText(Path.Combine(run, file), string.Create(CultureInfo.InvariantCulture,
                $$"""{"accuracy": {{accuracy}}, "ece": 0.05, "nll": 0.5, "brier": 0.3, "count": 40}"""));
        }
        foreach (int seed in new[] { 1, 2 })
            foreach (var (table, method) in new[] { ("t", "mle"), ("t", "blob"), ("t-setup", "blob"), ("t-setup-mle", "mle") })
            {
                Write(table, method, seed, "result.json", 0.5 + 0.1 * seed);
                Write(table, method, seed, "calibrated-result.json", 0.5 + 0.1 * seed);
            }
        File.WriteAllText(Path.Combine(_dir, "t-setup", "chosen.txt"), "BLoB: --kl-gamma 60; MLE: --head adapted-frozen (the setup study's choice)\n");
        var rows = Python("import runpy, sys; sys.argv = ['decisive-table.py'] + sys.argv[1:]; runpy.run_path('decisive-table.py', run_name='__main__')",
            _dir, "t").Split('\n').Where(l => l.StartsWith("| ") && !l.StartsWith("| ---")).ToList();
        Assert.StartsWith("| t (dev, n = 40) |", rows[0]);
        Assert.Equal(["MLE", "MLE + TS", "MLE, --head adapted-frozen", "MLE, --head adapted-frozen + TS", "BLoB as specified (N = 10)",
            "BLoB as specified (N = 10) + TS", "BLoB, --kl-gamma 60 (N = 10)", "BLoB, --kl-gamma 60 (N = 10) + TS"],
            rows.Skip(1).Select(r => r.Split('|')[1].Trim()));
        Assert.Contains("| 65.00 ± 7.07 | 5.00 ± 0.00 |", rows[1]); // seeds 1 and 2: 60 and 70
    }
}
