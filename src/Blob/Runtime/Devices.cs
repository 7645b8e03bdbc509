using TorchSharp;

namespace Blob.Runtime;

/// <summary>Chooses where tensors live: "cpu", "cuda", "cuda:1", or "auto" (CUDA when TorchSharp's CUDA build is present).</summary>
public static class Devices
{
    /// <summary>The device <paramref name="name"/> names ("cpu", "cuda", "cuda:N", or "auto"/null/empty for the best
    /// available); throws <see cref="BlobException"/> for a name this build cannot use.</summary>
    public static torch.Device Parse(string? name)
    {
        name = Normalise(name);
        if (Problem(name) is { } problem) throw new BlobException($"--device '{name}': {problem}");
        if (name == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        return new torch.Device(name);
    }

    /// <summary>Why a device name cannot be used here, or null when it can.</summary>
    public static string? Problem(string? name)
    {
        name = Normalise(name);
        if (name is "auto" or "cpu") return null;
        if (name != "cuda" && !(name.StartsWith("cuda:") && int.TryParse(name[5..], out int index) && index >= 0))
            return "expected cpu, auto, cuda or cuda:N";
        return torch.cuda.is_available() ? null
            : "this TorchSharp build has no CUDA (build with -p:TorchBackend=cuda on a machine with a GPU)";
    }

    static string Normalise(string? name) => string.IsNullOrWhiteSpace(name) ? "auto" : name.Trim().ToLowerInvariant();
}
