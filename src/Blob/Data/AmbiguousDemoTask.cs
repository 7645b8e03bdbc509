using static Blob.Data.ReviewWords;

namespace Blob.Data;

/// <summary>
/// The built-in task on which calibration shows, generated here with a known ground truth: "is this review positive?"
/// Each review is one sentence ("Maria from Lisbon said the lamp was superb.") with a name, a city, a thing and an
/// opinion word. A clear review's opinion word is a good or a bad one and decides its label. An ambiguous review's
/// opinion word is neutral ("the lamp was okay"), and its label is a fair coin flip: the true probability of either
/// label is 1/2, so no model can be right on more than half of the ambiguous reviews, and a calibrated one says 50%
/// there. In the evaluation split every ambiguous review appears twice, once with each label, so that the split's
/// labels follow the true 50% exactly: any model is right on exactly half of them, and accuracy and calibration there
/// carry no coin-flip noise. A model that learns the training split's coin flips by heart (through the names, cities
/// and things, which make every review different) becomes sure of new ambiguous reviews at 50% accuracy, which is
/// what the demo shows. Deterministic for a seed.
/// <see cref="TuningName"/> is the same task with another evaluation split: the same training reviews, and 2,000
/// evaluation examples drawn from a generator of their own, on which the demo's settings were chosen, so that the
/// reported evaluation split is seen once.
/// </summary>
public static class AmbiguousDemoTask
{
    public const string Name = "demo-ambiguous";
    /// <summary>The tuning variant: the demo's training reviews, a fresh evaluation split of <see cref="TuningEval"/> examples.</summary>
    public const string TuningName = "demo-ambiguous-tuning";
    public const int TuningEval = 2000;
    /// <summary>The seed of the tuning split's own generator (any seed other than the task's).</summary>
    const int TuningSeed = 9943;
    public static readonly string[] LabelNames = ["negative", "positive"];

    /// <summary>The fraction of ambiguous reviews (neutral opinion word, coin-flip label), in training and evaluation alike.</summary>
    public const double AmbiguousFraction = 0.7;

    static readonly string[] Neutral = ["okay", "average", "ordinary", "so-so", "middling", "mixed", "acceptable", "unremarkable"];

    /// <summary>
    /// A task with <paramref name="train"/> training reviews and <paramref name="eval"/> evaluation examples. In each split
    /// a fraction <see cref="AmbiguousFraction"/> is ambiguous (every other pair of examples stays clear or ambiguous in
    /// turn, rounded); the clear reviews' true labels alternate (half of each). A training split's ambiguous reviews are
    /// labelled by a fair coin; an evaluation split's ambiguous reviews come in pairs, the same text with either label.
    /// </summary>
    public static TaskData Generate(int train = 320, int eval = 400, int seed = 2024, double ambiguousFraction = AmbiguousFraction) =>
        Generate(train, eval, seed, ambiguousFraction, tuning: false);

    /// <summary>The tuning variant (<see cref="TuningName"/>): the training split of <see cref="Generate(int, int, int, double)"/>, another evaluation split.</summary>
    public static TaskData GenerateTuning() => Generate(320, TuningEval, 2024, AmbiguousFraction, tuning: true);

    static TaskData Generate(int train, int eval, int seed, double ambiguousFraction, bool tuning)
    {
        var random = new Random(seed);
        var trainSet = new List<Example>(train);
        for (int i = 0; i < train; i++)
        {
            if (IsAmbiguousSlot(i, ambiguousFraction)) trainSet.Add(new Example($"train-{i}", Text(random, Neutral), null, random.Next(2)));
            else trainSet.Add(Clear(random, $"train-{i}", i % 2));
        }
        if (tuning) random = new Random(TuningSeed);
        var evalSet = new List<Example>(eval);
        for (int i = 0; i < eval; i++)
        {
            if (IsAmbiguousSlot(i, ambiguousFraction) && i + 1 < eval && i % 2 == 0)
            {
                string text = Text(random, Neutral);
                int first = random.Next(2);
                evalSet.Add(new Example($"eval-{i}", text, null, first));
                evalSet.Add(new Example($"eval-{i + 1}", text, null, 1 - first));
                i++;
            }
            else evalSet.Add(Clear(random, $"eval-{i}", i % 2));
        }
        return new TaskData(tuning ? TuningName : Name, TaskKind.SequenceClassification, LabelNames, trainSet, evalSet,
            $"built-in demonstration task, generated (review sentiment; {ambiguousFraction * 100:F0}% of the reviews neutral, labelled by a coin flip)");
    }

    /// <summary>Whether a generated review is ambiguous: its opinion word is a neutral one.</summary>
    public static bool IsAmbiguous(Example review) => Neutral.Any(word => review.Text.EndsWith($" {word}."));

    /// <summary>The label a clear review's opinion word decides: 1 for a good word, 0 for a bad one; null for an ambiguous review.</summary>
    public static int? RuleLabel(Example review) =>
        IsAmbiguous(review) ? null : Good.Any(word => review.Text.EndsWith($" {word}.")) ? 1 : 0;

    /// <summary>
    /// Slots are taken in pairs (0–1, 2–3, ...); pair k is ambiguous when it brings the count of ambiguous pairs up to
    /// round(k + 1)·f, so the ambiguous pairs are spread evenly and number round(pairs · f).
    /// </summary>
    static bool IsAmbiguousSlot(int i, double fraction)
    {
        int pair = i / 2;
        return Math.Floor((pair + 1) * fraction + 1e-9) > Math.Floor(pair * fraction + 1e-9);
    }

    static Example Clear(Random random, string id, int label) => new(id, Text(random, label == 1 ? Good : Bad), null, label);

    static string Text(Random random, string[] opinions) =>
        string.Format(Pick(random, Templates), Pick(random, People), Pick(random, Cities), Pick(random, Things), Pick(random, opinions));

    static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
}
