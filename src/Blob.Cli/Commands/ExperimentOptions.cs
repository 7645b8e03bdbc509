using System.CommandLine;
using Blob.Layers;
using Blob.Methods;
using Blob.Data;
using Blob.Runtime;
using Blob.Experiments;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>The options shared by train and compare, and how they become an <see cref="ExperimentSpec"/>.</summary>
public sealed class ExperimentOptions
{
    static readonly string[] TaskNames = [.. Tasks.Names, DemoTask.Name, NoisyDemoTask.Name, AmbiguousDemoTask.Name, AmbiguousDemoTask.TuningName];

    /// <summary>The one set of defaults: the records' own (<see cref="ExperimentSpec"/>); no option declares another.</summary>
    static readonly ExperimentSpec Defaults = new();
    static TrainingOptions TrainingDefaults => Defaults.Training;
    static MethodOptions MethodDefaults => Defaults.Training.Method;
    static BlobOptions BlobDefaults => Defaults.Training.Method.Blob;

    public readonly Option<string> Model = new("--model") { Description = "Hugging Face model folder, a Hub id (owner/name, downloaded into the Hugging Face cache), or 'minilm' (built in)", DefaultValueFactory = _ => Defaults.Model };
    public readonly Option<string?> Revision = ModelSource.Revision();
    public readonly Option<string> Task = new Option<string>("--task") { Description = $"{string.Join(", ", TaskNames)} (or custom, with --mapping, --train-file and --eval-file)", DefaultValueFactory = _ => Defaults.Task }.OneOf([.. TaskNames, "custom"]);
    public readonly Option<string?> DataRoot = new("--data-root") { Description = "Folder with the benchmark files (default ../shared/data)" };
    public readonly Option<string?> Mapping = new("--mapping") { Description = "Custom task: JSON mapping of fields to text, pair and label" };
    public readonly Option<string?> TrainFile = new("--train-file") { Description = "Custom task: training jsonl or csv" };
    public readonly Option<string?> EvalFile = new("--eval-file") { Description = "Custom task: evaluation jsonl or csv" };
    public readonly Option<int> Steps = new Option<int>("--steps") { Description = "Optimiser steps (0: use --epochs)", DefaultValueFactory = _ => TrainingDefaults.Steps }.AtLeast(0);
    public readonly Option<double> Epochs = new Option<double>("--epochs") { Description = "Passes over the training set when --steps is 0", DefaultValueFactory = _ => TrainingDefaults.Epochs }.Positive();
    public readonly Option<int> BatchSize = new Option<int>("--batch-size") { Description = "Examples per forward pass", DefaultValueFactory = _ => TrainingDefaults.BatchSize }.AtLeast(1);
    public readonly Option<int> GradAccum = new Option<int>("--grad-accum") { Description = "Forward passes per optimiser step", DefaultValueFactory = _ => TrainingDefaults.GradientAccumulation }.AtLeast(1);
    public readonly Option<double> LearningRate = new Option<double>("--lr") { Description = "AdamW learning rate", DefaultValueFactory = _ => TrainingDefaults.LearningRate }.Positive();
    public readonly Option<double> KlLearningRate = new Option<double>("--kl-lr") { Description = "BLoB: learning rate of the SGD step on the KL", DefaultValueFactory = _ => BlobDefaults.KlLearningRate }.NonNegative();
    public readonly Option<double?> WeightDecay = new Option<double?>("--weight-decay") { Description = "AdamW weight decay (default: 1e-5 for map and lap, else 0)" }.NonNegative();
    public readonly Option<int> Rank = new Option<int>("--rank") { Description = "LoRA rank r", DefaultValueFactory = _ => MethodDefaults.Rank }.AtLeast(1);
    public readonly Option<double> Alpha = new Option<double>("--alpha") { Description = "LoRA alpha (scaling alpha/r)", DefaultValueFactory = _ => MethodDefaults.Alpha }.Positive();
    public readonly Option<string[]> Targets = new("--targets") { Description = "Module names to adapt (default: the model's, e.g. query value / q_proj v_proj lm_head)", AllowMultipleArgumentsPerToken = true };
    public readonly Option<double?> Dropout = new Option<double?>("--lora-dropout") { Description = "LoRA dropout (default 0; 0.1 for mcd)" }.Fraction();
    public readonly Option<int> EnsembleSize = new Option<int>("--ensemble-size") { Description = "ens: members", DefaultValueFactory = _ => MethodDefaults.Ensemble.Size }.AtLeast(1);
    public readonly Option<double> PriorStd = new Option<double>("--prior-std") { Description = "BLoB: prior standard deviation σp", DefaultValueFactory = _ => BlobDefaults.PriorStd }.Positive();
    public readonly Option<double> InitEps = new Option<double>("--init-eps") { Description = "BLoB: ε, G starts in U(ε/√2, ε)", DefaultValueFactory = _ => BlobDefaults.InitEpsilon }.Positive();
    public readonly Option<KlWeighting> KlWeightingOption = WordOption.Of("--kl-weighting", "BLoB: paper | code | uniform (uniform = ablation without re-weighting)", BlobDefaults.KlWeighting);
    public readonly Option<bool> NoAsymmetric = new("--no-asymmetric") { Description = "BLoB ablation: make B Gaussian too (w/o AB)" };
    public readonly Option<bool> Softplus = new("--softplus") { Description = "BLoB ablation: σ = softplus(G) instead of G² (w/o RP)" };
    public readonly Option<FlipoutScope> Flipout = WordOption.Of("--flipout", "BLoB: signs per 'example' (paper) or per 'token' (official code)", BlobDefaults.Flipout);
    public readonly Option<MeanInit> MeanInit = WordOption.Of("--mean-init", "BLoB: M init 'paper' U(±√(6/n)) or 'peft' U(±1/√n)", BlobDefaults.MeanInit);
    public readonly Option<double> KlGamma = new Option<double>("--kl-gamma") { Description = "BLoB: γ of the KL cycle's pseudo-rescaling, M = ⌊100·N^(π/γ)/batch⌋ (a larger γ: a shorter cycle, more cycles per run)", DefaultValueFactory = _ => BlobDefaults.Gamma }.Positive();
    public readonly Option<HeadTraining> Head = WordOption.Of("--head",
        "An encoder's fresh classification head: 'trained' in full; 'adapted' (the method's adapter on the head too, head trained); " +
        "'adapted-frozen' (the adapter on the head, its own weights frozen at initialisation, as the official BLoB code)", MethodDefaults.Head);
    public readonly Option<Calibrator?> Calibrate = new("--calibrate")
    {
        Description = $"Post-hoc calibration fitted on the validation split (needs --validation-fraction) and applied to every split, reported as METHOD+TS beside METHOD: " +
                      string.Join("; ", MethodRegistry.Calibrators.Select(c => $"{c.Name}: {c.Summary}")),
        HelpName = string.Join("|", MethodRegistry.Calibrators.Select(c => c.Name)),
        // parsed here, once, into the calibration it names
        CustomParser = result =>
        {
            var name = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (MethodRegistry.Calibrators.FirstOrDefault(c => c.Name == name) is { } calibrator) return calibrator;
            result.AddError($"--calibrate '{name}': expected {string.Join(", ", MethodRegistry.Calibrators.Select(c => c.Name))}");
            return null;
        },
    };
    public readonly Option<bool> StdInAdamW = new("--std-in-adamw") { Description = "BLoB: also update G with AdamW (default: SGD only, as the official code)" };
    public readonly Option<bool> LaplaceLastLayer = new("--lap-last-layer") { Description = "lap: Laplace over the last LoRA layer only" };
    public readonly Option<int> TrainSamples = new Option<int>("--train-samples") { Description = "BLoB/BBB: K weight samples per step", DefaultValueFactory = _ => TrainingDefaults.TrainSamples }.AtLeast(1);
    public readonly Option<int?> Samples = new Option<int?>("--samples") { Description = "N samples at prediction (default 10 for blob/mcd/bbb, 0 = mean weights)" }.AtLeast(0);
    public readonly Option<int> MaxLength = new Option<int>("--max-length") { Description = "Maximum tokens per example", DefaultValueFactory = _ => TrainingDefaults.MaxLength }.AtLeast(2);
    public readonly Option<bool> GroupByLength = new("--group-by-length") { Description = "Batch examples of similar length together (less padding, faster)" };
    public readonly Option<int?> MaxTrain = new Option<int?>("--max-train") { Description = "Use at most N training examples (fixed shuffle)" }.AtLeast(1);
    public readonly Option<int?> MaxEval = new Option<int?>("--max-eval") { Description = "Use at most N evaluation examples (fixed shuffle)" }.AtLeast(1);
    public readonly Option<string[]> Ood = new Option<string[]>("--ood") { Description = "Also evaluate on these tasks (out of distribution)", AllowMultipleArgumentsPerToken = true }
        .Must(names => names.FirstOrDefault(n => !Tasks.Names.Contains(n)) is { } bad ? $"unknown task '{bad}' (known: {string.Join(", ", Tasks.Names)})" : null);
    public readonly Option<double> ValidationFraction = new Option<double>("--validation-fraction")
    {
        Description = "Blind protocol: hold out this fraction of the training split (label-stratified, the same for every method and seed) as the validation split to choose settings on; 0 = none",
        DefaultValueFactory = _ => Defaults.ValidationFraction,
    }.Must(v => v >= 0 && v < 1, "must be in [0, 1)");
    public readonly Option<EvaluatedSplits?> Evaluate = WordOption.Optional<EvaluatedSplits>("--evaluate",
        "Splits to evaluate: validation, dev or both (default: validation with --validation-fraction, else dev); a finished run is reused, and only the splits it lacks are evaluated");
    public readonly Option<string> Device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto (CUDA when this build has it)", DefaultValueFactory = _ => Defaults.Device }.Must(Devices.Problem);
    public readonly Option<Precision> PrecisionOption = PrecisionOf("Frozen base's matrix products");
    public readonly Option<int> CheckpointEvery = new Option<int>("--checkpoint-every") { Description = "Checkpoint every N steps (0: end and Ctrl-C only)", DefaultValueFactory = _ => TrainingDefaults.CheckpointEvery }.AtLeast(0);
    public readonly Option<int> EvalBatchSize = new Option<int>("--eval-batch-size") { Description = "Examples per prediction pass", DefaultValueFactory = _ => Defaults.EvalBatchSize }.AtLeast(1);
    public readonly Option<bool> Quiet = new("--quiet") { Description = "Log lines instead of a progress bar" };

