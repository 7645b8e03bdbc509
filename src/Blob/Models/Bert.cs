using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Blob.Models;

// One definition for BERT and RoBERTa encoders (and MiniLM, which is a small BERT), written after Hugging Face's
// modeling_bert.py / modeling_roberta.py. Field names are the state_dict key segments, so parameter names are
// exactly Hugging Face's: bert.encoder.layer.0.attention.self.query.weight, classifier.out_proj.bias, ...

/// <summary>What the classification head reads: the [CLS] / &lt;s&gt; token (Hugging Face's default) or the mean of
/// the last hidden states over the non-pad tokens (as sentence-transformers pools).</summary>
public enum Pooling { Cls, Mean }

/// <summary>The shape of a BERT-style encoder, from config.json.</summary>
public sealed record BertSettings(
    int VocabSize, int HiddenSize, int NumLayers, int NumHeads, int IntermediateSize,
    int MaxPositions, int TypeVocabSize, double LayerNormEps, int PadTokenId,
    bool IsRoberta, double HiddenDropout = 0.1, double AttentionDropout = 0.1)
{
    public static BertSettings FromConfig(ModelConfig c)
    {
        string act = c.GetString("hidden_act") ?? "gelu";
        if (act != "gelu") throw new BlobException($"{c.Path}: hidden_act '{act}' is not supported (only exact 'gelu')");
        string type = c.GetString("position_embedding_type") ?? "absolute";
        if (type != "absolute") throw new BlobException($"{c.Path}: position_embedding_type '{type}' is not supported");
        bool roberta = c.ModelType is "roberta" or "xlm-roberta";
        int hidden = c.GetInt("hidden_size"), heads = c.GetInt("num_attention_heads");
        if (hidden % heads != 0) throw new BlobException($"{c.Path}: hidden_size {hidden} is not a multiple of num_attention_heads {heads}");
        return new BertSettings(
            c.GetInt("vocab_size"), c.GetInt("hidden_size"), c.GetInt("num_hidden_layers"),
            c.GetInt("num_attention_heads"), c.GetInt("intermediate_size"), c.GetInt("max_position_embeddings"),
            c.GetInt("type_vocab_size", 2), c.GetDouble("layer_norm_eps", 1e-12), c.GetInt("pad_token_id", roberta ? 1 : 0),
            roberta, c.GetDouble("hidden_dropout_prob", 0.1), c.GetDouble("attention_probs_dropout_prob", 0.1));
    }
}

/// <summary>Word + position + token-type embeddings, then LayerNorm.</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    readonly LayerNorm LayerNorm;
    readonly FastDropoutModule dropout;
    readonly BertSettings _s;

    public BertEmbeddings(BertSettings s) : base(nameof(BertEmbeddings))
    {
        _s = s;
        word_embeddings = nn.Embedding(s.VocabSize, s.HiddenSize);
        position_embeddings = nn.Embedding(s.MaxPositions, s.HiddenSize);
        token_type_embeddings = nn.Embedding(s.TypeVocabSize, s.HiddenSize);
        LayerNorm = nn.LayerNorm(s.HiddenSize, s.LayerNormEps);
        dropout = new FastDropoutModule(s.HiddenDropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var positions = PositionIds(inputIds);
        var x = word_embeddings.forward(inputIds) + position_embeddings.forward(positions)
                + token_type_embeddings.forward(tokenTypeIds);
        return dropout.forward(LayerNorm.forward(x));
    }

    /// <summary>BERT: 0, 1, 2, ... RoBERTa: pad+1, pad+2, ... counting only non-pad tokens, pad itself at padding
    /// (transformers' create_position_ids_from_input_ids).</summary>
    Tensor PositionIds(Tensor inputIds)
    {
        long seq = inputIds.shape[1];
        if (!_s.IsRoberta) return arange(seq, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0);
        using var notPad = inputIds.ne(_s.PadTokenId).to(ScalarType.Int64);
        using var counts = notPad.cumsum(1);
        return counts * notPad + _s.PadTokenId;
    }
}

