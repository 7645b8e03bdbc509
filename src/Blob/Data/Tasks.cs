namespace Blob.Data;

/// <summary>
/// The paper's tasks by name, read from the benchmark files in their original formats (Load) or from the Hugging
/// Face Hub's parquet/jsonl files (LoadHub).
/// </summary>
public static class Tasks
{
    /// <summary>BoolQ has no train split with passages here: dev.jsonl is split, this many for evaluation.</summary>
    public const int BoolQTestCount = 1000;
    public const ulong BoolQSplitSeed = 42;

    public static readonly string BoolQNote =
        $"BoolQ: no training split with passages is available; boolq/dev.jsonl (3,270) was split deterministically " +
        $"(SplitMix64 shuffle, seed {BoolQSplitSeed}) into {3270 - BoolQTestCount:N0} train / {BoolQTestCount:N0} test.";

    static readonly IReadOnlyList<string> AB = ["A", "B"], ABCD = ["A", "B", "C", "D"], ABCDE = ["A", "B", "C", "D", "E"];

    /// <summary>What a name stands for: its labels, the kinds it can be read as, and how to read it.</summary>
    sealed record Spec(
        TaskKind Kind,
        IReadOnlyList<string> Labels,
        Func<string, TaskKind, (List<Example> Train, List<Example> Eval, string? Note)> Original,
        Func<string, TaskKind, List<Example>> Hub,
        bool AlsoEncoder = false,
        bool AlsoEncoderChoices = false);

    static readonly Dictionary<string, Spec> Specs = new()
    {
        ["rte"] = Pair(["entailment", "not_entailment"], "rte/train.tsv", "rte/dev.tsv", OriginalFormats.Rte, HubFormats.SentencePair),
        ["mrpc"] = Pair(["not_paraphrase", "paraphrase"], "mrpc/train.tsv", "mrpc/dev.tsv", OriginalFormats.Mrpc, HubFormats.SentencePair),
        ["cola"] = Pair(["unacceptable", "acceptable"], "cola/in_domain_train.tsv", "cola/in_domain_dev.tsv", OriginalFormats.Cola, HubFormats.Cola),
        ["wic"] = new(TaskKind.SequenceClassification, ["false", "true"],
            (root, _) => (OriginalFormats.Wic(P(root, "wic/train.data.txt"), P(root, "wic/train.gold.txt")),
                          OriginalFormats.Wic(P(root, "wic/dev.data.txt"), P(root, "wic/dev.gold.txt")), null),
            (path, _) => HubFormats.Wic(path)),
        ["boolq"] = new(TaskKind.MultipleChoice, BoolQuestion.Labels, LoadBoolQ,
            (path, kind) => HubFormats.BoolQ(path).Select(q => q.ToExample(kind)).ToList(), AlsoEncoder: true),
        ["winogrande-xs"] = Choice(AB, "winogrande/train_xs.jsonl", "winogrande/dev.jsonl", OriginalFormats.WinoGrande, HubFormats.WinoGrande, blank: true),
        ["winogrande-s"] = Choice(AB, "winogrande/train_s.jsonl", "winogrande/dev.jsonl", OriginalFormats.WinoGrande, HubFormats.WinoGrande, blank: true),
        ["winogrande-m"] = Choice(AB, "winogrande/train_m.jsonl", "winogrande/dev.jsonl", OriginalFormats.WinoGrande, HubFormats.WinoGrande, blank: true),
        ["arc-c"] = Choice(ABCDE, "arc-challenge/ARC-Challenge-Train.jsonl", "arc-challenge/ARC-Challenge-Dev.jsonl", OriginalFormats.Arc, HubFormats.Arc),
        ["arc-e"] = Choice(ABCDE, "arc-easy/ARC-Easy-Train.jsonl", "arc-easy/ARC-Easy-Dev.jsonl", OriginalFormats.Arc, HubFormats.Arc),
        ["obqa"] = new(TaskKind.MultipleChoice, ABCD,
            (root, kind) => (Render(OriginalFormats.Arc(P(root, "openbookqa/train.jsonl")), kind),
                             Render(OriginalFormats.OpenBookQaTsv(P(root, "openbookqa/dev.tsv")), kind), null),
            (path, kind) => Render(HubFormats.OpenBookQa(path), kind), AlsoEncoderChoices: true),
        ["mmlu-chem"] = Mmlu("college_chemistry"),
        ["mmlu-phys"] = Mmlu("college_physics"),
    };

    public static IReadOnlyList<string> Names => [.. Specs.Keys];

    /// <summary>../shared/data beside the repository (the folder holding Blob.slnx), else beside the current folder.</summary>
    public static string DefaultDataRoot => Path.GetFullPath(Path.Combine(RepoRoot(), "..", "shared", "data"));

