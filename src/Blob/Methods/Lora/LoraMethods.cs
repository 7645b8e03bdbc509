namespace Blob.Methods;

/// <summary>MLE: plain LoRA trained by maximum likelihood, predicting with its one set of weights.</summary>
public sealed class MleMethod : FineTuningMethod
{
    public override string Name => "mle";
    public override string DisplayName => "MLE";
    public override string Summary => "plain LoRA, maximum likelihood";
    public override IReadOnlyList<string> Aliases => ["lora"];
}

/// <summary>MAP: plain LoRA with AdamW's weight decay 1e-5, i.e. a Gaussian prior and a point estimate.</summary>
public sealed class MapMethod : FineTuningMethod
{
    public override string Name => "map";
    public override string DisplayName => "MAP";
    public override string Summary => "LoRA with weight decay 1e-5 (a Gaussian prior, point estimate)";
    public override double DefaultWeightDecay => 1e-5;
}