/// <summary>Multi-head self-attention: query, key, value projections and a padding mask.</summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, Tensor>, IDropoutMasks
{
    readonly AdaptableLinear query, key, value;
    readonly int _heads;
    readonly double _dropout;

    public BertSelfAttention(BertSettings s, ScalarType dtype) : base(nameof(BertSelfAttention))
    {
        query = new AdaptableLinear(s.HiddenSize, s.HiddenSize, dtype: dtype);
        key = new AdaptableLinear(s.HiddenSize, s.HiddenSize, dtype: dtype);
        value = new AdaptableLinear(s.HiddenSize, s.HiddenSize, dtype: dtype);
        _heads = s.NumHeads;
        _dropout = s.AttentionDropout;
        RegisterComponents();
    }

    /// <summary>Keep only q, k and v for backward and recompute the attention core there (on by default; see <see cref="Recomputation"/>).</summary>
    public bool RecomputeCore { get; set; } = true;

    /// <summary>The attention dropout's masks from <see cref="FastDropout"/> (the default) or libtorch's.</summary>
    public bool UseFastDropout { get; set; } = true;

    /// <param name="x">[batch, seq, hidden]</param>
    /// <param name="maskBias">[batch, 1, 1, seq]: 0 for tokens, a large negative number for padding.</param>
    public override Tensor forward(Tensor x, Tensor maskBias)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        Tensor Heads(Tensor y) => y.view(b, t, _heads, c / _heads).transpose(1, 2);  // [b, heads, t, head_dim]
        var dtype = query.weight.dtype;
        // bf16: one product of x against the three weights stacked (x cast once, one gradient product in backward),
        // and an unadapted projection (key, by default) left in bfloat16, which the core's product rounds to anyway.
        var (qh, kh, vh) = dtype == ScalarType.Float32 ? (query.forward(x), key.forward(x), value.forward(x))
            : AdaptableLinear.ForwardTogether([query, key, value], x) switch { var r => (r[0], r[1], r[2]) };
        using var q = Heads(qh);
        using var k = Heads(kh);
        using var v = Heads(vh);
        qh.Dispose(); kh.Dispose(); vh.Dispose();
        double dropout = training ? _dropout : 0.0;
        bool padded = dtype != ScalarType.Float32 || dropout > 0 ? maskBias.ne(0).any().item<bool>() : true;
        // With dropout, libtorch's CPU attention keeps the probabilities, the dropout noise and the dropped
        // probabilities for backward ([batch, heads, seq, seq] each): recomputed instead, with the same numbers, a
        // training step needs far less memory (docs/performance.md, "Attention recomputed in backward").
        using var y = RecomputeCore
            ? Recomputation.Apply(x => Core(dtype, x[0], x[1], x[2], x[3], dropout, padded, UseFastDropout), q, k, v, maskBias)
            : Core(dtype, q, k, v, maskBias, dropout, padded, UseFastDropout);
        return y.transpose(1, 2).contiguous().view(b, t, c);
    }

    /// <summary>The core in float32: libtorch's scaled_dot_product_attention, except for training with
    /// <see cref="FastDropout"/> (libtorch's attention draws its dropout mask with bernoulli_, the slow part of a step).</summary>
    static Tensor Core(ScalarType dtype, Tensor q, Tensor k, Tensor v, Tensor maskBias, double dropout, bool padded, bool fast)
    {
        if (dtype != ScalarType.Float32) return AttentionWithProductsIn(dtype, q, k, v, maskBias, dropout, padded, fast);
        if (dropout <= 0 || !fast) return F.scaled_dot_product_attention(q, k, v, maskBias, dropout);
        using var qScaled = q * (1.0 / Math.Sqrt(q.shape[^1]));
        using var scores = qScaled.matmul(k.transpose(-2, -1));
        if (padded) scores.add_(maskBias);
        using var weights = scores.softmax(-1);
        using var dropped = FastDropout.Apply(weights, dropout, true);
        return dropped.matmul(v);
    }

    /// <summary>
    /// dropout(softmax(q·kᵀ/√d + mask))·v for bf16 precision: the two products in the base's dtype, the scores, mask
    /// and softmax in float32 (scaled_dot_product_attention takes one dtype for all of it). q is scaled by 1/√d before
    /// it is rounded to bfloat16 (on [tokens, hidden], not on the scores); the probabilities are rounded to bfloat16
    /// for their product with v, as before, and the dropout mask (0 or 1, exact in bfloat16) is applied to them there,
    /// with its 1/(1 − p) on the product's float32 result: the same numbers up to where that factor is rounded.
    /// </summary>
    static Tensor AttentionWithProductsIn(ScalarType dtype, Tensor q, Tensor k, Tensor v, Tensor maskBias, double dropout, bool padded, bool fast)
    {
        using var qScaled = q * (1.0 / Math.Sqrt(q.shape[^1]));
        using var qLow = qScaled.to(dtype);
        using var kLow = k.to(dtype);
        using var vLow = v.to(dtype);
        using var products = qLow.matmul(kLow.transpose(-2, -1));
        using var scores = products.to(ScalarType.Float32);
        if (padded) scores.add_(maskBias);
        using var weights = scores.softmax(-1);
        using var weightsLow = weights.to(dtype);
        if (dropout <= 0 || !fast)
        {
            using var droppedLow = F.dropout(weightsLow, dropout, dropout > 0);
            using var yLow = droppedLow.matmul(vLow);
            return yLow.to(ScalarType.Float32);
        }
        using var keep = FastDropout.KeepMask(weightsLow.shape, dropout, dtype);
        using var kept = weightsLow * keep;
        using var y = kept.matmul(vLow);
        using var y32 = y.to(ScalarType.Float32);
        return y32 * (1.0 / (1 - dropout));
    }
}

