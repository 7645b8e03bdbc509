using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Experiments;
using Blob.Runtime;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>What a run's recorded settings cover: every option that changes a result, and nothing else.</summary>
public class RunSettingsTests
{
    static readonly TaskData Task = DemoTask.Generate();

    static ExperimentSpec Spec(FineTuningMethod kind) => new()
    {
        Task = DemoTask.Name, Device = "cpu",
        Training = new TrainingOptions { Method = new MethodOptions { Kind = kind }, Steps = 10 },
    };

    static RunSettings Of(ExperimentSpec spec) => RunSettings.Of(spec, Task);

    [Fact]
    public void EveryResultSettingIsRecordedAndItsChangeNamed()
    {
        var blob = Spec(MethodRegistry.Blob);
        var changed = blob with { Training = blob.Training with { LearningRate = 1e-3, Method = blob.Training.Method with { Blob = blob.Training.Method.Blob with { PriorStd = 0.5 } } } };
        Assert.Equal(["training.learning_rate: 0.0005 → 0.001", "training.method.blob.prior_std: 0.2 → 0.5"], Of(changed).DifferencesFrom(Of(blob)));
        Assert.Empty(Of(blob).DifferencesFrom(Of(blob)));
        // Options added to the spec are covered without being listed: the pairs come from serialising the spec.
        Assert.Contains("eval_samples", Of(blob).Values.Keys);
        Assert.Contains("training.max_length", Of(blob).Values.Keys);
        Assert.Contains("training.group_by_length", Of(blob).Values.Keys);
    }

    /// <summary>bf16 and fp32 give other numbers, so the precision counts, and auto counts as what it resolves to.</summary>
    [Fact]
    public void ThePrecisionCountsAsResolved()
    {
        var fp32 = Spec(MethodRegistry.Mle);
        Assert.Equal("fp32", Of(fp32).Values["precision"]);
        Assert.Equal(["precision: fp32 → bf16"], Of(fp32 with { Precision = Precision.Bf16 }).DifferencesFrom(Of(fp32)));
        string auto = Precisions.CpuHasBf16() ? "bf16" : "fp32";
        Assert.Equal(auto, Of(fp32 with { Precision = Precision.Auto }).Values["precision"]);

        // a run recorded before --precision, with base_in_bfloat16 false, is an fp32 run
        var dir = Directory.CreateTempSubdirectory("blob-settings-").FullName;
        try
        {
            var legacy = new Dictionary<string, string>(Of(fp32).Values);
            legacy.Remove("precision");
            legacy["base_in_bfloat16"] = "false";
            File.WriteAllText(Path.Combine(dir, RunSettings.FileName), System.Text.Json.JsonSerializer.Serialize(legacy));
            Assert.Empty(Of(fp32).DifferencesFrom(RunSettings.Load(dir)!));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CheckpointingAndOtherMethodsSettingsDoNotCount()
    {
        var mle = Spec(MethodRegistry.Mle);
        var other = mle with
        {
            Training = mle.Training with
            {
                CheckpointEvery = 7,
                Method = mle.Training.Method with
                {
                    Ensemble = new EnsembleOptions { Size = 5 },
                    Blob = mle.Training.Method.Blob with { PriorStd = 1, KlLearningRate = 0.5, Gamma = 3 },
                    Laplace = new LaplaceOptions { Subset = LaplaceSubset.LastLayer },
                },
            },
        };
        Assert.Empty(Of(other).DifferencesFrom(Of(mle)));
        // ... but the same changes do count for the method that reads them.
        Assert.Contains(Of(other with { Training = other.Training with { Method = other.Training.Method with { Kind = MethodRegistry.Blob } } })
            .DifferencesFrom(Of(Spec(MethodRegistry.Blob))), d => d.StartsWith("training.method.blob.kl_learning_rate"));
    }

    /// <summary>
    /// The Laplace fit's batch size changes only the order of the factors' additions, so it is no setting, and a LAP
    /// run recorded when it was one (batch 4, before the default became 32) is still the same run.
    /// </summary>
    [Fact]
    public void TheLaplaceFitsBatchSizeDoesNotCountInNewOrRecordedSettings()
    {
        var lap = Spec(MethodRegistry.Lap);
        var batched = lap with { Training = lap.Training with { Method = lap.Training.Method with { Laplace = new LaplaceOptions { BatchSize = 4 } } } };
        Assert.Empty(Of(batched).DifferencesFrom(Of(lap)));
        var prior = lap with { Training = lap.Training with { Method = lap.Training.Method with { Laplace = new LaplaceOptions { PriorPrecision = 2 } } } };
        Assert.NotEmpty(Of(prior).DifferencesFrom(Of(lap)));

        var dir = Directory.CreateTempSubdirectory("blob-settings-").FullName;
        try
        {
            var recorded = new Dictionary<string, string>(Of(lap).Values) { ["training.method.laplace.batch_size"] = "4" };
            File.WriteAllText(Path.Combine(dir, RunSettings.FileName), System.Text.Json.JsonSerializer.Serialize(recorded));
            Assert.Empty(Of(lap).DifferencesFrom(RunSettings.Load(dir)!));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void TheDataCountsByContent()
    {
        var spec = Spec(MethodRegistry.Mle);
        var fewer = RunSettings.Of(spec, Task with { Train = Task.Train.Skip(1).ToList() });
        var relabelled = RunSettings.Of(spec, Task with { Eval = [.. Task.Eval.Take(1).Select(e => e with { Label = 1 - e.Label }), .. Task.Eval.Skip(1)] });
        Assert.Contains(fewer.DifferencesFrom(Of(spec)), d => d.StartsWith("data.train"));
        Assert.Contains(relabelled.DifferencesFrom(Of(spec)), d => d.StartsWith("data.eval"));
    }

    [Fact]
    public void SettingsRoundTripThroughTheirFile()
    {
        var dir = Directory.CreateTempSubdirectory("blob-settings-").FullName;
        try
        {
            var settings = Of(Spec(MethodRegistry.Blob));
            settings.Save(dir);
            Assert.Empty(settings.DifferencesFrom(RunSettings.Load(dir)!));
            Assert.Null(RunSettings.Load(Path.Combine(dir, "absent")));
            File.WriteAllText(Path.Combine(dir, RunSettings.FileName), "{ not json");
            Assert.Contains(RunSettings.FileName, Assert.Throws<BlobException>(() => RunSettings.Load(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
