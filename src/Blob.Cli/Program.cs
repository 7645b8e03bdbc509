using System.CommandLine;
using Blob;
using Blob.Cli.Commands;

// The command-line tool. Each command lives in its own file under Commands/ and is listed here.
var root = new RootCommand("BLoB.NET: Bayesian Low-Rank Adaptation by Backpropagation, on TorchSharp.\n" +
                           "Fine-tune a language model with LoRA or BLoB and measure how well it knows when it is unsure.");
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

return CommandRunner.Run(root, args);
