"""What the experiments' table scripts share: a table cell, the mean of xs (times scale) and, over more than one value,
its sample standard deviation, as "mean ± std"; and a run's recorded wall time."""
import glob, json, os, statistics

SPLITS = ("result.json", "mean-result.json", "validation.json", "mean-validation.json")


def run_seconds(run, first="result.json"):
    """A run's wall time as recorded: its training (train_seconds, from the split file `first`) and every split it
    evaluated (each split's eval_seconds; the first includes a Laplace fit)."""
    total = json.load(open(os.path.join(run, first))).get("train_seconds", 0)
    for path in glob.glob(os.path.join(run, "*.json")):
        name = os.path.basename(path)
        if name in SPLITS or (name.startswith("ood-") and not name.endswith("-predictions.json")):
            total += json.load(open(path)).get("eval_seconds") or 0
    return total


def cell(xs, scale=1, digits=2):
    xs = [x * scale for x in xs]
    return f"{statistics.mean(xs):.{digits}f}" + (f" ± {statistics.stdev(xs):.{digits}f}" if len(xs) > 1 else "")
