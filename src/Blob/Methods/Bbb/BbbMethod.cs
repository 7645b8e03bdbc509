using System.Text.Json.Nodes;
using Blob.Layers;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Bayes by Backprop on LoRA's A (the paper's BBB baseline, see <see cref="BbbAdapter"/>): one AdamW step on
/// NLL + KL / M, M the optimiser steps per epoch, and N = 10 weight samples at prediction.
/// </summary>
public sealed class BbbMethod : FineTuningMethod
{
    const string ConfigKey = "bbb";

    public override string Name => "bbb";
    public override string DisplayName => "BBB";
    public override string Summary => "Bayes by Backprop on A: softplus σ, prior N(0, 1), KL weight 1/M in the same AdamW step";
    public override int DefaultSamples => 10;

    public override Adapter CreateAdapter(AdaptableLinear layer, MethodOptions options) =>
        new BbbAdapter(layer.InFeatures, layer.OutFeatures, options.Rank, options.Alpha);

    public override TrainingRule Training(TrainingSetup setup) => new JointKlRule(setup);

    public override bool Saved(string dir, JsonObject? config) => config?[ConfigKey] is JsonObject;

    public override void DescribeInConfig(JsonObject config, Adapter adapter) =>
        config[ConfigKey] = new JsonObject { ["std_parameterization"] = "softplus", ["prior_std"] = ((BbbAdapter)adapter).PriorStd };

    public override Adapter LoadAdapter(AdaptableLinear layer, SavedLayer saved) =>
        new BbbAdapter(layer.InFeatures, layer.OutFeatures, saved.Rank, saved.Alpha, saved.Config[ConfigKey]?["prior_std"]?.GetValue<double>() ?? 1.0);

    /// <summary>The likelihood and the KL in one loss, NLL + KL / M, minimised by the one AdamW.</summary>
    sealed class JointKlRule(TrainingSetup setup) : TrainingRule(setup)
    {
        public override Tensor Loss(Tensor nll, long step) => nll + AdapterInjection.TotalKl(Setup.Model) * (1.0 / Setup.StepsPerEpoch);
    }
}