    /// <summary>Reads a task from the original benchmark files under dataRoot (default: DefaultDataRoot).</summary>
    public static TaskData Load(string name, string? dataRoot = null, TaskKind? kind = null)
    {
        var spec = Find(name);
        var root = dataRoot ?? DefaultDataRoot;
        if (!Directory.Exists(root)) throw new BlobException($"{root}: data folder not found");
        var k = CheckKind(name, spec, kind);
        var (train, eval, note) = spec.Original(root, k);
        return new TaskData(name, k, spec.Labels, train, eval, note);
    }

    /// <summary>Reads a task from Hub-format files (.parquet or .jsonl); trainPath may be null for evaluation-only sets.</summary>
    public static TaskData LoadHub(string name, string? trainPath, string evalPath, TaskKind? kind = null)
    {
        var spec = Find(name);
        var k = CheckKind(name, spec, kind);
        var train = trainPath is null ? [] : spec.Hub(trainPath, k);
        return new TaskData(name, k, spec.Labels, train, spec.Hub(evalPath, k));
    }

    /// <summary>
    /// The kind a task is read as for a model: a decoder reads the task's own kind (the Table 6 prompts); an encoder
    /// reads BoolQ as a sentence pair and the multiple-choice tasks as (question, choice) pairs for a
    /// multiple-choice head (<see cref="TaskKind.EncoderMultipleChoice"/>).
    /// </summary>
    public static TaskKind KindFor(string name, bool encoder)
    {
        var spec = Find(name);
        if (!encoder) return spec.Kind;
        return spec.AlsoEncoder ? TaskKind.SequenceClassification
            : spec.AlsoEncoderChoices ? TaskKind.EncoderMultipleChoice : spec.Kind;
    }

    static Spec Find(string name) => Specs.TryGetValue(name.ToLowerInvariant(), out var spec) ? spec
        : throw new BlobException($"unknown task \"{name}\"; known tasks: {string.Join(", ", Specs.Keys)}");

    static TaskKind CheckKind(string name, Spec spec, TaskKind? kind)
    {
        var k = kind ?? spec.Kind;
        bool ok = k == spec.Kind || (spec.AlsoEncoder && k == TaskKind.SequenceClassification)
                  || (spec.AlsoEncoderChoices && k == TaskKind.EncoderMultipleChoice);
        return ok ? k : throw new BlobException($"task \"{name}\" cannot be read as {k} (it is {spec.Kind})");
    }

    static (List<Example>, List<Example>, string?) LoadBoolQ(string root, TaskKind kind)
    {
        var all = OriginalFormats.BoolQ(P(root, "boolq/dev.jsonl"));
        var (train, test) = DeterministicSplit.Split(all, BoolQTestCount, BoolQSplitSeed);
        string note = all.Count == 3270 ? BoolQNote
            : $"BoolQ: boolq/dev.jsonl ({all.Count}) split deterministically (seed {BoolQSplitSeed}) into {train.Count} train / {test.Count} test.";
        return (train.Select(q => q.ToExample(kind)).ToList(), test.Select(q => q.ToExample(kind)).ToList(), note);
    }

    static Spec Pair(IReadOnlyList<string> labels, string train, string eval,
        Func<string, List<Example>> original, Func<string, List<Example>> hub) =>
        new(TaskKind.SequenceClassification, labels,
            (root, _) => (original(P(root, train)), original(P(root, eval)), null), (path, _) => hub(path));

    /// <param name="blank">The question is a sentence with a blank (WinoGrande), which an encoder fills with each option
    /// (<see cref="ChoiceQuestion.ToBlankPairExample"/>).</param>
    static Spec Choice(IReadOnlyList<string> letters, string train, string eval,
        Func<string, List<ChoiceQuestion>> original, Func<string, List<ChoiceQuestion>> hub, bool blank = false) =>
        new(TaskKind.MultipleChoice, letters,
            (root, kind) => (Render(original(P(root, train)), kind, blank), Render(original(P(root, eval)), kind, blank), null),
            (path, kind) => Render(hub(path), kind, blank), AlsoEncoderChoices: true);

    /// <summary>MMLU subsets are out-of-distribution evaluation sets: no training split, the test file is evaluated.</summary>
    static Spec Mmlu(string subject) => new(TaskKind.MultipleChoice, ABCD,
        (root, kind) => ([], Render(OriginalFormats.Mmlu(P(root, $"mmlu/{subject}_test.csv")), kind),
            $"MMLU {subject.Replace('_', ' ')}: out-of-distribution evaluation only (test split, no training split)."),
        (path, kind) => Render(HubFormats.Mmlu(path), kind), AlsoEncoderChoices: true);

    /// <summary>Prompts for a decoder; (question, choice) pairs for an encoder's multiple-choice head.</summary>
    static List<Example> Render(List<ChoiceQuestion> questions, TaskKind kind, bool blank = false) => questions.Select(q =>
        kind != TaskKind.EncoderMultipleChoice ? q.ToExample() : blank ? q.ToBlankPairExample() : q.ToPairExample()).ToList();

    static string P(string root, string relative) => Path.Combine(root, relative);

    static string RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Blob.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
