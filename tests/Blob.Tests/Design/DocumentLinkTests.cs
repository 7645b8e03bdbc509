using System.Text;
using System.Text.RegularExpressions;

namespace Blob.Tests.Design;

/// <summary>
/// Every link of the README and of docs/*.md resolves: relative file and folder links, image paths, and anchors
/// (#heading, in the same file or another Markdown file, as GitHub names headings). http(s) and mailto links are not
/// fetched. Links inside code (fenced blocks, `spans`) are not links.
/// </summary>
public class DocumentLinkTests
{
    static readonly Regex MarkdownLink = new(@"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+""[^""]*"")?\s*\)");
    static readonly Regex HtmlLink = new(@"<(?:img|a)\s[^>]*?(?:src|href)\s*=\s*""([^""]+)""", RegexOptions.IgnoreCase);
    static readonly Regex Heading = new(@"^#{1,6}\s+(.*?)\s*#*\s*$");

    public static IEnumerable<object[]> Documents() =>
        new[] { "README.md" }
            .Concat(Directory.EnumerateFiles(Path.Combine(Shared.RepoRoot, "docs"), "*.md")
                .Select(p => Path.GetRelativePath(Shared.RepoRoot, p).Replace('\\', '/')))
            .Order(StringComparer.Ordinal).Select(p => new object[] { p });

    [Theory]
    [MemberData(nameof(Documents))]
    public void EveryLinkResolves(string document)
    {
        var broken = BrokenLinks(Path.Combine(Shared.RepoRoot, document));
        Assert.True(broken.Count == 0, $"{document}: broken links:\n" + string.Join("\n", broken));
    }

    [Fact]
    public void TheCheckerFindsBrokenLinks()
    {
        string dir = Directory.CreateTempSubdirectory("blob-links-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "other.md"), "# Other\n## Its part, with `code` (and more)\n");
            File.WriteAllText(Path.Combine(dir, "doc.md"), string.Join("\n",
                "# Doc", "[ok](other.md) [ok](other.md#its-part-with-code-and-more) [ok](#doc) [web](https://example.org/x)",
                "[missing](nothere.md) [bad anchor](other.md#nope) <img src=\"nothere.png\">",
                "```", "[in code](nothere2.md)", "```", "`[in a span](nothere3.md)`"));
            var broken = BrokenLinks(Path.Combine(dir, "doc.md"));
            Assert.Equal(["nothere.md", "other.md#nope", "nothere.png"], broken.Select(b => b.Split(' ')[0]));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Each broken link of a Markdown file as "TARGET (line N)".</summary>
    static List<string> BrokenLinks(string file)
    {
        var broken = new List<string>();
        var lines = File.ReadAllLines(file);
        bool fenced = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            if (fenced) continue;
            string text = Regex.Replace(lines[i], "`[^`]*`", "");
            var targets = MarkdownLink.Matches(text).Select(m => m.Groups[1].Value)
                .Concat(HtmlLink.Matches(text).Select(m => m.Groups[1].Value));
            foreach (string target in targets)
                if (!Resolves(file, target)) broken.Add($"{target} (line {i + 1})");
        }
        return broken;
    }

    static bool Resolves(string file, string target)
    {
        if (Regex.IsMatch(target, "^(https?|mailto):", RegexOptions.IgnoreCase)) return true;
        int hash = target.IndexOf('#', StringComparison.Ordinal);
        string path = hash < 0 ? target : target[..hash];
        string? anchor = hash < 0 ? null : target[(hash + 1)..];
        string resolved = path.Length == 0 ? file : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, Uri.UnescapeDataString(path)));
        if (!File.Exists(resolved) && !Directory.Exists(resolved)) return false;
        if (anchor == null) return true;
        return resolved.EndsWith(".md", StringComparison.OrdinalIgnoreCase) && File.Exists(resolved) && Anchors(resolved).Contains(anchor);
    }

    /// <summary>The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces as
    /// hyphens, a repeated heading's anchor suffixed -1, -2, ...</summary>
    static HashSet<string> Anchors(string file)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        bool fenced = false;
        foreach (string line in File.ReadLines(file))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fenced = !fenced; continue; }
            var m = fenced ? null : Heading.Match(line);
            if (m is not { Success: true }) continue;
            var slug = new StringBuilder();
            foreach (char c in m.Groups[1].Value.ToLowerInvariant())
                if (char.IsLetterOrDigit(c) || c == '-' || c == '_') slug.Append(c);
                else if (c == ' ') slug.Append('-');
            string anchor = slug.ToString();
            for (int n = 1; !anchors.Add(anchor); n++) anchor = $"{slug}-{n}";
        }
        return anchors;
    }
}
