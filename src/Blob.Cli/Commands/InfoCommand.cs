using System.CommandLine;
using Blob.Runtime;
using TorchSharp;

namespace Blob.Cli.Commands;

/// <summary>`blob info`: versions and the devices TorchSharp sees.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show TorchSharp, libtorch and device information");
        command.SetAction(_ =>
        {
            Console.WriteLine($"BLoB.NET {ToolVersion.Current}");
            Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}, libtorch {torch.__version__}");
            Console.WriteLine($"CPU: {CpuModel() ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} logical cores");
            Console.WriteLine($"CPU bfloat16 instructions: {Bf16Support()}");
            Console.WriteLine($"--precision auto: {Precisions.Name(Precisions.Resolve(Precision.Auto, Devices.Parse("auto")))}");
            Console.WriteLine($"CUDA available: {torch.cuda.is_available()}");
            Console.WriteLine($"threads: {torch.get_num_threads()}");
            Console.WriteLine($"native allocator: {NativeAllocator.Name}");
            return 0;
        });
        return command;
    }

    /// <summary>/proc/cpuinfo's first "model name" (Linux), else null.</summary>
    static string? CpuModel() => CpuInfo().FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim();

    /// <summary>Which bfloat16 instruction sets the CPU reports (avx512_bf16, amx_bf16), from /proc/cpuinfo's flags.</summary>
    static string Bf16Support()
    {
        if (!File.Exists("/proc/cpuinfo")) return "unknown (no /proc/cpuinfo)";
        var bf16 = Precisions.CpuBf16Flags();
        return bf16.Count > 0 ? $"yes ({string.Join(", ", bf16)})" : "none (bf16 runs emulated, slower than fp32)";
    }

    static IEnumerable<string> CpuInfo() => File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").Take(64) : [];
}
