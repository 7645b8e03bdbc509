using System.Text.Json.Nodes;
using Blob.Layers;

namespace Blob.Methods;

/// <summary>
/// MC dropout (Gal and Ghahramani): LoRA trained with dropout 0.1 on its input, the dropout kept on at test time and
/// N = 10 masks averaged. Saved as a PEFT LoRA with "mc_dropout": true in adapter_config.json.
/// </summary>
public sealed class McDropoutMethod : FineTuningMethod
{
    const string ConfigKey = "mc_dropout";

    public override string Name => "mcd";
    public override string DisplayName => "MCD";
    public override string Summary => "MC dropout: LoRA dropout 0.1 kept on at test time, N samples averaged";
    public override IReadOnlyList<string> Aliases => ["mc-dropout", "mcdropout"];
    public override double DefaultDropout => 0.1;
    public override int DefaultSamples => 10;

    public override Adapter CreateAdapter(AdaptableLinear layer, MethodOptions options) =>
        new LoraAdapter(layer.InFeatures, layer.OutFeatures, options.Rank, options.Alpha, options.Dropout) { DropoutAtInference = true };

    public override bool Saved(string dir, JsonObject? config) => config?[ConfigKey]?.GetValue<bool>() == true;

    public override void DescribeInConfig(JsonObject config, Adapter adapter) => config[ConfigKey] = true;

    public override Adapter LoadAdapter(AdaptableLinear layer, SavedLayer saved) =>
        new LoraAdapter(layer.InFeatures, layer.OutFeatures, saved.Rank, saved.Alpha, saved.Dropout) { DropoutAtInference = true };
}
