using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Blob.Methods;

/// <summary>
/// A post-hoc calibration of any method's predictions (a folder under Methods/ and a line in
/// <see cref="MethodRegistry.Calibrators"/>): fitted on the validation split's averaged class probabilities, then applied
/// to every other split's. It sees probabilities only, never the network, so it can be fitted on a finished run's saved
/// predictions. A calibration may change a prediction's confidence, never its answer.
/// </summary>
public abstract class Calibrator
{
    /// <summary>The name on the command line (--calibrate NAME) and in calibration.json.</summary>
    public abstract string Name { get; }

    /// <summary>The suffix of a calibrated row in tables: "XY" gives the method name "mle+xy".</summary>
    public abstract string DisplayName { get; }

    /// <summary>One line for --help.</summary>
    public abstract string Summary { get; }

    /// <summary>Fits the calibration on the validation split's probabilities [examples][classes] and labels.</summary>
    public abstract Calibration Fit(double[][] probabilities, int[] labels);

    /// <summary>A saved calibration's parameters (the "parameters" object of calibration.json) as a calibration.</summary>
    public abstract Calibration Read(JsonObject parameters, string path);

    public override string ToString() => Name;
}

/// <summary>A fitted calibration: what it does to probabilities, its parameters, and one line that says so in results.</summary>
public abstract record Calibration(Calibrator Kind)
{
    /// <summary>The calibrated probabilities, a new array of the same shape; each row's top class is unchanged.</summary>
    public abstract double[][] Apply(double[][] probabilities);

    /// <summary>The fitted parameters, read back by <see cref="Calibrator.Read"/>.</summary>
    public abstract JsonObject Parameters();

    /// <summary>What was fitted, with its parameters and the examples it was fitted on, for a result's notes.</summary>
    public abstract string Note { get; }
}

/// <summary>Reads and writes a calibrator as its registry name.</summary>
public sealed class CalibratorNameConverter : JsonConverter<Calibrator>
{
    public override Calibrator Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        MethodRegistry.ParseCalibrator(reader.GetString() ?? "");

    public override void Write(Utf8JsonWriter writer, Calibrator value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
