using Blob.Methods;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace Blob.Training;

/// <summary>
/// A training checkpoint: the trainable parameters, the optimisers' states (one file each, named by the method's
/// <see cref="Methods.TrainingRule.Optimizers"/>: adamw.bin, sgd.bin), torch's RNG state, the step and the training
/// time spent so far, in one folder that is replaced atomically (written beside it, then renamed), so a crash never leaves a half-written one.
/// </summary>
public static class TrainingCheckpoint
{
    const string StateFile = "state.json", ParamsFile = "params.bin", RngFile = "rng.bin";

    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, StateFile));

    /// <summary>The number of steps the checkpoint in dir has done; null when there is none or it cannot be read.</summary>
    public static long? SavedStep(string dir)
    {
        try { return Exists(dir) ? JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(dir, StateFile)))?.Step : null; }
        catch (Exception e) when (e is JsonException or IOException) { return null; } // unreadable, or being replaced
    }

    public static void Save(string dir, long step, TimeSpan elapsed, nn.Module model, IReadOnlyList<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> optimizers, string fingerprint)
    {
        string full = Path.GetFullPath(dir);
        string temp = full + ".tmp", old = full + ".old";
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        Directory.CreateDirectory(temp);

        using (var w = new BinaryWriter(File.Create(Path.Combine(temp, ParamsFile))))
        {
            var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
            w.Write(trainable.Count);
            foreach (var (name, p) in trainable)
            {
                w.Write(name);
                p.detach().cpu().Save(w);
            }
        }
        foreach (var (name, optimizer) in optimizers) optimizer.save_state_dict(Path.Combine(temp, name + ".bin"));
        get_rng_state().Save(Path.Combine(temp, RngFile));
        File.WriteAllText(Path.Combine(temp, StateFile), JsonSerializer.Serialize(new State(step, fingerprint, elapsed.TotalSeconds)));

        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(temp, full);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>Restores everything and returns the number of steps already done and the training time they took.</summary>
    public static (long Step, TimeSpan Elapsed) Load(string dir, nn.Module model, IReadOnlyList<(string Name, TorchSharp.Modules.OptimizerHelper Optimizer)> optimizers, string fingerprint)
    {
        string statePath = Path.Combine(dir, StateFile);
        State state;
        try { state = JsonSerializer.Deserialize<State>(File.ReadAllText(statePath)) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new BlobException($"{statePath}: not a checkpoint state file ({e.Message})"); }
        if (state.Fingerprint != fingerprint)
            throw new BlobException($"{dir}: the checkpoint was written by a run with other settings ({Differences(state.Fingerprint, fingerprint)}); " +
                                    "resume with the same options, or use another --output folder");

        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        string paramsPath = Path.Combine(dir, ParamsFile);
        using (var r = new BinaryReader(File.OpenRead(paramsPath)))
        using (no_grad())
        {
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                if (!parameters.TryGetValue(name, out var p))
                    throw new BlobException($"{paramsPath}: parameter '{name}' does not exist in this model");
                using var t = TensorExtensionMethods.Load(r);
                p.copy_(t);
            }
        }
        foreach (var (name, optimizer) in optimizers) optimizer.load_state_dict(Path.Combine(dir, name + ".bin"));
        set_rng_state(Tensor.Load(Path.Combine(dir, RngFile)));
        return (state.Step, TimeSpan.FromSeconds(state.Seconds));
    }

    /// <summary>"name: checkpoint → this run" for each setting of two fingerprints (settings JSON) that differs.</summary>
    static string Differences(string recorded, string current)
    {
        try { return string.Join("; ", SettingsJson.Differences(recorded, current)); }
        catch (JsonException) { return "unreadable fingerprint"; }
    }

    sealed record State(long Step, string Fingerprint, double Seconds = 0);
}
