using System.CommandLine;
using Blob.Adapters;
using Blob.Experiments;
using Blob.Method;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>The options shared by train and compare, and how they become an <see cref="ExperimentSpec"/>.</summary>
public sealed class ExperimentOptions
{
    public readonly Option<string> Model = new("--model") { Description = "Hugging Face model folder, or 'minilm' (built in)", DefaultValueFactory = _ => ModelZoo.BuiltIn };
    public readonly Option<string> Task = new("--task") { Description = "rte, mrpc, wic, cola, boolq, winogrande-s/-m, arc-c, arc-e, obqa, mmlu-chem, mmlu-phys, demo-facts, or custom", DefaultValueFactory = _ => "demo-facts" };
    public readonly Option<string?> DataRoot = new("--data-root") { Description = "Folder with the benchmark files (default ../shared/data)" };
    public readonly Option<string?> Mapping = new("--mapping") { Description = "Custom task: JSON mapping of fields to text, pair and label" };
    public readonly Option<string?> TrainFile = new("--train-file") { Description = "Custom task: training jsonl or csv" };
    public readonly Option<string?> EvalFile = new("--eval-file") { Description = "Custom task: evaluation jsonl or csv" };
    public readonly Option<int> Steps = new("--steps") { Description = "Optimiser steps (0: use --epochs)", DefaultValueFactory = _ => 0 };
    public readonly Option<double> Epochs = new("--epochs") { Description = "Passes over the training set when --steps is 0", DefaultValueFactory = _ => 1 };
    public readonly Option<int> BatchSize = new("--batch-size") { Description = "Examples per forward pass", DefaultValueFactory = _ => 32 };
    public readonly Option<int> GradAccum = new("--grad-accum") { Description = "Forward passes per optimiser step", DefaultValueFactory = _ => 1 };
    public readonly Option<double> LearningRate = new("--lr") { Description = "AdamW learning rate", DefaultValueFactory = _ => 5e-4 };
    public readonly Option<double> KlLearningRate = new("--kl-lr") { Description = "BLoB: learning rate of the SGD step on the KL", DefaultValueFactory = _ => 0.002 };
    public readonly Option<double?> WeightDecay = new("--weight-decay") { Description = "AdamW weight decay (default: 1e-5 for map and lap, else 0)" };
    public readonly Option<int> Rank = new("--rank") { Description = "LoRA rank r", DefaultValueFactory = _ => 8 };
    public readonly Option<double> Alpha = new("--alpha") { Description = "LoRA alpha (scaling alpha/r)", DefaultValueFactory = _ => 8 };
    public readonly Option<string[]> Targets = new("--targets") { Description = "Module names to adapt (default: the model's, e.g. query value / q_proj v_proj lm_head)", AllowMultipleArgumentsPerToken = true };
    public readonly Option<double?> Dropout = new("--lora-dropout") { Description = "LoRA dropout (default 0; 0.1 for mcd)" };
    public readonly Option<int> EnsembleSize = new("--ensemble-size") { Description = "ens: members", DefaultValueFactory = _ => 3 };
    public readonly Option<double> PriorStd = new("--prior-std") { Description = "BLoB: prior standard deviation σp", DefaultValueFactory = _ => 0.2 };
    public readonly Option<double> InitEps = new("--init-eps") { Description = "BLoB: ε, G starts in U(ε/√2, ε)", DefaultValueFactory = _ => 0.05 };
    public readonly Option<string> KlWeightingOption = new("--kl-weighting") { Description = "BLoB: paper | code | uniform (uniform = ablation without re-weighting)", DefaultValueFactory = _ => "paper" };
    public readonly Option<bool> NoAsymmetric = new("--no-asymmetric") { Description = "BLoB ablation: make B Gaussian too (w/o AB)" };
    public readonly Option<bool> Softplus = new("--softplus") { Description = "BLoB ablation: σ = softplus(G) instead of G² (w/o RP)" };
    public readonly Option<string> Flipout = new("--flipout") { Description = "BLoB: signs per 'example' (paper) or per 'token' (official code)", DefaultValueFactory = _ => "example" };
    public readonly Option<string> MeanInit = new("--mean-init") { Description = "BLoB: M init 'paper' U(±√(6/n)) or 'peft' U(±1/√n)", DefaultValueFactory = _ => "paper" };
    public readonly Option<bool> StdInAdamW = new("--std-in-adamw") { Description = "BLoB: also update G with AdamW (default: SGD only, as the official code)" };
    public readonly Option<int> TrainSamples = new("--train-samples") { Description = "BLoB/BBB: K weight samples per step", DefaultValueFactory = _ => 1 };
    public readonly Option<int?> Samples = new("--samples") { Description = "N samples at prediction (default 10 for blob/mcd/bbb, 0 = mean weights)" };
    public readonly Option<int> MaxLength = new("--max-length") { Description = "Maximum tokens per example", DefaultValueFactory = _ => 256 };
    public readonly Option<bool> GroupByLength = new("--group-by-length") { Description = "Batch examples of similar length together (less padding, faster)" };
    public readonly Option<int?> MaxTrain = new("--max-train") { Description = "Use at most N training examples (fixed shuffle)" };
    public readonly Option<int?> MaxEval = new("--max-eval") { Description = "Use at most N evaluation examples (fixed shuffle)" };
    public readonly Option<string[]> Ood = new("--ood") { Description = "Also evaluate on these tasks (out of distribution)", AllowMultipleArgumentsPerToken = true };
    public readonly Option<string> Device = new("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
    public readonly Option<bool> Bf16 = new("--bf16") { Description = "Keep the frozen base weights in bfloat16" };
    public readonly Option<int> CheckpointEvery = new("--checkpoint-every") { Description = "Checkpoint every N steps (0: end and Ctrl-C only)", DefaultValueFactory = _ => 50 };
    public readonly Option<int> EvalBatchSize = new("--eval-batch-size") { Description = "Examples per prediction pass", DefaultValueFactory = _ => 64 };
    public readonly Option<bool> Quiet = new("--quiet") { Description = "Log lines instead of a progress bar" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Task, DataRoot, Mapping, TrainFile, EvalFile, Steps, Epochs, BatchSize, GradAccum,
                     LearningRate, KlLearningRate, WeightDecay, Rank, Alpha, Targets, Dropout, EnsembleSize, PriorStd, InitEps,
                     KlWeightingOption, NoAsymmetric, Softplus, Flipout, MeanInit, StdInAdamW, TrainSamples, Samples, MaxLength, GroupByLength,
                     MaxTrain, MaxEval, Ood, Device, Bf16, CheckpointEvery, EvalBatchSize, Quiet })
            command.Options.Add(o);
    }

    public ExperimentSpec Read(ParseResult p, MethodKind method, long seed) => new()
    {
        Model = p.GetValue(Model)!,
        Task = p.GetValue(Task)!,
        DataRoot = p.GetValue(DataRoot),
        CustomMapping = p.GetValue(Mapping),
        CustomTrain = p.GetValue(TrainFile),
        CustomEval = p.GetValue(EvalFile),
        EvalSamples = p.GetValue(Samples),
        EvalBatchSize = Positive(p.GetValue(EvalBatchSize), "--eval-batch-size"),
        Device = p.GetValue(Device)!,
        BaseInBfloat16 = p.GetValue(Bf16),
        MaxTrain = p.GetValue(MaxTrain),
        MaxEval = p.GetValue(MaxEval),
        OodTasks = p.GetValue(Ood) ?? [],
        Training = new TrainingOptions
        {
            Method = new MethodOptions
            {
                Kind = method,
                Rank = Positive(p.GetValue(Rank), "--rank"),
                Alpha = p.GetValue(Alpha),
                LoraDropout = p.GetValue(Dropout),
                Targets = p.GetValue(Targets) ?? [],
                EnsembleSize = Positive(p.GetValue(EnsembleSize), "--ensemble-size"),
                Blob = new BlobLayerOptions
                {
                    PriorStd = p.GetValue(PriorStd),
                    InitEpsilon = p.GetValue(InitEps),
                    Asymmetric = !p.GetValue(NoAsymmetric),
                    Std = p.GetValue(Softplus) ? StdParameterization.Softplus : StdParameterization.Square,
                    Flipout = p.GetValue(Flipout) switch
                    {
                        "example" => FlipoutScope.Example, "token" => FlipoutScope.Token,
                        var v => throw new BlobException($"--flipout: expected example or token, not '{v}'"),
                    },
                    MeanInit = p.GetValue(MeanInit) switch
                    {
                        "paper" => Adapters.MeanInit.Paper, "peft" => Adapters.MeanInit.Peft,
                        var v => throw new BlobException($"--mean-init: expected paper or peft, not '{v}'"),
                    },
                },
            },
            Steps = p.GetValue(Steps),
            Epochs = p.GetValue(Epochs),
            BatchSize = Positive(p.GetValue(BatchSize), "--batch-size"),
            GradientAccumulation = Positive(p.GetValue(GradAccum), "--grad-accum"),
            LearningRate = p.GetValue(LearningRate),
            KlLearningRate = p.GetValue(KlLearningRate),
            WeightDecay = p.GetValue(WeightDecay),
            KlWeighting = p.GetValue(KlWeightingOption) switch
            {
                "paper" => KlWeighting.Paper, "code" => KlWeighting.Code, "uniform" => KlWeighting.Uniform,
                var v => throw new BlobException($"--kl-weighting: expected paper, code or uniform, not '{v}'"),
            },
            StdInAdamW = p.GetValue(StdInAdamW),
            TrainSamples = Positive(p.GetValue(TrainSamples), "--train-samples"),
            MaxLength = Positive(p.GetValue(MaxLength), "--max-length"),
            GroupByLength = p.GetValue(GroupByLength),
            Seed = seed,
            CheckpointEvery = p.GetValue(CheckpointEvery),
        },
    };

    static int Positive(int value, string name) =>
        value >= 1 ? value : throw new BlobException($"{name} must be at least 1, not {value}");
}
