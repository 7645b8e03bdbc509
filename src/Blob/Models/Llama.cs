using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>
/// The settings that distinguish the Llama family's members, read from config.json: Llama, Mistral (sliding window),
/// Qwen2 (q/k/v biases), Qwen3 (per-head q/k RMSNorm, explicit head_dim).
/// </summary>
public sealed record LlamaOptions(
    int VocabSize, int HiddenSize, int IntermediateSize, int Layers, int Heads, int KvHeads, int HeadDim,
    double RmsNormEps, double RopeTheta, RopeScaling? RopeScaling,
    bool QkvBias, bool OutputBias, bool MlpBias, bool QkNorm, bool TieWordEmbeddings, int? SlidingWindow)
{
    public static LlamaOptions From(ModelConfig c)
    {
        string type = c.ModelType;
        if ((c.GetString("hidden_act") ?? "silu") != "silu")
            throw new BlobException($"{c.Path}: hidden_act '{c.GetString("hidden_act")}' is not supported for {type} (only silu)");
        int hidden = c.GetInt("hidden_size"), heads = c.GetInt("num_attention_heads");
        bool attentionBias = c.GetBool("attention_bias", false);
        var rope = c.Raw["rope_parameters"] as System.Text.Json.Nodes.JsonObject;   // transformers 5
        var scaling = c.Raw["rope_scaling"] as System.Text.Json.Nodes.JsonObject ?? rope;   // transformers 4
        double theta = c.Has("rope_theta") ? c.GetDouble("rope_theta")
            : rope?["rope_theta"] is { } nested ? (nested is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<double>(out var t) ? t : double.NaN) : 10000.0;
        // 0 or less gives NaN positions everywhere; below 1 the frequencies grow with the dimension, and a tiny base overflows them
        if (!(double.IsFinite(theta) && theta >= 1))
            throw new BlobException($"{c.Path}: rope_theta is {(c.Has("rope_theta") ? c.Raw["rope_theta"] : rope?["rope_theta"])?.ToJsonString()}; expected a number of at least 1");
        // each head's width times the heads must fill the hidden size unless head_dim says otherwise, and query heads share key/value heads evenly
        int kvHeads = c.GetInt("num_key_value_heads", heads);
        if (!c.Has("head_dim") && hidden % heads != 0)
            throw new BlobException($"{c.Path}: hidden_size {hidden} is not a multiple of num_attention_heads {heads} (and no head_dim is given)");
        if (heads % kvHeads != 0)
            throw new BlobException($"{c.Path}: num_attention_heads {heads} is not a multiple of num_key_value_heads {kvHeads}");
        return new LlamaOptions(
            VocabSize: c.GetInt("vocab_size"),
            HiddenSize: hidden,
            IntermediateSize: c.GetInt("intermediate_size"),
            Layers: c.GetInt("num_hidden_layers"),
            Heads: heads,
            KvHeads: kvHeads,
            HeadDim: c.GetIntOrNull("head_dim") ?? hidden / heads,
            RmsNormEps: c.GetDouble("rms_norm_eps", 1e-6),
            RopeTheta: theta,
            RopeScaling: ReadScaling(c, scaling),
            QkvBias: type == "qwen2" || attentionBias,
            OutputBias: type != "qwen2" && attentionBias,
            MlpBias: c.GetBool("mlp_bias", false),
            QkNorm: type == "qwen3",
            TieWordEmbeddings: c.GetBool("tie_word_embeddings", false),
            SlidingWindow: type == "mistral" || c.GetBool("use_sliding_window", false) ? c.GetIntOrNull("sliding_window") : null);
    }

    static RopeScaling? ReadScaling(ModelConfig c, JsonObject? s)
    {
        BlobException Wrong(string key, JsonNode n, string expected) =>
            new($"{c.Path}: the rotary scaling's \"{key}\" is {n.ToJsonString()}; expected {expected}");
        string? Text(string key) => s?[key] is not { } n ? null
            : n is JsonValue v && v.TryGetValue<string>(out var t) ? t : throw Wrong(key, n, "a string");
        // factors and lengths: a zero or negative one divides positions by zero or flips them
        double Get(string key, double fallback) => s?[key] is not { } n ? fallback
            : n is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) && d > 0 && d <= 1 << 24 ? d : throw Wrong(key, n, "a number above 0");
        string kind = Text("rope_type") ?? Text("type") ?? "default";
        return kind switch
        {
            "default" => null,
            "linear" => new RopeScaling(kind, Get("factor", 1), 0, 0, 0),
            "llama3" => new RopeScaling(kind, Get("factor", 8), Get("low_freq_factor", 1), Get("high_freq_factor", 4),
                (int)Get("original_max_position_embeddings", 8192)),
            _ => throw new BlobException($"{c.Path}: rotary scaling '{kind}' is not supported (supported: default, linear, llama3)"),
        };
    }
}

