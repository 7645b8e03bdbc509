using System.Text.Json;
using System.Text.Json.Nodes;
using Blob.Runtime;
using Blob.Data;
using Blob.Layers;
using Blob.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Blob.Methods;

/// <summary>
/// Adapters in PEFT's save_pretrained layout: a folder with adapter_config.json and adapter_model.safetensors, tensors
/// named "base_model.model." + the layer's name + ".lora_A.weight" [r, in] / ".lora_B.weight" [out, r], and the
/// output scaled by lora_alpha / r (lora_alpha / √r with use_rslora).
///
/// What we save a PEFT user can load unchanged: a BLoB or BBB adapter is saved with its mean as lora_A.weight, so
/// PeftModel.from_pretrained gives the mean-path model. Our extras ride along in a form PEFT skips: the standard
/// deviation parameter G (or ρ) under "lora_A_rho.weight" (PEFT loads the adapter state with strict=False, so the key
/// is ignored), and the method's settings under its own key in adapter_config.json ("blob", "bbb", "mc_dropout"; PEFT's
/// config loader drops unknown fields with a warning), which is how <see cref="MethodRegistry.OfSavedAdapter"/> knows it.
///
/// Other tensors are whole parameters, as PEFT writes them: modules_to_save (a trained classifier head is saved as
/// "base_model.model.classifier.weight", without PEFT's in-memory "modules_to_save.default" part), and the embedding
/// layers PEFT saves when lm_head or embed_tokens is a target ("base_model.model.lm_head.base_layer.weight"). On load
/// they are copied into the model's parameter of that name (dropping ".base_layer"), as PEFT does; the
/// modules_to_save ones are made trainable, the rest stay frozen.
/// </summary>
public static class PeftAdapterFormat
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    const string Prefix = "base_model.model.";

    /// <summary>
    /// Puts the adapter in DIR into the model's linear layers (LoRA, or BLoB / BBB for our own saves) and copies its
    /// tensors in. Returns the names of the adapted layers. Errors name the file and the problem.
    /// </summary>
    public static IReadOnlyList<string> Load(ILanguageModel model, string dir) => Load(model, dir, MethodRegistry.OfSavedAdapter(dir));

    /// <summary>As <see cref="Load(ILanguageModel, string)"/>, with the adapters of the given method.</summary>
    public static IReadOnlyList<string> Load(ILanguageModel model, string dir, FineTuningMethod method)
    {
        var config = PeftConfig.Read(Path.Combine(dir, ConfigFile));
        string weightsPath = Path.Combine(dir, WeightsFile);
        if (!File.Exists(weightsPath)) throw new BlobException($"{weightsPath}: not found (a PEFT adapter folder has {ConfigFile} and {WeightsFile})");
        using var weights = SafetensorsFile.Open(weightsPath);
        var module = model.Module;
        var layers = AdapterInjection.LinearLayers(module).ToDictionary(l => l.Name, l => l.Layer);

        // Which layers: those the file has lora_A for; each must be a linear layer of this model.
        var adapted = new List<string>();
        foreach (var key in weights.Entries.Keys.Order())
        {
            if (!key.EndsWith(".lora_A.weight")) continue;
            string name = ModuleName(key, ".lora_A.weight");
            if (!layers.ContainsKey(name))
                throw new BlobException($"{weightsPath}: '{key}' adapts '{name}', which is not a linear layer of this model " +
                                        $"(layers are named like {string.Join(", ", layers.Keys.Take(4))})");
            adapted.Add(name);
        }
        if (adapted.Count == 0) throw new BlobException($"{weightsPath}: no '...lora_A.weight' tensors (not a LoRA adapter?)");
        // a target that names no layer of this model: the adapter was made for another model, or the file was edited
        if (config.TargetModules?.FirstOrDefault(t => !layers.Keys.Any(n => AdapterInjection.Matches(n, t))) is { } unmatched)
            throw new BlobException($"{config.Path}: target_modules '{unmatched}' matches no linear layer of this model " +
                                    $"(layers are named like {string.Join(", ", layers.Keys.Take(4))})");
        if (config.TargetModules is { } targets && !config.RestrictsLayers)
            foreach (var name in layers.Keys.Where(n => targets.Any(t => AdapterInjection.Matches(n, t))))
                if (!adapted.Contains(name))
                    throw new BlobException($"{weightsPath}: no tensor '{Prefix}{name}.lora_A.weight' for the targeted layer '{name}'");

        // each layer's rank against its lora_A's rows, before any adapter is allocated (an "r" of 2147483647 would be terabytes)
        foreach (var name in adapted)
        {
            int rank = config.RankOf(name);
            long rows = weights.Entry($"{Prefix}{name}.lora_A.weight").Shape is [var r, _] ? r : -1;
            if (rows != rank)
                throw new BlobException($"{config.Path}: {config.RankKeyOf(name)} is {rank}, but '{Prefix}{name}.lora_A.weight' in {WeightsFile} " +
                                        (rows < 0 ? "is not a matrix" : $"has {rows} rows"));
        }

        foreach (var name in adapted)
        {
            var layer = layers[name];
            int rank = config.RankOf(name);
            var adapter = method.LoadAdapter(layer, new SavedLayer(rank, config.AlphaOf(name, rank), config.Dropout, config.Json, config.Path));
            adapter.to(layer.weight.device);
            layer.Adapter = adapter;
            foreach (var (pname, p) in adapter.named_parameters())
            {
                string key = $"{Prefix}{name}.{pname}.weight";
                if (!weights.Contains(key)) throw new BlobException($"{weightsPath}: no tensor '{key}' (the adapter of '{name}' needs it)");
                weights.CopyTo(key, p);
            }
        }
        foreach (var p in module.parameters()) p.requires_grad = false;
        foreach (var name in adapted)
            foreach (var p in layers[name].Adapter!.parameters()) p.requires_grad = true;

        CopyWholeParameters(module, weights, config);
        return adapted;
    }

    /// <summary>modules_to_save and saved embedding layers: whole parameters, copied in by name.</summary>
    static void CopyWholeParameters(nn.Module module, SafetensorsFile weights, PeftConfig config)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var key in weights.Entries.Keys)
        {
            if (key.Contains(".lora_")) continue;
            string name = (key.StartsWith(Prefix) ? key[Prefix.Length..] : key).Replace(".base_layer.", ".");
            if (!parameters.TryGetValue(name, out var p))
                throw new BlobException($"{weights.Path}: '{key}' is for the parameter '{name}', which this model does not have");
            weights.CopyTo(key, p);
            p.requires_grad = config.ModulesToSave.Any(m => UnderModule(name, m));
        }
        foreach (var (name, _) in parameters)
            if (config.ModulesToSave.Any(m => UnderModule(name, m)) && !name.Contains(".adapter.") && !weights.Contains(Prefix + name))
                throw new BlobException($"{weights.Path}: no tensor '{Prefix}{name}' although {ConfigFile} lists its module in modules_to_save");
    }

    /// <summary>PEFT's own fields whose value is a JSON object: any other object-valued field must be a method's section.</summary>
    static readonly HashSet<string> PeftObjectFields =
        ["rank_pattern", "alpha_pattern", "loftq_config", "megatron_config", "eva_config", "corda_config", "runtime_config", "auto_mapping", "trainable_token_indices"];

    /// <summary>
    /// Refuses an adapter_config.json that says two things at once or something we cannot read: a section that no method
    /// knows (a misspelt "blob" would otherwise be evaluated as plain LoRA), or the sections of two methods (the first
    /// in the registry would win silently). Errors name the file and the keys.
    /// </summary>
    public static void RequireOneMethod(string dir, JsonObject? config)
    {
        if (config is null) return;
        string path = Path.Combine(dir, ConfigFile);
        var sections = new List<string>();
        foreach (var (key, value) in config)
        {
            if (PeftObjectFields.Contains(key) || key.EndsWith("_config")) continue; // PEFT's (it adds a *_config per variant)
            // a key is a method's when that key alone makes the method recognise the adapter as its own
            var alone = new JsonObject { [key] = value?.DeepClone() };
            List<FineTuningMethod> owners;
            try { owners = MethodRegistry.All.Where(m => m.Saved(dir, alone) && !m.Saved(dir, new JsonObject())).ToList(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new BlobException($"{path}: \"{key}\" has the wrong type ({e.Message})");
            }
            if (owners.Count > 0) sections.Add(key);
            else if (value is JsonObject)
                throw new BlobException($"{path}: \"{key}\" is not a method this version knows ({MethodRegistry.Names}); refusing to evaluate it as another");
        }
        if (sections.Count > 1)
            throw new BlobException($"{path}: both \"{sections[0]}\" and \"{sections[1]}\" are set; an adapter is saved by one method");
    }

    /// <summary>adapter_config.json of DIR as a JSON object; null when DIR has none. Errors name the file.</summary>
    public static JsonObject? ReadConfigObject(string dir)
    {
        string path = Path.Combine(dir, ConfigFile);
        return File.Exists(path) ? PeftConfig.ReadObject(path) : null;
    }

    /// <summary>
    /// Writes the model's adapters (all of one kind) and its trainable non-adapter parameters (modules_to_save) into
    /// DIR in PEFT's layout, with the method's own fields in adapter_config.json; both files are written atomically.
    /// The frozen weights of the modules in <paramref name="savedFrozen"/> (a fresh head adapted but not trained) are
    /// saved too, as PEFT names an adapted layer's own weight ("classifier.base_layer.weight"), and loaded back frozen.
    /// </summary>
    public static void Save(ILanguageModel model, string dir, FineTuningMethod method, IReadOnlyList<string>? savedFrozen = null)
    {
        var module = model.Module;
        var adapters = AdapterInjection.Adapters(module).ToList();
        if (adapters.Count == 0) throw new BlobException($"{dir}: the model has no adapters to save");
        var kinds = adapters.Select(a => a.Adapter.GetType()).Distinct().ToList();
        if (kinds.Count > 1) throw new BlobException($"{dir}: cannot save a mix of {string.Join(", ", kinds.Select(k => k.Name))} in one PEFT adapter");

        var tensors = new List<KeyValuePair<string, Tensor>>();
        var ranks = new Dictionary<string, int>();
        var alphas = new Dictionary<string, double>();
        foreach (var (name, adapter) in adapters)
        {
            foreach (var (pname, p) in adapter.named_parameters())
                tensors.Add(new($"{Prefix}{name}.{pname}.weight", p));
            ranks[name] = adapter.Rank;
            alphas[name] = adapter.Scaling * adapter.Rank;
        }
        var toSave = module.named_parameters().Where(p => p.parameter.requires_grad && !p.name.Contains(".adapter.")).ToList();
        foreach (var (name, p) in toSave) tensors.Add(new(Prefix + name, p));
        var adaptedLayers = adapters.Select(a => a.Name).ToHashSet();
        foreach (var (name, p) in module.named_parameters())
            if (!p.requires_grad && !name.Contains(".adapter.") && (savedFrozen ?? []).Any(m => UnderModule(name, m)))
                tensors.Add(new(Prefix + (adaptedLayers.Contains(ParentOf(name)) ? $"{ParentOf(name)}.base_layer.{name[(name.LastIndexOf('.') + 1)..]}" : name), p));

        Directory.CreateDirectory(dir);
        Safetensors.Save(Path.Combine(dir, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var config = PeftConfig.ToJson(model, adapters, ranks, alphas, toSave.Select(p => ParentOf(p.name)).Distinct().ToList());
        method.DescribeInConfig(config, adapters[0].Adapter);
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    static string ModuleName(string key, string suffix) =>
        (key.StartsWith(Prefix) ? key[Prefix.Length..] : key)[..^suffix.Length];

    /// <summary>Whether the parameter belongs to a module matching <paramref name="module"/> (PEFT-style), at any depth.</summary>
    static bool UnderModule(string parameterName, string module)
    {
        var parts = parameterName.Split('.');
        for (int i = 1; i < parts.Length; i++)
            if (AdapterInjection.Matches(string.Join('.', parts[..i]), module)) return true;
        return false;
    }

    static string ParentOf(string parameterName) => parameterName[..Math.Max(0, parameterName.LastIndexOf('.'))];
}

/// <summary>The parts of PEFT's LoraConfig (adapter_config.json) we read, and our own method settings.</summary>
sealed class PeftConfig
{
    public required string Path { get; init; }
    public required int R { get; init; }
    public required double Alpha { get; init; }
    public double Dropout { get; init; }
    public bool UseRsLora { get; init; }
    /// <summary>null: not given (PEFT then used its per-architecture defaults); the file's tensors say which layers.</summary>
    public IReadOnlyList<string>? TargetModules { get; init; }
    /// <summary>layers_to_transform or exclude_modules is set: not every layer matching target_modules is adapted.</summary>
    public bool RestrictsLayers { get; init; }
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    public Dictionary<string, int> RankPattern { get; init; } = new();
    public Dictionary<string, double> AlphaPattern { get; init; } = new();
    /// <summary>The whole file, where the methods read their own fields.</summary>
    public required JsonObject Json { get; init; }

    public static JsonObject ReadObject(string path)
    {
        // a repeated key is refused: which of its values counts would be the parser's choice, not the file's
        var strict = new JsonDocumentOptions { AllowDuplicateProperties = false };
        try { return JsonNode.Parse(File.ReadAllText(path), documentOptions: strict) as JsonObject ?? throw new BlobException($"{path}: not a JSON object"); }
        catch (JsonException e) { throw new BlobException($"{path}: not valid JSON ({e.Message})"); }
    }

    public static PeftConfig Read(string path)
    {
        if (!File.Exists(path)) throw new BlobException($"{path}: not found (a PEFT adapter folder has {PeftAdapterFormat.ConfigFile} and {PeftAdapterFormat.WeightsFile})");
        var json = ReadObject(path);
        try
        {
            string type = json["peft_type"]?.GetValue<string>() ?? "(none)";
            if (type != "LORA") throw new BlobException($"{path}: peft_type is {type}; only LORA adapters are supported");
            foreach (var flag in new[] { "use_dora", "lora_bias" })
                if (json[flag] is JsonValue v && v.TryGetValue<bool>(out var on) && on)
                    throw new BlobException($"{path}: {flag} is set, which is not supported");
            if (json["bias"] is JsonValue b && b.GetValue<string>() != "none")
                throw new BlobException($"{path}: bias is '{b}', only \"none\" is supported (base biases stay frozen)");
            // fan_in_fan_out only says the base weight is stored [in, out] (GPT-2's Conv1D); lora_A and lora_B are
            // [r, in] and [out, r] either way, and our layers hold the base weight as [out, in] already.
            return new PeftConfig
            {
                Path = path,
                Json = json,
                R = Rank(path, "r", json["r"] ?? throw new BlobException($"{path}: no \"r\"")),
                Alpha = Finite(path, "lora_alpha", json["lora_alpha"] ?? throw new BlobException($"{path}: no \"lora_alpha\"")),
                Dropout = json["lora_dropout"] is { } dropout ? DropoutProbability(path, dropout) : 0,
                UseRsLora = json["use_rslora"]?.GetValue<bool>() ?? false,
                TargetModules = json["target_modules"] switch
                {
                    JsonArray a => a.Select(t => Text(path, "target_modules", t)).ToList(),
                    JsonValue s => ["re:" + s.GetValue<string>()],   // a string is a regular expression over full names
                    _ => null,
                },
                RestrictsLayers = json["layers_to_transform"] is not null || json["exclude_modules"] is not null,
                ModulesToSave = json["modules_to_save"] is JsonArray m ? m.Select(t => Text(path, "modules_to_save", t)).ToList() : [],
                RankPattern = (json["rank_pattern"] as JsonObject)?.ToDictionary(p => p.Key, p => Rank(path, $"rank_pattern.{p.Key}", p.Value)) ?? new(),
                AlphaPattern = (json["alpha_pattern"] as JsonObject)?.ToDictionary(p => p.Key, p => Finite(path, $"alpha_pattern.{p.Key}", p.Value)) ?? new(),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new BlobException($"{path}: a field has the wrong type ({e.Message})");
        }
    }

    /// <summary>A LoRA rank: a whole number of at least 1 (0 or -8 would reach the allocator as a size).</summary>
    static int Rank(string path, string key, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out double d) && d == Math.Floor(d) && d >= 1 && d <= int.MaxValue ? (int)d
            : throw new BlobException($"{path}: \"{key}\" is {node?.ToJsonString() ?? "null"}; expected a rank, a whole number of at least 1");

    static double Finite(string path, string key, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out double d) && double.IsFinite(d) ? d
            : throw new BlobException($"{path}: \"{key}\" is {node?.ToJsonString() ?? "null"}; expected a finite number");

    static double DropoutProbability(string path, JsonNode node) =>
        Finite(path, "lora_dropout", node) is var p and >= 0 and < 1 ? p
            : throw new BlobException($"{path}: \"lora_dropout\" is {node.ToJsonString()}; expected a probability in [0, 1)");

    static string Text(string path, string key, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new BlobException($"{path}: \"{key}\" holds {node?.ToJsonString() ?? "null"}; expected module names");

    /// <summary>Where the rank of a layer comes from: "rank_pattern.KEY" when a pattern gives it, else "r".</summary>
    public string RankKeyOf(string layer) =>
        RankPattern.Keys.FirstOrDefault(k => layer == k || layer.EndsWith("." + k)) is { } key ? $"\"rank_pattern.{key}\"" : "\"r\"";

    /// <summary>rank_pattern and alpha_pattern keys match a layer whose name ends with them, as in PEFT.</summary>
    public int RankOf(string layer) => Pattern(RankPattern, layer) ?? R;

    /// <summary>The alpha that gives our adapters (scaling = alpha / r) PEFT's scaling, rsLoRA's alpha / √r included.</summary>
    public double AlphaOf(string layer, int rank)
    {
        double alpha = Pattern(AlphaPattern, layer) ?? Alpha;
        return UseRsLora ? alpha * Math.Sqrt(rank) : alpha;
    }

    static T? Pattern<T>(Dictionary<string, T> pattern, string layer) where T : struct =>
        pattern.Where(p => layer == p.Key || layer.EndsWith("." + p.Key)).Select(p => (T?)p.Value).FirstOrDefault();

    /// <summary>adapter_config.json for our adapters: PEFT's LoraConfig fields (the method adds its own after).</summary>
    public static JsonObject ToJson(ILanguageModel model, IReadOnlyList<(string Name, Adapter Adapter)> adapters,
        Dictionary<string, int> ranks, Dictionary<string, double> alphas, IReadOnlyList<string> modulesToSave)
    {
        int r = ranks.Values.GroupBy(v => v).MaxBy(g => g.Count())!.Key;
        double alpha = alphas.Values.GroupBy(v => v).MaxBy(g => g.Count())!.Key;
        var names = adapters.Select(a => a.Name).ToList();
        var first = adapters[0].Adapter;
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            // PEFT has no multiple-choice task type: null, as PeftModel (not a task subclass) wraps BertForMultipleChoice
            ["task_type"] = model switch { ISequenceClassifier => "SEQ_CLS", IMultipleChoiceModel => null, _ => "CAUSAL_LM" },
            ["base_model_name_or_path"] = model.Config.GetString("_name_or_path") is { Length: > 0 } n ? n : null,
            ["r"] = r,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = first.Dropout,
            ["target_modules"] = new JsonArray(TargetsFor(model.Module, names).Select(t => (JsonNode)t).ToArray()),
            ["rank_pattern"] = new JsonObject(ranks.Where(p => p.Value != r).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["alpha_pattern"] = new JsonObject(alphas.Where(p => p.Value != alpha).Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            ["modules_to_save"] = modulesToSave.Count == 0 ? null : new JsonArray(modulesToSave.Select(m => (JsonNode)m).ToArray()),
            ["bias"] = "none",
            ["fan_in_fan_out"] = model is Gpt2LMHeadModel,
            ["use_rslora"] = false,
            ["use_dora"] = false,
            ["init_lora_weights"] = true,
            ["inference_mode"] = true,
        };
        return json;
    }

    /// <summary>The layers' last name parts (q_proj, v_proj) when they pick exactly these layers, else the full names.</summary>
    static IReadOnlyList<string> TargetsFor(nn.Module model, IReadOnlyList<string> adapted)
    {
        var suffixes = adapted.Select(n => n[(n.LastIndexOf('.') + 1)..]).Distinct().Order().ToList();
        var matched = AdapterInjection.LinearLayers(model).Select(l => l.Name)
            .Where(n => suffixes.Any(s => AdapterInjection.Matches(n, s))).ToHashSet();
        return matched.SetEquals(adapted) ? suffixes : adapted;
    }
}
