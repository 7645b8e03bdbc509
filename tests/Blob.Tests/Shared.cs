namespace Blob.Tests;

/// <summary>Where the read-only project material lives: ../shared beside the repository (fixtures, data, paper).</summary>
public static class Shared
{
    public static readonly string RepoRoot = FindRepoRoot();
    public static readonly string Root = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>A path inside ../shared, e.g. Shared.PathOf("fixtures/llama").</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);

    public static bool Has(string relative) => File.Exists(PathOf(relative)) || Directory.Exists(PathOf(relative));

    static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Blob.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? Directory.GetCurrentDirectory();
    }
}

/// <summary>A test that needs files from ../shared; it is skipped, saying which file is missing, where they are absent.</summary>
public sealed class SharedFactAttribute : FactAttribute
{
    public SharedFactAttribute(params string[] relativePaths)
    {
        var missing = relativePaths.FirstOrDefault(p => !Shared.Has(p));
        if (missing != null) Skip = $"needs ../shared/{missing}, which is absent on this machine";
    }
}

/// <summary>The theory form of <see cref="SharedFactAttribute"/>.</summary>
public sealed class SharedTheoryAttribute : TheoryAttribute
{
    public SharedTheoryAttribute(params string[] relativePaths)
    {
        var missing = relativePaths.FirstOrDefault(p => !Shared.Has(p));
        if (missing != null) Skip = $"needs ../shared/{missing}, which is absent on this machine";
    }
}