/// <summary>
/// LlamaForCausalLM (also Mistral, Qwen2, Qwen3): the decoder stack and the language-model head. Build it through
/// <see cref="PretrainedModels.LoadCausalLM"/>, which places it on its device before loading: a tied lm_head shares
/// embed_tokens' storage, and TorchSharp's Module.to() would copy the two apart (harmless for a frozen base, but twice
/// the memory), so move a loaded model by loading it again with another LoadOptions.Device.
/// dtype is that of the matrix-product weights and the embeddings (see <see cref="LoadOptions.BaseDtype"/>); the
/// RMSNorms and the residual stream are float32.
/// </summary>
public sealed class LlamaForCausalLM : nn.Module, IDecoderModel
{
    public LlamaModel model;
    public AdaptableLinear lm_head;

    public LlamaOptions Options { get; }
    public ModelConfig Config { get; }
    public nn.Module Module => this;

    public LlamaForCausalLM(ModelConfig config, ScalarType dtype = ScalarType.Float32) : base(nameof(LlamaForCausalLM))
    {
        Config = config;
        Options = LlamaOptions.From(config);
        model = new LlamaModel(Options, dtype);
        lm_head = new AdaptableLinear(Options.HiddenSize, Options.VocabSize, hasBias: false, dtype);
        RegisterComponents();
    }

    /// <summary>Whether lm_head shares embed_tokens' weight (set by <see cref="LoadWeights"/>).</summary>
    public bool Tied { get; private set; }

    /// <summary>
    /// Copies the checkpoint's tensors into the parameters (which already sit on their final device). lm_head is tied to
    /// embed_tokens only when tie_word_embeddings says so; without it, a checkpoint with no lm_head.weight is refused.
    /// </summary>
    public void LoadWeights(Checkpoint checkpoint)
    {
        Tied = Options.TieWordEmbeddings;
        if (!Tied && !checkpoint.Contains("lm_head.weight"))
            throw new BlobException($"{checkpoint.ListingPath}: no tensor 'lm_head.weight', and config.json does not set tie_word_embeddings (false by default), so the output layer is missing");
        if (Tied)
        {
            using var _ = no_grad();
            lm_head.weight.set_(model.embed_tokens.weight!);   // shares storage: loaded once, stored once
        }
        foreach (var (name, p) in named_parameters())
        {
            if (Tied && name == "lm_head.weight") continue;
            checkpoint.CopyTo(name, p);
        }
    }

    public CausalLMOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        var (first, last) = model.forward(inputIds, attentionMask, positionIds ?? AttentionMask.DefaultPositions(inputIds));
        var logits = Head(last);
        return new CausalLMOutput(logits.MoveToOuterDisposeScope(), first.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }

    public Tensor Logits(Tensor inputIds, Tensor attentionMask) => IDecoderModel.LogitsSkippingPadding(this, inputIds, attentionMask);

    public Tensor LogitsAt(Tensor inputIds, Tensor attentionMask, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var (_, last) = model.forward(inputIds, attentionMask, AttentionMask.PositionsSkippingPadding(attentionMask));
        return Head(IDecoderModel.AtPositions(last, positions)).MoveToOuterDisposeScope();
    }

    /// <summary>Float32 next-token logits of hidden states [..., hidden].</summary>
    Tensor Head(Tensor hidden) => lm_head.forward(hidden).to(ScalarType.Float32);
}

/// <summary>The decoder stack: embeddings, layers, final norm.</summary>
public sealed class LlamaModel : nn.Module
{
    public Embedding embed_tokens;
    public ModuleList<LlamaDecoderLayer> layers;
    public RmsNorm norm;
    readonly RotaryEmbedding _rotary;
    readonly int? _slidingWindow;

    public LlamaModel(LlamaOptions o, ScalarType dtype) : base(nameof(LlamaModel))
    {
        embed_tokens = nn.Embedding(o.VocabSize, o.HiddenSize, dtype: dtype);
        layers = nn.ModuleList(Enumerable.Range(0, o.Layers).Select(_ => new LlamaDecoderLayer(o, dtype)).ToArray());
        norm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        _rotary = new RotaryEmbedding(o.HeadDim, o.RopeTheta, o.RopeScaling);
        _slidingWindow = o.SlidingWindow;
        RegisterComponents();
    }

