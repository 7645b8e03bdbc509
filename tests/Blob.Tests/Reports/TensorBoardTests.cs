using System.Text;
using Blob.Experiments;
using Blob.Methods;
using Blob.Reports;
using Blob.Runtime;
using Blob.Training;

namespace Blob.Tests.Reports;

/// <summary>
/// Training writes TensorBoard event files (RUN/tensorboard/): the training log's scalars, appended
/// step by step, and each evaluated split's metrics, read back here by an independent reader that checks every CRC.
/// </summary>
public sealed class TensorBoardTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-tensorboard-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheReadersCrcIsCrc32C() =>
        Assert.Equal(0xE3069283u, TensorBoardEventFile.Crc32C(Encoding.ASCII.GetBytes("123456789"))); // the standard check value

    [Fact]
    public void AWriteLeavesOneValidFileOfItsStreamWithTheScalarsInOrder()
    {
        var folder = Path.Combine(_dir, TensorBoardEvents.FolderName);
        var other = TensorBoardEvents.Write(folder, "training", [new("loss", 1, 0.5, 2)]);
        TensorBoardEvents.Write(folder, "metrics", [new("dev/acc", 2, 0.5, 2)]);
        var path = TensorBoardEvents.Write(folder, "metrics", [new("loss", 1, 0.25, 2.4), new("loss", 2, 0.125, 3.6), new("dev/acc", 2, 0.75, 9)]);
        Assert.Equal([path], TensorBoardEvents.Files(folder, "metrics")); // the stream's older file is gone
        Assert.Equal([other, path], TensorBoardEvents.Files(folder)); // the other stream's stays, and sorts first (older)
        Assert.StartsWith(TensorBoardEvents.FilePrefix, Path.GetFileName(path));
        Assert.EndsWith(".metrics", path);
        Assert.Empty(Directory.GetDirectories(_dir).Where(d => d != folder)); // no temporary folder left
        var read = TensorBoardEventFile.Read(path);
        Assert.Equal("brain.Event:2", read.FileVersion);
        Assert.Equal(4, read.Records);
        Assert.Equal([("loss", 1L, 0.25f, 2.0), ("loss", 2, 0.125f, 4), ("dev/acc", 2, 0.75f, 9)],
            read.Scalars.Select(s => (s.Tag, s.Step, s.Value, s.WallTime)));
    }

    [Fact]
    public void AStartedLogReplacesItsStreamsOlderFilesAndAppends()
    {
        var folder = Path.Combine(_dir, TensorBoardEvents.FolderName);
        var first = TensorBoardEvents.Start(folder, "training", [new("loss", 1, 9, 0)]);
        first.Add(new("loss", 2, 9, 0));
        var metrics = TensorBoardEvents.Write(folder, "metrics", [new("dev/acc", 2, 0.5, 0)]);
        var restarted = TensorBoardEvents.Start(folder, "training", [new("loss", 1, 0.5, 1)]); // as a resumption after step 1
        restarted.Add(new("loss", 2, 0.25, 2));
        restarted.Add(new("loss", 3, 0.125, 3));
        Assert.Equal([restarted.Path], TensorBoardEvents.Files(folder, "training"));
        Assert.True(File.Exists(metrics));
        Assert.Equal([(1L, 0.5f), (2, 0.25f), (3, 0.125f)], TensorBoardEventFile.Read(restarted.Path).Scalars.Select(s => (s.Step, s.Value)));
    }

    /// <summary>
    /// A tiny BLoB run: its event file holds, per step of training-log.csv, the five logged quantities with the CSV's
    /// values (as float32), and dev's acc, ece, nll, brier and aurc at the last step with result.json's values.
    /// </summary>
    [Fact]
    public void ARunsEventFileMatchesItsTrainingLogAndResult()
    {
        var spec = new ExperimentSpec
        {
            Task = "demo-facts", MaxTrain = 16, MaxEval = 8, EvalSamples = 2, Device = "cpu", Precision = Precision.Fp32,
            Training = new TrainingOptions
            {
                Method = new MethodOptions { Kind = MethodRegistry.Blob },
                Steps = 4, BatchSize = 8, LearningRate = 1e-3, MaxLength = 16, Seed = 3, CheckpointEvery = 2,
            },
        };
        var run = Path.Combine(_dir, "run");
        Experiment.Run(spec, run);
        var folder = Path.Combine(run, TensorBoardEvents.FolderName);
        Assert.Equal(2, TensorBoardEvents.Files(folder).Count);
        // the folder's files in name order, as TensorBoard reads them: the training stream, then the metrics
        var scalars = TensorBoardEvents.Files(folder).SelectMany(f => TensorBoardEventFile.Read(f).Scalars).ToList();

        var rows = TrainingLog.Read(Path.Combine(run, TrainingLog.FileName));
        Assert.Equal(4, rows.Count);
        var expected = rows.SelectMany(r => new[]
        {
            ("loss", r.Step, (float)r.Loss), ("kl", r.Step, (float)r.Kl), ("lambda", r.Step, (float)r.KlWeight),
            ("lr", r.Step, (float)r.LearningRate), ("train_accuracy", r.Step, (float)r.TrainAccuracy),
        }).ToList();
        var result = RunResult.Load(Path.Combine(run, RunFolder.Result));
        expected.AddRange([("dev/acc", 4L, (float)result.Accuracy), ("dev/ece", 4, (float)result.Ece), ("dev/nll", 4, (float)result.Nll),
            ("dev/brier", 4, (float)result.Brier), ("dev/aurc", 4, (float)result.Aurc!.Value)]);
        // BLoB with N > 0 also evaluates its mean weights (N = 0): their metrics follow dev's
        var mean = RunFiles.MeanDev.Load(run).Item1;
        expected.AddRange([("mean-dev/acc", 4L, (float)mean.Accuracy), ("mean-dev/ece", 4, (float)mean.Ece), ("mean-dev/nll", 4, (float)mean.Nll),
            ("mean-dev/brier", 4, (float)mean.Brier), ("mean-dev/aurc", 4, (float)mean.Aurc!.Value)]);
        Assert.Equal(expected, scalars.Select(s => (s.Tag, s.Step, s.Value)));
        // each step's wall time is its training time, so TensorBoard's relative axis is the training time
        Assert.Equal(rows.Select(r => Math.Round(r.Seconds)), scalars.Where(s => s.Tag == "loss").Select(s => s.WallTime));
        Assert.True(rows.Any(r => r.Kl > 0));

        // replacing the run (--overwrite) removes its event files with the rest
        RunFolder.Clear(run);
        Assert.False(Directory.Exists(Path.Combine(run, TensorBoardEvents.FolderName)));
    }
}
