namespace Blob.Data;

/// <summary>The words the generated review tasks build their sentences from (the demo tasks).</summary>
internal static class ReviewWords
{
    public static readonly string[] People = ["Maria", "John", "Aisha", "Chen", "Olga", "Pedro", "Fatima", "Liam", "Yuki", "Noah",
        "Sara", "Ivan", "Amara", "Lucas", "Mei", "Omar", "Elena", "David", "Priya", "Tom", "Zara", "Hugo", "Lena", "Kofi"];
    public static readonly string[] Cities = ["Lisbon", "Oslo", "Lagos", "Lima", "Hanoi", "Denver", "Cairo", "Dublin", "Perth", "Quito",
        "Seoul", "Milan", "Accra", "Porto", "Tunis", "Kyoto"];
    public static readonly string[] Things = ["lamp", "book", "chair", "bicycle", "painting", "cake", "ticket", "shirt", "cup",
        "kettle", "jacket", "phone", "sofa", "camera", "tent", "watch"];
    public static readonly string[] Good = ["superb", "excellent", "wonderful", "great", "lovely", "brilliant", "delightful", "perfect"];
    public static readonly string[] Bad = ["awful", "terrible", "dreadful", "poor", "horrible", "useless", "disappointing", "shoddy"];
    public static readonly string[] Templates = ["{0} from {1} said the {2} was {3}.", "{0} from {1} found the {2} {3}.",
        "The {2} {0} bought in {1} was {3}.", "According to {0} from {1}, the {2} is {3}."];
}