/// <summary>dense + dropout + residual + LayerNorm (post-LN), used after attention and after the FFN.</summary>
public sealed class BertResidualOutput : nn.Module<Tensor, Tensor, Tensor>
{
    readonly AdaptableLinear dense;
    readonly LayerNorm LayerNorm;
    readonly FastDropoutModule dropout;

    public BertResidualOutput(BertSettings s, int inFeatures, ScalarType dtype) : base(nameof(BertResidualOutput))
    {
        dense = new AdaptableLinear(inFeatures, s.HiddenSize, dtype: dtype);
        LayerNorm = nn.LayerNorm(s.HiddenSize, s.LayerNormEps);
        dropout = new FastDropoutModule(s.HiddenDropout);
        RegisterComponents();
    }

    internal AdaptableLinear Dense => dense;

    /// <summary>h may be bfloat16 (see <see cref="BertIntermediate.Forward"/>); the sum and the norm are float32.</summary>
    public override Tensor forward(Tensor h, Tensor residual)
    {
        using var d = dropout.forward(dense.forward(h));
        using var sum = d + residual;
        return LayerNorm.forward(sum);
    }
}

/// <summary>attention.self + attention.output.</summary>
public sealed class BertAttention : nn.Module<Tensor, Tensor, Tensor>
{
    readonly BertSelfAttention self;
    readonly BertResidualOutput output;

    public BertAttention(BertSettings s, ScalarType dtype) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(s, dtype);
        output = new BertResidualOutput(s, s.HiddenSize, dtype);
        RegisterComponents();
    }

    internal BertSelfAttention Self => self;

    public override Tensor forward(Tensor x, Tensor maskBias)
    {
        using var a = self.forward(x, maskBias);
        return output.forward(a, x);
    }
}

/// <summary>intermediate.dense + GELU (exact, erf).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    readonly AdaptableLinear dense;

    public BertIntermediate(BertSettings s, ScalarType dtype) : base(nameof(BertIntermediate))
    {
        dense = new AdaptableLinear(s.HiddenSize, s.IntermediateSize, dtype: dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h = dense.forward(x);
        return F.gelu(h);
    }

    /// <summary>
    /// With a bfloat16 weight and no active adapter, for a consumer that rounds to bfloat16 anyway (the output dense
    /// without an adapter): the product and GELU left in bfloat16. libtorch computes bfloat16 GELU and its gradient
    /// in float32 and rounds once, so these are the numbers of float32 GELU rounded for the next product, without
    /// the two float32 tensors [tokens, intermediate] and their casts.
    /// </summary>
    public Tensor Forward(Tensor x, bool roundedAfter)
    {
        if (!roundedAfter || dense.HasActiveAdapter || dense.weight.dtype == x.dtype) return forward(x);
        using var xLow = x.to(dense.weight.dtype);
        using var h = dense.forward(xLow);
        return F.gelu(h);
    }
}

