using System.CommandLine;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using Blob.Models;
using Blob.Runtime;
using Blob.Tokenization;

namespace Blob.Cli.Commands;

/// <summary>--model, --adapter and --precision, shared by the commands that run a causal LM, and loading what they name.</summary>
public static class ModelArguments
{
    public static Option<string> Model() => new("--model")
    {
        Description = "Hugging Face model folder (config.json, safetensors weights, tokenizer files) or Hub id (owner/name)",
        Required = true,
    };

    public static Option<string?> Adapter() => new("--adapter")
    {
        Description = "PEFT adapter folder (adapter_config.json + adapter_model.safetensors) to apply; BLoB adapters run at their mean",
    };

    public static Option<string?> Revision() => ModelSource.Revision();

    public static Option<Precision> Precision() => ExperimentOptions.PrecisionOf("The model's matrix products");

    /// <summary>
    /// The frozen model (with the adapter's mean path, if any) on the CPU, and its tokenizer; a Hub id is fetched into the
    /// cache first (see <see cref="ModelSource"/>).
    /// </summary>
    public static (IDecoderModel Model, ITextTokenizer Tokenizer) LoadCausalLM(string model, string? revision, string? adapterDir, Precision precision = Runtime.Precision.Fp32)
    {
        string modelDir = ModelSource.Resolve(model, revision);
        var baseDtype = Precisions.BaseDtype(precision, TorchSharp.torch.CPU);
        var lm = PretrainedModels.LoadCausalLM(modelDir, new LoadOptions { BaseDtype = baseDtype });
        if (adapterDir is not null)
        {
            PeftAdapterFormat.Load(lm, adapterDir);
            AdapterInjection.SetSampling(lm.Module, false);
            lm.Module.eval();
        }
        return (lm, TokenizerLoader.Load(modelDir));
    }
}
