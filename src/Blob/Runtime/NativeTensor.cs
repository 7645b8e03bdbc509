using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Runtime;

/// <summary>The address of a CPU tensor's bytes (TorchSharp 0.107 has no public data_ptr).</summary>
internal static unsafe class NativeTensor
{
    [DllImport("LibTorchSharp")]
    static extern IntPtr THSTensor_data(IntPtr handle);

    public static byte* Pointer(Tensor t)
    {
        if (t.device_type != DeviceType.CPU || !t.is_contiguous())
            throw new ArgumentException("expected a contiguous CPU tensor");
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero && t.NumberOfElements > 0) torch.CheckForErrors();
        return (byte*)p;
    }
}