/// <summary>One post-LN transformer layer: attention, then the feed-forward block.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    readonly BertAttention attention;
    readonly BertIntermediate intermediate;
    readonly BertResidualOutput output;

    public BertLayer(BertSettings s, ScalarType dtype) : base(nameof(BertLayer))
    {
        attention = new BertAttention(s, dtype);
        intermediate = new BertIntermediate(s, dtype);
        output = new BertResidualOutput(s, s.IntermediateSize, dtype);
        RegisterComponents();
    }

    internal BertSelfAttention SelfAttention => attention.Self;

    public override Tensor forward(Tensor x, Tensor maskBias)
    {
        using var a = attention.forward(x, maskBias);
        using var h = intermediate.Forward(a, roundedAfter: !output.Dense.HasActiveAdapter);
        return output.forward(h, a);
    }
}

/// <summary>dense + tanh on the first token ([CLS]).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    readonly AdaptableLinear dense;

    public BertPooler(BertSettings s) : base(nameof(BertPooler))
    {
        dense = new AdaptableLinear(s.HiddenSize, s.HiddenSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor first)
    {
        using var h = dense.forward(first);
        return h.tanh();
    }
}

/// <summary>
/// The encoder: embeddings, the stack of layers and (BERT only) the pooler. The layers' linear weights are stored in
/// baseDtype (bfloat16 for bf16 precision: their products are most of the compute), and attention's two products run
/// in it too; the embeddings, LayerNorms, softmax and the pooler (which a checkpoint may lack, and which is then
/// trained) stay float32, as do all activations between the products.
/// </summary>
public sealed class BertModel : nn.Module
{
    readonly BertEmbeddings embeddings;
    readonly BertEncoder encoder;
    readonly BertPooler? pooler;

    public BertSettings Settings { get; }
    public BertPooler? Pooler => pooler;

    /// <summary>
    /// Whether training recomputes each layer's attention core in backward rather than keeping its
    /// [batch, heads, seq, seq] tensors (on by default): the same numbers bit for bit, for the core's forward once more.
    /// </summary>
    public bool RecomputeAttention
    {
        get => encoder.layer.All(l => l.SelfAttention.RecomputeCore);
        set { foreach (var l in encoder.layer) l.SelfAttention.RecomputeCore = value; }
    }

    public BertModel(BertSettings s, bool addPooler, ScalarType baseDtype = ScalarType.Float32) : base(nameof(BertModel))
    {
        Settings = s;
        embeddings = new BertEmbeddings(s);
        encoder = new BertEncoder(s, baseDtype);
        pooler = addPooler ? new BertPooler(s) : null;
        RegisterComponents();
    }

    /// <summary>Hidden states [batch, seq, hidden]: the embeddings output first, then each layer's output
    /// (as transformers' output_hidden_states). With allStates false, only the last.</summary>
    public List<Tensor> HiddenStates(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null, bool allStates = true)
    {
        using var zeroTypes = tokenTypeIds is null ? zeros_like(inputIds) : null;
        using var maskBias = MaskBias(attentionMask);
        var h = embeddings.forward(inputIds, tokenTypeIds ?? zeroTypes!);
        var states = new List<Tensor> { h };
        foreach (var layer in encoder.layer)
        {
            using (var scope = NewDisposeScope()) // frees each layer's temporaries (autograd keeps what it needs)
                h = layer.forward(h, maskBias).MoveToOuterDisposeScope();
            if (allStates) states.Add(h);
            else { states[0].Dispose(); states[0] = h; }
        }
        return states;
    }

    public Tensor LastHiddenState(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null) =>
        HiddenStates(inputIds, attentionMask, tokenTypeIds, allStates: false)[0];

