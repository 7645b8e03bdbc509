using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// BLoB (the paper's method): A ~ N(M, Ω²) with Ω = G² and flipout (<see cref="BlobAdapter"/>), trained by AdamW on
/// the likelihood and a plain SGD step on λ_i·KL with the re-weighted schedule (<see cref="KlSchedule"/>); predicts
/// with N = 10 weight samples. Saved as a PEFT LoRA whose lora_A is the mean M, G under lora_A_rho, and the settings
/// under "blob" in adapter_config.json.
/// </summary>
public sealed class BlobMethod : FineTuningMethod
{
    const string ConfigKey = "blob";

    public override string Name => "blob";
    public override string DisplayName => "BLoB";
    public override string Summary => "BLoB: Bayesian A by variational inference with flipout (the paper's method)";
    public override int DefaultSamples => 10;
    public override bool ReportsMeanPrediction => true; // the paper's "BLoB (N = 0)" rows
    public override string? OptionsSection => "blob";

    public override Adapter CreateAdapter(AdaptableLinear layer, MethodOptions options) =>
        new BlobAdapter(layer.InFeatures, layer.OutFeatures, options.Rank, options.Alpha, options.Blob);

    public override TrainingRule Training(TrainingSetup setup) => new KlStepRule(setup);

    public override bool Saved(string dir, JsonObject? config) => config?[ConfigKey] is JsonObject;

    public override void DescribeInConfig(JsonObject config, Adapter adapter)
    {
        var o = ((BlobAdapter)adapter).Options;
        config[ConfigKey] = new JsonObject
        {
            ["std_parameterization"] = Word(o.Std),
            ["prior_std"] = o.PriorStd,
            ["init_epsilon"] = o.InitEpsilon,
            ["asymmetric"] = o.Asymmetric,
            ["mean_init"] = Word(o.MeanInit),
            ["flipout"] = Word(o.Flipout),
            ["stable_kl"] = o.StableKl,
        };
    }

    public override Adapter LoadAdapter(AdaptableLinear layer, SavedLayer saved)
    {
        var b = saved.Config[ConfigKey]!;
        var defaults = new BlobOptions();
        return new BlobAdapter(layer.InFeatures, layer.OutFeatures, saved.Rank, saved.Alpha, defaults with
        {
            PriorStd = b["prior_std"]?.GetValue<double>() ?? defaults.PriorStd,
            InitEpsilon = b["init_epsilon"]?.GetValue<double>() ?? defaults.InitEpsilon,
            Std = Parse(b["std_parameterization"], defaults.Std, saved.ConfigPath),
            Asymmetric = b["asymmetric"]?.GetValue<bool>() ?? defaults.Asymmetric,
            MeanInit = Parse(b["mean_init"], defaults.MeanInit, saved.ConfigPath),
            Flipout = Parse(b["flipout"], defaults.Flipout, saved.ConfigPath),
            StableKl = b["stable_kl"]?.GetValue<bool>() ?? defaults.StableKl,
        });
    }

    /// <summary>An enum as the settings write it (<see cref="SettingsJson"/>), so that one converter reads both files.</summary>
    static JsonNode? Word<T>(T value) where T : struct, Enum => JsonSerializer.SerializeToNode(value, SettingsJson.Options);

    static T Parse<T>(JsonNode? node, T fallback, string path) where T : struct, Enum
    {
        if (node is null) return fallback;
        try { return node.Deserialize<T>(SettingsJson.Options); }
        catch (JsonException) { throw new BlobException($"{path}: {node.ToJsonString()} is not one of {string.Join(", ", Enum.GetValues<T>().Select(v => Word(v)!.ToJsonString()))}"); }
    }

    /// <summary>
    /// Algorithm 1's two updates. AdamW on the likelihood moves M and B (and G only with StdInAdamW); then a plain SGD
    /// step on λ_i·KL moves M and G (the KL does not involve B), where G also keeps its likelihood gradient, as in the
    /// official code. λ_i follows the re-weighting schedule over M pseudo-rescaled mini-batches (or an epoch, uniform).
    /// </summary>
    sealed class KlStepRule : TrainingRule
    {
        readonly SGD? _sgd;
        readonly long _klCycle;

        public KlStepRule(TrainingSetup setup) : base(setup, LikelihoodParametersOf(setup))
        {
            var klParameters = KlParametersOf(setup);
            _sgd = klParameters.Count > 0 ? optim.SGD(klParameters, Options.KlLearningRate) : null;
            _klCycle = Options.KlWeighting == KlWeighting.Uniform
                ? setup.StepsPerEpoch
                : KlSchedule.PseudoRescaledBatches(setup.Examples, setup.ExamplesPerStep, Options.Gamma);
        }

        BlobOptions Options => Setup.Options.Blob;

        static IReadOnlyList<Parameter> LikelihoodParametersOf(TrainingSetup setup)
        {
            var trainable = AdapterInjection.Trainable(setup.Model).ToList();
            if (setup.Options.Blob.StdInAdamW) return trainable;
            var std = StdParameters(setup.Model);
            return trainable.Where(p => !std.Contains(p)).ToList();
        }

        /// <summary>G and M: the parameters the KL depends on.</summary>
        static IReadOnlyList<Parameter> KlParametersOf(TrainingSetup setup)
        {
            var std = StdParameters(setup.Model);
            if (std.Count == 0) return [];
            var means = AdapterInjection.Adapters(setup.Model).Select(a => a.Adapter).OfType<BlobAdapter>().Select(b => b.lora_A).ToList();
            return AdapterInjection.Trainable(setup.Model).Where(p => std.Contains(p) || means.Any(m => ReferenceEquals(m, p))).ToList();
        }

        static HashSet<Parameter> StdParameters(nn.Module model) =>
            AdapterInjection.Adapters(model).Select(a => a.Adapter).OfType<IVariationalAdapter>().SelectMany(v => v.StdParameters).ToHashSet();

        public override IReadOnlyList<(string Name, OptimizerHelper Optimizer)> Optimizers =>
            _sgd is null ? base.Optimizers : [.. base.Optimizers, ("sgd", _sgd)];

        public override void SetLearningRate(double multiplier)
        {
            base.SetLearningRate(multiplier);
            if (_sgd != null) foreach (var g in _sgd.ParamGroups) g.LearningRate = Options.KlLearningRate * multiplier;
        }

        public override (double Kl, double Lambda) AfterLikelihoodStep(long step)
        {
            if (_sgd is null) return (0, 0);
            using var scope = NewDisposeScope();
            foreach (var p in LikelihoodParameters) p.grad?.zero_(); // the likelihood step is done; keep only G's gradient
            double lambda = KlSchedule.Weight(step + 1, _klCycle, Options.KlWeighting);
            var kl = AdapterInjection.TotalKl(Setup.Model);
            double value = kl.ToDouble();
            (kl * lambda).backward();
            _sgd.step();
            return (value, lambda);
        }
    }
}
