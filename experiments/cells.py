"""A table cell shared by the experiments' table scripts: the mean of xs (times scale) and, over more than one value,
its sample standard deviation, as "mean ± std"."""
import statistics


def cell(xs, scale=1, digits=2):
    xs = [x * scale for x in xs]
    return f"{statistics.mean(xs):.{digits}f}" + (f" ± {statistics.stdev(xs):.{digits}f}" if len(xs) > 1 else "")
