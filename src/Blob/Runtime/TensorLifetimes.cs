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
/// <item>While a thread runs tensor code, no other thread of ours allocates managed memory (no thread pool, no
/// timers, no background refresh of the display): helper threads come from <see cref="HelperThreads"/>, and the
/// live progress display redraws when a step or a batch reports. The reason is a TorchSharp hazard: every
/// <c>a + b</c> makes a Scalar (its alpha = 1), as do <c>x * 0.5</c>, <c>pow(2)</c> and the optimisers' updates,
/// and TorchSharp passes its native handle to libtorch and drops the Scalar itself before the call returns. A
/// garbage collection during that call can finalise the Scalar and free its memory while libtorch still reads it:
/// under glibc's malloc the process dies in <c>Scalar::toFloat</c> ("Expected false to be true"); under jemalloc,
/// which leaves freed memory as it was until reused, the same race would read a stale or reused value (derived, not observed). A collection starts during
/// a call when another thread allocates; collections the tensor thread starts itself land between its calls, where
/// the Scalars it dropped are done with (the scratch programs that show both: docs/design.md, "Garbage collections
/// and libtorch calls").</item>
/// <item>Where the host installs the points (<see cref="BlobRuntime.Configure"/>), collections start only where the
/// tensor thread allows them: every training step, prediction batch and
/// sample pass, Laplace batch, KL-convergence step and generated token first calls <see cref="CollectionPoints.Reached"/>,
/// after which the runtime is in a no-GC region that no thread, including those we do not own (the finaliser, the
/// JIT), can start a collection inside; the next point past half its budget collects, on the tensor thread. Rule 5
/// keeps our threads quiet; this covers the rest.</item>
/// </list>
/// Tests hold the code to it with <see cref="Live"/> (a training run, a prediction and a whole compare leave it
/// where it was), rule 5 with a test of the helpers' own allocations and an architecture test of who starts threads, rule 6 with
/// a test that another thread's allocations start no collection after a point, and that training and prediction reach points.
/// </summary>
public static class TensorLifetimes
{
    /// <summary>Tensors made on this thread and not yet disposed (TorchSharp's own count).</summary>
    public static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
}
