using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Layers;

/// <summary>
/// Puts adapters into a model's linear layers chosen by name, as PEFT's target_modules does: a layer is a target when
/// its full name equals a target or ends with "." + target (so "q_proj" matches "model.layers.3.self_attn.q_proj").
/// A target written as "re:PATTERN" is a regular expression matched against the full name.
/// </summary>
public static class AdapterInjection
{
    /// <summary>
    /// Fills the adapter slot of every targeted <see cref="AdaptableLinear"/> with <paramref name="create"/>(layer, name),
    /// freezes everything else, and returns the names of the adapted layers.
    /// </summary>
    public static IReadOnlyList<string> Inject(nn.Module model, IEnumerable<string> targets,
        Func<AdaptableLinear, string, Adapter> create)
    {
        var targetList = targets.ToList();
        var layers = LinearLayers(model).ToList();
        var chosen = layers.Where(l => targetList.Any(t => Matches(l.Name, t))).ToList();
        if (chosen.Count == 0)
            throw new BlobException($"no linear layer matches the targets [{string.Join(", ", targetList)}]; " +
                                    $"layers are named like: {string.Join(", ", layers.Take(8).Select(l => l.Name))}");
        foreach (var p in model.parameters()) p.requires_grad = false;
        foreach (var (name, layer) in chosen)
        {
            var adapter = create(layer, name);
            adapter.to(layer.weight.device);
            layer.Adapter = adapter;
            foreach (var p in adapter.parameters()) p.requires_grad = true;
        }
        return chosen.Select(c => c.Name).ToList();
    }

    public static bool Matches(string name, string target) =>
        target.StartsWith("re:") ? Regex.IsMatch(name, "^(?:" + target[3..] + ")$") : name == target || name.EndsWith("." + target);

    /// <summary>Every adaptable linear layer of the model with its full name.</summary>
    public static IEnumerable<(string Name, AdaptableLinear Layer)> LinearLayers(nn.Module model) =>
        model.named_modules().Where(m => m.module is AdaptableLinear).Select(m => (m.name, (AdaptableLinear)m.module));

    /// <summary>The adapters in the model with the names of their layers.</summary>
    public static IEnumerable<(string Name, Adapter Adapter)> Adapters(nn.Module model) =>
        LinearLayers(model).Where(l => l.Layer.Adapter != null).Select(l => (l.Name, l.Layer.Adapter!));

    /// <summary>Switches the randomness of every stochastic adapter on (training, N samples) or off (mean, N = 0).</summary>
    public static void SetSampling(nn.Module model, bool sample)
    {
        foreach (var (_, adapter) in Adapters(model))
            if (adapter is IStochasticAdapter s) s.Sample = sample;
    }

    /// <summary>
    /// True when the model's randomness can be drawn S samples per call: at least one adapter draws samples now and
    /// every stochastic adapter is an <see cref="ISampleBatchedAdapter"/>.
    /// </summary>
    public static bool SamplesInBatches(nn.Module model)
    {
        var stochastic = Adapters(model).Select(a => a.Adapter).OfType<IStochasticAdapter>().ToList();
        return stochastic.All(a => a is ISampleBatchedAdapter) && stochastic.Any(a => ((ISampleBatchedAdapter)a).DrawsSamples);
    }

    /// <summary>Sets S, the weight samples per forward call, of every <see cref="ISampleBatchedAdapter"/> (1: ordinary forward).</summary>
    public static void SetSampleCount(nn.Module model, int samples)
    {
        foreach (var (_, adapter) in Adapters(model))
            if (adapter is ISampleBatchedAdapter b) b.SampleCount = samples;
    }

    /// <summary>Total KL of all variational adapters (zero tensor if there are none).</summary>
    public static Tensor TotalKl(nn.Module model)
    {
        Tensor? total = null;
        foreach (var (_, adapter) in Adapters(model))
            if (adapter is IVariationalAdapter v)
            {
                var kl = v.Kl();
                total = total is null ? kl : total + kl.to(total.dtype);
            }
        return total ?? zeros(1).sum();
    }

    /// <summary>Folds every adapter's mean update into its frozen weight (fast deterministic inference).</summary>
    public static void MergeAll(nn.Module model)
    {
        foreach (var (_, layer) in LinearLayers(model)) layer.Merge();
    }

    public static void UnmergeAll(nn.Module model)
    {
        foreach (var (_, layer) in LinearLayers(model)) layer.Unmerge();
    }

    /// <summary>The trainable parameters (the adapters', and any head left trainable).</summary>
    public static IEnumerable<Parameter> Trainable(nn.Module model) => model.parameters().Where(p => p.requires_grad);
}
