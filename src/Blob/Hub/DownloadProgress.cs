namespace Blob.Hub;

/// <summary>How far the download of one file has come: <see cref="Done"/> of <see cref="Total"/> bytes (resumed bytes included).</summary>
public readonly record struct DownloadProgress(string Model, string File, long Done, long Total)
{
    public bool Finished => Done >= Total;
}
