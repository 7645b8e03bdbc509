using TorchSharp;

namespace Blob.Runtime;

/// <summary>
/// The one rule for native tensor lifetimes, which every file follows (a TorchSharp tensor holds native memory that
/// .NET's garbage collector neither sees nor frees in time):
/// <list type="number">
/// <item>Every piece of work that makes tensors runs inside a dispose scope (<c>using var scope = NewDisposeScope()</c>):
/// a training run and each of its micro-batches and extra steps, each prediction batch and each of its sample
/// passes, a Laplace or TFB fit. Every tensor made inside dies when the scope ends.</item>
/// <item>What must outlive its scope is moved out on purpose (<c>MoveToOuterDisposeScope</c>,
/// <c>DetachFromDisposeScope</c>) and then has exactly one owner who disposes it: parameters and buffers belong to
/// their module, optimiser states to their optimiser, a fitted Laplace approximation to its predictor
/// (<see cref="IDisposable"/>). Results leave scopes as .NET arrays and numbers, never as tensors.</item>
/// <item>Whoever loads a model disposes it, with its adapters (<c>Experiment.Run</c> and <c>EvaluateAdapter</c> when
/// their run ends, so that a <c>compare</c> holds one run's model at a time); the trainer disposes its
/// <c>TrainingRule</c>, and the rule its optimisers, when training ends.</item>
/// <item>Temporaries made outside any scope (setup code, one-off conversions) are disposed with <c>using</c>.</item>
/// </list>
/// Tests hold the code to it with <see cref="Live"/>: a training run, a prediction and a whole compare leave it
/// where it was.
/// </summary>
public static class TensorLifetimes
{
    /// <summary>Tensors made on this thread and not yet disposed (TorchSharp's own count).</summary>
    public static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
}
