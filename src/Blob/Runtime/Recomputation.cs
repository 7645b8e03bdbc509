using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Runtime;

/// <summary>
/// Activation checkpointing for one tensor function: autograd keeps only the function's inputs, and backward runs the
/// function again to get what its own backward needs. The recomputation sees the CPU random-number state the first run
/// saw (so dropout draws the same masks), and the state afterwards is what it was before the recomputation, so the
/// random stream of the rest of training is untouched. The same kernels run on the same inputs, so the outputs and
/// the gradients are those of the plain function bit for bit; the cost is the function's forward once more.
/// </summary>
public static class Recomputation
{
    /// <summary>
    /// f(inputs), with f's intermediate tensors recomputed in backward instead of kept. f must read tensors only
    /// through its argument (every tensor it needs is an input, so that autograd keeps it alive) and draw random
    /// numbers only from the CPU's default generator. Without gradients to compute, or off the CPU, f runs plainly.
    /// </summary>
    public static Tensor Apply(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        bool needsGraph = is_grad_enabled() && inputs.Any(x => x.requires_grad);
        if (!needsGraph || inputs.Any(x => x.device_type != DeviceType.CPU)) return f(inputs);
        return RecomputedFunction.apply([f, .. inputs]);
    }

    /// <summary>The autograd node: arguments are f, then f's input tensors; saved are the inputs and the RNG state.</summary>
    sealed class RecomputedFunction : autograd.SingleTensorFunction<RecomputedFunction>
    {
        public override string Name => "RecomputedBackward";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var f = (Func<Tensor[], Tensor>)vars[0];
            var inputs = vars.Skip(1).Cast<Tensor>().ToArray();
            ctx.save_data("f", f);
            ctx.save_data("requires_grad", inputs.Select(x => x.requires_grad).ToArray());
            ctx.save_for_backward([.. inputs, random.get_rng_state()]);
            return f(inputs);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var f = (Func<Tensor[], Tensor>)ctx.get_data("f");
            var requiresGrad = (bool[])ctx.get_data("requires_grad");
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();
            var inputs = saved.Take(saved.Count - 1).Select((x, i) => x.detach().requires_grad_(requiresGrad[i])).ToArray();
            var wanted = inputs.Where(x => x.requires_grad).ToArray();
            var grads = WithRandomState(saved[^1], () =>
            {
                using var _ = enable_grad();
                return autograd.grad([f(inputs)], wanted, [gradOutput]);
            });
            var result = new List<Tensor> { null! };   // f is no tensor
            int next = 0;
            foreach (var x in inputs) result.Add(x.requires_grad ? grads[next++].MoveToOuterDisposeScope() : null!);
            return result;
        }

        /// <summary>Runs <paramref name="body"/> from the given CPU RNG state, then puts the current state back.</summary>
        static T WithRandomState<T>(Tensor state, Func<T> body)
        {
            using var current = random.get_rng_state();
            random.set_rng_state(state);
            try { return body(); }
            finally { random.set_rng_state(current); }
        }
    }
}
