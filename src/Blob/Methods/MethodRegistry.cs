namespace Blob.Methods;

/// <summary>
/// The methods by name: the one list that the command line's --method choices and help, the adapter loader and
/// eval are read from. Adding a method is one folder under Methods/ and one line here.
/// </summary>
public static class MethodRegistry
{
    /// <summary>Plain LoRA (maximum likelihood); its name is "mle".</summary>
    public static readonly FineTuningMethod Mle = new MleMethod();
    /// <summary>LoRA with a Gaussian prior (weight decay); its name is "map".</summary>
    public static readonly FineTuningMethod Map = new MapMethod();
    /// <summary>MC dropout; its name is "mcd".</summary>
    public static readonly FineTuningMethod Mcd = new McDropoutMethod();
    /// <summary>A deep ensemble of LoRAs; its name is "ens".</summary>
    public static readonly FineTuningMethod Ens = new EnsembleMethod();
    /// <summary>Bayes by Backprop on A; its name is "bbb".</summary>
    public static readonly FineTuningMethod Bbb = new BbbMethod();
    /// <summary>Laplace-LoRA (post hoc); its name is "lap".</summary>
    public static readonly FineTuningMethod Lap = new LaplaceMethod();
    /// <summary>BLoB, Bayesian low-rank adaptation by backpropagation; its name is "blob".</summary>
    public static readonly FineTuningMethod Blob = new BlobMethod();
    /// <summary>Training-free Bayesianization (post hoc); its name is "tfb".</summary>
    public static readonly FineTuningMethod Tfb = new TfbMethod();

    /// <summary>Every method, in the paper's order (and the order a saved adapter is offered to them).</summary>
    public static IReadOnlyList<FineTuningMethod> All { get; } = [Mle, Map, Mcd, Ens, Bbb, Lap, Blob, Tfb];

    /// <summary>The post-hoc calibrations (--calibrate NAME), applied to any method's predictions.</summary>
    public static IReadOnlyList<Calibrator> Calibrators { get; } = [new TemperatureScaling()];

    /// <summary>The calibration of a name (case-insensitive); throws <see cref="BlobException"/> naming the known ones.</summary>
    public static Calibrator ParseCalibrator(string name) =>
        Calibrators.FirstOrDefault(c => c.Name == name.Trim().ToLowerInvariant())
        ?? throw new BlobException($"unknown calibration '{name}' (known: {string.Join(", ", Calibrators.Select(c => c.Name))})");

    /// <summary>"mle, map, mcd, ...", for help and errors.</summary>
    public static string Names => string.Join(", ", All.Select(m => m.Name));

    /// <summary>The method of a name or alias (case-insensitive); throws <see cref="BlobException"/> naming the known ones.</summary>
    public static FineTuningMethod Parse(string name) => TryParse(name, out var method) ? method
        : throw new BlobException($"unknown method '{name}' (known: {Names})");

    /// <summary>The method of a name or alias (case-insensitive), if there is one.</summary>
    public static bool TryParse(string name, out FineTuningMethod method)
    {
        var key = name.Trim().ToLowerInvariant();
        method = All.FirstOrDefault(m => m.Name == key || m.Aliases.Contains(key))!;
        return method is not null;
    }

    /// <summary>
    /// The method that saved the adapter in DIR: the first whose layout or adapter_config.json section it is
    /// (an ensemble's member folders, BLoB's "blob" section, ...), else plain LoRA, as PEFT saves it.
    /// </summary>
    public static FineTuningMethod OfSavedAdapter(string dir)
    {
        var config = PeftAdapterFormat.ReadConfigObject(dir);
        PeftAdapterFormat.RequireOneMethod(dir, config);
        return All.FirstOrDefault(m => m.Saved(dir, config)) ?? Mle;
    }
}
