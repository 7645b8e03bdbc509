using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Methods;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Models;

/// <summary>The settings of a GPT-2 config.json (n_embd, n_head, ...).</summary>
public sealed record Gpt2Options(int VocabSize, int Positions, int Embd, int Heads, int Layers, int Inner, double LayerNormEps, string Activation)
{
    public static Gpt2Options From(ModelConfig c)
    {
        int embd = c.GetInt("n_embd");
        string act = c.GetString("activation_function") ?? "gelu_new";
        if (act is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu"))
            throw new BlobException($"{c.Path}: activation_function '{act}' is not supported for gpt2 (gelu_new, gelu_pytorch_tanh, gelu)");
        if (c.GetBool("scale_attn_by_inverse_layer_idx", false) || c.GetBool("reorder_and_upcast_attn", false))
            throw new BlobException($"{c.Path}: scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported");
        int heads = c.GetInt("n_head");
        if (embd % heads != 0) throw new BlobException($"{c.Path}: n_embd {embd} is not a multiple of n_head {heads}");
        return new Gpt2Options(c.GetInt("vocab_size"), c.GetInt("n_positions"), embd, heads, c.GetInt("n_layer"),
            c.GetIntOrNull("n_inner") ?? 4 * embd, c.GetDouble("layer_norm_epsilon", 1e-5), act);
    }
}

/// <summary>
/// GPT2LMHeadModel: learned absolute positions, pre-norm blocks with LayerNorm, and an lm_head tied to wte.
/// The checkpoint's Conv1D weights are stored [in, out]; they are transposed on load into [out, in] linear layers.
/// dtype is that of the matrix-product weights and the embeddings (see <see cref="LoadOptions.BaseDtype"/>); the
/// LayerNorms and the residual stream are float32.
/// </summary>
public sealed class Gpt2LMHeadModel : nn.Module, IDecoderModel
{
    public Gpt2Model transformer;
    public AdaptableLinear lm_head;

    public Gpt2Options Options { get; }
    public ModelConfig Config { get; }
    public nn.Module Module => this;

    public Gpt2LMHeadModel(ModelConfig config, ScalarType dtype = ScalarType.Float32) : base(nameof(Gpt2LMHeadModel))
    {
        Config = config;
        Options = Gpt2Options.From(config);
        transformer = new Gpt2Model(Options, dtype);
        lm_head = new AdaptableLinear(Options.Embd, Options.VocabSize, hasBias: false, dtype);
        RegisterComponents();
    }

    /// <summary>
    /// Copies the checkpoint's tensors into the parameters. Keys are "transformer.h.0..." as transformers saves them, or
    /// "h.0..." as in OpenAI's original upload; lm_head shares wte's weight (GPT-2 always ties them).
    /// </summary>
    public void LoadWeights(Checkpoint checkpoint)
    {
        using (no_grad()) lm_head.weight.set_(transformer.wte.weight!);
        foreach (var (name, p) in named_parameters())
        {
            if (name == "lm_head.weight") continue;
            string key = checkpoint.Contains(name) || !checkpoint.Contains(name["transformer.".Length..]) ? name : name["transformer.".Length..];
            bool conv1d = name.EndsWith(".weight") && (name.Contains(".c_attn.") || name.Contains(".c_proj.") || name.Contains(".c_fc."));
            checkpoint.CopyTo(key, p, transpose: conv1d);
        }
    }

    public CausalLMOutput Forward(Tensor inputIds, Tensor attentionMask, Tensor? positionIds = null)
    {
        using var scope = NewDisposeScope();
        var (first, last) = transformer.forward(inputIds, attentionMask, positionIds ?? AttentionMask.DefaultPositions(inputIds));
        var logits = Head(last);
        return new CausalLMOutput(logits.MoveToOuterDisposeScope(), first.MoveToOuterDisposeScope(), last.MoveToOuterDisposeScope());
    }

    public Tensor Logits(Tensor inputIds, Tensor attentionMask) => IDecoderModel.LogitsSkippingPadding(this, inputIds, attentionMask);

    public Tensor LogitsAt(Tensor inputIds, Tensor attentionMask, Tensor positions)
    {
        using var scope = NewDisposeScope();
        var (_, last) = transformer.forward(inputIds, attentionMask, AttentionMask.PositionsSkippingPadding(attentionMask));
        return Head(IDecoderModel.AtPositions(last, positions)).MoveToOuterDisposeScope();
    }

