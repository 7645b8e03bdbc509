using Blob.Cli.Commands;
using Blob.Runtime;

// The command-line tool: the commands are listed in Commands/BlobCommandLine.cs, one file each under Commands/.
BlobRuntime.Configure(BlobRuntimeOptions.All); // the runtime's workarounds: docs/design.md, "The runtime's workarounds and why"
return CommandRunner.Run(BlobCommandLine.Create(), args);
