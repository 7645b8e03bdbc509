using System.Diagnostics;
using System.Text.Json;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Training;

/// <summary>What the trainer reports after every optimiser step.</summary>
public sealed record TrainingProgress(long Step, long TotalSteps, double Loss, double Kl, double KlWeight,
    double LearningRate, double TrainAccuracy, TimeSpan Elapsed);

/// <summary>How a run ended; Elapsed is its whole training time, the part before a resumption included.</summary>
public sealed record TrainingResult(long Steps, double FinalLoss, TimeSpan Elapsed, bool Resumed);

/// <summary>
/// Fine-tunes the adapters of a model (Algorithm 1 and Appendix B.1). Every step: AdamW on the likelihood
/// (cross-entropy averaged over K weight samples); for variational methods also a plain SGD step on λ_i·KL, with λ_i
/// from the re-weighting schedule over M pseudo-rescaled mini-batches. Both follow linear warm-up and decay.
/// Batches are shuffled per epoch from the seed, so the data order is a function of the step: with the RNG state and
/// the optimiser states in a checkpoint, a resumed run continues exactly as if it had never stopped.
/// </summary>
public sealed class Trainer
{
    readonly IClassifier _classifier;
    readonly IBatchSource _data;
    readonly TrainingOptions _options;
    readonly Device _device;

    public Trainer(IClassifier classifier, IBatchSource data, TrainingOptions options, Device device)
    {
        _classifier = classifier;
        _data = data;
        _options = options;
        _device = device;
        if (data.Count == 0) throw new BlobException("the training set is empty");
    }

    public long MicroBatchesPerEpoch => (_data.Count + _options.BatchSize - 1) / _options.BatchSize;

    public long TotalSteps => _options.Steps > 0
        ? _options.Steps
        : Math.Max(1, (long)Math.Ceiling(_options.Epochs * MicroBatchesPerEpoch / _options.GradientAccumulation));

    /// <summary>M of the KL schedule: pseudo-rescaled mini-batches (re-weighting), or batches per epoch (uniform).</summary>
    public long KlCycle => _options.KlWeighting == KlWeighting.Uniform || _options.Method.Kind == MethodKind.Bbb
        ? Math.Max(1, MicroBatchesPerEpoch / _options.GradientAccumulation)
        : KlSchedule.PseudoRescaledBatches(_data.Count, _options.ExamplesPerStep, _options.Gamma);

