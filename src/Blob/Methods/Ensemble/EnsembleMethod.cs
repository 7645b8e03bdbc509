using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Layers;
using Blob.Models;
using Blob.Runtime;

namespace Blob.Methods;

/// <summary>ENS: the members, and whether a prediction averages their logits (the official code) or probabilities.</summary>
public sealed record EnsembleOptions
{
    /// <summary>Members of the deep ensemble (paper: 3).</summary>
    public int Size { get; init; } = 3;
    public bool AveragesProbabilities { get; init; }
}

/// <summary>
/// Deep ensemble (Lakshminarayanan et al.; the paper's ENS): K independently initialised LoRAs on one frozen base,
/// each trained on the same batches (<see cref="EnsembleAdapter"/>), their predictions combined
/// (<see cref="EnsembleClassifier"/>). Saved as one PEFT adapter per member, in member-1, member-2, ..., beside
/// ensemble.json, which says how the members are combined.
/// </summary>
public sealed class EnsembleMethod : FineTuningMethod
{
    const string MemberPrefix = "member-", SettingsFile = "ensemble.json";

    public override string Name => "ens";
    public override string DisplayName => "ENS";
    public override string Summary => "deep ensemble: K independently initialised LoRAs trained on the same batches";
    public override IReadOnlyList<string> Aliases => ["ensemble"];
    public override string? OptionsSection => "ensemble";

    public override Adapter CreateAdapter(AdaptableLinear layer, MethodOptions options) =>
        new EnsembleAdapter(layer.InFeatures, layer.OutFeatures, options.Ensemble.Size, options.Rank, options.Alpha, options.Dropout);

    public override TrainingRule Training(TrainingSetup setup) => new MembersRule(setup);

    public override Predictor Predictor(PredictionSetup setup)
    {
        var o = setup.Options.Ensemble;
        return new Predictor(
            (classifier, data, progress) => BayesianPrediction.Predict(new EnsembleClassifier(classifier, o.AveragesProbabilities),
                data, 0, setup.BatchSize, setup.Device, progress, setup.Cancel),
            $"{Ensembles.Size(setup.Classifier.Module)} members, {(o.AveragesProbabilities ? "probabilities" : "logits")} averaged",
            PredictSampled: (classifier, data, withEmbeddingVariance, progress) =>
            {
                var members = new MutualInformationRecorder(); // the members are the samples
                return BayesianPrediction.PredictSampled(new EnsembleClassifier(classifier, o.AveragesProbabilities, members.Add), data, 0,
                    setup.BatchSize, setup.Device, withEmbeddingVariance, progress, setup.Cancel,
                    embeddingSamples: Math.Max(1, Ensembles.Size(classifier.Module)), disagreement: members); // each member runs the head once
            });
    }

    public override void Save(ILanguageModel model, MethodOptions options, string dir)
    {
        var layers = AdapterInjection.LinearLayers(model.Module).Where(l => l.Layer.Adapter is EnsembleAdapter).Select(l => l.Layer).ToList();
        var ensembles = layers.Select(l => (EnsembleAdapter)l.Adapter!).ToList();
        try
        {
            for (int m = 0; m < ensembles[0].Size; m++)
            {
                for (int i = 0; i < layers.Count; i++) layers[i].Adapter = ensembles[i].members[m];
                PeftAdapterFormat.Save(model, Path.Combine(dir, $"{MemberPrefix}{m + 1}"), MethodRegistry.Mle, options.SavedFrozen);
            }
        }
        finally
        {
            for (int i = 0; i < layers.Count; i++) layers[i].Adapter = ensembles[i];
        }
        AtomicFile.WriteAllText(Path.Combine(dir, SettingsFile), JsonSerializer.Serialize(new { members = ensembles[0].Size,
            combine = options.Ensemble.AveragesProbabilities ? "probabilities" : "logits" }) + "\n");
    }

    public override bool Saved(string dir, JsonObject? config) => MemberFolders(dir).Length > 0;

    /// <summary>
    /// Loads every member into the one model, as <see cref="EnsembleAdapter"/>s holding the members' LoRAs; returns the
    /// options with the combination the ensemble was saved with (probabilities for folders saved without ensemble.json).
    /// </summary>
    public override MethodOptions Load(ILanguageModel model, string dir, MethodOptions options)
    {
        var members = MemberFolders(dir);
        if (members.Length == 0) throw new BlobException($"{dir}: no {MemberPrefix}* folders (not a saved ensemble)");
        var perLayer = new Dictionary<AdaptableLinear, List<LoraAdapter>>();
        foreach (var member in members)
        {
            PeftAdapterFormat.Load(model, member, MethodRegistry.Mle);
            foreach (var (_, layer) in AdapterInjection.LinearLayers(model.Module).Where(l => l.Layer.Adapter is LoraAdapter))
            {
                if (!perLayer.TryGetValue(layer, out var list)) perLayer[layer] = list = [];
                list.Add((LoraAdapter)layer.Adapter!);
            }
        }
        foreach (var (layer, list) in perLayer)
        {
            if (list.Count != members.Length) throw new BlobException($"{dir}: the members do not adapt the same layers");
            layer.Adapter = new EnsembleAdapter(list);
        }
        return options with { Ensemble = options.Ensemble with { Size = members.Length, AveragesProbabilities = SavedCombination(dir) } };
    }

    static bool SavedCombination(string dir)
    {
        string path = Path.Combine(dir, SettingsFile);
        if (!File.Exists(path)) return true;
        try { return JsonNode.Parse(File.ReadAllText(path))?["combine"]?.GetValue<string>() == "probabilities"; }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new BlobException($"{path}: not an ensemble settings file ({e.Message})"); }
    }

    static string[] MemberFolders(string dir) => Directory.Exists(dir)
        ? Directory.GetDirectories(dir, MemberPrefix + "*").OrderBy(d => d, StringComparer.Ordinal).ToArray() : [];

    /// <summary>Every member learns from every batch: the trainer sums their likelihoods, one member active at a time.</summary>
    sealed class MembersRule(TrainingSetup setup) : TrainingRule(setup)
    {
        public override int Members => Math.Max(1, Ensembles.Size(Setup.Model));
        public override void Activate(int member) => Ensembles.SetActive(Setup.Model, member);
    }
}
