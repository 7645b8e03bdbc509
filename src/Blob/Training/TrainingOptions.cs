using System.Text.Json.Serialization;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;

namespace Blob.Training;

/// <summary>Everything that decides a training run. Defaults: the paper's RoBERTa settings (Tables 3–4).</summary>
public sealed record TrainingOptions
{
    /// <summary>The method (BLoB by default) and its adapters' settings.</summary>
    public MethodOptions Method { get; init; } = new();
    /// <summary>Optimiser steps. If 0, <see cref="Epochs"/> decides.</summary>
    public int Steps { get; init; }
    /// <summary>Passes over the training set (fractions allowed), when <see cref="Steps"/> is 0.</summary>
    public double Epochs { get; init; } = 1;
    /// <summary>Examples per forward pass; an optimiser step sees BatchSize × GradientAccumulation examples.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Batches whose gradients are summed before each optimiser step.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>AdamW's peak learning rate (after the linear warm-up, before the linear decay to 0).</summary>
    public double LearningRate { get; init; } = 5e-4;
    /// <summary>The fraction of the steps that warms the learning rate up linearly from 0.</summary>
    public double WarmupRatio { get; init; } = 0.06;
    /// <summary>AdamW's decoupled weight decay; null: the method's default (1e-5 for MAP and LAP, else 0).</summary>
    public double? WeightDecay { get; init; }
    /// <summary>AdamW's ε.</summary>
    public double AdamEpsilon { get; init; } = 1e-6;
    /// <summary>Clip the likelihood's gradient to this norm; 0: no clipping.</summary>
    public double MaxGradNorm { get; init; } = 0;
    /// <summary>Tokens per example, special tokens included; longer examples are truncated.</summary>
    public int MaxLength { get; init; } = 256;
    /// <summary>
    /// Put examples of similar length in the same batch (as Hugging Face's group_by_length): each epoch's shuffle is cut
    /// into mega-batches of 50 batches, each sorted by length, and the batches are then shuffled. Less padding, same data.
    /// </summary>
    public bool GroupByLength { get; init; }
    /// <summary>The seed of the data order and of the random numbers of training (weights, flipout signs, dropout).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>K, the weight samples per training step.</summary>
    public int TrainSamples { get; init; } = 1;

    // Robustness
    /// <summary>Write a checkpoint every this many steps (0: only at the end and on Ctrl-C).</summary>
    [ChangesNoResult]
    public int CheckpointEvery { get; init; } = 50;

    [JsonIgnore]
    public double EffectiveWeightDecay => WeightDecay ?? Method.Kind.DefaultWeightDecay;
    [JsonIgnore]
    public int ExamplesPerStep => BatchSize * GradientAccumulation;
}