    /// <summary>Float32 next-token logits of hidden states [..., hidden].</summary>
    Tensor Head(Tensor hidden) => lm_head.forward(hidden).to(ScalarType.Float32);
}

/// <summary>Token and position embeddings, the blocks, and the final LayerNorm.</summary>
public sealed class Gpt2Model : nn.Module
{
    public Embedding wte, wpe;
    public ModuleList<Gpt2Block> h;
    public LayerNorm ln_f;

    public Gpt2Model(Gpt2Options o, ScalarType dtype) : base(nameof(Gpt2Model))
    {
        wte = nn.Embedding(o.VocabSize, o.Embd, dtype: dtype);
        wpe = nn.Embedding(o.Positions, o.Embd, dtype: dtype);
        h = nn.ModuleList(Enumerable.Range(0, o.Layers).Select(_ => new Gpt2Block(o, dtype)).ToArray());
        ln_f = nn.LayerNorm(o.Embd, o.LayerNormEps);
        RegisterComponents();
    }

    public (Tensor First, Tensor Last) forward(Tensor inputIds, Tensor attentionMask, Tensor positionIds)
    {
        if (inputIds.shape[1] > wpe.weight!.shape[0])
            throw new ArgumentException($"GPT-2 takes at most {wpe.weight.shape[0]} tokens (n_positions), got {inputIds.shape[1]}");
        // the residual stream is float32 in any precision
        var x = wte.forward(inputIds).to(ScalarType.Float32) + wpe.forward(positionIds).to(ScalarType.Float32);
        var first = x;
        using var mask = AttentionMask.Causal(attentionMask, x.dtype);
        foreach (var block in h)
        {
            using var scope = NewDisposeScope();
            x = block.forward(x, mask).MoveToOuterDisposeScope();
        }
        return (first, ln_f.forward(x));
    }
}

/// <summary>x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
public sealed class Gpt2Block : nn.Module
{
    public LayerNorm ln_1, ln_2;
    public Gpt2Attention attn;
    public Gpt2Mlp mlp;

    public Gpt2Block(Gpt2Options o, ScalarType dtype) : base(nameof(Gpt2Block))
    {
        ln_1 = nn.LayerNorm(o.Embd, o.LayerNormEps);
        attn = new Gpt2Attention(o, dtype);
        ln_2 = nn.LayerNorm(o.Embd, o.LayerNormEps);
        mlp = new Gpt2Mlp(o, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor mask)
    {
        x = x + attn.forward(ln_1.forward(x), mask);
        return x + mlp.forward(ln_2.forward(x));
    }
}

/// <summary>Causal self-attention with a fused q/k/v projection (c_attn) and an output projection (c_proj).</summary>
public sealed class Gpt2Attention : nn.Module
{
    public AdaptableLinear c_attn, c_proj;
    readonly int _heads, _embd;

    public Gpt2Attention(Gpt2Options o, ScalarType dtype) : base(nameof(Gpt2Attention))
    {
        _heads = o.Heads; _embd = o.Embd;
        c_attn = new AdaptableLinear(o.Embd, 3 * o.Embd, hasBias: true, dtype);
        c_proj = new AdaptableLinear(o.Embd, o.Embd, hasBias: true, dtype);
        RegisterComponents();
    }

    public Tensor forward(Tensor x, Tensor mask)
    {
        long b = x.shape[0], t = x.shape[1], d = _embd / _heads;
        var qkv = c_attn.forward(x).split(_embd, dim: -1);
        var q = qkv[0].view(b, t, _heads, d).transpose(1, 2);
        var k = qkv[1].view(b, t, _heads, d).transpose(1, 2);
        var v = qkv[2].view(b, t, _heads, d).transpose(1, 2);
        var y = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask: mask);
        return c_proj.forward(y.transpose(1, 2).reshape(b, t, _embd));
    }
}

/// <summary>The feed-forward block: c_proj(gelu(c_fc(x))), with GPT-2's tanh-approximated gelu ("gelu_new").</summary>
public sealed class Gpt2Mlp : nn.Module
{
    public AdaptableLinear c_fc, c_proj;
    readonly bool _tanhGelu;

    public Gpt2Mlp(Gpt2Options o, ScalarType dtype) : base(nameof(Gpt2Mlp))
    {
        c_fc = new AdaptableLinear(o.Embd, o.Inner, hasBias: true, dtype);
        c_proj = new AdaptableLinear(o.Inner, o.Embd, hasBias: true, dtype);
        _tanhGelu = o.Activation != "gelu";
        RegisterComponents();
    }

    public Tensor forward(Tensor x)
    {
        var a = c_fc.forward(x);
        return c_proj.forward(_tanhGelu ? GeluNew(a) : nn.functional.gelu(a));
    }

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    static Tensor GeluNew(Tensor x) => 0.5 * x * (1.0 + tanh(Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))));
}
