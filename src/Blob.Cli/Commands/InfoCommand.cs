using System.CommandLine;
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
            Console.WriteLine($"TorchSharp {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"CUDA available: {torch.cuda.is_available()}");
            Console.WriteLine($"threads: {torch.get_num_threads()}");
            return 0;
        });
        return command;
    }
}
