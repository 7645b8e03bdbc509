namespace Blob.Data;

/// <summary>
/// The built-in demonstration task, generated here with a known ground truth: "do these two sentences state the same
/// fact?" Sentence 1 says who did what to how many of which things ("Maria bought seven apples."). Sentence 2 restates
/// it in other words (digits for number words, a synonym verb, the passive voice) or changes exactly one fact
/// (the person, the count, the thing, or the action). Label 1 = same fact, 0 = different. Changed counts are often
/// near the original (seven → eight, written differently), which makes some pairs genuinely hard for a small encoder,
/// so a model has something to be unsure about. Deterministic for a seed.
/// </summary>
public static class DemoTask
{
    public const string Name = "demo-facts";
    public static readonly string[] LabelNames = ["different", "same"];

    static readonly string[] People = ["Maria", "John", "Aisha", "Chen", "Olga", "Pedro", "Fatima", "Liam", "Yuki", "Noah",
        "Sara", "Ivan", "Amara", "Lucas", "Mei", "Omar", "Elena", "David", "Priya", "Tom"];
    static readonly (string Object, string Singular)[] Things = [("apples", "apple"), ("books", "book"), ("chairs", "chair"),
        ("letters", "letter"), ("bicycles", "bicycle"), ("paintings", "painting"), ("cakes", "cake"), ("boxes", "box"),
        ("tickets", "ticket"), ("lamps", "lamp"), ("shirts", "shirt"), ("cups", "cup")];
    // (past tense, a synonym, the participle for the passive voice, an action that states a different fact)
    static readonly (string Verb, string Synonym, string Participle, string Other)[] Actions = [
        ("bought", "purchased", "bought", "sold"), ("found", "discovered", "found", "lost"),
        ("repaired", "fixed", "repaired", "broke"), ("carried", "moved", "carried", "left"),
        ("received", "got", "received", "sent"), ("cleaned", "washed", "cleaned", "dirtied"),
        ("ordered", "requested", "ordered", "cancelled"), ("counted", "tallied", "counted", "hid")];
    static readonly string[] NumberWords = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
        "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen"];

    /// <summary>A task with <paramref name="train"/> and <paramref name="eval"/> pairs, half of each label.</summary>
    public static TaskData Generate(int train = 800, int eval = 400, int seed = 2024)
    {
        var random = new Random(seed);
        return new TaskData(Name, TaskKind.SequenceClassification, LabelNames,
            Enumerable.Range(0, train).Select(i => Pair(random, $"train-{i}", i % 2)).ToList(),
            Enumerable.Range(0, eval).Select(i => Pair(random, $"eval-{i}", i % 2)).ToList(),
            "built-in demonstration task, generated (same-fact detection; known ground truth)");
    }

    static Example Pair(Random random, string id, int label)
    {
        string person = Pick(random, People);
        var thing = Pick(random, Things);
        var action = Pick(random, Actions);
        int count = random.Next(2, 13);
        string first = $"{person} {action.Verb} {Count(random, count)} {thing.Object}.";

        string person2 = person, verb2 = action.Verb, object2 = thing.Object;
        int count2 = count;
        bool otherAction = false;
        if (label == 0)
            switch (random.Next(4))
            {
                case 0: person2 = PickOther(random, People, person); break;
                case 1: count2 = count + (random.Next(2) == 0 ? -1 : 1) * random.Next(1, 3); break;
                case 2: object2 = PickOther(random, Things, thing).Object; break;
                default: otherAction = true; break;
            }
        string second = random.Next(3) switch
        {
            0 => $"{Count(random, count2)} {object2} were {(otherAction ? action.Other : action.Participle)} by {person2}.",
            1 => $"{person2} {(otherAction ? action.Other : action.Synonym)} {Count(random, count2)} {object2}.",
            _ => $"It was {person2} who {(otherAction ? action.Other : action.Verb)} {Count(random, count2)} {object2}.",
        };
        return new Example(id, first, Capitalise(second), label);
    }

    static string Count(Random random, int n) => random.Next(2) == 0 ? n.ToString() : NumberWords[n];
    static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];
    static T PickOther<T>(Random random, T[] items, T not)
    {
        T item;
        do item = Pick(random, items); while (EqualityComparer<T>.Default.Equals(item, not));
        return item;
    }
    static string Capitalise(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}
