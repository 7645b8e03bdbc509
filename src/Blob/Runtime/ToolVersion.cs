using System.Reflection;

namespace Blob.Runtime;

/// <summary>
/// This build of BLoB.NET as its informational version: the package version and, after '+', the git commit it was built
/// from (the .NET SDK adds it when building from a git checkout), e.g. "0.1.0+8ebc79a5…".
/// </summary>
public static class ToolVersion
{
    public static string Current { get; } =
        typeof(ToolVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