    /// <summary>[batch, 1, 1, seq]: 0 where attention_mask is 1, the float minimum where it is 0 (as transformers).</summary>
    static Tensor MaskBias(Tensor attentionMask)
    {
        using var padding = attentionMask.eq(0).to(ScalarType.Float32);
        using var bias = padding * float.MinValue;
        return bias.view(attentionMask.shape[0], 1, 1, attentionMask.shape[1]);
    }
}

/// <summary>encoder.layer.0 ... encoder.layer.N-1.</summary>
public sealed class BertEncoder : nn.Module
{
    public readonly ModuleList<BertLayer> layer;

    public BertEncoder(BertSettings s, ScalarType dtype) : base(nameof(BertEncoder))
    {
        layer = new ModuleList<BertLayer>(Enumerable.Range(0, s.NumLayers).Select(_ => new BertLayer(s, dtype)).ToArray());
        RegisterComponents();
    }
}

/// <summary>RoBERTa's head: dense + tanh + out_proj (with dropout before each projection).</summary>
public sealed class RobertaClassificationHead : nn.Module<Tensor, Tensor>
{
    readonly AdaptableLinear dense, out_proj;
    readonly FastDropoutModule dropout;

    public RobertaClassificationHead(BertSettings s, int numLabels, double dropoutProb) : base(nameof(RobertaClassificationHead))
    {
        dense = new AdaptableLinear(s.HiddenSize, s.HiddenSize);
        out_proj = new AdaptableLinear(s.HiddenSize, numLabels);
        dropout = new FastDropoutModule(dropoutProb);
        RegisterComponents();
    }

    public override Tensor forward(Tensor features)
    {
        using var d = dropout.forward(features);
        using var h = dense.forward(d);
        using var t = h.tanh();
        using var d2 = dropout.forward(t);
        return out_proj.forward(d2);
    }
}

/// <summary>
/// BertForSequenceClassification / RobertaForSequenceClassification: the encoder (registered as "bert" or
/// "roberta") and the head "classifier". With <see cref="Pooling.Cls"/> the head reads what Hugging Face's does
/// (BERT: the pooler's dense+tanh of [CLS]; RoBERTa: the &lt;s&gt; state); with <see cref="Pooling.Mean"/> it reads
/// the mean of the last hidden states over non-pad tokens instead.
/// </summary>
public sealed class BertForSequenceClassification : nn.Module, ISequenceClassifier
{
    readonly BertModel _encoder;
    readonly nn.Module<Tensor, Tensor> _classifier;  // AdaptableLinear (BERT) or RobertaClassificationHead
    readonly FastDropoutModule _dropout;

    public BertModel Encoder => _encoder;
    public nn.Module<Tensor, Tensor> Classifier => _classifier;
    public Pooling Pooling { get; set; }
    public int NumLabels { get; }
    public ModelConfig Config { get; }
    public nn.Module Module => this;

    /// <param name="baseDtype">Where the encoder layers' linear weights are stored and multiplied (see <see cref="BertModel"/>);
    /// the head is float32 in any case, since it is trained.</param>
    public BertForSequenceClassification(ModelConfig config, BertSettings s, int numLabels, Pooling pooling,
        ScalarType baseDtype = ScalarType.Float32)
        : base(s.IsRoberta ? "RobertaForSequenceClassification" : "BertForSequenceClassification")
    {
        Config = config;
        NumLabels = numLabels;
        Pooling = pooling;
        double classifierDropout = config.GetDouble("classifier_dropout", s.HiddenDropout);
        _encoder = new BertModel(s, addPooler: !s.IsRoberta, baseDtype);
        _classifier = s.IsRoberta
            ? new RobertaClassificationHead(s, numLabels, classifierDropout)
            : new AdaptableLinear(s.HiddenSize, numLabels);
        _dropout = new FastDropoutModule(classifierDropout);
        register_module(s.IsRoberta ? "roberta" : "bert", _encoder);
        register_module("dropout", _dropout);
        register_module("classifier", _classifier);
    }