    Option[] All => [Model, Revision, Task, DataRoot, Mapping, TrainFile, EvalFile, Steps, Epochs, BatchSize, GradAccum,
        LearningRate, KlLearningRate, WeightDecay, Rank, Alpha, Targets, Dropout, EnsembleSize, PriorStd, InitEps,
        KlWeightingOption, KlGamma, Head, Calibrate, NoAsymmetric, Softplus, Flipout, MeanInit, StdInAdamW, LaplaceLastLayer, TrainSamples, Samples, MaxLength, GroupByLength,
        MaxTrain, MaxEval, Ood, ValidationFraction, Evaluate, Device, PrecisionOption, CheckpointEvery, EvalBatchSize, Quiet];

    /// <summary>All options: for the commands that train (train, compare).</summary>
    public void AddTo(Command command)
    {
        foreach (var o in All) command.Options.Add(o);
    }

    /// <summary>
    /// These options as the user gave them on this command line ("--lr", "1e-3", "--quiet", ...; defaults left out), for
    /// another command that takes the same options to read the same settings: compare passes them to train in each
    /// Slurm task.
    /// </summary>
    public IReadOnlyList<string> GivenArguments(ParseResult p) =>
        All.Select(o => p.GetResult(o)).OfType<System.CommandLine.Parsing.OptionResult>().Where(r => !r.Implicit)
            .SelectMany(r => r.Tokens.Select(t => t.Value).Prepend(r.Option.Name)).ToList();

