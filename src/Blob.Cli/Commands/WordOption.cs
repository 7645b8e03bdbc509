using System.CommandLine;
using System.CommandLine.Parsing;
using Blob.Runtime;

namespace Blob.Cli.Commands;

/// <summary>
/// Options whose value is a word of a settings enum (<see cref="SettingsWords"/>: --flipout token, --head adapted-frozen),
/// parsed into the enum when the command line is parsed, so that no command reads the word again; an unknown word is
/// refused there with the words allowed.
/// </summary>
public static class WordOption
{
    /// <summary>The option, with <paramref name="defaultValue"/> from the settings records' defaults.</summary>
    public static Option<T> Of<T>(string name, string description, T defaultValue) where T : struct, Enum
    {
        var option = new Option<T>(name)
        {
            Description = description, DefaultValueFactory = _ => defaultValue, HelpName = string.Join("|", SettingsWords.All<T>()),
            CustomParser = result => Read<T>(result, name) ?? defaultValue,
        };
        option.CompletionSources.Add([.. SettingsWords.All<T>()]);
        return option;
    }

    /// <summary>The option without a default: null when it is not given.</summary>
    public static Option<T?> Optional<T>(string name, string description) where T : struct, Enum
    {
        var option = new Option<T?>(name)
        {
            Description = description, HelpName = string.Join("|", SettingsWords.All<T>()),
            CustomParser = result => Read<T>(result, name),
        };
        option.CompletionSources.Add([.. SettingsWords.All<T>()]);
        return option;
    }

    /// <summary>The given word's value; null, with the parse error added, for a word the enum does not have.</summary>
    static T? Read<T>(ArgumentResult result, string name) where T : struct, Enum
    {
        var word = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (SettingsWords.TryParse<T>(word, out var value)) return value;
        var words = SettingsWords.All<T>();
        result.AddError($"{name} '{word}': expected {string.Join(", ", words.Take(words.Count - 1))} or {words[^1]}");
        return null;
    }
}
