using TorchSharp;

namespace Blob.Runtime;

/// <summary>Chooses where tensors live: "cpu", "cuda", "cuda:1", or "auto" (CUDA when TorchSharp's CUDA build is present).</summary>
public static class Devices
{
    public static torch.Device Parse(string? name)
    {
        name = string.IsNullOrWhiteSpace(name) ? "auto" : name.Trim().ToLowerInvariant();
        if (name == "auto") return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (name.StartsWith("cuda") && !torch.cuda.is_available())
            throw new ArgumentException(
                $"device '{name}' was asked for, but this TorchSharp build has no CUDA (build with -p:TorchBackend=cuda on a machine with a GPU)");
        return new torch.Device(name);
    }
}
