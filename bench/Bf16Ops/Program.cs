// Times the pieces of a MiniLM training step at 32 × 256 tokens in fp32 and bf16, forward and backward, each op
// alternating between variants in one process (medians of reps). Usage: dotnet run -c Release -- [reps] [filter]
using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

int reps = args.Length > 0 ? int.Parse(args[0]) : 5;
string filter = args.Length > 1 ? args[1] : "";
const long B = 32, S = 256, T = B * S, H = 384, I = 1536, NH = 12, D = 32;
var f32 = ScalarType.Float32; var bf = ScalarType.BFloat16;
Console.WriteLine($"threads {get_num_threads()}");
Blob.Runtime.BlobRuntime.Configure();   // as `./blob` does: the masks filled on helper threads

void Case(string name, params (string Label, Func<Action> Make)[] variants)
{
    if (filter.Length > 0 && !name.Contains(filter)) return;
    var runs = variants.Select(v => v.Make()).ToArray();
    foreach (var r in runs) r();  // warm-up
    var times = variants.Select(_ => new List<double>()).ToArray();
    for (int k = 0; k < reps; k++)
        for (int i = 0; i < runs.Length; i++)
        {
            var c = Stopwatch.StartNew();
            runs[i]();
            times[i].Add(c.Elapsed.TotalMilliseconds);
        }
    Console.WriteLine($"{name}: " + string.Join("   ", variants.Select((v, i) => $"{v.Label} {times[i].Order().ElementAt(reps / 2),7:F1} ms")));
}

// Forward and backward of f(inputs) separately: returns an action that runs forward (timed as fwd) or fwd+bwd.
Func<Action> FwdBwd(Func<Tensor> f, bool backward) => () => () =>
{
    using var scope = NewDisposeScope();
    var y = f();
    if (backward) y.backward([ones_like(y)]);
};

var big = randn(B, NH, S, S);
var x = randn(B, S, H).requires_grad_(true);
var x4 = randn(B, S, I).requires_grad_(true);
var w = randn(H, H) * 0.05; var b = randn(H) * 0.05;
var wi = randn(I, H) * 0.05; var bi = randn(I) * 0.05;
var wo = randn(H, I) * 0.05;
var wb = w.to(bf); var bb = b.to(bf); var wib = wi.to(bf); var bib = bi.to(bf); var wob = wo.to(bf);
var xb = randn(B, S, H).to(bf).requires_grad_(true);
var x4b = randn(B, S, I).to(bf).requires_grad_(true);

