using System.Diagnostics;

namespace Blob.Tests.Experiments;

/// <summary>
/// experiments/table7.sh's decisions — which settings it chooses on validation, a task MLE does not learn,
/// the study and Table 8 steps, and a table made at an earlier choice — run against a stand-in for ./blob that writes
/// a finished run's records at once (accuracy from the task, NLL from the kl-lr), so hours of training take seconds.
/// </summary>
public class Table7ScriptTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("blob-table7-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// The stand-in: logs its arguments, then for each method × seed writes validation.json, result.json (and the mean
    /// weights' files), predictions of 4 examples (majority class 50%), and a posterior-std.csv. WiC's accuracy is 0.52
    /// (under 50% + 5 points: not learnt), every other task's 0.8; NLL 0.5 − kl-lr, so the largest kl-lr wins.
    /// </summary>
    const string FakeBlob = """
        #!/bin/bash
        echo "$*" >> "$(dirname "$0")/calls"
        out=; task=; kl=0; mode=; methods=(); seeds=(); args=("$@")
        for ((i = 0; i < ${#args[@]}; i++)); do case ${args[i]} in
          --output) out=${args[i+1]};; --task) task=${args[i+1]};; --kl-lr) kl=${args[i+1]};;
          --methods) mode=m;; --seeds) mode=s;; --*) mode=;;
          *) [ "$mode" = m ] && methods+=("${args[i]}"); [ "$mode" = s ] && seeds+=("${args[i]}");;
        esac; done
        acc=0.8; [ "$task" = wic ] && acc=0.52
        nll=$(python3 -c "print(0.5 - $kl)")
        for m in "${methods[@]}"; do for s in "${seeds[@]}"; do
          d=$out/$m/seed-$s; mkdir -p "$d/adapter"
          echo "{\"accuracy\": $acc, \"nll\": $nll, \"ece\": 0.1, \"brier\": 0.3, \"count\": 4, \"train_seconds\": 60}" |
            tee "$d/validation.json" "$d/result.json" "$d/mean-validation.json" > "$d/mean-result.json"
          echo '{"labels": [0, 0, 1, 1], "probabilities": []}' > "$d/validation-predictions.json"
          printf 'step,median,prior_std\n1,0.05,0.2\n' > "$d/posterior-std.csv"
        done; done
        """;

    (int Code, string Output, string[] Calls) RunScript(params string[] tasks)
    {
        var info = new ProcessStartInfo("bash", [Path.Combine(_dir, "repo", "experiments", "table7.sh"), Path.Combine(_dir, "out"), .. tasks])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["RESULTS"] = Path.Combine(_dir, "results") },
        };
        using var bash = Process.Start(info)!;
        var error = bash.StandardError.ReadToEndAsync();
        string output = bash.StandardOutput.ReadToEnd() + error.Result;
        bash.WaitForExit();
        string calls = Path.Combine(_dir, "repo", "calls");
        var lines = File.Exists(calls) ? File.ReadAllLines(calls) : [];
        File.Delete(calls);
        return (bash.ExitCode, output, lines);
    }

    void MakeRepo()
    {
        string experiments = Path.Combine(_dir, "repo", "experiments");
        Directory.CreateDirectory(experiments);
        foreach (var script in new[] { "table7.sh", "keep-results.sh" })
            File.Copy(Path.Combine(Shared.RepoRoot, "experiments", script), Path.Combine(experiments, script));
        string blob = Path.Combine(_dir, "repo", "blob");
        File.WriteAllText(blob, FakeBlob.Replace("\r\n", "\n") + "\n");
        File.SetUnixFileMode(blob, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    string Out(params string[] parts) => Path.Combine([_dir, "out", .. parts]);

    [Fact]
    public void ItChoosesOnValidationSkipsWhatIsNotLearntAndRunsTheStudyAndTable8()
    {
        MakeRepo();
        var (code, output, calls) = RunScript("mrpc", "wic");
        Assert.True(code == 0, output);

        // MRPC: lr and kl-lr chosen on validation (NLL 0.5 - kl-lr: 0.01 wins), the seven methods, the study, Table 8
        Assert.StartsWith("lr 1e-3, kl-lr 0.01 ", File.ReadAllText(Out("mrpc-table7", "chosen.txt")));
        Assert.Contains(calls, c => c.Contains("--methods mle map mcd ens bbb lap blob --seeds 1 2 3 --evaluate both") && c.Contains("mrpc-table7"));
        foreach (var study in new[] { "kl-lr0.02", "epochs8-at-kl0.01", "prior-std0.05-at-kl0.01" })
            Assert.True(File.Exists(Out($"mrpc-val-study-{study}", "blob", "seed-1", "validation.json")), study);
        foreach (var (name, flag) in new[] { ("rw", "--kl-weighting uniform"), ("rp", "--softplus"), ("ab", "--no-asymmetric") })
        {
            Assert.Contains(calls, c => c.Contains(flag) && c.Contains($"--output {Out($"mrpc-table8-no-{name}")}") && c.Contains("--seeds 1 2 3 --evaluate dev"));
            Assert.True(File.Exists(Path.Combine(_dir, "results", $"mrpc-table8-no-{name}", "blob", "seed-3", "result.json")), name);
        }

        // WiC: MLE at 52% against a majority class of 50%: not learnt, so MLE alone, no BLoB, no study, no Table 8
        Assert.Contains("not learnt (MLE validation ACC 52.00, majority class 50.00)", File.ReadAllText(Out("wic-table7", "chosen.txt")));
        Assert.Equal(["mle"], Directory.GetDirectories(Out("wic-table7")).Select(Path.GetFileName));
        Assert.DoesNotContain(calls, c => c.Contains("--task wic") && c.Contains("--methods blob"));
        Assert.False(Directory.Exists(Out("wic-table8-no-rw")));
        Assert.True(File.Exists(Path.Combine(_dir, "results", "wic-table7", "mle", "seed-3", "result.json")));
    }

    /// <summary>A table made when the grid chose another kl-lr keeps its BLoB runs beside it, in OUT and RESULTS alike.</summary>
    [Fact]
    public void ATableMadeAtAnotherKlLrKeepsItsBlobRunsBesideIt()
    {
        MakeRepo();
        Assert.Equal(0, RunScript("mrpc").Code);
        foreach (var root in new[] { Out(), Path.Combine(_dir, "results") })
        {
            File.WriteAllText(Path.Combine(root, "mrpc-table7", "chosen.txt"), "lr 1e-3, kl-lr 0.005 (chosen on the validation split; precision bf16)\n");
            File.WriteAllText(Path.Combine(root, "mrpc-table7", "blob", "seed-2", "result.json"), """{"accuracy": 0.7, "marker": "kl 0.005"}""");
        }
        var (code, output, _) = RunScript("mrpc");
        Assert.True(code == 0, output);
        foreach (var root in new[] { Out(), Path.Combine(_dir, "results") })
        {
            Assert.Contains("kl 0.005", File.ReadAllText(Path.Combine(root, "mrpc-table7-blob-kl0.005", "blob", "seed-2", "result.json")));
            Assert.StartsWith("lr 1e-3, kl-lr 0.005 ", File.ReadAllText(Path.Combine(root, "mrpc-table7-blob-kl0.005", "chosen.txt")));
            Assert.DoesNotContain("kl 0.005", File.ReadAllText(Path.Combine(root, "mrpc-table7", "blob", "seed-2", "result.json")));
        }
        Assert.StartsWith("lr 1e-3, kl-lr 0.01 ", File.ReadAllText(Out("mrpc-table7", "chosen.txt")));
    }

    /// <summary>
    /// keep-results.sh keeps a run only once it is finished: a dev run whose settings name --ood sets needs every
    /// ood-TASK.json (compare writes result.json first; a record kept in between has no adapter to evaluate them with).
    /// </summary>
    [Fact]
    public void KeepResultsWaitsForEveryOutOfDistributionSet()
    {
        MakeRepo();
        string Run(string comparison, string method) => Out(comparison, method, "seed-1");
        const string settings = "{\n  \"format_version\": 2,\n  \"task\": \"obqa\",\n  \"ood_tasks\": [\n    \"arc-c\",\n    \"arc-e\"\n  ]\n}";
        foreach (var (comparison, method, record) in new[] { ("obqa-table1", "mle", "result.json"), ("obqa-table1", "map", "result.json"), ("obqa-val-blob-kl0.005", "blob", "validation.json") })
        {
            Directory.CreateDirectory(Run(comparison, method));
            File.WriteAllText(Path.Combine(Run(comparison, method), "settings.json"), settings);
            File.WriteAllText(Path.Combine(Run(comparison, method), record), "{}");
        }
        foreach (var ood in new[] { "arc-c", "arc-e" }) File.WriteAllText(Path.Combine(Run("obqa-table1", "mle"), $"ood-{ood}.json"), "{}");
        File.WriteAllText(Path.Combine(Run("obqa-table1", "map"), "ood-arc-c.json"), "{}"); // arc-e still to come

        var info = new ProcessStartInfo("bash", [Path.Combine(_dir, "repo", "experiments", "keep-results.sh"), Out(), Path.Combine(_dir, "results")])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var bash = Process.Start(info)!;
        var error = bash.StandardError.ReadToEndAsync();
        string output = bash.StandardOutput.ReadToEnd() + error.Result;
        bash.WaitForExit();
        Assert.True(bash.ExitCode == 0, output);

        string Kept(string comparison, string method, string file) => Path.Combine(_dir, "results", comparison, method, "seed-1", file);
        Assert.True(File.Exists(Kept("obqa-table1", "mle", "ood-arc-e.json")), output);
        Assert.False(Directory.Exists(Path.Combine(_dir, "results", "obqa-table1", "map")), output);
        Assert.True(File.Exists(Kept("obqa-val-blob-kl0.005", "blob", "validation.json")), output); // validation runs evaluate no --ood set
    }
}
