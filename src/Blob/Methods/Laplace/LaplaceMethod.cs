namespace Blob.Methods;

/// <summary>
/// Laplace-LoRA (Yang et al.; the paper's LAP): trained as MAP (weight decay 1e-5), then a post-hoc K-FAC Laplace
/// approximation over the LoRA weights, fitted on the training set, with the GLM predictive (<see cref="LaplaceLora"/>).
/// Post hoc, so it also applies to a saved plain-LoRA adapter.
/// </summary>
public sealed class LaplaceMethod : FineTuningMethod
{
    public override string Name => "lap";
    public override string DisplayName => "LAP";
    public override string Summary => "Laplace-LoRA: MAP training, then a post-hoc K-FAC Laplace approximation over the LoRA weights";
    public override IReadOnlyList<string> Aliases => ["laplace"];
    public override double DefaultWeightDecay => 1e-5;
    public override string? OptionsSection => "laplace";
    public override object? OwnOptions(MethodOptions options) => options.Laplace;
    public override bool AppliesToTrainedLora => true;

    public override Predictor Predictor(PredictionSetup setup)
    {
        var options = setup.Options.Laplace;
        var laplace = LaplaceLora.Fit(setup.Classifier, setup.Train, options, setup.Device, setup.Cancel);
        setup.Log?.Invoke($"Laplace: prior precision {laplace.PriorPrecision:G4} (tuned by marginal likelihood), {laplace.ParameterCount} parameters");
        return new Predictor(
            (classifier, data, progress) => laplace.PredictProbabilities(data, setup.BatchSize, setup.Device, classifier, progress, setup.Cancel),
            $"K-FAC Laplace over {(options.Subset == LaplaceSubset.LastLayer ? "the last LoRA layer" : "all LoRA layers")}, " +
            $"prior precision {laplace.PriorPrecision:G4}, GLM predictive (Monte Carlo)", laplace);
    }
}
