using static Blob.Data.ReviewWords;

namespace Blob.Data;

/// <summary>
/// The built-in task on which calibration shows, generated here with a known ground truth: "is this review positive?"
/// Each review is one sentence ("Maria from Lisbon said the lamp was superb.") whose opinion word alone decides its true
/// label, so the task is easy. Then, as a careless annotator would, each label is flipped with probability
/// <see cref="NoiseRate"/>, in training and evaluation alike. The best any model can do is therefore to be right
/// 1 − q of the time with confidence 1 − q; a model that learns the flipped training labels by heart (the names,
/// cities and things make every review different) grows surer than that, which is what the demo shows.
/// Deterministic for a seed.
/// </summary>
public static class NoisyDemoTask
{
    public const string Name = "demo-noisy";
    public static readonly string[] LabelNames = ["negative", "positive"];

    /// <summary>q: the probability that a label is flipped; the Bayes-optimal accuracy and confidence are both 1 − q.</summary>
    public const double NoiseRate = 0.2;

    /// <summary>
    /// A task with <paramref name="train"/> and <paramref name="eval"/> reviews. The true labels alternate (half of each);
    /// the labels given are the true ones flipped with probability <see cref="NoiseRate"/>.
    /// </summary>
    public static TaskData Generate(int train = 400, int eval = 1000, int seed = 2024)
    {
        var random = new Random(seed);
        return new TaskData(Name, TaskKind.SequenceClassification, LabelNames,
            Enumerable.Range(0, train).Select(i => Review(random, $"train-{i}", i % 2)).ToList(),
            Enumerable.Range(0, eval).Select(i => Review(random, $"eval-{i}", i % 2)).ToList(),
            $"built-in demonstration task, generated (review sentiment; labels flipped with probability {NoiseRate})");
    }

    /// <summary>The true label of a generated review: whether its opinion word is a good one.</summary>
    public static int TrueLabel(Example review) =>
        Good.Any(word => review.Text.Contains($" {word}")) ? 1 : 0;

    static Example Review(Random random, string id, int truth)
    {
        string opinion = Pick(random, truth == 1 ? Good : Bad);
        string text = string.Format(Pick(random, Templates), Pick(random, People), Pick(random, Cities), Pick(random, Things), opinion);
        int label = random.NextDouble() < NoiseRate ? 1 - truth : truth;
        return new Example(id, text, null, label);
    }

    static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
}
