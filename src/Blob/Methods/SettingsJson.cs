using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Blob.Runtime;

namespace Blob.Methods;

/// <summary>
/// The canonical JSON of a run's settings records (<c>TrainingOptions</c>, <see cref="MethodOptions"/> and
/// what contains them): snake_case keys in declaration order, enums as snake_case words, a method as its name. It
/// leaves out what changes no result (<see cref="ChangesNoResultAttribute"/>) and the sections of
/// <see cref="MethodOptions"/> that another method reads (<see cref="FineTuningMethod.OptionsSection"/>), so a
/// comparison can vary one method's settings and keep the other methods' runs.
/// </summary>
public static class SettingsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false) },
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a target's regular expression stays readable
        // a key this build does not know is a setting it would silently drop: refused instead
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { OnlyResultSettings } },
    };

    static void OnlyResultSettings(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object) return;
        foreach (var property in type.Properties.ToList())
            if (property.AttributeProvider?.IsDefined(typeof(ChangesNoResultAttribute), inherit: false) == true)
                type.Properties.Remove(property);
        if (type.Type != typeof(MethodOptions)) return;
        var sections = MethodRegistry.All.Select(m => m.OptionsSection).OfType<string>().ToHashSet();
        foreach (var property in type.Properties.Where(p => sections.Contains(p.Name)))
        {
            string section = property.Name;
            property.ShouldSerialize = (options, _) => ((MethodOptions)options).Kind.OptionsSection == section;
        }
    }

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>The value of canonical JSON; a <see cref="JsonException"/> names what does not fit.</summary>
    public static T Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException("empty");

    /// <summary>The leaves of two settings documents that differ, as "path.to.key: before → after" ("(absent)" where one lacks it).</summary>
    public static IReadOnlyList<string> Differences(string before, string after)
    {
        var a = Leaves(JsonNode.Parse(before));
        var b = Leaves(JsonNode.Parse(after));
        return a.Keys.Union(b.Keys).Order(StringComparer.Ordinal)
            .Where(k => a.GetValueOrDefault(k) != b.GetValueOrDefault(k))
            .Select(k => $"{k}: {a.GetValueOrDefault(k) ?? "(absent)"} → {b.GetValueOrDefault(k) ?? "(absent)"}")
            .ToList();
    }

    static Dictionary<string, string> Leaves(JsonNode? root)
    {
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        void Walk(JsonNode? node, string path)
        {
            if (node is JsonObject o)
                foreach (var (key, child) in o) Walk(child, path.Length == 0 ? key : $"{path}.{key}");
            else leaves[path] = node switch
            {
                null => "null",
                JsonArray a => $"[{string.Join(", ", a.Select(x => x?.ToJsonString() ?? "null"))}]",
                JsonValue v when v.TryGetValue<double>(out var d) => d.ToString("R", CultureInfo.InvariantCulture),
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                _ => node.ToJsonString(),
            };
        }
        Walk(root, "");
        return leaves;
    }
}
