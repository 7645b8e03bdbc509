using System.Globalization;
using System.Text.Json.Nodes;

namespace Blob.Methods;

/// <summary>
/// Temperature scaling (Guo et al., 2017), applied to a method's averaged probabilities p (N samples averaged first):
/// q_c ∝ p_c^(1/T), that is softmax(log p / T), with one T &gt; 0 fitted by minimising the validation split's NLL.
/// T &gt; 1 softens an overconfident model, T &lt; 1 sharpens an underconfident one; the order of the classes is kept,
/// so accuracy is unchanged.
/// </summary>
public sealed class TemperatureScaling : Calibrator
{
    public override string Name => "temperature";
    public override string DisplayName => "TS";
    public override string Summary => "temperature scaling: one T > 0 fitted on the validation split's NLL, p^(1/T) renormalised";

    /// <summary>The range T is searched in; a fit at either end says so in its note.</summary>
    public const double MinTemperature = 1e-3, MaxTemperature = 1e3;

    public override Calibration Fit(double[][] probabilities, int[] labels) =>
        new Temperature(this, FitTemperature(probabilities, labels), labels.Length);

    public override Calibration Read(JsonObject parameters, string path)
    {
        double t = parameters["temperature"] is JsonValue v && v.TryGetValue<double>(out var x) ? x : double.NaN;
        if (!(t > 0) || !double.IsFinite(t)) throw new BlobException($"{path}: \"temperature\" must be a positive number");
        int n = parameters["fitted_on"] is JsonValue c && c.TryGetValue<int>(out var k) ? k : 0;
        return new Temperature(this, t, n);
    }

    /// <summary>
    /// The T that minimises the NLL of softmax(log p / T) on (probabilities, labels). In β = 1/T the NLL is convex
    /// (a log-sum-exp minus a linear term), and its derivative, E_q[log p] − log p_y averaged over examples, rises with
    /// β; so β is found by bisection on the derivative's sign, in log space over [1/MaxTemperature, 1/MinTemperature].
    /// Probabilities are clamped to <see cref="Evaluation.Metrics.MinProbability"/> before the log, as the NLL metric does.
    /// </summary>
    public static double FitTemperature(double[][] probabilities, int[] labels)
    {
        if (probabilities.Length != labels.Length || labels.Length == 0)
            throw new ArgumentException("temperature scaling needs one label per row, and at least one row");
        var logs = probabilities.Select(row => row.Select(p => Math.Log(Math.Max(p, Evaluation.Metrics.MinProbability))).ToArray()).ToArray();
        if (logs.Any(row => row.Any(x => !double.IsFinite(x))))
            throw new BlobException("temperature scaling: the validation split's probabilities are not all finite numbers");
        double lo = Math.Log(1 / MaxTemperature), hi = Math.Log(1 / MinTemperature);
        if (Derivative(logs, labels, Math.Exp(lo)) >= 0) return MaxTemperature;
        if (Derivative(logs, labels, Math.Exp(hi)) <= 0) return MinTemperature;
        for (int i = 0; i < 100; i++)
        {
            double mid = (lo + hi) / 2;
            if (Derivative(logs, labels, Math.Exp(mid)) > 0) hi = mid; else lo = mid;
        }
        return 1 / Math.Exp((lo + hi) / 2);
    }

    /// <summary>d NLL / d β at β: the mean over examples of Σ_c q_c log p_c − log p_y, with q = softmax(β log p).</summary>
    static double Derivative(double[][] logs, int[] labels, double beta)
    {
        double sum = 0;
        for (int i = 0; i < logs.Length; i++)
        {
            var q = Scaled(logs[i], beta);
            double expected = 0;
            for (int c = 0; c < q.Length; c++) expected += q[c] * logs[i][c];
            sum += expected - logs[i][labels[i]];
        }
        return sum / logs.Length;
    }

    /// <summary>softmax(β · log p), computed stably (the largest term factored out).</summary>
    static double[] Scaled(double[] logs, double beta)
    {
        double max = logs.Max();
        var q = logs.Select(l => Math.Exp(beta * (l - max))).ToArray();
        double z = q.Sum();
        for (int c = 0; c < q.Length; c++) q[c] /= z;
        return q;
    }

    /// <summary>Probabilities at temperature T: softmax(log p / T) row by row.</summary>
    public static double[][] Apply(double[][] probabilities, double temperature) =>
        probabilities.Select(row => row.Any(p => !double.IsFinite(p)) ? row.ToArray()
            : Scaled(row.Select(p => Math.Log(Math.Max(p, Evaluation.Metrics.MinProbability))).ToArray(), 1 / temperature)).ToArray();

    sealed record Temperature(Calibrator Kind, double T, int FittedOn) : Calibration(Kind)
    {
        public override double[][] Apply(double[][] probabilities) => TemperatureScaling.Apply(probabilities, T);

        public override JsonObject Parameters() => new() { ["temperature"] = T, ["fitted_on"] = FittedOn };

        public override string Note =>
            $"temperature scaling: T = {T.ToString("G4", CultureInfo.InvariantCulture)}, fitted on the NLL of {FittedOn} validation examples" +
            (T <= MinTemperature || T >= MaxTemperature ? $" (at the end of the searched range [{MinTemperature}, {MaxTemperature}])" : "");
    }
}
