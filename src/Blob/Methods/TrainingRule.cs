using Blob.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>What a method's training rule needs to know of the run.</summary>
/// <param name="WeightDecay">AdamW's decoupled weight decay, the method's default already applied.</param>
/// <param name="Examples">Examples in the training set.</param>
/// <param name="ExamplesPerStep">Examples an optimiser step sees (batch size × gradient accumulation).</param>
/// <param name="StepsPerEpoch">Optimiser steps in one pass over the training set.</param>
public sealed record TrainingSetup(nn.Module Model, MethodOptions Options, double LearningRate, double AdamEpsilon,
    double WeightDecay, int Examples, int ExamplesPerStep, long StepsPerEpoch);

/// <summary>
/// How one optimiser step trains a method's adapters. The trainer runs, for every step:
/// <code>
///   SetLearningRate(warm-up/decay multiplier)
///   for each micro-batch:  nll = Σ over Members (Activate(m)) of −(1/K) Σ_k log P(batch | sample k)
///                          Loss(nll, step).backward()
///   AdamW.step()           on LikelihoodParameters (clipped if asked)
///   AfterLikelihoodStep(step)
/// </code>
/// This base class is plain LoRA's rule: AdamW on every trainable parameter, nothing else. A method overrides what it
/// adds: BBB a KL term in the loss, BLoB a second optimiser with its SGD step on λ·KL, an ensemble its members.
/// The optimisers are the rule's; <see cref="Optimizers"/> names them for the checkpoint, and disposing the rule
/// disposes them.
/// </summary>
public class TrainingRule : IDisposable
{
    protected TrainingSetup Setup { get; }

    /// <summary>The optimiser of the likelihood (paper: AdamW on M and B).</summary>
    public AdamW AdamW { get; }

    /// <summary>The parameters AdamW moves (and gradient clipping sees).</summary>
    public IReadOnlyList<Parameter> LikelihoodParameters { get; }

    public TrainingRule(TrainingSetup setup) : this(setup, AdapterInjection.Trainable(setup.Model).ToList()) { }

    protected TrainingRule(TrainingSetup setup, IReadOnlyList<Parameter> likelihoodParameters)
    {
        Setup = setup;
        LikelihoodParameters = likelihoodParameters;
        AdamW = optim.AdamW(likelihoodParameters, setup.LearningRate, eps: setup.AdamEpsilon, weight_decay: setup.WeightDecay);
    }

    /// <summary>Every optimiser with the name its state is saved under in a checkpoint ("adamw" → adamw.bin).</summary>
    public virtual IReadOnlyList<(string Name, OptimizerHelper Optimizer)> Optimizers => [("adamw", AdamW)];

    /// <summary>Sets the learning rates to their base values times the schedule's multiplier.</summary>
    public virtual void SetLearningRate(double multiplier)
    {
        foreach (var g in AdamW.ParamGroups) g.LearningRate = Setup.LearningRate * multiplier;
    }

    /// <summary>How many members learn from each batch (a deep ensemble's K; 1 otherwise).</summary>
    public virtual int Members => 1;

    /// <summary>Makes member <paramref name="member"/> the one the next forward pass uses.</summary>
    public virtual void Activate(int member) { }

    /// <summary>The loss to backpropagate at (0-based) <paramref name="step"/>, from the micro-batch's likelihood term.</summary>
    public virtual Tensor Loss(Tensor nll, long step) => nll;

    /// <summary>Any step after AdamW's; returns the KL and its weight λ for the progress report (0, 0 without one).</summary>
    public virtual (double Kl, double Lambda) AfterLikelihoodStep(long step) => (0, 0);

    public void Dispose()
    {
        foreach (var (_, optimizer) in Optimizers) optimizer.Dispose();
        GC.SuppressFinalize(this);
    }
}
