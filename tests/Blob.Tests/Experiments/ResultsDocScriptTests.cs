using System.Diagnostics;

namespace Blob.Tests.Experiments;

/// <summary>
/// docs/results.md is written by experiments/results-doc.py from the kept records and experiments/results-notes.md:
/// writing it again must give the committed file byte for byte, so that no table in it disagrees with its records.
/// After a change to either, run `python3 experiments/results-doc.py` and commit docs/results.md.
/// </summary>
public class ResultsDocScriptTests
{
    [Fact]
    public void ResultsDocIsWhatTheScriptWritesFromTheRecords()
    {
        var info = new ProcessStartInfo("python3", [Path.Combine(Shared.RepoRoot, "experiments", "results-doc.py"), "--stdout"])
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
        string committed = File.ReadAllText(Path.Combine(Shared.RepoRoot, "docs", "results.md"));
        Assert.True(written == committed,
            "docs/results.md differs from what `python3 experiments/results-doc.py` writes from experiments/results; run it and commit the file");
    }
}
