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
    public override bool AppliesToTrainedLora => true;

    public override Predictor Predictor(PredictionSetup setup)
    {
        var options = setup.Options.Laplace;
        var laplace = LaplaceLora.Fit(setup.Classifier, setup.Train, options, setup.Device, setup.Cancel, FitProgress(setup.Log));
        setup.Log?.Invoke($"Laplace: prior precision {laplace.PriorPrecision:G4} (tuned by marginal likelihood), {laplace.ParameterCount} parameters");
        // the predictive holds a forward pass's graph and its token-level gradients, as the fit does: its batches are no larger
        int batchSize = Math.Min(setup.BatchSize, options.BatchSize);
        return new Predictor(
            (classifier, data, progress) => laplace.PredictProbabilities(data, batchSize, setup.Device, classifier, progress, setup.Cancel),
            $"K-FAC Laplace over {(options.Subset == LaplaceSubset.LastLayer ? "the last LoRA layer" : "all LoRA layers")}, " +
            $"prior precision {laplace.PriorPrecision:G4}, GLM predictive (Monte Carlo)", laplace,
            // its samples are of the logits, not passes through the network: no final embeddings to record
            PredictSampled: options.Probit ? null : (classifier, data, _, progress) =>
                laplace.PredictSampled(data, batchSize, setup.Device, classifier, progress, setup.Cancel));
    }

    /// <summary>A line in the log every 30 s of the fit (C backward passes per batch: minutes on a large split), and at its end.</summary>
    static Action<int, int>? FitProgress(Action<string>? log)
    {
        if (log is null) return null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        return (done, total) =>
        {
            var now = clock.Elapsed;
            if (done < total && now - last < TimeSpan.FromSeconds(30)) return;
            last = now;
            var eta = TimeSpan.FromSeconds(now.TotalSeconds / done * (total - done));
            log($"Laplace fit: {done}/{total} training examples, elapsed {now:hh\\:mm\\:ss}, eta {eta:hh\\:mm\\:ss}");
        };
    }
}