    public Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null)
    {
        using var last = _encoder.LastHiddenState(inputIds, attentionMask, tokenTypeIds);
        using var features = Features(last, attentionMask);
        if (_encoder.Settings.IsRoberta) return _classifier.forward(features);  // the head has its own dropout
        using var dropped = _dropout.forward(features);
        return _classifier.forward(dropped);
    }

    /// <summary>What the head reads, [batch, hidden].</summary>
    Tensor Features(Tensor last, Tensor attentionMask) => Pool(_encoder, Pooling, last, attentionMask);

    /// <summary>
    /// The pooled features [batch, hidden] of last hidden states [batch, seq, hidden]: their mean over tokens
    /// (<see cref="Pooling.Mean"/>), else the pooler's dense+tanh of the first token, or that token's state where the
    /// encoder has no pooler.
    /// </summary>
    internal static Tensor Pool(BertModel encoder, Pooling pooling, Tensor last, Tensor attentionMask)
    {
        if (pooling == Pooling.Mean) return MeanPool(last, attentionMask);
        using var first = last.select(1, 0);
        return encoder.Pooler is { } pooler ? pooler.forward(first) : first.clone();
    }

    /// <summary>Mean of the hidden states over positions where attentionMask is 1.</summary>
    public static Tensor MeanPool(Tensor hidden, Tensor attentionMask)
    {
        using var m = attentionMask.unsqueeze(-1).to(hidden.dtype);
        using var sum = (hidden * m).sum(1);
        using var count = m.sum(1).clamp_min(1e-9);
        return sum / count;
    }
}

/// <summary>
/// BertForMultipleChoice / RobertaForMultipleChoice: the encoder ("bert" or "roberta", with its pooler in both cases,
/// as Hugging Face's), "dropout" and a linear "classifier" with one output (classifier.weight [1, hidden],
/// classifier.bias [1]), so a Hugging Face multiple-choice checkpoint's head loads by name. Each (question, choice)
/// pair is one sequence; its pooled features (<see cref="Pooling.Cls"/>: the pooler of [CLS] / &lt;s&gt;, as Hugging
/// Face; <see cref="Pooling.Mean"/>: the mean over tokens, as MiniLM's sequence classifier) give one logit.
/// </summary>
public sealed class BertForMultipleChoice : nn.Module, IMultipleChoiceModel
{
    readonly BertModel _encoder;
    readonly AdaptableLinear _classifier;
    readonly FastDropoutModule _dropout;

    public BertModel Encoder => _encoder;
    public AdaptableLinear Classifier => _classifier;
    public Pooling Pooling { get; set; }
    public ModelConfig Config { get; }
    public nn.Module Module => this;

    /// <param name="baseDtype">See <see cref="BertModel"/>; the head is float32.</param>
    public BertForMultipleChoice(ModelConfig config, BertSettings s, Pooling pooling, ScalarType baseDtype = ScalarType.Float32)
        : base(s.IsRoberta ? "RobertaForMultipleChoice" : "BertForMultipleChoice")
    {
        Config = config;
        Pooling = pooling;
        // transformers: BERT's head dropout is classifier_dropout (else hidden_dropout_prob), RoBERTa's hidden_dropout_prob
        double dropout = s.IsRoberta ? s.HiddenDropout : config.GetDouble("classifier_dropout", s.HiddenDropout);
        _encoder = new BertModel(s, addPooler: true, baseDtype);
        _classifier = new AdaptableLinear(s.HiddenSize, 1);
        _dropout = new FastDropoutModule(dropout);
        register_module(s.IsRoberta ? "roberta" : "bert", _encoder);
        register_module("dropout", _dropout);
        register_module("classifier", _classifier);
    }

    public Tensor Logits(Tensor inputIds, Tensor attentionMask, Tensor? tokenTypeIds = null)
    {
        long questions = inputIds.shape[0], choices = inputIds.shape[1], t = inputIds.shape[2];
        using var ids = inputIds.reshape(questions * choices, t);
        using var mask = attentionMask.reshape(questions * choices, t);
        using var types = tokenTypeIds?.reshape(questions * choices, t);
        using var last = _encoder.LastHiddenState(ids, mask, types);
        using var features = BertForSequenceClassification.Pool(_encoder, Pooling, last, mask);
        using var dropped = _dropout.forward(features);
        using var logits = _classifier.forward(dropped);  // [questions × choices, 1]
        return logits.reshape(questions, choices);
    }
}
