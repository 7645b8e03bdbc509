using Blob.Runtime;
using Blob.Data;
using Blob.Methods;
using Blob.Layers;
using Blob.Models;
using Blob.Tokenization;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>The built-in MiniLM (TorchSharp port) against ONNX Runtime running the package's own model.onnx.</summary>
public class MiniLmEncoderTests(ITestOutputHelper output)
{
    static readonly Lazy<BertForSequenceClassification> Model = new(() => MiniLm.Load(numLabels: 2, seed: 1));
    static readonly Lazy<WordPieceTokenizer> Tokenizer = new(() => Blob.Tokenization.TokenizerLoader.MiniLm());
    static readonly Lazy<InferenceSession> Onnx = new(() => new InferenceSession(MiniLm.ReadOnnxBytes()));

    [SharedFact("data/rte/dev.tsv", "data/mrpc/dev.tsv", "data/cola/in_domain_dev.tsv")]
    public void MatchesOnnxRuntimeOnRealSentences()
    {
        var examples = Examples().Select(e => Tokenizer.Value.Encode(e.A, e.B, maxLength: 128)).ToList();
        Assert.True(examples.Count >= 20);

        var (ids, mask, types) = Batch(examples);
        double batchError = MaxError(ids, mask, types, out double poolerError);
        double singleError = examples.Select(e => Batch([e])).Max(b => MaxError(b.Ids, b.Mask, b.Types, out _));
        output.WriteLine($"{examples.Count} examples (longest {ids.GetLength(1)} tokens): max |Δ last_hidden_state| " +
                         $"batched {batchError:E2}, singly {singleError:E2}; pooler {poolerError:E2}");
        Assert.True(batchError <= 1e-4, $"batched: {batchError}");
        Assert.True(singleError <= 1e-4, $"singly: {singleError}");
        Assert.True(poolerError <= 1e-4, $"pooler: {poolerError}");
    }

