"""The validation split of the blind protocol, carved as Blob.Data.ValidationSplit does, for the experiments' scripts
that read the training data themselves: label-stratified, round(fraction x count) of each label's examples held out,
chosen by Blob.Data.DeterministicSplit (the first `count` of a SplitMix64 Fisher-Yates shuffle, seed 20240915 + label).
A script checks the carved labels against a run's saved validation predictions before it trusts the carving."""
FRACTION, SEED, MASK = 0.15, 20_240_915, (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def first_of_shuffle(n, count, seed):
    order, state = list(range(n)), seed
    for i in range(n - 1, 0, -1):
        state, r = splitmix64(state)
        j = r % (i + 1)
        order[i], order[j] = order[j], order[i]
    return set(order[:count])


def held_out(labels, fraction=FRACTION):
    """The indices (into labels, the training split's labels in file order) that the validation split holds."""
    held = set()
    for label in sorted(set(labels)):
        indices = [i for i, y in enumerate(labels) if y == label]
        count = int(fraction * len(indices) + 0.5)  # MidpointRounding.AwayFromZero
        held |= {indices[k] for k in first_of_shuffle(len(indices), count, SEED + label)}
    return held
