using System.Diagnostics;
using System.Text.Json;
using Blob.Models;
using TorchSharp;
using static TorchSharp.torch;

// Benchmarks of model loading: load time and peak resident memory, each model in a fresh child process so that
// peaks do not mix.
//   dotnet run -c Release --project bench/Blob.Benchmarks -- load            all cases
//   dotnet run -c Release --project bench/Blob.Benchmarks -- load llama-1b   one case
// The child is this program again: `measure CASE [DIR]` loads one model and prints one JSON line.
return args switch
{
    ["measure", var name, .. var rest] => LoadBenchmark.Measure(name, rest.FirstOrDefault()),
    ["load", .. var names] => LoadBenchmark.Run(names.Length > 0 ? names : LoadBenchmark.Cases),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Blob.Benchmarks load [baseline|minilm|llama-1b ...]");
    return 2;
}

static class LoadBenchmark
{
    public static readonly string[] Cases = ["baseline", "minilm", "llama-1b"];

    /// <summary>A Llama of about 1.1B parameters (TinyLlama's shape: 22 layers, 4 KV heads), stored in bfloat16.</summary>
    const int Hidden = 2048, Layers = 22, Intermediate = 5632, Vocab = 32000, Heads = 32, KvHeads = 4;

    public static int Run(IEnumerable<string> cases)
    {
        Console.WriteLine($"{"case",-10} {"load s",8} {"peak RSS MiB",13} {"weights MiB",12} {"peak/weights",13}");
        foreach (var name in cases)
        {
            string? dir = null;
            try
            {
                if (name == "llama-1b")
                {
                    dir = Directory.CreateTempSubdirectory("blob-bench-llama-").FullName;
                    var watch = Stopwatch.StartNew();
                    WriteSyntheticLlama(dir);
                    Console.Error.WriteLine($"(wrote a synthetic checkpoint to {dir} in {watch.Elapsed.TotalSeconds:F1} s)");
                }
                var result = InChild(name, dir);
                double load = result.GetProperty("load_seconds").GetDouble();
                double peak = result.GetProperty("peak_rss_bytes").GetDouble() / (1 << 20);
                double weights = result.GetProperty("weights_bytes").GetDouble() / (1 << 20);
                string ratio = weights > 0 ? $"{peak / weights:F2}x" : "-";
                Console.WriteLine($"{name,-10} {load,8:F2} {peak,13:F0} {weights,12:F0} {ratio,13}");
            }
            finally
            {
                if (dir != null) Directory.Delete(dir, recursive: true);
            }
        }
        return 0;
    }

    /// <summary>Runs `measure NAME DIR` in a new process of this program and parses its JSON line.</summary>
    static JsonElement InChild(string name, string? dir)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(typeof(LoadBenchmark).Assembly.Location);
        foreach (var a in new[] { "measure", name, dir ?? "" }) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        if (child.ExitCode != 0) throw new InvalidOperationException($"measuring {name} failed (exit {child.ExitCode})");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    }

    /// <summary>In the child: load one model, then report the time and this process's peak RSS (VmHWM).</summary>
    public static int Measure(string name, string? dir)
    {
        using var _ = torch.no_grad();
        torch.ones(1).Dispose();   // load libtorch before timing, as any run does first
        var watch = Stopwatch.StartNew();
        long weights = 0;
        IDisposable? model = null;
        switch (name)
        {
            case "baseline": break;
            case "minilm":
                model = MiniLm.Load(numLabels: 2);
                weights = ((nn.Module)model).parameters().Sum(p => p.NumberOfElements * p.ElementSize);
                break;
            case "llama-1b":
                model = (nn.Module)PretrainedModels.LoadCausalLM(dir!, new LoadOptions { BaseDtype = ScalarType.BFloat16 }).Module;
                weights = Directory.GetFiles(dir!, "*.safetensors").Sum(f => new FileInfo(f).Length);
                break;
            default: throw new ArgumentException($"unknown case '{name}' (known: {string.Join(", ", Cases)})");
        }
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine(JsonSerializer.Serialize(new { load_seconds = seconds, peak_rss_bytes = PeakRss(), weights_bytes = weights }));
        model?.Dispose();
        return 0;
    }

    /// <summary>VmHWM, the peak resident set size, from /proc/self/status.</summary>
    static long PeakRss()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    /// <summary>config.json, four shards and the index, written shard by shard so that only one shard is in memory.</summary>
    static void WriteSyntheticLlama(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "llama", ["architectures"] = new[] { "LlamaForCausalLM" },
            ["hidden_size"] = Hidden, ["intermediate_size"] = Intermediate, ["num_hidden_layers"] = Layers,
            ["num_attention_heads"] = Heads, ["num_key_value_heads"] = KvHeads, ["vocab_size"] = Vocab,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["max_position_embeddings"] = 2048,
            ["tie_word_embeddings"] = false, ["torch_dtype"] = "bfloat16",
        }));
        int kv = Hidden / Heads * KvHeads;
        var shapes = new List<(string Name, long[] Shape)> { ("model.embed_tokens.weight", [Vocab, Hidden]) };
        for (int l = 0; l < Layers; l++)
        {
            string p = $"model.layers.{l}.";
            shapes.AddRange([
                (p + "self_attn.q_proj.weight", [Hidden, Hidden]), (p + "self_attn.k_proj.weight", [kv, Hidden]),
                (p + "self_attn.v_proj.weight", [kv, Hidden]), (p + "self_attn.o_proj.weight", [Hidden, Hidden]),
                (p + "mlp.gate_proj.weight", [Intermediate, Hidden]), (p + "mlp.up_proj.weight", [Intermediate, Hidden]),
                (p + "mlp.down_proj.weight", [Hidden, Intermediate]),
                (p + "input_layernorm.weight", [Hidden]), (p + "post_attention_layernorm.weight", [Hidden]),
            ]);
        }
        shapes.Add(("model.norm.weight", [Hidden]));
        shapes.Add(("lm_head.weight", [Vocab, Hidden]));

        const int shards = 4;
        int perShard = (shapes.Count + shards - 1) / shards;
        var weightMap = new Dictionary<string, string>();
        for (int s = 0; s < shards; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shards:D5}.safetensors";
            using var scope = torch.NewDisposeScope();
            var tensors = shapes.Skip(s * perShard).Take(perShard).Select(t => KeyValuePair.Create(t.Name,
                t.Shape.Length == 1 ? torch.ones(t.Shape, ScalarType.BFloat16) : torch.randn(t.Shape, ScalarType.BFloat16).mul_(0.02))).ToList();
            Safetensors.Save(Path.Combine(dir, file), tensors);
            foreach (var (name, _) in tensors) weightMap[name] = file;
        }
        File.WriteAllText(Path.Combine(dir, Checkpoint.IndexFile), JsonSerializer.Serialize(new { metadata = new { }, weight_map = weightMap }));
    }
}
