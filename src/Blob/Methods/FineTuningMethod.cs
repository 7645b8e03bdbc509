using System.Text.Json.Nodes;
using Blob.Data;
using Blob.Layers;
using Blob.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// One fine-tuning method of the paper's comparison (Sec. 4.1): a folder under Methods/ and a line in
/// <see cref="MethodRegistry"/>. It holds what differs between methods, and only that:
/// <list type="bullet">
/// <item>the adapter it puts into each targeted linear layer (<see cref="CreateAdapter"/>);</item>
/// <item>how a training step optimises it: optimisers, an extra loss, an extra step (<see cref="Training"/>);</item>
/// <item>how the trained model predicts: N samples, members, Laplace (<see cref="Predictor"/>);</item>
/// <item>what it saves beside PEFT's files, and how its saved adapter is recognised and loaded.</item>
/// </list>
/// The defaults below are plain LoRA's; a method overrides what it changes.
/// </summary>
public abstract class FineTuningMethod
{
    /// <summary>The name on the command line and in results: mle, blob, ...</summary>
    public abstract string Name { get; }

    /// <summary>The name in tables, notes and pictures: MLE, BLoB, ...</summary>
    public abstract string DisplayName { get; }

    /// <summary>One line for --help.</summary>
    public abstract string Summary { get; }

    /// <summary>Other names --method accepts (lora, laplace, ...).</summary>
    public virtual IReadOnlyList<string> Aliases => [];

    /// <summary>LoRA dropout when --lora-dropout is not given.</summary>
    public virtual double DefaultDropout => 0;

    /// <summary>AdamW's weight decay when --weight-decay is not given.</summary>
    public virtual double DefaultWeightDecay => 0;

    /// <summary>N, the weight samples a prediction averages when --samples is not given (0: one pass with the mean).</summary>
    public virtual int DefaultSamples => 0;

    /// <summary>
    /// Whether a run that predicts with N &gt; 0 samples also evaluates the mean weights (N = 0) on each split, as the
    /// paper's tables report BLoB at N = 0 and N = 10 (the files mean-result.json …, the method "NAME-n0" in tables).
    /// </summary>
    public virtual bool ReportsMeanPrediction => false;

    /// <summary>
    /// The section of <see cref="MethodOptions"/> that only this method reads ("blob", "ensemble", "laplace"), or null.
    /// A run of another method ignores that section, so that changing it keeps the other methods' runs reusable.
    /// </summary>
    public virtual string? OptionsSection => null;

    /// <summary>
    /// Whether the method can be applied to a saved plain-LoRA adapter after training (Laplace, TFB), so that
    /// eval --method NAME runs it on an MLE adapter.
    /// </summary>
    public virtual bool AppliesToTrainedLora => false;

    /// <summary>The adapter put into one targeted linear layer.</summary>
    public virtual Adapter CreateAdapter(AdaptableLinear layer, MethodOptions options) =>
        new LoraAdapter(layer.InFeatures, layer.OutFeatures, options.Rank, options.Alpha, options.Dropout);

    /// <summary>How every optimiser step trains the adapters (here: AdamW on the likelihood).</summary>
    public virtual TrainingRule Training(TrainingSetup setup) => new(setup);

    /// <summary>How the trained model predicts (here: the mean of N sample passes; N = 0 is one pass with the mean).</summary>
    public virtual Predictor Predictor(PredictionSetup setup) => BayesianPrediction.Averaging(setup, setup.Samples ?? DefaultSamples);

    /// <summary>Saves the trained adapter into DIR (here: one PEFT adapter folder with this method's config section).</summary>
    public virtual void Save(ILanguageModel model, MethodOptions options, string dir) => PeftAdapterFormat.Save(model, dir, this, options.SavedFrozen);

    /// <summary>
    /// Loads an adapter this method saved (or a PEFT LoRA) from DIR into the model, and returns the options to predict
    /// with: <paramref name="options"/>, with whatever the saved adapter fixes (an ensemble's combination) filled in.
    /// </summary>
    public virtual MethodOptions Load(ILanguageModel model, string dir, MethodOptions options)
    {
        PeftAdapterFormat.Load(model, dir, this);
        return options;
    }

    /// <summary>Whether DIR holds an adapter this method saved (its layout, or its section of adapter_config.json).</summary>
    public virtual bool Saved(string dir, JsonObject? config) => false;

    /// <summary>This method's own fields of adapter_config.json, written beside PEFT's (PEFT ignores them).</summary>
    public virtual void DescribeInConfig(JsonObject config, Adapter adapter) { }

    /// <summary>The adapter of one layer of a saved adapter, before its tensors are copied in.</summary>
    public virtual Adapter LoadAdapter(AdaptableLinear layer, SavedLayer saved) =>
        new LoraAdapter(layer.InFeatures, layer.OutFeatures, saved.Rank, saved.Alpha, saved.Dropout);

    public override string ToString() => Name;
}

/// <summary>One layer of a saved adapter as adapter_config.json describes it; Config is the whole file.</summary>
public sealed record SavedLayer(int Rank, double Alpha, double Dropout, JsonObject Config, string ConfigPath);
