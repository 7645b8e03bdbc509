using Blob.Methods;
using Blob.Experiments;
using Blob.Training;

namespace Blob.Cli.Commands;

/// <summary>
/// One run of a comparison: a method and a seed, the spec they make with the comparison's options, the settings its
/// results depend on (<see cref="RunSettings"/>), and its folder, OUTPUT/METHOD/seed-N.
/// </summary>
public sealed record ComparisonRun(FineTuningMethod Kind, int Seed, ExperimentSpec Spec, RunSettings Settings, string Dir)
{
    public string Method => Kind.Name;

    /// <summary>"blob seed 2"</summary>
    public string Name => $"{Method} seed {Seed}";
}
