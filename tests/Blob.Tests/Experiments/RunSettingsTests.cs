using System.Text.Json.Nodes;
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
        Task = DemoTask.Name, Device = "cpu", Precision = Precision.Fp32,
        Training = new TrainingOptions { Method = new MethodOptions { Kind = kind }, Steps = 10 },
    };

    static RunSettings Of(ExperimentSpec spec) => RunSettings.Of(spec, Task);

    static JsonObject File(RunSettings settings) => JsonNode.Parse(settings.Json)!.AsObject();

    [Fact]
    public void EveryResultSettingIsRecordedAndItsChangeNamed()
    {
        var blob = Spec(MethodRegistry.Blob);
        var changed = blob with { Training = blob.Training with { LearningRate = 1e-3, Method = blob.Training.Method with { Blob = blob.Training.Method.Blob with { PriorStd = 0.5 } } } };
        Assert.Equal(["training.learning_rate: 0.0005 → 0.001", "training.method.blob.prior_std: 0.2 → 0.5"], Of(changed).DifferencesFrom(Of(blob)));
        Assert.Empty(Of(blob).DifferencesFrom(Of(blob)));
        // Options added to the spec are covered without being listed: the file is the spec's serialisation.
        var file = File(Of(blob));
        Assert.Equal(RunSettings.FormatVersion, (int)file["format_version"]!);
        Assert.Equal("format_version", file.First().Key);
        Assert.Equal("data", file.Last().Key);
        Assert.NotNull(file["eval_samples"]);
        Assert.NotNull(file["training"]!["max_length"]);
        Assert.NotNull(file["training"]!["group_by_length"]);
    }

    /// <summary>A default ("auto", the method's N, weight decay and dropout) is recorded as what it stands for.</summary>
    [Fact]
    public void DefaultsAreRecordedAsResolved()
    {
        var mle = Spec(MethodRegistry.Mle);
        var explicitly = mle with { EvalSamples = 0, Training = mle.Training with { WeightDecay = 0, Method = mle.Training.Method with { LoraDropout = 0 } } };
        Assert.Empty(Of(explicitly).DifferencesFrom(Of(mle)));
        Assert.Equal(10, Of(Spec(MethodRegistry.Blob)).Spec.EvalSamples);
        Assert.Equal(1e-5, Of(Spec(MethodRegistry.Map)).Spec.Training.WeightDecay);
        Assert.Equal(0.1, Of(Spec(MethodRegistry.Mcd)).Spec.Training.Method.LoraDropout);
    }

    /// <summary>bf16 and fp32 give other numbers, so the precision counts, and auto counts as what it resolves to.</summary>
    [Fact]
    public void ThePrecisionCountsAsResolved()
    {
        var fp32 = Spec(MethodRegistry.Mle);
        Assert.Equal("fp32", (string)File(Of(fp32))["precision"]!);
        Assert.Equal(["precision: fp32 → bf16"], Of(fp32 with { Precision = Precision.Bf16 }).DifferencesFrom(Of(fp32)));
        var auto = Precisions.CpuHasBf16() ? Precision.Bf16 : Precision.Fp32;
        Assert.Equal(auto, Of(fp32 with { Precision = Precision.Auto }).Spec.Precision);
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
        // ... and are not written: an MLE run's file holds no other method's section
        var method = File(Of(other))["training"]!["method"]!.AsObject();
        Assert.DoesNotContain(method, p => p.Key is "blob" or "ensemble" or "laplace");
        Assert.Null(File(Of(other))["training"]!["checkpoint_every"]);
        // ... but the same changes do count for the method that reads them.
        Assert.Contains(Of(other with { Training = other.Training with { Method = other.Training.Method with { Kind = MethodRegistry.Blob } } })
            .DifferencesFrom(Of(Spec(MethodRegistry.Blob))), d => d.StartsWith("training.method.blob.kl_learning_rate"));
    }

    /// <summary>The Laplace fit's batch size changes only the order of the factors' additions, so it is no setting.</summary>
    [Fact]
    public void TheLaplaceFitsBatchSizeDoesNotCount()
    {
        var lap = Spec(MethodRegistry.Lap);
        var batched = lap with { Training = lap.Training with { Method = lap.Training.Method with { Laplace = new LaplaceOptions { BatchSize = 4 } } } };
        Assert.Empty(Of(batched).DifferencesFrom(Of(lap)));
        Assert.Null(File(Of(batched))["training"]!["method"]!["laplace"]!["batch_size"]);
        var prior = lap with { Training = lap.Training with { Method = lap.Training.Method with { Laplace = new LaplaceOptions { PriorPrecision = 2 } } } };
        Assert.NotEmpty(Of(prior).DifferencesFrom(Of(lap)));
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

    /// <summary>What a run reports is read off its typed settings: the splits, the N = 0 row, the out-of-distribution sets.</summary>
    [Fact]
    public void WhatARunReportsComesFromItsSpec()
    {
        Assert.True(Of(Spec(MethodRegistry.Blob)).Spec.ReportsMean);
        Assert.False(Of(Spec(MethodRegistry.Blob) with { EvalSamples = 0 }).Spec.ReportsMean);
        Assert.False(Of(Spec(MethodRegistry.Mcd)).Spec.ReportsMean); // samples, but reports no mean-weights row
        Assert.False(Of(Spec(MethodRegistry.Mle)).Spec.ReportsMean);
    }

    [Fact]
    public void SettingsRoundTripThroughTheirFile()
    {
        var dir = Directory.CreateTempSubdirectory("blob-settings-").FullName;
        try
        {
            foreach (var kind in MethodRegistry.All)
            {
                var settings = Of(Spec(kind) with { OodTasks = ["arc-e"], ValidationFraction = 0.2 });
                settings.Save(dir);
                var loaded = RunSettings.Load(dir)!;
                Assert.Empty(settings.DifferencesFrom(loaded));
                Assert.Equal(settings.Json, loaded.Json);
                Assert.Equal(kind, loaded.Spec.Training.Method.Kind);
                Assert.Equal(["arc-e"], loaded.Spec.OodTasks);
            }
            Assert.Null(RunSettings.Load(Path.Combine(dir, "absent")));
            string path = Path.Combine(dir, RunSettings.FileName);
            System.IO.File.WriteAllText(path, "{ not json");
            Assert.Contains(RunSettings.FileName, Assert.Throws<BlobException>(() => RunSettings.Load(dir)).Message);
            // a key this build does not know, and a file of another format, are refused rather than read in part
            var unknown = File(Of(Spec(MethodRegistry.Mle)));
            unknown["base_in_bfloat16"] = false;
            System.IO.File.WriteAllText(path, unknown.ToJsonString());
            Assert.Contains("base_in_bfloat16", Assert.Throws<BlobException>(() => RunSettings.Load(dir)).Message);
            System.IO.File.WriteAllText(path, "{ \"training.learning_rate\": \"0.001\" }");
            Assert.Contains("format", Assert.Throws<BlobException>(() => RunSettings.Load(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>
    /// Every kept record's settings.json is in this build's format and canonical: read and written again, it is the
    /// same text, so a table that reuses the record compares like with like.
    /// </summary>
    [Fact]
    public void TheKeptRecordsAreCanonicalSettings()
    {
        var files = Directory.GetFiles(Path.Combine(Shared.RepoRoot, "experiments", "results"), RunSettings.FileName, SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        foreach (var path in files)
            Assert.True(RunSettings.Load(Path.GetDirectoryName(path)!)!.Json == System.IO.File.ReadAllText(path), $"{path} is not what the tool writes");
    }
}
