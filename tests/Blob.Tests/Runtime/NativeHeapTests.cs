using Blob.Runtime;
using Xunit;

namespace Blob.Tests.Runtime;

public class NativeHeapTests
{
    [Fact]
    public void Prediction_can_switch_glibc_to_mapping_large_allocations()
    {
        bool glibc = OperatingSystem.IsLinux() && !File.Exists("/etc/alpine-release");
        bool userChose = Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null;
        using (var mapping = NativeHeap.MapLargeAllocations())
        {
            // On this machine's Debian (glibc) mallopt must be found and accept the setting.
            Assert.Equal(glibc && !userChose, mapping.Applied);
            using var big = TorchSharp.torch.ones(16, 1024, 1024); // 64 MB, mapped and unmapped
            Assert.Equal(16L * 1024 * 1024, big.sum().item<float>());
            mapping.Dispose();
            Assert.False(mapping.Applied);
        }
    }
}
