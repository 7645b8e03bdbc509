using System.Diagnostics;
using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Training;

/// <summary>What the trainer reports after every optimiser step.</summary>
/// <param name="Step">Optimiser steps done (1 after the first).</param>
/// <param name="TotalSteps">Optimiser steps of the whole run.</param>
/// <param name="Loss">This step's negative log-likelihood (cross-entropy), averaged over its examples.</param>
/// <param name="Kl">The adapters' KL divergence to the prior after this step (0 for methods without one).</param>
/// <param name="KlWeight">The KL's weight λ at this step (BLoB's re-weighting; 0 without a KL).</param>
/// <param name="LearningRate">The likelihood optimiser's learning rate at this step (warm-up and decay applied).</param>
/// <param name="TrainAccuracy">The accuracy on the training batches seen so far in this run, from 0 to 1.</param>
/// <param name="Elapsed">Training time so far, the part before a resumption included.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double Kl, double KlWeight,
    double LearningRate, double TrainAccuracy, TimeSpan Elapsed);

/// <summary>How a run ended; Elapsed is its whole training time, the part before a resumption included.</summary>
/// <param name="Steps">Optimiser steps of the run.</param>
/// <param name="FinalLoss">The last step's loss (negative log-likelihood).</param>
/// <param name="Elapsed">The whole training time, the part before a resumption included.</param>
/// <param name="Resumed">Whether the run continued from a checkpoint.</param>
public sealed record TrainingResult(long Steps, double FinalLoss, TimeSpan Elapsed, bool Resumed);

