using System.Text.Json.Nodes;
using Blob.Models;
using Blob.Tests.Cli;
using static TorchSharp.torch;

namespace Blob.Tests.Models;

/// <summary>
/// An encoder checkpoint whose files hold a tensor the model leaves unread is refused in one line naming the file and
/// the tensor, but for what real Hugging Face encoder checkpoints carry beside the model (pretraining heads, buffers, a
/// head the model replaces). The MiniLM cases write the built-in model's weights as a Hugging Face folder
/// (config.json + model.safetensors, bare names and the position_ids buffer, as sentence-transformers publishes it).
/// </summary>
public sealed class EncoderUnusedTensorTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-encoder-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>all-MiniLM-L6-v2 as a Hugging Face folder whose config.json says <paramref name="layers"/> layers (the weights hold 6), with its vocab.txt.</summary>
    string MiniLmFolder(int layers)
    {
        string dir = Path.Combine(_dir, $"minilm-{layers}");
        Directory.CreateDirectory(dir);
        var weights = MiniLm.ReadOnnxWeights(MiniLm.ReadOnnxBytes(), "model.onnx");
        weights["embeddings.position_ids"] = arange(512, dtype: ScalarType.Int64).unsqueeze(0);
        Safetensors.Save(Path.Combine(dir, Checkpoint.SingleFile), weights);
        foreach (var t in weights.Values) t.Dispose();
        File.WriteAllText(Path.Combine(dir, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("BertModel"), ["model_type"] = "bert", ["vocab_size"] = 30522, ["hidden_size"] = 384,
            ["num_hidden_layers"] = layers, ["num_attention_heads"] = 12, ["intermediate_size"] = 1536, ["hidden_act"] = "gelu",
            ["max_position_embeddings"] = 512, ["type_vocab_size"] = 2, ["layer_norm_eps"] = 1e-12, ["pad_token_id"] = 0,
        }.ToJsonString());
        File.WriteAllBytes(Path.Combine(dir, "vocab.txt"), MiniLm.ReadVocabulary().Bytes);
        return dir;
    }

    /// <summary>A copy of an encoder fixture with config.json changed and tensors added (or, where null, removed).</summary>
    string Copy(string fixture, Action<JsonObject>? config = null, Dictionary<string, Tensor?>? tensors = null)
    {
        string dir = Path.Combine(_dir, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Shared.PathOf($"fixtures/{fixture}")))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        if (config is not null)
        {
            var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            config(json);
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
        }
        if (tensors is not null)
        {
            string path = Path.Combine(dir, Checkpoint.SingleFile);
            var stored = Safetensors.Load(path);
            foreach (var (name, t) in tensors)
                if (t is null) stored.Remove(name); else stored[name] = t;
            Safetensors.Save(path, stored);
        }
        return dir;
    }

    static string Refused(Action load) => Assert.Throws<BlobException>(load).Message;

    [Fact]
    public void AMiniLmCheckpointWithALayerMoreThanItsConfigIsRefusedNamingTheTensor()
    {
        string dir = MiniLmFolder(layers: 5);
        var message = Refused(() => EncoderModels.LoadSequenceClassifier(dir).Dispose());
        Assert.Contains(Path.Combine(dir, Checkpoint.SingleFile), message);
        Assert.Contains("'encoder.layer.5.attention.output.LayerNorm.bias'", message); // the first of the sixth layer's, in ordinal order
        Assert.Contains("not used", message);
        Assert.Single(message.Split('\n'));
    }

    [Fact]
    public void TheCommandLineRefusesItInOneLineWithExitTwo()
    {
        string dir = MiniLmFolder(layers: 5);
        var r = BlobCli.Run("train", "--model", dir, "--task", "demo-facts", "--max-train", "8", "--max-eval", "4", "--steps", "1",
            "--device", "cpu", "--quiet", "--output", Path.Combine(_dir, "run"));
        Assert.True(r.Code == 2, r.ToString());
        Assert.Single(r.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("encoder.layer.5.", r.Error);
    }

    [Fact]
    public void TheRealMiniLmLoadsAsBuiltInAndAsAHuggingFaceFolder()
    {
        using var builtIn = MiniLm.Load(numLabels: 2);
        using var folder = EncoderModels.LoadSequenceClassifier(MiniLmFolder(layers: 6), numLabels: 2);
        using var multipleChoice = EncoderModels.LoadMultipleChoice(MiniLmFolder(layers: 6));
        var expected = builtIn.named_parameters().Where(p => !p.name.StartsWith("classifier.")).ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in folder.named_parameters().Where(p => !p.name.StartsWith("classifier.")))
            Assert.True(p.allclose(expected[name], 0, 0), name);
    }

    [SharedTheory("fixtures/bert", "fixtures/roberta")]
    [InlineData("bert")]
    [InlineData("roberta")]
    public void EveryEncoderFixtureLoadsAsEachHead(string fixture)
    {
        string dir = Shared.PathOf($"fixtures/{fixture}");
        EncoderModels.LoadSequenceClassifier(dir).Dispose();
        EncoderModels.LoadSequenceClassifier(dir, numLabels: 5).Dispose();  // the stored head replaced by a fresh one
        EncoderModels.LoadMultipleChoice(dir).Dispose();                   // another kind of head; RoBERTa's pooler fresh
    }

    [SharedFact("fixtures/bert", "fixtures/roberta")]
    public void WhatRealCheckpointsCarryBesideTheModelMayBeLeftUnread()
    {
        Tensor Zeros(params long[] shape) => zeros(shape);
        string bert = Copy("bert", tensors: new()
        {
            ["bert.embeddings.position_ids"] = arange(64, dtype: ScalarType.Int64).unsqueeze(0),
            ["bert.embeddings.token_type_ids"] = zeros(1, 64, dtype: ScalarType.Int64),
            ["cls.predictions.bias"] = Zeros(512),
            ["cls.predictions.transform.dense.weight"] = Zeros(64, 64),
            ["cls.predictions.decoder.weight"] = Zeros(512, 64),
            ["cls.seq_relationship.weight"] = Zeros(2, 64),
        });
        EncoderModels.LoadSequenceClassifier(bert).Dispose();
        string roberta = Copy("roberta", tensors: new()
        {
            ["roberta.embeddings.position_ids"] = arange(80, dtype: ScalarType.Int64).unsqueeze(0),
            ["roberta.pooler.dense.weight"] = Zeros(64, 64),
            ["roberta.pooler.dense.bias"] = Zeros(64),
            ["lm_head.dense.weight"] = Zeros(64, 64),
            ["lm_head.layer_norm.weight"] = Zeros(64),
            ["lm_head.bias"] = Zeros(512),
        });
        EncoderModels.LoadSequenceClassifier(roberta).Dispose();
    }

    [SharedFact("fixtures/bert", "fixtures/roberta")]
    public void AnyOtherUnreadTensorIsRefusedNamingIt()
    {
        Assert.Contains("'bert.encoder.layer.1.attention.output.LayerNorm.bias'",
            Refused(() => EncoderModels.LoadSequenceClassifier(Copy("bert", c => c["num_hidden_layers"] = 1)).Dispose()));
        Assert.Contains("'qa_outputs.weight'",
            Refused(() => EncoderModels.LoadSequenceClassifier(Copy("bert", tensors: new() { ["qa_outputs.weight"] = zeros(2, 64) })).Dispose()));
        // the encoder twice, prefixed and bare: one copy would be ignored
        Assert.Contains("'embeddings.LayerNorm.bias'",
            Refused(() => EncoderModels.LoadSequenceClassifier(Copy("roberta", tensors: new() { ["embeddings.LayerNorm.bias"] = zeros(64) })).Dispose()));
    }
}
