using System.CommandLine;
using System.Globalization;

namespace Blob.Cli.Commands;

/// <summary>
/// Range checks attached to options, so that a bad value is refused when the command line is parsed — before any model
/// loads — with one line naming the option, the value and what is allowed (exit code 2, see <see cref="CommandRunner"/>).
/// </summary>
public static class OptionChecks
{
    /// <summary>Refuses values for which <paramref name="ok"/> is false; <paramref name="allowed"/> says what is allowed.</summary>
    public static Option<T> Must<T>(this Option<T> option, Func<T, bool> ok, string allowed) =>
        option.Must(v => ok(v) ? null : allowed);

    /// <summary>Refuses values for which <paramref name="problem"/> says what is wrong (null: fine).</summary>
    public static Option<T> Must<T>(this Option<T> option, Func<T, string?> problem)
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return; // the default, not the user's value
            T value;
            try { value = result.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; } // not a T at all: the parser reports that already
            if (value is not null && problem(value) is { } why)
                result.AddError($"{option.Name} {Show(value)}: {why}");
        });
        return option;
    }

    public static Option<int> AtLeast(this Option<int> o, int min) => o.Must(v => v >= min, $"must be at least {min}");
    public static Option<int?> AtLeast(this Option<int?> o, int min) => o.Must(v => v is null || v >= min, $"must be at least {min}");

    /// <summary>A finite number above zero.</summary>
    public static Option<double> Positive(this Option<double> o) => o.Must(v => double.IsFinite(v) && v > 0, "must be a number above 0");

    /// <summary>A finite number, zero or above.</summary>
    public static Option<double> NonNegative(this Option<double> o) => o.Must(v => double.IsFinite(v) && v >= 0, "must be a number, 0 or above");
    public static Option<double?> NonNegative(this Option<double?> o) => o.Must(v => v is null || (double.IsFinite(v.Value) && v >= 0), "must be a number, 0 or above");

    /// <summary>A probability that leaves something: 0 ≤ p &lt; 1.</summary>
    public static Option<double?> Fraction(this Option<double?> o) => o.Must(v => v is null || (v >= 0 && v < 1), "must be in [0, 1)");

    /// <summary>One of the given words (case-sensitive, as they are written in help).</summary>
    public static Option<string> OneOf(this Option<string> o, params string[] words) =>
        o.Must(v => words.Contains(v), $"expected {string.Join(", ", words[..^1])} or {words[^1]}");

    static string Show<T>(T value) => value switch
    {
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        string s => $"'{s}'",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