    /// <summary>
    /// The options an evaluation of a saved adapter reads (eval): the model, the data, the prediction. The training
    /// options keep their defaults there (the adapter carries rank, alpha and the method).
    /// </summary>
    public void AddEvaluationTo(Command command)
    {
        foreach (var o in new Option[] { Model, Revision, Task, DataRoot, Mapping, TrainFile, EvalFile, Samples, MaxLength, MaxTrain, MaxEval,
                     Ood, ValidationFraction, Calibrate, Device, PrecisionOption, EvalBatchSize, Quiet })
            command.Options.Add(o);
    }

    public ExperimentSpec Read(ParseResult p, FineTuningMethod method, long seed)
    {
        RequireCustomFilesOnlyForCustom(p);
        return Spec(p, method, seed);
    }

    /// <summary>
    /// --mapping, --train-file and --eval-file describe a custom task; with a built-in --task they would be ignored, and
    /// the run would train and report on the built-in data under the impression that it used the user's.
    /// </summary>
    void RequireCustomFilesOnlyForCustom(ParseResult p)
    {
        string task = Get(p, Task)!;
        if (task == "custom") return;
        foreach (var option in new[] { Mapping, TrainFile, EvalFile })
            if (Get(p, option) is not null)
                throw new BlobException($"{option.Name} is for --task custom; with --task {task} it would be ignored (drop it, or use --task custom)");
    }

