using System.Text.Json;

namespace Blob.Runtime;

/// <summary>
/// The command line's word for each value of a settings enum: its name in kebab case (AdaptedFrozen → adapted-frozen,
/// Bf16 → bf16), so that the words are read off the enum and parsed in one place.
/// </summary>
public static class SettingsWords
{
    public static string Of<T>(T value) where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>Every value's word, in declaration order.</summary>
    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Enum.GetValues<T>().Select(Of).ToList();

    public static bool TryParse<T>(string word, out T value) where T : struct, Enum
    {
        value = Enum.GetValues<T>().FirstOrDefault(v => Of(v) == word);
        return All<T>().Contains(word);
    }
}
