using System.Diagnostics;

namespace Blob.Tests.Experiments;

/// <summary>
/// docs/results.md is written by experiments/results-doc.py from the kept records and experiments/results-notes.md:
/// writing it again must give the committed file byte for byte, so that no table in it disagrees with its records.
/// After a change to either, run `python3 experiments/results-doc.py` and commit docs/results.md. The short tables of
/// docs/guarantees.md are likewise what experiments/guarantee-summary.py prints from OBQA's kept comparison, and the
/// README's headline table what experiments/readme-headline.py prints.
/// </summary>
public class ResultsDocScriptTests
{
    [Fact]
    public void ResultsDocIsWhatTheScriptWritesFromTheRecords()
    {
        string written = Run("results-doc.py", "--stdout");
        string committed = File.ReadAllText(Path.Combine(Shared.RepoRoot, "docs", "results.md"));
        Assert.True(written == committed,
            "docs/results.md differs from what `python3 experiments/results-doc.py` writes from experiments/results; run it and commit the file");
    }

    [Fact]
    public void GuaranteesDocTablesAreWhatTheScriptPrintsFromTheRecords()
    {
        string written = Run("guarantee-summary.py", Path.Combine("experiments", "results", "obqa-table1"));
        string committed = File.ReadAllText(Path.Combine(Shared.RepoRoot, "docs", "guarantees.md")).ReplaceLineEndings("\n");
        var tables = written.ReplaceLineEndings("\n").Trim().Split("\n\n");
        Assert.Equal(2, tables.Length);
        foreach (var table in tables)
            Assert.True(committed.Contains(table),
                $"docs/guarantees.md lacks this table, which `python3 experiments/guarantee-summary.py experiments/results/obqa-table1` prints from the records:\n{table}");
    }

    [Fact]
    public void ReadmeHeadlineTableIsWhatTheScriptPrintsFromTheRecords()
    {
        string written = Run("readme-headline.py").ReplaceLineEndings("\n").Trim();
        string readme = File.ReadAllText(Path.Combine(Shared.RepoRoot, "README.md")).ReplaceLineEndings("\n");
        Assert.True(readme.Contains(written),
            $"README.md's headline table differs from what `python3 experiments/readme-headline.py` prints from the records:\n{written}");
    }

    /// <summary>What `python3 experiments/SCRIPT ARGS` prints, run from the repository's root; fails on a non-zero exit.</summary>
    static string Run(string script, params string[] args)
    {
        var info = new ProcessStartInfo("python3", [Path.Combine(Shared.RepoRoot, "experiments", script), .. args])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Shared.RepoRoot,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        info.Environment["PYTHONIOENCODING"] = "utf-8";
        using var python = Process.Start(info)!;
        var error = python.StandardError.ReadToEndAsync();
        string written = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, error.Result);
        return written;
    }
}