    ExperimentSpec Spec(ParseResult p, FineTuningMethod method, long seed) => new()
    {
        Model = ModelSource.Resolve(Get(p, Model)!, Get(p, Revision), Get(p, Quiet)),
        Task = Get(p, Task)!,
        DataRoot = Get(p, DataRoot),
        CustomMapping = Get(p, Mapping),
        CustomTrain = Get(p, TrainFile),
        CustomEval = Get(p, EvalFile),
        EvalSamples = Get(p, Samples),
        EvalBatchSize = Get(p, EvalBatchSize),
        Device = Get(p, Device)!,
        Precision = Get(p, PrecisionOption),
        MaxTrain = Get(p, MaxTrain),
        MaxEval = Get(p, MaxEval),
        OodTasks = Get(p, Ood) ?? [],
        ValidationFraction = Get(p, ValidationFraction),
        Calibrate = Get(p, Calibrate),
        Evaluate = Get(p, Evaluate),
        Training = new TrainingOptions
        {
            Method = new MethodOptions
            {
                Kind = method,
                Rank = Get(p, Rank),
                Alpha = Get(p, Alpha),
                LoraDropout = Get(p, Dropout),
                Targets = Get(p, Targets) ?? [],
                Head = Get(p, Head),
                Ensemble = new EnsembleOptions { Size = Get(p, EnsembleSize) },
                Laplace = new LaplaceOptions { Subset = Get(p, LaplaceLastLayer) ? LaplaceSubset.LastLayer : LaplaceSubset.All },
                Blob = new BlobOptions
                {
                    PriorStd = Get(p, PriorStd),
                    InitEpsilon = Get(p, InitEps),
                    Asymmetric = !Get(p, NoAsymmetric),
                    Std = Get(p, Softplus) ? StdParameterization.Softplus : StdParameterization.Square,
                    Flipout = Get(p, Flipout),
                    MeanInit = Get(p, MeanInit),
                    KlLearningRate = Get(p, KlLearningRate),
                    KlWeighting = Get(p, KlWeightingOption),
                    StdInAdamW = Get(p, StdInAdamW),
                    Gamma = Get(p, KlGamma),
                },
            },
            Steps = Get(p, Steps),
            Epochs = Get(p, Epochs),
            BatchSize = Get(p, BatchSize),
            GradientAccumulation = Get(p, GradAccum),
            LearningRate = Get(p, LearningRate),
            WeightDecay = Get(p, WeightDecay),
            TrainSamples = Get(p, TrainSamples),
            MaxLength = Get(p, MaxLength),
            GroupByLength = Get(p, GroupByLength),
            Seed = seed,
            CheckpointEvery = Get(p, CheckpointEvery),
        },
    };

    /// <summary>
    /// --precision fp32|bf16|auto, by default auto: bf16 where the hardware has it. bf16 rounds the frozen weights and the
    /// products' outputs to 8 significant bits, and on MRPC (MLE and BLoB, seed 1) gave the fp32 run's ACC, ECE and NLL
    /// within seed-to-seed noise, about 1.5x faster (docs/performance.md).
    /// </summary>
    public static Option<Precision> PrecisionOf(string what) => WordOption.Of("--precision",
        $"{what}: fp32, bf16 (bfloat16 products: MiniLM trained about 1.5x faster with avx512_bf16; adapters and loss stay float32) " +
        "or auto (bf16 where the CPU has avx512_bf16/amx_bf16, or on CUDA)", Defaults.Precision);

    /// <summary>
    /// The option's value, or its default where the command does not offer it (eval leaves out the training options,
    /// and the parser's GetValue gives such an option default(T), not its declared default).
    /// </summary>
    static T Get<T>(ParseResult p, Option<T> option) =>
        p.CommandResult.Command.Options.Contains(option) ? p.GetValue(option)!
        : option.DefaultValueFactory is { } declared ? declared(null!) : default!;
}