if (filter == "model")
{
    var task = Blob.Data.DemoTask.Generate();
    var models = new[] { Blob.Runtime.Precision.Fp32, Blob.Runtime.Precision.Bf16 }.Select(pr =>
    {
        manual_seed(1);
        var tm = Blob.Experiments.ModelZoo.Load(Blob.Experiments.ModelZoo.BuiltIn, task, CPU, 1, pr);
        var method = new Blob.Methods.MethodOptions { Kind = Blob.Methods.MethodRegistry.Mle, Targets = tm.DefaultTargets, FullyTrained = tm.FullyTrained };
        method.Apply(tm.Model.Module);
        tm.Model.Module.train();
        return (Blob.Models.BertForSequenceClassification)tm.Model;
    }).ToArray();
    var ids = randint(1000, 20000, [B, S], ScalarType.Int64);
    var attn = ones(B, S, ScalarType.Int64);
    var labels = randint(0, 2, [B], ScalarType.Int64);
    var t = new List<double>[8]; for (int i = 0; i < 8; i++) t[i] = new();
    for (int r = 0; r < reps + 1; r++)
        for (int f = 0; f < 2; f++)
            for (int m = 0; m < 2; m++)
            {
                Blob.Layers.FastDropout.Use(models[m], f == 1);
                using var scope = NewDisposeScope();
                var c = Stopwatch.StartNew();
                var logits = models[m].Logits(ids, attn, null);
                var loss = F.cross_entropy(logits, labels);
                double tf = c.Elapsed.TotalMilliseconds;
                loss.backward();
                double tb = c.Elapsed.TotalMilliseconds - tf;
                foreach (var prm in models[m].parameters()) prm.grad = null;
                if (r > 0) { t[4 * f + 2 * m].Add(tf); t[4 * f + 2 * m + 1].Add(tb); }
            }
    double Med(List<double> l) => l.Order().ElementAt(l.Count / 2);
    for (int f = 0; f < 2; f++)
        Console.WriteLine($"model fast dropout {f == 1}: fp32 fwd {Med(t[4 * f]):F0} bwd {Med(t[4 * f + 1]):F0} ms   bf16 fwd {Med(t[4 * f + 2]):F0} bwd {Med(t[4 * f + 3]):F0} ms   " +
                          $"fp32/bf16 {(Med(t[4 * f]) + Med(t[4 * f + 1])) / (Med(t[4 * f + 2]) + Med(t[4 * f + 3])):F2}");
    return;
}
foreach (bool bw in new[] { false, true })
{
    string p = bw ? "fwd+bwd" : "fwd";
    Case($"linear h->h {p}",
        ("fp32", FwdBwd(() => F.linear(x, w, b), bw)),
        ("bf16 cast in/out", FwdBwd(() => F.linear(x.to(bf), wb, bb).to(f32), bw)),
        ("bf16 cast in", FwdBwd(() => F.linear(x.to(bf), wb, bb), bw)),
        ("bf16 pure", FwdBwd(() => F.linear(xb, wb, bb), bw)));
    Case($"linear h->i {p}",
        ("fp32", FwdBwd(() => F.linear(x, wi, bi), bw)),
        ("bf16 cast in/out", FwdBwd(() => F.linear(x.to(bf), wib, bib).to(f32), bw)),
        ("bf16 pure", FwdBwd(() => F.linear(xb, wib, bib), bw)));
    Case($"linear i->h {p}",
        ("fp32", FwdBwd(() => F.linear(x4, wo, b), bw)),
        ("bf16 cast in/out", FwdBwd(() => F.linear(x4.to(bf), wob, bb).to(f32), bw)),
        ("bf16 pure", FwdBwd(() => F.linear(x4b, wob, bb), bw)));
    Case($"cast {p}",
        ("h f32->bf16", FwdBwd(() => x.to(bf), bw)),
        ("i f32->bf16", FwdBwd(() => x4.to(bf), bw)),
        ("i bf16->f32", FwdBwd(() => x4b.to(f32), bw)));
    var lnw = ones(H).requires_grad_(true); var lnb = zeros(H).requires_grad_(true);
    Case($"layernorm h {p}", ("fp32", FwdBwd(() => F.layer_norm(x, [H], lnw, lnb, 1e-12), bw)));
    Case($"gelu i {p}", ("fp32", FwdBwd(() => F.gelu(x4), bw)), ("bf16", FwdBwd(() => F.gelu(x4b), bw)));
    Case($"dropout {p}", ("h fp32", FwdBwd(() => F.dropout(x, 0.1, true), bw)), ("i fp32", FwdBwd(() => F.dropout(x4, 0.1, true), bw)));
    var A = (randn(8, H) * 0.05).requires_grad_(true); var Bm = (randn(H, 8) * 0.05).requires_grad_(true);
    Case($"lora r8 h->h {p}", ("fp32", FwdBwd(() => x.matmul(A.t()).matmul(Bm.t()).mul(2.0), bw)),
        ("fp32 dropout", FwdBwd(() => F.dropout(x, 0.1, true).matmul(A.t()).matmul(Bm.t()).mul(2.0), bw)));

    // attention core at [32, 12, 256, 32], q, k, v as the heads views of [b, s, h]
    var q = randn(B, S, H).requires_grad_(true); var k = randn(B, S, H).requires_grad_(true); var v = randn(B, S, H).requires_grad_(true);
    Tensor Heads(Tensor y) => y.view(B, S, NH, D).transpose(1, 2);
    var mask = zeros(B, 1, 1, S); mask[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(200)] = float.MinValue;
    Case($"attention {p}",
        ("fp32 sdpa drop", FwdBwd(() => F.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v), mask, 0.1), bw)),
        ("fp32 sdpa nodrop", FwdBwd(() => F.scaled_dot_product_attention(Heads(q), Heads(k), Heads(v), mask, 0.0), bw)),
        ("bf16 products (current)", FwdBwd(() =>
        {
            var qq = Heads(q).to(bf); var kk = Heads(k).to(bf); var vv = Heads(v).to(bf);
            var pr = qq.matmul(kk.transpose(-2, -1));
            var sc = pr.to(f32) / Math.Sqrt(D) + mask;
            var wt = F.dropout(sc.softmax(-1), 0.1, true);
            return wt.to(bf).matmul(vv).to(f32);
        }, bw)),
        ("bf16 sdpa drop", FwdBwd(() => F.scaled_dot_product_attention(Heads(q).to(bf), Heads(k).to(bf), Heads(v).to(bf), mask.to(bf), 0.1).to(f32), bw)),
        ("bf16 sdpa nodrop", FwdBwd(() => F.scaled_dot_product_attention(Heads(q).to(bf), Heads(k).to(bf), Heads(v).to(bf), mask.to(bf), 0.0).to(f32), bw)));
    Case($"attention pieces {p}",
        ("softmax 25M", FwdBwd(() => (q.sum() * 0 + randn(B, NH, S, S)).softmax(-1), bw)),
        ("randn 25M", FwdBwd(() => q.sum() * 0 + randn(B, NH, S, S), bw)),
        ("dropout 25M", FwdBwd(() => F.dropout(q.sum() * 0 + randn(B, NH, S, S), 0.1, true), bw)),
        ("fast dropout 25M", FwdBwd(() => Blob.Layers.FastDropout.Apply(q.sum() * 0 + randn(B, NH, S, S), 0.1, true), bw)));
    Case($"dropout only {p}", ("libtorch 25M", () => () => { using var s = NewDisposeScope(); F.dropout(big, 0.1, true); }),
        ("fast 25M", () => () => { using var s = NewDisposeScope(); Blob.Layers.FastDropout.Apply(big, 0.1, true); }),
        ("mask only 25M", () => () => { using var s = NewDisposeScope(); Blob.Layers.FastDropout.Mask(big.shape, 0.1); }));
}
