using Blob.Cli.Commands;

// The command-line tool: the commands are listed in Commands/BlobCommandLine.cs, one file each under Commands/.
return CommandRunner.Run(BlobCommandLine.Create(), args);
