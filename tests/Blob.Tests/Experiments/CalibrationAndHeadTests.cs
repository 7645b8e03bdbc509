using Blob.Runtime;
using Blob.Experiments;
using Blob.Layers;
using Blob.Methods;
using Blob.Reports;
using Blob.Training;

namespace Blob.Tests.Experiments;

/// <summary>--calibrate and --head end to end, on the built-in task with MiniLM, kept tiny.</summary>
public class CalibrationAndHeadTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-calibration-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static ExperimentSpec Tiny(FineTuningMethod kind, HeadTraining head = HeadTraining.Trained, long seed = 5, Calibrator? calibrate = null) => new()
    {
        Task = "demo-facts", MaxTrain = 64, MaxEval = 24, EvalSamples = 0, Device = "cpu", ValidationFraction = 0.25, Precision = Precision.Fp32,
        Evaluate = EvaluatedSplits.Both, Calibrate = calibrate,
        Training = new TrainingOptions
        {
            Method = new MethodOptions { Kind = kind, Head = head },
            Steps = 4, BatchSize = 8, LearningRate = 1e-3, MaxLength = 32, Seed = seed,
        },
    };

    static readonly Calibrator Temperature = MethodRegistry.ParseCalibrator("temperature");

    [Fact]
    public void ACalibratedRunReportsBothAndItsAdapterCarriesTheTemperature()
    {
        string run = Path.Combine(_dir, "blob");
        var trained = Experiment.Run(Tiny(MethodRegistry.Blob, calibrate: Temperature), run);
        var calibration = RunCalibration.Load(run)!;
        Assert.Equal(calibration.Parameters().ToJsonString(), RunCalibration.Load(Path.Combine(run, "adapter"))!.Parameters().ToJsonString());

        // calibrated validation and dev results beside the raw ones, the same answers, the NLL fitted on validation
        Assert.Equal(["blob+ts", "blob+ts"], trained.Calibrated.Select(r => r.Method));
        var dev = RunFiles.Dev.Load(run).Item1;
        var devCalibrated = RunCalibration.FilesOf(RunFiles.Dev).Load(run).Item1;
        Assert.Equal(dev.Accuracy, devCalibrated.Accuracy);
        var validation = RunFiles.Validation.Load(run).Item1;
        Assert.True(RunCalibration.FilesOf(RunFiles.Validation).Load(run).Item1.Nll <= validation.Nll + 1e-12);

        // eval of the saved adapter applies the saved temperature: the same calibrated numbers as the run
        var evaluated = Experiment.EvaluateAdapter(Tiny(MethodRegistry.Blob) with { ValidationFraction = 0, Evaluate = null }, Path.Combine(run, "adapter"));
        Assert.Equal(["blob", "blob+ts"], evaluated.Select(r => r.Method));
        Assert.Equal(dev.Nll, evaluated[0].Nll, 5);
        Assert.Equal(devCalibrated.Nll, evaluated[1].Nll, 5);

        // eval --calibrate fits a temperature of its own on the same validation split: the same T, the same numbers
        var refit = Experiment.EvaluateAdapter(Tiny(MethodRegistry.Blob, calibrate: Temperature) with { Evaluate = null }, Path.Combine(run, "adapter"));
        Assert.Equal(devCalibrated.Nll, refit[1].Nll, 5);

        // --overwrite clears what was fitted on the old predictions with them
        File.WriteAllText(Path.Combine(run, RunConformal.FileName), "{}");
        RunFolder.Clear(run);
        Assert.Empty(Directory.GetFiles(run, RunCalibration.Prefix + "*"));
        Assert.False(File.Exists(Path.Combine(run, RunCalibration.FileName)));
        Assert.False(File.Exists(Path.Combine(run, RunConformal.FileName)));
    }

    [Fact]
    public void CalibrationIsNoSettingAndNeedsAValidationSplit()
    {
        var plain = Tiny(MethodRegistry.Mle);
        var task = Experiment.LoadSubsampledTask(plain);
        Assert.Empty(RunSettings.Of(plain with { Calibrate = Temperature }, task).DifferencesFrom(RunSettings.Of(plain, task)));
        var e = Assert.Throws<BlobException>(() => Experiment.Run(plain with { Calibrate = Temperature, ValidationFraction = 0, Evaluate = null }, Path.Combine(_dir, "none")));
        Assert.Contains("--validation-fraction", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "none", RunSettings.FileName)));
    }

    [Fact]
    public void TheHeadOptionDecidesWhatTheHeadLearns()
    {
        var tm = new TaskModel(null!, null!, null!, ["query", "value"], ["classifier"], "a model");
        var trained = tm.WithDefaults(new MethodOptions());
        Assert.Equal(["query", "value"], trained.Targets);
        Assert.Equal(["classifier"], trained.FullyTrained);
        var adapted = tm.WithDefaults(new MethodOptions { Head = HeadTraining.Adapted });
        Assert.Contains(adapted.Targets, t => AdapterInjection.Matches("classifier", t) && AdapterInjection.Matches("classifier.out_proj", t));
        Assert.DoesNotContain(adapted.Targets, t => AdapterInjection.Matches("bert.encoder.layer.0.classifier_like", t) && t.StartsWith("re:"));
        Assert.Equal(["classifier"], adapted.FullyTrained);
        var frozen = tm.WithDefaults(new MethodOptions { Head = HeadTraining.AdaptedFrozen });
        Assert.Empty(frozen.FullyTrained);
        Assert.Equal(["classifier"], frozen.SavedFrozen);
        // a decoder has no fresh head
        var decoder = new TaskModel(null!, null!, null!, ["q_proj", "v_proj", "lm_head"], [], "a decoder");
        Assert.Contains("--head adapted-frozen", Assert.Throws<BlobException>(() => decoder.WithDefaults(new MethodOptions { Head = HeadTraining.AdaptedFrozen })).Message);
        // the head is a setting
        var spec = Tiny(MethodRegistry.Mle);
        var task = Experiment.LoadSubsampledTask(spec);
        Assert.Equal(["training.method.head: trained → adapted_frozen"],
            RunSettings.Of(Tiny(MethodRegistry.Mle, HeadTraining.AdaptedFrozen), task).DifferencesFrom(RunSettings.Of(spec, task)));
    }

    /// <summary>
    /// The official code's head: the adapter on the head, the head's own weights frozen at their seeded initialisation.
    /// They are saved with the adapter, so evaluating it under another seed (whose fresh head would differ) gives the
    /// run's numbers; and they did not train.
    /// </summary>
    [Theory]
    [InlineData("blob")]
    [InlineData("mle")]
    public void AFrozenAdaptedHeadIsSavedAndEvaluatesAsTheRunDid(string method)
    {
        var kind = MethodRegistry.Parse(method);
        string run = Path.Combine(_dir, $"head-{method}");
        var spec = Tiny(kind, HeadTraining.AdaptedFrozen, seed: 7);
        var trained = Experiment.Run(spec, run);
        var reloaded = Experiment.EvaluateAdapter(Tiny(kind, seed: 1) with { ValidationFraction = 0, Evaluate = null }, Path.Combine(run, "adapter"))[0];
        Assert.Equal(trained.Result.Accuracy, reloaded.Accuracy, 10);
        Assert.Equal(trained.Result.Nll, reloaded.Nll, 5);

        // the saved head equals a fresh one from the run's seed: it stayed at its initialisation
        using var fresh = Blob.Models.MiniLm.Load(2, Blob.Models.Pooling.Mean, seed: 7);
        using var saved = Blob.Models.SafetensorsFile.Open(Path.Combine(run, "adapter", Blob.Methods.PeftAdapterFormat.WeightsFile));
        var head = fresh.named_parameters().Single(p => p.name == "classifier.weight").parameter;
        using var copy = TorchSharp.torch.zeros_like(head);
        saved.CopyTo("base_model.model.classifier.base_layer.weight", copy);
        Assert.True(copy.allclose(head, rtol: 0, atol: 0));
    }
}
