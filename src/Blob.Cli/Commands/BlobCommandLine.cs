using System.CommandLine;

namespace Blob.Cli.Commands;

/// <summary>The whole command line: every command, each in its own file, under one root named "blob".</summary>
public static class BlobCommandLine
{
    public static Command Create()
    {
        // A plain command named "blob" rather than RootCommand, whose name (shown in every usage line) is the file that runs.
        var root = new Command("blob", "BLoB.NET: Bayesian Low-Rank Adaptation by Backpropagation, on TorchSharp.\n" +
                                       "Fine-tune a language model with LoRA or BLoB and measure how well it knows when it is unsure.");
        root.Options.Add(new System.CommandLine.Help.HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(CommonOptions.Verbose);
        foreach (var command in new[]
                 {
                     TrainCommand.Create(),
                     CompareCommand.Create(),
                     EvalCommand.Create(),
                     BenchCommand.Create(),
                     DemoCommand.Create(),
                     InfoCommand.Create(),
                     GenerateCommand.Create(),
                     ScoreCommand.Create(),
                 })
            root.Subcommands.Add(command);
        return root;
    }
}
