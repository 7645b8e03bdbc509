using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Blob.Tests.Design;

/// <summary>
/// Only the product speaks: no tracked file (README, docs, code, comments, tests, scripts) refers to the issue
/// tracker (the word issue and a number), to work-log labels (stop and a number, the word for a sitting of work) or
/// to dates of work (a day and a month).
/// Commit messages may; the kept records in experiments/results and binary files are not read.
/// </summary>
public class WordingTests
{
    static readonly Regex[] Forbidden =
    [
        new(@"\b[Ii]ssues?\s*#?\d+"),
        new(@"\b[Ss]top \d+\b"),
        new(@"\b[Ss]essions?\b"),
        new(@"\b\d{1,2}(?:[–-]\d{1,2})? (?:January|February|March|April|May|June|July|August|September|October|November|December)\b"),
    ];

    /// <summary>Each line of text that speaks of how the product was made, as "WHAT (line N): TEXT".</summary>
    public static List<string> Offences(string text) =>
        text.Split('\n').Select((line, i) => (line, i))
            .Where(l => Forbidden.Any(r => r.IsMatch(l.line)))
            .Select(l => $"line {l.i + 1}: {l.line.Trim()}").ToList();

    [Fact]
    public void NoTrackedFileSpeaksOfTheWorkLog()
    {
        var git = new ProcessStartInfo("git", ["ls-files", "-z"]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Shared.RepoRoot };
        Process process;
        try { process = Process.Start(git)!; }
        catch (System.ComponentModel.Win32Exception) { return; }   // no git: nothing to list (a source tarball)
        string listed = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) return;                          // not a git checkout
        var offences = new List<string>();
        foreach (string file in listed.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            if (file.StartsWith("experiments/results/", StringComparison.Ordinal)) continue;
            string path = Path.Combine(Shared.RepoRoot, file);
            if (!File.Exists(path)) continue;
            var bytes = File.ReadAllBytes(path);
            if (Array.IndexOf(bytes, (byte)0) >= 0) continue;    // binary
            offences.AddRange(Offences(System.Text.Encoding.UTF8.GetString(bytes)).Select(o => $"{file}, {o}"));
        }
        Assert.True(offences.Count == 0, "work-log wording in tracked files:\n" + string.Join("\n", offences));
    }

    [Fact]
    public void TheCheckFindsWorkLogWording()
    {
        // Spelt in pieces, so that this file does not offend itself.
        string[] offending = ["As " + "Iss" + "ue 12 asks", "iss" + "ue #7", "at st" + "op 30", "in one ses" + "sion", "on 3 Dec" + "ember"];
        foreach (string text in offending) Assert.Single(Offences(text));
        Assert.Empty(Offences("an InferenceSession; MRPC's #1 String; 12 issues; stop at 30; December"));
    }
}
