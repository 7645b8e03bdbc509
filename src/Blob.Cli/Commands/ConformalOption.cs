using System.CommandLine;
using Blob.Experiments;

namespace Blob.Cli.Commands;

/// <summary>
/// --conformal ALPHA on train and compare: after the runs, conformal answer sets at level α from the predictions the run
/// folders keep (<see cref="RunConformal"/>, <see cref="ConformalComparison"/>). Not a setting of the runs: a finished
/// run is reused with or without it.
/// </summary>
public static class ConformalOption
{
    public static Option<double?> Create() => new Option<double?>("--conformal")
    {
        Description = "Conformal answer sets at level ALPHA (0.1: 90% coverage), calibrated on the validation split: coverage, set size and singletons per split and --ood set (needs --validation-fraction and --evaluate both)",
    }.Must(a => a is null || (a > 0 && a < 1), "must be above 0 and below 1");

    /// <summary>Refuses, before anything trains, a run that will not have the validation and dev predictions conformal sets need.</summary>
    public static void Require(ExperimentSpec spec, double alpha)
    {
        if (spec.ValidationFraction == 0)
            throw new BlobException($"--conformal {alpha}: answer sets are calibrated on the validation split; carve one with --validation-fraction (e.g. 0.15)");
        if (spec.Splits != EvaluatedSplits.Both)
            throw new BlobException($"--conformal {alpha}: calibrated on the validation split and reported on dev, so both are evaluated; add --evaluate both");
    }
}
