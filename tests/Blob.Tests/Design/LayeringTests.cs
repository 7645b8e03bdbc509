using ArchUnitNET.Domain;
using ArchUnitNET.Loader;
using ArchUnitNET.xUnit;
using static ArchUnitNET.Fluent.ArchRuleDefinition;

namespace Blob.Tests.Design;

/// <summary>
/// The layers of the code, from the bottom (docs/design.md, Layers): a namespace may use those below it, never one above.
/// </summary>
public class LayeringTests
{
    /// <summary>Bottom first. "Blob" alone is the root namespace (BlobException), usable by all.</summary>
    static readonly string[] Layers =
    [
        "Blob.Runtime",      // devices, precision, atomic files, tensor lifetimes
        "Blob.Layers",       // tensor building blocks: the adaptable linear layer, norms, rotary embeddings
        "Blob.Models",       // the networks and their loading
        "Blob.Hub",          // models by Hub id: the Hugging Face cache and downloads
        "Blob.Tokenization",
        "Blob.Data",         // tasks, examples, batches
        "Blob.Methods",      // one folder per method, the registry, PEFT adapter files, prediction
        "Blob.Training",
        "Blob.Evaluation",
        "Blob.Reports",
        "Blob.Experiments",
        "Blob.Cli",
    ];

    internal static readonly ArchUnitNET.Domain.Architecture Code = new ArchLoader()
        .LoadAssemblies(typeof(BlobException).Assembly, typeof(Blob.Cli.Commands.CommandRunner).Assembly)
        .Build();

    static string Namespace(string layer) => "^" + layer.Replace(".", @"\.") + @"(\..+)?$";

    public static TheoryData<string> Lower => new(Layers[..^1]);

    [Theory]
    [MemberData(nameof(Lower))]
    public void ALayerUsesNoLayerAboveIt(string layer)
    {
        var above = Layers[(Array.IndexOf(Layers, layer) + 1)..];
        var rule = Types().That().ResideInNamespaceMatching(Namespace(layer))
            .Should().NotDependOnAny(Types().That().ResideInNamespaceMatching("^(" + string.Join("|", above.Select(a => Namespace(a)[1..^1])) + ")$"))
            .Because($"{layer} is below {string.Join(", ", above)}");
        rule.Check(Code);
    }

    [Fact]
    public void EveryNamespaceIsInALayer()
    {
        var namespaces = Code.Types.Select(t => t.Namespace.FullName)
            .Where(n => n.StartsWith("Blob", StringComparison.Ordinal) && n != "Blob").Distinct().ToList();
        Assert.NotEmpty(namespaces);
        Assert.All(namespaces, n => Assert.Contains(Layers, l => System.Text.RegularExpressions.Regex.IsMatch(n, Namespace(l))));
    }
}
