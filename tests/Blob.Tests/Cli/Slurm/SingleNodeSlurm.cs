using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Blob.Tests.Cli.Slurm;

/// <summary>
/// A real Slurm cluster of one node on this machine, for tests: munged, slurmctld and slurmd, each a child process of
/// the test (in the foreground), with a generated slurm.conf, their own munge key, free ports, and state and logs in a
/// temporary folder. While it is up, SLURM_CONF points this process (and so blob's sbatch, squeue and sacct, and the
/// jobs' environment) at it. Dispose cancels its jobs, stops the daemons and deletes the folder, also after a failure.
/// </summary>
public sealed class SingleNodeSlurm : IDisposable
{
    public const string Partition = "blobtest";

    /// <summary>Slurm's commands and daemons; Debian puts the daemons in /usr/sbin, which a plain user's PATH may lack.</summary>
    static readonly string[] Tools = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel"];

    public string Folder { get; }
    string Conf => Path.Combine(Folder, "slurm.conf");
    readonly List<Process> _daemons = [];
    readonly string? _oldConf = Environment.GetEnvironmentVariable("SLURM_CONF");

    SingleNodeSlurm(string folder) => Folder = folder;

    /// <summary>The cluster, up and with its node idle; or null and why it cannot be started here.</summary>
    public static (SingleNodeSlurm? Cluster, string? WhyNot) TryStart()
    {
        if (!OperatingSystem.IsLinux()) return (null, "a single-node Slurm is started on Linux only");
        if (Tools.FirstOrDefault(t => Find(t) is null) is { } missing)
            return (null, $"Slurm is not installed here ({missing} not found; apt-get install slurm-wlm munge)");
        if (!Environment.IsPrivilegedProcess) return (null, "slurmd must run as root to start jobs, and this test does not");
        var cluster = new SingleNodeSlurm(Directory.CreateTempSubdirectory("blob-slurm-").FullName);
        try
        {
            cluster.Start();
            return (cluster, null);
        }
        catch (Exception e)
        {
            string why = $"Slurm could not be started: {e.Message}\n{cluster.Logs()}";
            cluster.Dispose();
            return (null, why);
        }
    }

    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    void Start()
    {
        File.SetUnixFileMode(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                     UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        foreach (var sub in new[] { "state", "spool", "log" }) Directory.CreateDirectory(Path.Combine(Folder, sub));
        string key = Path.Combine(Folder, "munge.key"), socket = Path.Combine(Folder, "munge.socket");
        File.WriteAllBytes(key, System.Security.Cryptography.RandomNumberGenerator.GetBytes(1024));
        File.SetUnixFileMode(key, UnixFileMode.UserRead);
        File.WriteAllText(Conf, Configuration(socket));
        Environment.SetEnvironmentVariable("SLURM_CONF", Conf);

        // munged refuses to run as root unless forced; -F keeps it in the foreground, a child of this process.
        StartDaemon("munged", "-F", "-f", $"--key-file={key}", $"--socket={socket}", $"--pid-file={Path.Combine(Folder, "munged.pid")}",
            $"--seed-file={Path.Combine(Folder, "munged.seed")}", $"--log-file={Path.Combine(Folder, "log", "munged.log")}");
        WaitFor(() => File.Exists(socket), TimeSpan.FromSeconds(20), "munged's socket");
        StartDaemon("slurmctld", "-D", "-i", "-f", Conf);
        StartDaemon("slurmd", "-D", "-f", Conf, "-N", NodeName);
        WaitFor(() => Run("sinfo", "--noheader", "--format=%T").Out.Trim() == "idle", TimeSpan.FromSeconds(60), "the node to be idle");
    }

    static string NodeName => Environment.MachineName;

    /// <summary>
    /// One node with this machine's CPUs (at most two, so that a test's four tasks queue), memory that a task may ask
    /// for, and a scheduler that starts a task within a second or two (the default looks once a minute).
    /// </summary>
    string Configuration(string mungeSocket)
    {
        int cpus = Math.Min(2, Environment.ProcessorCount);
        var (controllerPort, nodePort) = (FreePort(), FreePort());
        return $"""
            ClusterName=blobtest
            SlurmctldHost={NodeName}(127.0.0.1)
            SlurmUser=root
            SlurmdUser=root
            SlurmctldPort={controllerPort}
            SlurmdPort={nodePort}
            AuthType=auth/munge
            AuthInfo=socket={mungeSocket}
            CredType=cred/munge
            StateSaveLocation={Folder}/state
            SlurmdSpoolDir={Folder}/spool
            SlurmctldPidFile={Folder}/slurmctld.pid
            SlurmdPidFile={Folder}/slurmd.pid
            SlurmctldLogFile={Folder}/log/slurmctld.log
            SlurmdLogFile={Folder}/log/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            MpiDefault=none
            SchedulerType=sched/builtin
            SchedulerParameters=sched_interval=1
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            ReturnToService=2
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            KillWait=30
            MinJobAge=600
            NodeName={NodeName} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
            PartitionName={Partition} Nodes=ALL Default=YES MaxTime=INFINITE State=UP

            """;
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    void StartDaemon(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(Find(tool)!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["SLURM_CONF"] = Conf;
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _daemons.Add(process);
        if (process.WaitForExit(300)) throw new InvalidOperationException($"{tool} exited at once (exit code {process.ExitCode})");
    }

    void WaitFor(Func<bool> ready, TimeSpan patience, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!ready())
        {
            if (clock.Elapsed > patience) throw new TimeoutException($"waited {patience.TotalSeconds:F0} s for {what}");
            if (_daemons.FirstOrDefault(d => d.HasExited) is { } dead)
                throw new InvalidOperationException($"{Path.GetFileName(dead.StartInfo.FileName)} exited (exit code {dead.ExitCode})");
            Thread.Sleep(200);
        }
    }

    /// <summary>Runs one of Slurm's commands against this cluster.</summary>
    public (int Code, string Out, string Error) Run(string tool, params string[] arguments)
    {
        var info = new ProcessStartInfo(Find(tool) ?? tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["SLURM_CONF"] = Conf;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60))) { process.Kill(); throw new TimeoutException($"{tool} did not answer"); }
        return (process.ExitCode, output.Result, error.Result);
    }

    /// <summary>The daemons' logs, for a test's failure message.</summary>
    public string Logs() => string.Join("\n", Directory.Exists(Path.Combine(Folder, "log"))
        ? Directory.GetFiles(Path.Combine(Folder, "log")).Select(f => $"--- {Path.GetFileName(f)}\n{Tail(File.ReadAllText(f))}") : []);

    static string Tail(string text) => text.Length <= 3000 ? text : text[^3000..];

    public void Dispose()
    {
        try
        {
            // Jobs first: their processes belong to slurmstepd, not to slurmd, and would outlive the daemons.
            if (_daemons.Count == 3 && !_daemons.Any(d => d.HasExited))
            {
                Run("scancel", $"--partition={Partition}");
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(45) && Run("squeue", "--noheader").Out.Trim().Length > 0) Thread.Sleep(500);
            }
        }
        catch (Exception) { } // stopping the daemons below matters more
        foreach (var daemon in Enumerable.Reverse(_daemons))
        {
            try
            {
                if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
                daemon.WaitForExit(10_000);
            }
            catch (InvalidOperationException) { }
            daemon.Dispose();
        }
        Environment.SetEnvironmentVariable("SLURM_CONF", _oldConf);
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }

    /// <summary>A program on PATH, or in the system folders where Debian installs the daemons.</summary>
    static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"])
            .Select(dir => Path.Combine(dir, tool)).FirstOrDefault(File.Exists);
}
