namespace Blob.Runtime;

/// <summary>
/// The runtime's process-wide workarounds a host may install, each for a measured reason (docs/design.md, "The
/// runtime's workarounds and why"). Without them the library computes the same numbers, perhaps slower or with more
/// memory, and changes nothing in the process that its host did not ask for.
/// </summary>
/// <param name="CollectionPoints">Garbage collections only where the tensor thread allows them
/// (<see cref="Runtime.CollectionPoints"/>): TorchSharp frees the Scalars of its calls while libtorch reads them.</param>
/// <param name="HelperThreads">Dropout masks filled on helper threads (<see cref="Runtime.HelperThreads"/>) that
/// live as long as the process: libtorch's Bernoulli draws on one thread on AMD CPUs.</param>
/// <param name="AllocatorPurges">jemalloc's free pages given back between phases and inside the Laplace loops
/// (<see cref="NativeAllocator"/>): without decay, as `./blob` runs it, some loops grow without bound.</param>
public sealed record BlobRuntimeOptions(bool CollectionPoints = true, bool HelperThreads = true, bool AllocatorPurges = true)
{
    /// <summary>Everything the command-line tool installs.</summary>
    public static BlobRuntimeOptions All { get; } = new();

    /// <summary>Nothing installed: the library as a host gets it without <see cref="BlobRuntime.Configure"/>.</summary>
    public static BlobRuntimeOptions None { get; } = new(false, false, false);
}

/// <summary>Which of the runtime's workarounds the host installed: none until it calls <see cref="Configure"/>.</summary>
public static class BlobRuntime
{
    static volatile BlobRuntimeOptions _installed = BlobRuntimeOptions.None;

    /// <summary>The workarounds installed now.</summary>
    public static BlobRuntimeOptions Installed => _installed;

    /// <summary>
    /// Installs the workarounds <paramref name="options"/> names (default: all of them, as the command-line tool does)
    /// and removes the others. A host calls it once at startup, before any tensor code runs; a later call replaces the
    /// choice (an open no-GC region ends; helper threads already started stay, idle).
    /// </summary>
    public static void Configure(BlobRuntimeOptions? options = null)
    {
        _installed = options ?? BlobRuntimeOptions.All;
        if (!_installed.CollectionPoints) Runtime.CollectionPoints.Leave();
    }
}
