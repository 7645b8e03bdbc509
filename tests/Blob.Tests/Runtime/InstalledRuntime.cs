using Blob.Runtime;

namespace Blob.Tests.Runtime;

/// <summary>
/// For tests that rely on the runtime's workarounds, as the command-line tool installs them: installs them while the
/// test runs and restores the choice before it (none, by default) when disposed. Tests do not run concurrently.
/// </summary>
sealed class InstalledRuntime : IDisposable
{
    readonly BlobRuntimeOptions _before = BlobRuntime.Installed;

    public InstalledRuntime(BlobRuntimeOptions? options = null) => BlobRuntime.Configure(options ?? BlobRuntimeOptions.All);

    public void Dispose() => BlobRuntime.Configure(_before);
}
