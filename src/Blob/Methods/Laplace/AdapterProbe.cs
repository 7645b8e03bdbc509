using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Watches the forward passes of LoRA adapters (through <see cref="LoraAdapter.Observer"/>) and gives, for each LoRA
/// matrix W seen as s = W·a, what K-FAC and the GLM predictive need: its inputs a and, for a direction v on the logits
/// f, the output gradients g = ∂(vᵀf)/∂s. With Δ = scaling·B·A·x:
///     A:  a = x,    g = scaling · (∂/∂Δ) · B       (r-dimensional)
///     B:  a = A·x,  g = scaling · ∂/∂Δ             (out-dimensional)
/// Matrices come in the order A₀, B₀, A₁, B₁, ...; tensors are [batch, tokens, features] (a layer applied to
/// [batch, features] has one token). Examples must not interact (no batch norm), so that the gradient of Σ_n vₙᵀfₙ
/// at example n is example n's own.
/// </summary>
internal sealed class AdapterProbe : IDisposable
{
    readonly IReadOnlyList<LoraAdapter> _adapters;
    readonly Tensor?[] _inputs, _outputs;
    readonly (bool A, bool B)[] _requiredGrad;

    public AdapterProbe(IReadOnlyList<LoraAdapter> adapters)
    {
        _adapters = adapters;
        _inputs = new Tensor?[adapters.Count];
        _outputs = new Tensor?[adapters.Count];
        _requiredGrad = new (bool, bool)[adapters.Count];
        for (int i = 0; i < adapters.Count; i++)
        {
            int k = i;
            var adapter = adapters[i];
            _requiredGrad[i] = (adapter.lora_A.requires_grad, adapter.lora_B.requires_grad);
            adapter.lora_A.requires_grad = true; // so that Δ is part of the graph
            adapter.lora_B.requires_grad = true;
            // The model may free x and Δ when its layer's dispose scope ends (Llama does): keep handles of our own,
            // outside every scope, released at the next forward pass or on Dispose.
            adapter.Observer = (x, delta) =>
            {
                _inputs[k] = x.detach().DetachFromDisposeScope();
                _outputs[k] = delta.alias().DetachFromDisposeScope();
            };
        }
    }

    /// <summary>The class logits [batch, C] of a forward pass with gradients on, which the probe watches.</summary>
    public Tensor Logits(IClassifier classifier, Batch batch)
    {
        Release();
        using var _ = enable_grad();
        return classifier.ClassLogits(batch);
    }

    /// <summary>The inputs a of every LoRA matrix of the last forward pass, [batch, tokens, in_W], detached.</summary>
    public Tensor[] MatrixInputs(long batch)
    {
        using var _ = no_grad();
        var result = new Tensor[2 * _adapters.Count];
        for (int i = 0; i < _adapters.Count; i++)
        {
            var x = Captured(_inputs[i], i);
            var tokens = x.reshape(batch, -1, x.shape[^1]);
            result[2 * i] = tokens;
            result[2 * i + 1] = tokens.matmul(_adapters[i].lora_A.t());
        }
        return result;
    }

    /// <summary>The output gradients g of every LoRA matrix for the direction v [batch, C] on the logits, [batch, tokens, out_W].</summary>
    public Tensor[] OutputGradients(Tensor logits, Tensor direction)
    {
        var deltas = _outputs.Select((d, i) => Captured(d, i)).ToList();
        var objective = logits.mul(direction.detach()).sum();
        var grads = autograd.grad([objective], deltas, retain_graph: true);
        using var _ = no_grad();
        var result = new Tensor[2 * _adapters.Count];
        for (int i = 0; i < _adapters.Count; i++)
        {
            var adapter = _adapters[i];
            var dDelta = grads[i].reshape(logits.shape[0], -1, grads[i].shape[^1]).mul(adapter.Scaling);
            result[2 * i] = dDelta.matmul(adapter.lora_B);
            result[2 * i + 1] = dDelta;
        }
        return result;
    }

    Tensor Captured(Tensor? t, int adapter) => t ?? throw new BlobException(
        $"the LoRA adapter #{adapter} took no part in the forward pass, so the Laplace approximation cannot cover it");

    void Release()
    {
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i]?.Dispose();
            _outputs[i]?.Dispose();
            _inputs[i] = _outputs[i] = null;
        }
    }

    public void Dispose()
    {
        Release();
        for (int i = 0; i < _adapters.Count; i++)
        {
            _adapters[i].Observer = null;
            _adapters[i].lora_A.requires_grad = _requiredGrad[i].A;
            _adapters[i].lora_B.requires_grad = _requiredGrad[i].B;
        }
    }
}
