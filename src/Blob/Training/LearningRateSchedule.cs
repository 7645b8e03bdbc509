namespace Blob.Training;

/// <summary>
/// Linear warm-up then linear decay to zero (transformers' get_linear_schedule_with_warmup), used for both the
/// likelihood optimiser and BLoB's KL optimiser.
/// </summary>
public static class LearningRateSchedule
{
    /// <summary>The multiplier of the base learning rate after <paramref name="step"/> completed optimiser steps.</summary>
    public static double Multiplier(long step, long totalSteps, long warmupSteps)
    {
        if (step < warmupSteps) return (double)step / Math.Max(1, warmupSteps);
        return Math.Max(0.0, (double)(totalSteps - step) / Math.Max(1, totalSteps - warmupSteps));
    }

    public static long WarmupSteps(long totalSteps, double ratio) => (long)Math.Ceiling(totalSteps * ratio);
}
