using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Blob.Experiments;

namespace Blob.Tests.Design;

/// <summary>
/// What samples/BlobSample uses of the library is documented: each such public type and member has an XML doc comment
/// in Blob.xml, the documentation the compiler generates for src/Blob (and that the BLoB.NET package carries).
/// "Used" is read from the sample's source, without building it: every public type of the library named there; the
/// library's types in the signatures of the members checked (so TrainingProgress, which the sample meets only as the
/// argument of Trainer.Train's callback); and on each such type, the public members whose names appear in the source,
/// with its constructors where the source says <c>new TypeName</c> (but not the implicit parameterless one of
/// <c>new TrainingOptions { ... }</c>, which has no source to comment). Members the compiler writes for records (Equals,
/// Deconstruct, ...) are left out. The rest of the library need not be documented (CS1591 stays off).
/// </summary>
public class DocumentationTests
{
    static readonly string SamplePath = Path.Combine(Shared.RepoRoot, "samples", "BlobSample", "Program.cs");

    static readonly HashSet<string> RecordMembers =
        ["Equals", "GetHashCode", "ToString", "PrintMembers", "Deconstruct", "EqualityContract", "<Clone>$", "op_Equality", "op_Inequality"];

    [Fact]
    public void Every_public_member_the_sample_uses_has_a_doc_comment()
    {
        var source = string.Join("\n", File.ReadLines(SamplePath).Where(line => !line.StartsWith("using "))); // not the namespaces' names
        var words = Regex.Matches(source, @"\b[A-Za-z_][A-Za-z0-9_]*\b").Select(m => m.Value).ToHashSet();
        var library = typeof(ModelZoo).Assembly;
        var xmlPath = Path.ChangeExtension(library.Location, ".xml");
        Assert.True(File.Exists(xmlPath), $"{xmlPath} is missing: src/Blob/Blob.csproj should set GenerateDocumentationFile");
        var documented = XDocument.Load(xmlPath).Descendants("member")
            .Where(m => !string.IsNullOrWhiteSpace(m.Value) || m.Descendants("inheritdoc").Any())
            .Select(m => (string)m.Attribute("name")!).ToHashSet();

        var queue = new Queue<Type>(library.GetExportedTypes().Where(t => !t.IsNested && words.Contains(t.Name)));
        var seen = queue.ToHashSet();
        var checkedIds = new List<string>();
        var missing = new List<string>();
        void Check(string id) { checkedIds.Add(id); if (!documented.Contains(id)) missing.Add(id); }
        void Reach(Type t)
        {
            while (t.HasElementType) t = t.GetElementType()!;
            if (t.IsGenericType) foreach (var a in t.GetGenericArguments()) Reach(a);
            if (t.Assembly == library && t.IsPublic | t.IsNestedPublic && seen.Add(t)) queue.Enqueue(t);
        }
        while (queue.Count > 0)
        {
            var type = queue.Dequeue();
            Check("T:" + TypeId(type));
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(flags))
            {
                switch (member)
                {
                    case ConstructorInfo ctor when Regex.IsMatch(source, $@"\bnew\s+{Regex.Escape(type.Name)}\b") && ctor.GetParameters().Length > 0 && !IsCopyConstructor(ctor):
                        Check("M:" + TypeId(type) + ".#ctor" + Parameters(ctor));
                        foreach (var p in ctor.GetParameters()) Reach(p.ParameterType);
                        break;
                    case MethodInfo method when !method.IsSpecialName && words.Contains(method.Name) && !RecordMembers.Contains(method.Name):
                        Check("M:" + TypeId(type) + "." + method.Name + Parameters(method));
                        Reach(method.ReturnType);
                        foreach (var p in method.GetParameters()) Reach(p.ParameterType);
                        break;
                    case PropertyInfo property when words.Contains(property.Name) && !RecordMembers.Contains(property.Name):
                        Check("P:" + TypeId(type) + "." + property.Name);
                        Reach(property.PropertyType);
                        break;
                    case FieldInfo field when words.Contains(field.Name) && !field.IsSpecialName:
                        Check("F:" + TypeId(type) + "." + field.Name);
                        Reach(field.FieldType);
                        break;
                }
            }
        }
        Assert.Contains("M:Blob.Training.Trainer.Train(System.String,System.Boolean,System.Action{Blob.Training.TrainingProgress},System.Threading.CancellationToken)", checkedIds);
        Assert.Contains("P:Blob.Training.TrainingProgress.TrainAccuracy", checkedIds); // reached through the callback
        Assert.True(missing.Count == 0,
            $"{missing.Count} of the {checkedIds.Count} public types and members that {SamplePath} uses have no /// comment:\n" + string.Join("\n", missing));
    }

    static bool IsCopyConstructor(ConstructorInfo ctor) =>
        ctor.GetParameters() is [var only] && only.ParameterType == ctor.DeclaringType;

    static string Parameters(MethodBase method)
    {
        var parameters = method.GetParameters();
        return parameters.Length == 0 ? "" : "(" + string.Join(",", parameters.Select(p => TypeId(p.ParameterType))) + ")";
    }

    /// <summary>A type as XML documentation IDs write it: nested types with dots, generic arguments in braces.</summary>
    static string TypeId(Type t)
    {
        if (t.IsByRef) return TypeId(t.GetElementType()!) + "@";
        if (t.IsArray) return TypeId(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsGenericMethodParameter) return "``" + t.GenericParameterPosition;
        if (t.IsGenericTypeParameter) return "`" + t.GenericParameterPosition;
        string name = t.IsNested ? TypeId(t.DeclaringType!) + "." + t.Name : (t.Namespace is { } ns ? ns + "." : "") + t.Name;
        if (t.IsConstructedGenericType)
            name = name[..name.IndexOf('`')] + "{" + string.Join(",", t.GetGenericArguments().Select(TypeId)) + "}";
        return name;
    }
}