    public TrainingResult Train(string? checkpointDir = null, bool resume = false,
        Action<TrainingProgress>? onStep = null, CancellationToken cancel = default)
    {
        var model = _classifier.Module;
        var variational = AdapterInjection.Adapters(model).Select(a => a.Adapter).OfType<IVariationalAdapter>().ToList();
        var stdParams = variational.SelectMany(v => v.StdParameters).ToHashSet();
        var trainable = AdapterInjection.Trainable(model).ToList();
        if (trainable.Count == 0) throw new BlobException("nothing to train: no adapter was injected");

        // Bayes by Backprop minimises NLL + KL/M with one optimiser; BLoB takes a separate SGD step on λ·KL.
        bool jointKl = _options.Method.Kind == MethodKind.Bbb;
        int members = Math.Max(1, Ensembles.Size(model));
        var adamParams = _options.StdInAdamW || jointKl ? trainable : trainable.Where(p => !stdParams.Contains(p)).ToList();
        var adam = optim.AdamW(adamParams, _options.LearningRate, eps: _options.AdamEpsilon, weight_decay: _options.EffectiveWeightDecay);
        // SGD on λ·KL moves M and G (the KL does not involve B); G also receives its likelihood gradient here.
        var klParams = variational.Count == 0 || jointKl ? [] : trainable.Where(p => stdParams.Contains(p) || IsMean(model, p)).ToList();
        var sgd = klParams.Count > 0 ? optim.SGD(klParams, _options.KlLearningRate) : null;

        long total = TotalSteps, warmup = LearningRateSchedule.WarmupSteps(total, _options.WarmupRatio), klCycle = KlCycle;
        long start = 0;
        TimeSpan before = TimeSpan.Zero; // training time of the steps a resumed checkpoint already did
        bool resumed = false;
        if (resume && checkpointDir != null && TrainingCheckpoint.Exists(checkpointDir))
        {
            (start, before) = TrainingCheckpoint.Load(checkpointDir, model, adam, sgd, Fingerprint());
            resumed = true;
        }
        else manual_seed(_options.Seed);

        var clock = Stopwatch.StartNew();
        double lastLoss = double.NaN, correct = 0, seen = 0;
        model.train();
        for (long step = start; step < total; step++)
        {
            double mult = LearningRateSchedule.Multiplier(step, total, warmup);
            foreach (var g in adam.ParamGroups) g.LearningRate = _options.LearningRate * mult;
            if (sgd != null) foreach (var g in sgd.ParamGroups) g.LearningRate = _options.KlLearningRate * mult;

            double loss = 0;
            for (int micro = 0; micro < _options.GradientAccumulation; micro++)
            {
                using var scope = NewDisposeScope();
                long globalMicro = step * _options.GradientAccumulation + micro;
                var batch = _data.Make(BatchIndices(globalMicro), _device); // freed with the scope
                // −(1/K) Σ_k log P(batch | A_k), summed over ensemble members (each learns from the same batch).
                Tensor nll = zeros(1, device: _device).sum();
                for (int member = 0; member < members; member++)
                {
                    Ensembles.SetActive(model, member);
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
                Ensembles.SetActive(model, 0);
                double value = nll.item<float>() / members;
                if (jointKl) nll = nll + AdapterInjection.TotalKl(model) * KlSchedule.Weight(step + 1, klCycle, KlWeighting.Uniform);
                if (!double.IsFinite(value))
                    throw new BlobException($"training diverged at step {step + 1}: the loss is {value}" +
                                            (checkpointDir != null ? $"; the last checkpoint in {checkpointDir} is intact" : ""));
                (nll / _options.GradientAccumulation).backward();
                loss += value / _options.GradientAccumulation;
            }
            if (_options.MaxGradNorm > 0) nn.utils.clip_grad_norm_(adamParams, _options.MaxGradNorm);
            adam.step();

            double klValue = 0, lambda = 0;
            if (sgd != null)
            {
                using var scope = NewDisposeScope();
                foreach (var p in adamParams) p.grad?.zero_(); // the likelihood step is done; keep only G's gradient
                lambda = KlSchedule.Weight(step + 1, klCycle, _options.KlWeighting);
                var kl = AdapterInjection.TotalKl(model);
                klValue = kl.ToDouble();
                (kl * lambda).backward();
                sgd.step();
            }
            foreach (var p in trainable) p.grad?.zero_();

            lastLoss = loss;
            onStep?.Invoke(new TrainingProgress(step + 1, total, loss, klValue, lambda,
                _options.LearningRate * mult, seen > 0 ? correct / seen : 0, before + clock.Elapsed));

            bool last = step + 1 == total, stop = cancel.IsCancellationRequested;
            if (checkpointDir != null && (last || stop || (_options.CheckpointEvery > 0 && (step + 1) % _options.CheckpointEvery == 0)))
                TrainingCheckpoint.Save(checkpointDir, step + 1, before + clock.Elapsed, model, adam, sgd, Fingerprint());
            if (stop && !last) throw new OperationCanceledException($"stopped after step {step + 1} of {total}");
        }
        model.eval();
        return new TrainingResult(total, lastLoss, before + clock.Elapsed, resumed);
    }

    static bool IsMean(nn.Module model, Parameter p) =>
        AdapterInjection.Adapters(model).Any(a => a.Adapter is BlobAdapter b && ReferenceEquals(b.lora_A, p));

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

    /// <summary>What must not change between a run and its resumption.</summary>
    string Fingerprint() => JsonSerializer.Serialize(new
    {
        _options.Method.Kind, _options.Method.Rank, _options.Method.Alpha, Targets = string.Join(",", _options.Method.Targets),
        _options.Steps, _options.Epochs, _options.BatchSize, _options.GradientAccumulation, _options.LearningRate,
        _options.Seed, _options.KlLearningRate, _options.KlWeighting, _options.GroupByLength, Examples = _data.Count,
    });
}