    /// <summary>Returns the embeddings output and the final normed hidden state.</summary>
    public (Tensor First, Tensor Last) forward(Tensor inputIds, Tensor attentionMask, Tensor positionIds)
    {
        var h = embed_tokens.forward(inputIds).to(ScalarType.Float32);   // the residual stream is float32 in any precision
        var first = h;
        using var mask = AttentionMask.Causal(attentionMask, h.dtype, _slidingWindow);
        var (cos, sin) = _rotary.Tables(positionIds, h.dtype);
        using (cos) using (sin)
        {
            foreach (var layer in layers)
            {
                using var scope = NewDisposeScope();   // frees each layer's temporaries (autograd keeps what it needs)
                h = layer.forward(h, cos, sin, mask).MoveToOuterDisposeScope();
            }
        }
        return (first, norm.forward(h));
    }
}

/// <summary>One pre-norm transformer block: h + attn(norm(h)), then h + mlp(norm(h)).</summary>
public sealed class LlamaDecoderLayer : nn.Module
{
    public LlamaAttention self_attn;
    public LlamaMlp mlp;
    public RmsNorm input_layernorm;
    public RmsNorm post_attention_layernorm;

    public LlamaDecoderLayer(LlamaOptions o, ScalarType dtype) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(o, dtype);
        mlp = new LlamaMlp(o, dtype);
        input_layernorm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        post_attention_layernorm = new RmsNorm(o.HiddenSize, o.RmsNormEps);
        RegisterComponents();
    }

    public Tensor forward(Tensor h, Tensor cos, Tensor sin, Tensor mask)
    {
        h = h + self_attn.forward(input_layernorm.forward(h), cos, sin, mask);
        return h + mlp.forward(post_attention_layernorm.forward(h));
    }
}

/// <summary>Multi-head attention with grouped-query K/V heads, rotary positions and (Qwen3) per-head q/k norms.</summary>
public sealed class LlamaAttention : nn.Module
{
    public AdaptableLinear q_proj, k_proj, v_proj, o_proj;
    public RmsNorm? q_norm, k_norm;
    readonly int _heads, _kvHeads, _headDim;

    public LlamaAttention(LlamaOptions o, ScalarType dtype) : base(nameof(LlamaAttention))
    {
        _heads = o.Heads; _kvHeads = o.KvHeads; _headDim = o.HeadDim;
        q_proj = new AdaptableLinear(o.HiddenSize, o.Heads * o.HeadDim, o.QkvBias, dtype);
        k_proj = new AdaptableLinear(o.HiddenSize, o.KvHeads * o.HeadDim, o.QkvBias, dtype);
        v_proj = new AdaptableLinear(o.HiddenSize, o.KvHeads * o.HeadDim, o.QkvBias, dtype);
        o_proj = new AdaptableLinear(o.Heads * o.HeadDim, o.HiddenSize, o.OutputBias, dtype);
        if (o.QkNorm)
        {
            q_norm = new RmsNorm(o.HeadDim, o.RmsNormEps);
            k_norm = new RmsNorm(o.HeadDim, o.RmsNormEps);
        }
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor cos, Tensor sin, Tensor mask)
    {
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.forward(x).view(b, t, _heads, _headDim);
        var k = k_proj.forward(x).view(b, t, _kvHeads, _headDim);
        var v = v_proj.forward(x).view(b, t, _kvHeads, _headDim).transpose(1, 2);
        if (q_norm is not null) { q = q_norm.forward(q); k = k_norm!.forward(k); }
        q = RotaryEmbedding.Apply(q.transpose(1, 2), cos, sin);   // [B, H, T, D]
        k = RotaryEmbedding.Apply(k.transpose(1, 2), cos, sin);
        if (_kvHeads != _heads)
        {
            // grouped-query attention: query head i reads K/V head i / (H / KV), as transformers' repeat_kv
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        var y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        return o_proj.forward(y.transpose(1, 2).reshape(b, t, _heads * _headDim));
    }
}

/// <summary>The gated feed-forward block: down(silu(gate(x)) · up(x)).</summary>
public sealed class LlamaMlp : nn.Module
{
    public AdaptableLinear gate_proj, up_proj, down_proj;

    public LlamaMlp(LlamaOptions o, ScalarType dtype) : base(nameof(LlamaMlp))
    {
        gate_proj = new AdaptableLinear(o.HiddenSize, o.IntermediateSize, o.MlpBias, dtype);
        up_proj = new AdaptableLinear(o.HiddenSize, o.IntermediateSize, o.MlpBias, dtype);
        down_proj = new AdaptableLinear(o.IntermediateSize, o.HiddenSize, o.MlpBias, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x) => down_proj.forward(nn.functional.silu(gate_proj.forward(x)) * up_proj.forward(x));
}
