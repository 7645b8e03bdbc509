using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Blob.Cli.Commands;
using Blob.Experiments;
using Blob.Methods;
using Blob.Training;

namespace Blob.Tests.Cli;

/// <summary>The command line has no defaults of its own: a command given no options runs with the library's.</summary>
public class OneSetOfDefaultsTests
{
    /// <summary>Every public setting, the ones that change no result (checkpointing, splits, calibration) included.</summary>
    static string Everything(ExperimentSpec spec) =>
        JsonSerializer.Serialize(spec, new JsonSerializerOptions { WriteIndented = true, Converters = { new JsonStringEnumConverter() } });

    [Fact]
    public void TrainWithNoOptionsReadsTheLibrarysDefaults()
    {
        var library = new ExperimentSpec();
        var train = TrainCommand.Create();
        var parsed = train.Parse([]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(library.Training.Method.Kind, parsed.GetValue<FineTuningMethod?>("--method"));
        Assert.Equal(library.Training.Seed, parsed.GetValue<int>("--seed"));

        var options = new ExperimentOptions();
        var command = new Command("train");
        options.AddTo(command);
        var read = options.Read(command.Parse([]), library.Training.Method.Kind, library.Training.Seed);
        Assert.Equal(Everything(library), Everything(read));
    }

    /// <summary>Each method's defaults are the library's too, and so are those of eval, which offers only some options.</summary>
    [Fact]
    public void EveryMethodAndEvalReadTheLibrarysDefaults()
    {
        var options = new ExperimentOptions();
        var train = new Command("train");
        options.AddTo(train);
        var evaluation = new Command("eval");
        options.AddEvaluationTo(evaluation);
        foreach (var kind in MethodRegistry.All)
        {
            var library = new ExperimentSpec { Training = new TrainingOptions { Method = new MethodOptions { Kind = kind }, Seed = 2 } };
            Assert.Equal(Everything(library), Everything(options.Read(train.Parse([]), kind, 2)));
            Assert.Equal(Everything(library), Everything(options.Read(evaluation.Parse([]), kind, 2)));
        }
    }
}