/// <summary>
/// Fine-tunes the adapters of a model (Algorithm 1 and Appendix B.1). Every step: AdamW on the likelihood
/// (cross-entropy averaged over K weight samples), plus whatever the method's <see cref="TrainingRule"/> adds (BLoB's
/// SGD step on λ_i·KL, BBB's KL term, an ensemble's members). Learning rates follow linear warm-up and decay.
/// Batches are shuffled per epoch from the seed, so the data order is a function of the step: with the RNG state and
/// the optimiser states in a checkpoint, a resumed run continues exactly as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly IClassifier _classifier;
    readonly IBatchSource _data;
    readonly TrainingOptions _options;
    readonly Device _device;
    readonly string _fingerprint;

    /// <summary>
    /// A trainer of <paramref name="classifier"/>'s adapters (inject them first: <see cref="MethodOptions.Apply"/>) on
    /// <paramref name="data"/>, with <paramref name="options"/>, on <paramref name="device"/>. A checkpoint is resumed
    /// only under the <paramref name="fingerprint"/> it was written with: an experiment's recorded settings (its
    /// settings.json); by default the options' canonical JSON and the examples' count.
    /// </summary>
    public Trainer(IClassifier classifier, IBatchSource data, TrainingOptions options, Device device, string? fingerprint = null)
    {
        _classifier = classifier;
        _data = data;
        _options = options;
        _device = device;
        if (data.Count == 0) throw new BlobException("the training set is empty");
        _fingerprint = fingerprint ?? SettingsJson.Serialize(new { Training = options, Examples = data.Count });
    }

    /// <summary>Batches in one pass over the training set (the last one may be smaller).</summary>
    public long MicroBatchesPerEpoch => (_data.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>Optimiser steps of the run: <see cref="TrainingOptions.Steps"/>, or those that <see cref="TrainingOptions.Epochs"/> make.</summary>
    public long TotalSteps => _options.Steps > 0
        ? _options.Steps
        : Math.Max(1, (long)Math.Ceiling(_options.Epochs * MicroBatchesPerEpoch / _options.GradientAccumulation));

    /// <summary>Optimiser steps in one pass over the training set (at least 1).</summary>
    public long StepsPerEpoch => Math.Max(1, MicroBatchesPerEpoch / _options.GradientAccumulation);

    /// <summary>
    /// Trains the adapters (and the fully trained modules) for <see cref="TotalSteps"/> steps, calling
    /// <paramref name="onStep"/> after each, and leaves the model in evaluation mode. With <paramref name="checkpointDir"/>
    /// it writes checkpoints there (at the end, every <see cref="TrainingOptions.CheckpointEvery"/> steps and when
    /// <paramref name="cancel"/> stops it), and <paramref name="resume"/> continues from one exactly.
    /// </summary>
    public TrainingResult Train(string? checkpointDir = null, bool resume = false,
        Action<TrainingProgress>? onStep = null, CancellationToken cancel = default) =>
        Train(checkpointDir, resume, onStep, cancel, logPath: null);

    /// <summary>
    /// <see cref="Train(string?, bool, Action{TrainingProgress}?, CancellationToken)"/>, with every step's values also
    /// going to a <see cref="TrainingLog"/> at <paramref name="logPath"/> (null: none), written just before each
    /// checkpoint and at the end; a resumption keeps its rows up to the checkpoint's step.
    /// </summary>
    public TrainingResult Train(string? checkpointDir, bool resume, Action<TrainingProgress>? onStep, CancellationToken cancel, string? logPath)
    {
        var model = _classifier.Module;
        // The whole run in one scope (see Runtime.TensorLifetimes): what training makes besides the parameters'
        // values, gradients' wrappers and optimiser states included, is freed when it ends.
        using var run = NewDisposeScope();
        var trainable = AdapterInjection.Trainable(model).ToList();
        if (trainable.Count == 0) throw new BlobException("nothing to train: no adapter was injected");
        using var rule = _options.Method.Kind.Training(new TrainingSetup(model, _options.Method, _options.LearningRate,
            _options.AdamEpsilon, _options.EffectiveWeightDecay, _data.Count, _options.ExamplesPerStep, StepsPerEpoch));
        int members = rule.Members;

        long total = TotalSteps, warmup = LearningRateSchedule.WarmupSteps(total, _options.WarmupRatio);
        long start = 0;
        TimeSpan before = TimeSpan.Zero; // training time of the steps a resumed checkpoint already did
        bool resumed = false;
        if (resume && checkpointDir != null && TrainingCheckpoint.Exists(checkpointDir))
        {
            (start, before) = TrainingCheckpoint.Load(checkpointDir, model, rule.Optimizers, _fingerprint);
            resumed = true;
        }
        else manual_seed(_options.Seed);
        var log = logPath is null ? null : TrainingLog.Open(logPath, start);
        // Beside it, for BLoB and BBB, the distribution of the posterior's standard deviations at every step.
        var stdLog = logPath is null ? null
            : PosteriorStdLog.Open(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(logPath))!, PosteriorStdLog.FileName), model, start);

        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN, correct = 0, seen = 0;
        model.train();
        for (long step = start; step < total; step++)
        {
            double mult = LearningRateSchedule.Multiplier(step, total, warmup);
            rule.SetLearningRate(mult);

            double loss = 0;
            for (int micro = 0; micro < _options.GradientAccumulation; micro++)
            {
                CollectionPoints.Reached();
                using var scope = NewDisposeScope();
                long globalMicro = step * _options.GradientAccumulation + micro;
                var batch = _data.Make(BatchIndices(globalMicro), _device); // freed with the scope
                // −(1/K) Σ_k log P(batch | A_k), summed over ensemble members (each learns from the same batch).
                Tensor nll = zeros(1, device: _device).sum();
                for (int member = 0; member < members; member++)
                {
                    rule.Activate(member);
                    for (int k = 0; k < _options.TrainSamples; k++)
                    {
                        var logits = _classifier.ClassLogits(batch).to(ScalarType.Float32);
                        nll = nll + nn.functional.cross_entropy(logits, batch.Labels) / _options.TrainSamples;
                        if (k == 0 && member == 0)
                        {
                            correct += logits.argmax(1).eq(batch.Labels).sum().item<long>();
                            seen += batch.Size;
                        }
                    }
                }
                rule.Activate(0);
                double value = nll.item<float>() / members;
                nll = rule.Loss(nll, step);
                if (!double.IsFinite(value))
                {
                    log?.Save(); // the steps up to the divergence, for its diagnosis
                    stdLog?.Save();
                    throw new BlobException($"training diverged at step {step + 1}: the loss is {value}" +
                                            (checkpointDir != null ? $"; the last checkpoint in {checkpointDir} is intact" : ""));
                }
                (nll / _options.GradientAccumulation).backward();
                loss += value / _options.GradientAccumulation;
            }
            if (_options.MaxGradNorm > 0) nn.utils.clip_grad_norm_(rule.LikelihoodParameters, _options.MaxGradNorm);
            rule.AdamW.step();
            var (klValue, lambda) = rule.AfterLikelihoodStep(step);
            foreach (var p in trainable) p.grad?.zero_();

            lastLoss = loss;
            var progress = new TrainingProgress(step + 1, total, loss, klValue, lambda,
                _options.LearningRate * mult, seen > 0 ? correct / seen : 0, before + clock.Elapsed);
            log?.Add(progress);
            stdLog?.Add(step + 1);
            onStep?.Invoke(progress);

            bool last = step + 1 == total, stop = cancel.IsCancellationRequested;
            bool checkpoint = last || stop || (_options.CheckpointEvery > 0 && (step + 1) % _options.CheckpointEvery == 0);
            // The log first: a kill between the two leaves it ahead of the checkpoint, and the resumption rewrites those rows.
            if (checkpoint) { log?.Save(); stdLog?.Save(); }
            if (checkpointDir != null && checkpoint)
                TrainingCheckpoint.Save(checkpointDir, step + 1, before + clock.Elapsed, model, rule.Optimizers, _fingerprint);
            if (stop && !last) throw new OperationCanceledException($"stopped after step {step + 1} of {total}");
        }
        log?.Save(); // also when a resumption found training done
        stdLog?.Save();
        model.eval();
        return new TrainingResult(total, lastLoss, before + clock.Elapsed, resumed);
    }

    /// <summary>The examples of the given micro-batch: epoch e's order is a permutation drawn from (seed, e).</summary>
    public IReadOnlyList<int> BatchIndices(long globalMicroBatch)
    {
        long perEpoch = MicroBatchesPerEpoch;
        int epoch = (int)(globalMicroBatch / perEpoch);
        int position = (int)(globalMicroBatch % perEpoch);
        var order = EpochOrder(epoch);
        int from = position * _options.BatchSize, count = Math.Min(_options.BatchSize, order.Length - from);
        return new ArraySegment<int>(order, from, count);
    }

    int[]? _cachedOrder;
    int _cachedEpoch = -1;

    int[] EpochOrder(int epoch)
    {
        if (_cachedEpoch == epoch) return _cachedOrder!;
        var order = Enumerable.Range(0, _data.Count).ToArray();
        var random = new Random(unchecked((int)(_options.Seed * 1_000_003 + epoch))); // seeded Random is stable across runs
        random.Shuffle(order);
        if (_options.GroupByLength) order = GroupedByLength(order, _options.BatchSize, _data.Length, random);
        _cachedOrder = order;
        _cachedEpoch = epoch;
        return order;
    }

    /// <summary>
    /// Reorders a shuffled epoch so each batch holds examples of similar length: mega-batches of 50 batches are sorted
    /// longest first and cut into batches, whose order is then shuffled. The one short batch (if any) stays last.
    /// </summary>
    public static int[] GroupedByLength(int[] shuffled, int batchSize, Func<int, int> length, Random random)
    {
        int mega = 50 * batchSize;
        var batches = shuffled.Chunk(mega)
            .SelectMany(chunk => chunk.OrderByDescending(length).Chunk(batchSize))
            .ToArray();
        int full = batches.Length > 0 && batches[^1].Length < batchSize ? batches.Length - 1 : batches.Length;
        random.Shuffle(batches.AsSpan(0, full));
        return batches.SelectMany(b => b).ToArray();
    }
}
