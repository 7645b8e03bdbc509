// Tests seed and draw from torch's global random generator, so they must not run concurrently.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
