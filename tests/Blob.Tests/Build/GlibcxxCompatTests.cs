using System.Runtime.InteropServices;
using Blob.Build;

namespace Blob.Tests.Build;

/// <summary>The build-time fix that lets libLibTorchSharp.so load on a libstdc++ without GLIBCXX_3.4.32.</summary>
public class GlibcxxCompatTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-glibcxx-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static string? OriginalLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [NeedsFact(NeedsFactAttribute.LinuxX64)]
    public unsafe void ShimIsALoadableLibraryDefiningTheSymbol()
    {
        string path = Path.Combine(_dir, GlibcxxCompat.ShimFileName);
        File.WriteAllBytes(path, GlibcxxCompat.BuildShim(62));
        var handle = NativeLibrary.Load(path);
        try
        {
            var fn = NativeLibrary.GetExport(handle, GlibcxxCompat.Symbol);
            Assert.NotEqual(IntPtr.Zero, fn);
            ((delegate* unmanaged<void>)fn)(); // the stand-in for std::ios_base_library_init() returns at once
        }
        finally { NativeLibrary.Free(handle); }
    }

    [NeedsFact(NeedsFactAttribute.TorchSharpNative)]
    public void PatchMarksTheVersionWeakAndNeedsTheShimOnce()
    {
        var original = OriginalLibrary();
        byte[] elf = File.ReadAllBytes(original!);
        Assert.Equal(GlibcxxCompat.Outcome.Patched, GlibcxxCompat.Patch(elf));
        byte[] once = (byte[])elf.Clone();
        Assert.Equal(GlibcxxCompat.Outcome.AlreadyPatched, GlibcxxCompat.Patch(elf));
        Assert.Equal(once, elf); // idempotent: a second pass changes nothing
        Assert.Equal(File.ReadAllBytes(original!).Length, elf.Length);
    }

    [NeedsFact(NeedsFactAttribute.TorchSharpNative)]
    public void ApplyWritesTheShimBesideTheLibraryAndLeavesCapableSystemsAlone()
    {
        var original = OriginalLibrary();
        string copy = Path.Combine(_dir, "libLibTorchSharp.so");
        File.Copy(original!, copy);
        Assert.Equal(GlibcxxCompat.Outcome.NotNeeded, GlibcxxCompat.Apply(copy, systemHasVersion: true));
        Assert.Equal(File.ReadAllBytes(original!), File.ReadAllBytes(copy));
        Assert.False(File.Exists(Path.Combine(_dir, GlibcxxCompat.ShimFileName)));

        Assert.Equal(GlibcxxCompat.Outcome.Patched, GlibcxxCompat.Apply(copy, systemHasVersion: false));
        Assert.True(File.Exists(Path.Combine(_dir, GlibcxxCompat.ShimFileName)));
        Assert.Equal(GlibcxxCompat.Outcome.AlreadyPatched, GlibcxxCompat.Apply(copy, systemHasVersion: false));
    }

    internal static string? SystemLibstdcxx() => new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64" }
        .Select(d => Path.Combine(d, "libstdc++.so.6")).FirstOrDefault(File.Exists);

    [NeedsFact(NeedsFactAttribute.SystemLibstdcxx)]
    public void DetectsTheSystemLibstdcxxVersions()
    {
        Assert.True(GlibcxxCompat.SystemHasVersion(["/nonexistent-dir"])); // nothing to judge: leave TorchSharp alone
        string? system = SystemLibstdcxx();
        var versions = GlibcxxCompat.ReadVersionDefinitions(File.ReadAllBytes(system!));
        Assert.Contains("GLIBCXX_3.4", versions);
        Assert.Equal(versions.Contains("GLIBCXX_3.4.32"), GlibcxxCompat.SystemHasVersion([Path.GetDirectoryName(system)!]));
    }
}

/// <summary>A fact skipped, with the reason, where the machine lacks what it exercises.</summary>
public sealed class NeedsFactAttribute : FactAttribute
{
    public const string TorchSharpNative = "torchsharp", SystemLibstdcxx = "libstdc++", LinuxX64 = "linux-x64";

    public NeedsFactAttribute(string what)
    {
        bool linuxX64 = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;
        Skip = what switch
        {
            LinuxX64 when !linuxX64 => "the ELF shim is checked on Linux x86-64 only",
            TorchSharpNative when GlibcxxCompatTests.OriginalLibrary() is null => "TorchSharp 0.107.0's linux-x64 native library is not in the NuGet cache",
            SystemLibstdcxx when GlibcxxCompatTests.SystemLibstdcxx() is null => "no libstdc++.so.6 in the usual places",
            _ => null,
        };
    }
}
