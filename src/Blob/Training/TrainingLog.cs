using Blob.Runtime;
using static Blob.Training.NumberCsv;

namespace Blob.Training;

/// <summary>One optimiser step of a run's training log (training-log.csv).</summary>
/// <param name="Step">Optimiser steps done (1 after the first).</param>
/// <param name="Loss">The step's negative log-likelihood.</param>
/// <param name="Kl">The adapters' KL divergence to the prior after the step (0 without one).</param>
/// <param name="KlWeight">The KL's weight λ at the step (0 without a KL).</param>
/// <param name="LearningRate">The likelihood optimiser's learning rate at the step.</param>
/// <param name="TrainAccuracy">Accuracy on the training batches seen so far in this process, 0 to 1.</param>
/// <param name="Seconds">Training time so far, the part before a resumption included.</param>
public sealed record TrainingLogRow(long Step, double Loss, double Kl, double KlWeight, double LearningRate, double TrainAccuracy, double Seconds);

/// <summary>
/// The per-step training log of a run, <c>training-log.csv</c> in its folder (step, loss, kl, lambda, lr,
/// train_accuracy, seconds). Held in memory while training and written atomically, whole, just before every
/// checkpoint and at the end, so the file never runs behind the checkpoint. A resumed run keeps the rows up to its
/// checkpoint's step and writes the later ones again (they may have been logged before a kill), so no step is lost
/// or duplicated. The same rows go to the run's TensorBoard event file (<see cref="Scalars"/>, the
/// <see cref="Stream"/> stream in <see cref="TensorBoardEvents.FolderName"/>/ beside the CSV), appended step by step
/// as they are added, so TensorBoard follows a run live. A process's first row starts a fresh file holding the kept
/// rows (the older one deleted: <see cref="TensorBoardEvents.Start"/>), so after a resumption TensorBoard shows each step
/// once, with the CSV's values; a kill may leave the file a few steps ahead of the CSV until the resumption.
/// </summary>
public sealed class TrainingLog
{
    /// <summary>The log's name in a run's folder.</summary>
    public const string FileName = "training-log.csv";
    /// <summary>The CSV's first line.</summary>
    public const string Header = "step,loss,kl,lambda,lr,train_accuracy,seconds";

    readonly List<TrainingLogRow> _rows;
    TensorBoardEvents? _events; // started by the first row this process adds

    /// <summary>Where the log is written.</summary>
    public string Path { get; }

    /// <summary>The rows so far, by step.</summary>
    public IReadOnlyList<TrainingLogRow> Rows => _rows;

    TrainingLog(string path, List<TrainingLogRow> rows) { Path = path; _rows = rows; }

    /// <summary>A log at <paramref name="path"/> that continues after <paramref name="resumedStep"/> steps: the file's rows up to that step are kept (none for a fresh run, 0).</summary>
    public static TrainingLog Open(string path, long resumedStep) =>
        new(path, resumedStep > 0 && File.Exists(path) ? Read(path).Where(r => r.Step <= resumedStep).ToList() : []);

    /// <summary>
    /// Adds the step's row, replacing any row of the same or a later step, and appends it to the TensorBoard file (which
    /// starts afresh from the rows where it is new or a row was replaced).
    /// </summary>
    public void Add(TrainingProgress p)
    {
        bool replaces = _rows.RemoveAll(r => r.Step >= p.Step) > 0;
        var row = new TrainingLogRow(p.Step, p.Loss, p.Kl, p.KlWeight, p.LearningRate, p.TrainAccuracy, Math.Round(p.Elapsed.TotalSeconds, 3));
        if (_events is null || replaces) _events = TensorBoardEvents.Start(TensorBoardFolder, Stream, Scalars(_rows));
        _rows.Add(row);
        foreach (var s in Scalars([row])) _events.Add(s);
    }

    /// <summary>The folder of the run's TensorBoard event files: <see cref="TensorBoardEvents.FolderName"/> beside the log.</summary>
    public string TensorBoardFolder =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!, TensorBoardEvents.FolderName);

    /// <summary>Writes the whole log atomically (the TensorBoard file is already up to date).</summary>
    public void Save() => AtomicFile.WriteAllText(Path, ToCsv(_rows));

    /// <summary>The training log's stream of TensorBoard files (the name their file names end with).</summary>
    public const string Stream = "training";

    /// <summary>The CSV's tags for TensorBoard, in its column order (the seconds are each event's wall time instead).</summary>
    public static readonly IReadOnlyList<string> Tags = ["loss", "kl", "lambda", "lr", "train_accuracy"];

    /// <summary>
    /// The rows as TensorBoard scalars: for each step, one per <see cref="Tags"/> with the CSV's value, its wall time
    /// the training time so far (so TensorBoard's relative time axis is the training time, across resumptions).
    /// </summary>
    public static IEnumerable<TensorBoardScalar> Scalars(IEnumerable<TrainingLogRow> rows) =>
        rows.SelectMany(r => new[] { r.Loss, r.Kl, r.KlWeight, r.LearningRate, r.TrainAccuracy }
            .Select((v, i) => new TensorBoardScalar(Tags[i], r.Step, v, r.Seconds)));

    /// <summary>The rows as CSV, <see cref="Header"/> first; numbers round-trip exactly (invariant culture, "R").</summary>
    public static string ToCsv(IEnumerable<TrainingLogRow> rows) => NumberCsv.Write(Header, rows, r =>
        [F(r.Step), F(r.Loss), F(r.Kl), F(r.KlWeight), F(r.LearningRate), F(r.TrainAccuracy), F(r.Seconds)]);

    /// <summary>The rows of a training-log.csv.</summary>
    public static IReadOnlyList<TrainingLogRow> Read(string path) => NumberCsv.Read(path, 7, "training log", f =>
        new TrainingLogRow(Long(f[0]), Double(f[1]), Double(f[2]), Double(f[3]), Double(f[4]), Double(f[5]), Double(f[6])));
}
