namespace Blob.Tokenization;

/// <summary>Cutting token ids to a length budget, as Hugging Face tokenizers do (keep the start, drop the end).</summary>
public static class Truncation
{
    /// <summary>
    /// Longest-first: tokens come off the longer of the two sequences until both fit in <paramref name="budget"/>;
    /// when they end equal, the first keeps budget / 2 and the second the rest (the "tokenizers" library's rule).
    /// </summary>
    public static (int[] First, int[]? Second) LongestFirst(int[] first, int[]? second, int budget)
    {
        if (budget < 0) throw new ArgumentOutOfRangeException(nameof(budget));
        if (second == null) return (first.Length <= budget ? first : first[..budget], null);
        if (first.Length + second.Length <= budget) return (first, second);

        int shorter = Math.Min(first.Length, second.Length);
        int longer = shorter > budget ? shorter : Math.Max(shorter, budget - shorter);
        if (shorter + longer > budget) { shorter = budget / 2; longer = shorter + budget % 2; }
        (int n1, int n2) = first.Length > second.Length ? (longer, shorter) : (shorter, longer);
        return (first[..Math.Min(n1, first.Length)], second[..Math.Min(n2, second.Length)]);
    }
}