    [Fact]
    public void OnnxGraphHasTheExpectedInterface()
    {
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], Onnx.Value.InputMetadata.Keys);
        Assert.Contains("last_hidden_state", Onnx.Value.OutputMetadata.Keys);
    }

    [Fact]
    public void LoadsWithHuggingFaceNamesAndAFreshTrainableHead()
    {
        var model = Model.Value;
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(6 * 16 + 5 + 2 + 2, parameters.Count);  // layers, embeddings, pooler, classifier
        Assert.Equal(new long[] { 384, 384 }, parameters["bert.encoder.layer.5.attention.self.value.weight"].shape);
        Assert.Equal(new long[] { 1536, 384 }, parameters["bert.encoder.layer.0.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 2, 384 }, parameters["classifier.weight"].shape);
        Assert.Equal(["classifier.bias", "classifier.weight"],
            parameters.Where(p => p.Value.requires_grad).Select(p => p.Key).Order());
        Assert.Equal(Pooling.Mean, model.Pooling);
        Assert.Equal(0f, parameters["classifier.bias"].abs().sum().item<float>());

        var e = Tokenizer.Value.Encode("A man is playing a guitar.", "Someone plays music.");
        using var _ = no_grad();
        using var logits = model.Logits(tensor(e.Ids.Select(i => (long)i).ToArray()).unsqueeze(0),
            ones(1, e.Length, dtype: ScalarType.Int64), tensor(e.TypeIds.Select(i => (long)i).ToArray()).unsqueeze(0));
        Assert.Equal(new long[] { 1, 2 }, logits.shape);
    }

    [Fact]
    public void MissingOrMalformedFilesNameTheFile()
    {
        var e = Assert.Throws<BlobException>(() => MiniLm.PackageFile("/nonexistent/nuget"));
        Assert.Contains("/nonexistent/nuget", e.Message);
        Assert.Contains("dotnet restore", e.Message);

        string dir = Directory.CreateTempSubdirectory("blob-onnx").FullName;
        try
        {
            string file = Path.Combine(dir, "model.onnx");
            Assert.Contains(file, Assert.Throws<BlobException>(() => MiniLm.ReadOnnxWeights(file)).Message);
            File.WriteAllText(file, "this is not an ONNX model");
            Assert.Contains(file, Assert.Throws<BlobException>(() => MiniLm.ReadOnnxWeights(file)).Message);
            File.WriteAllBytes(file, MiniLm.ReadOnnxBytes()[..1000]);  // truncated
            Assert.Contains(file, Assert.Throws<BlobException>(() => MiniLm.ReadOnnxWeights(file)).Message);
            string notAssembly = Path.Combine(dir, "x.dll");
            File.WriteAllText(notAssembly, "MZ nonsense");
            Assert.Contains(notAssembly, Assert.Throws<BlobException>(() => MiniLm.ReadResource(notAssembly, "r")).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>max |ours - ONNX Runtime| of the last hidden state over unpadded positions, and of the pooler output
    /// (dense + tanh of [CLS]).</summary>
    static double MaxError(long[,] ids, long[,] mask, long[,] types, out double poolerError)
    {
        string poolerName = Onnx.Value.OutputMetadata.Keys.Single(k => k != "last_hidden_state");
        var reference = RunOnnx(ids, mask, types, ["last_hidden_state", poolerName]);
        using var _ = no_grad();
        using var t = ToTensor(mask);
        using var ours = Model.Value.Encoder.LastHiddenState(ToTensor(ids), t, ToTensor(types));
        using var theirs = tensor(reference[0], ours.shape);
        using var oursPooled = Model.Value.Encoder.Pooler!.forward(ours.select(1, 0));
        using var theirsPooled = tensor(reference[1], oursPooled.shape);
        poolerError = (oursPooled - theirsPooled).abs().max().item<float>();
        return EncoderModelTests.MaxErrorAtTokens(ours, theirs, t);
    }

    static float[][] RunOnnx(long[,] ids, long[,] mask, long[,] types, string[] outputNames)
    {
        int[] shape = [ids.GetLength(0), ids.GetLength(1)];
        DenseTensor Dense(long[,] a) => new(a.Cast<long>().ToArray(), shape);
        var inputs = new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", Dense(ids)),
            NamedOnnxValue.CreateFromTensor("attention_mask", Dense(mask)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", Dense(types)),
        };
        using var results = Onnx.Value.Run(inputs, outputNames);
        return results.Select(r => r.AsEnumerable<float>().ToArray()).ToArray();
    }

    static Tensor ToTensor(long[,] a) => tensor(a.Cast<long>().ToArray(), a.GetLength(0), a.GetLength(1));

    /// <summary>Right-padded with [PAD].</summary>
    static (long[,] Ids, long[,] Mask, long[,] Types) Batch(IReadOnlyList<TokenizedText> examples)
    {
        int length = examples.Max(e => e.Length);
        var ids = new long[examples.Count, length];
        var mask = new long[examples.Count, length];
        var types = new long[examples.Count, length];
        for (int i = 0; i < examples.Count; i++)
            for (int j = 0; j < length; j++)
            {
                bool token = j < examples[i].Length;
                ids[i, j] = token ? examples[i].Ids[j] : Tokenizer.Value.PadId;
                mask[i, j] = token ? 1 : 0;
                types[i, j] = token ? examples[i].TypeIds[j] : 0;
            }
        return (ids, mask, types);
    }

    /// <summary>12 RTE pairs, 6 MRPC pairs, 6 CoLA sentences.</summary>
    static IEnumerable<(string A, string? B)> Examples()
    {
        foreach (var f in File.ReadLines(Shared.PathOf("data/rte/dev.tsv")).Skip(1).Take(12).Select(l => l.Split('\t')))
            yield return (f[0], f[1]);
        foreach (var f in File.ReadLines(Shared.PathOf("data/mrpc/dev.tsv")).Skip(1).Take(6).Select(l => l.Split('\t')))
            yield return (f[3], f[4]);
        foreach (var f in File.ReadLines(Shared.PathOf("data/cola/in_domain_dev.tsv")).Take(6).Select(l => l.Split('\t')))
            yield return (f[3], null);
    }
}
