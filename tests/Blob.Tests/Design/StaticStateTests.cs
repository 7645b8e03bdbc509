using System.Reflection;

namespace Blob.Tests.Design;

/// <summary>
/// The library changes nothing process-wide that its host did not ask for: no type of it has static state that
/// other code can set (tunables are options passed where they are used; the runtime's workarounds are installed by
/// <see cref="Blob.Runtime.BlobRuntime.Configure"/>, whose state is its own).
/// </summary>
public class StaticStateTests
{
    const BindingFlags Statics = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;

    /// <summary>Visible beyond its type: public, internal or protected (not private).</summary>
    static bool Shared(MethodBase m) => !m.IsPrivate;

    static bool Shared(FieldInfo f) => !f.IsPrivate;

    public static List<string> Offences(Assembly assembly) =>
        assembly.GetTypes()
            .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
            .SelectMany(t =>
                t.GetProperties(Statics).Where(p => p.SetMethod is { } set && Shared(set))
                    .Select(p => $"{t.FullName}.{p.Name}: a static property with a setter")
                .Concat(t.GetFields(Statics).Where(f => Shared(f) && !f.IsInitOnly && !f.IsLiteral
                                                        && !f.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute)))
                    .Select(f => $"{t.FullName}.{f.Name}: a static field that is not read-only")))
            .ToList();

    [Fact]
    public void NoTypeOfTheLibraryHasStaticStateOthersCanSet()
    {
        var offences = Offences(typeof(BlobException).Assembly);
        Assert.True(offences.Count == 0, "static state a host did not ask for:\n" + string.Join("\n", offences));
    }

    /// <summary>The scan can fail: it finds both kinds in a type written to offend.</summary>
    [Fact]
    public void TheScanFindsASettableStaticPropertyAndAWritableStaticField()
    {
        var offences = Offences(typeof(StaticStateTests).Assembly);
        Assert.Contains(offences, o => o.Contains(nameof(Offending.Tunable)));
        Assert.Contains(offences, o => o.Contains(nameof(Offending.Count)));
        Assert.DoesNotContain(offences, o => o.Contains(nameof(Offending.Fixed)) || o.Contains(nameof(Offending.Read)));
    }

    internal static class Offending
    {
        public static long Tunable { get; set; } = 1;
        internal static int Count;
        public static readonly int Fixed = 2;
        public static int Read { get; } = 3;
    }
}
