using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;

namespace Blob.Training;

/// <summary>Everything that decides a training run. Defaults: the paper's RoBERTa settings (Tables 3–4).</summary>
public sealed record TrainingOptions
{
    public MethodOptions Method { get; init; } = new();
    /// <summary>Optimiser steps. If 0, <see cref="Epochs"/> decides.</summary>
    public int Steps { get; init; }
    public double Epochs { get; init; } = 1;
    /// <summary>Examples per forward pass; an optimiser step sees BatchSize × GradientAccumulation examples.</summary>
    public int BatchSize { get; init; } = 32;
    public int GradientAccumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 5e-4;
    public double WarmupRatio { get; init; } = 0.06;
    /// <summary>AdamW's decoupled weight decay; null: the method's default (1e-5 for MAP and LAP, else 0).</summary>
    public double? WeightDecay { get; init; }
    public double AdamEpsilon { get; init; } = 1e-6;
    public double MaxGradNorm { get; init; } = 0;
    public int MaxLength { get; init; } = 256;
    /// <summary>
    /// Put examples of similar length in the same batch (as Hugging Face's group_by_length): each epoch's shuffle is cut
    /// into mega-batches of 50 batches, each sorted by length, and the batches are then shuffled. Less padding, same data.
    /// </summary>
    public bool GroupByLength { get; init; }
    public long Seed { get; init; } = 1;

    /// <summary>K, the weight samples per training step.</summary>
    public int TrainSamples { get; init; } = 1;

    // Robustness
    /// <summary>Write a checkpoint every this many steps (0: only at the end and on Ctrl-C).</summary>
    public int CheckpointEvery { get; init; }

    public double EffectiveWeightDecay => WeightDecay ?? Method.Kind.DefaultWeightDecay;
    public int ExamplesPerStep => BatchSize * GradientAccumulation;
}
