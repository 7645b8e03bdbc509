using Blob.Cli.Commands;
using Blob.Data;

namespace Blob.Tests.Cli;

/// <summary>
/// `blob demo`: its options are checked as any command's, and the comparison it runs is one that compare accepts, on
/// the task with ambiguous reviews, with the temperature fitted on a validation split. (Training the demo itself is too slow for a
/// test; experiments/demo-check.sh runs it.)
/// </summary>
public class DemoCommandTests
{
    [Fact]
    public void TheComparisonItRunsParsesWithoutErrors()
    {
        var args = DemoCommand.Arguments("runs/demo", 12, 3, quiet: true);
        var parsed = CompareCommand.Create().Parse(args);
        Assert.Empty(parsed.Errors);
        string After(string option) => args[Array.IndexOf(args, option) + 1];
        Assert.Equal(AmbiguousDemoTask.Name, After("--task"));
        Assert.Equal("3", After("--seeds"));
        Assert.Equal("temperature", After("--calibrate"));
        Assert.Equal("both", After("--evaluate"));
        Assert.Contains("--quiet", args);
    }

    [Fact]
    public void HelpListsTheSeedAndABadValueIsRefusedBeforeAnythingTrains()
    {
        var help = BlobCli.Run("demo", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("--seed", help.Out);

        var refused = BlobCli.Run("demo", "--epochs", "0");
        Assert.Equal(2, refused.Code);
        Assert.Contains("--epochs", refused.Error + refused.Out);
        Assert.NotEqual(0, BlobCli.Run("demo", "--seed", "one").Code);
    }
}
