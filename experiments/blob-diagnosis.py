#!/usr/bin/env python3
"""Why BLoB does or does not calibrate better, from a table's kept BLoB runs (no model needed).

For each BLoB run (TABLE/blob/seed-*): how far Omega = G^2 grew against the prior sigma_p (posterior-std.csv, last step),
how many KL cycles of the re-weighting schedule the run completed (training-log.csv: lambda restarts), how the N weight
samples' spread of the final embedding differs between right and wrong answers (embedding-variance.csv), and how much
the N = 10 samples change the metrics against the mean weights (result.json against mean-result.json, N = 0).
Usage: experiments/blob-diagnosis.py TABLE_DIR [validation]  (e.g. experiments/results/mrpc-table7; "validation": the
validation split's files, for runs that evaluated only that split)
"""
import csv, glob, json, os, statistics, sys

table = sys.argv[1]
split = "validation-" if sys.argv[2:] == ["validation"] else ""
result, mean = ("validation.json", "mean-validation.json") if split else ("result.json", "mean-result.json")
print(f"{'seed':>4} | {'Omega p05/median/p95 (prior)':>32} | {'KL cycles (steps)':>17} | {'emb. var. right/wrong (median)':>30} | N=10 - N=0: ACC, ECE x100, NLL")
for run in sorted(glob.glob(os.path.join(table, "blob", "seed-*"))):
    seed = run.rsplit("-", 1)[1]
    std = list(csv.DictReader(open(os.path.join(run, "posterior-std.csv"))))[-1]
    log = list(csv.DictReader(open(os.path.join(run, "training-log.csv"))))
    lam = [float(r["lambda"]) for r in log]
    starts = [0] + [i for i in range(1, len(lam)) if lam[i] < 0.5 * lam[i - 1]]  # a cycle restarts lambda from its smallest
    cycles = f"{len(lam) / starts[1]:.1f} of {starts[1]}" if len(starts) > 1 else "< 1"
    var = list(csv.DictReader(open(os.path.join(run, split + "embedding-variance.csv"))))
    right = statistics.median(float(r["variance"]) for r in var if r["correct"] == "1")
    wrong = statistics.median(float(r["variance"]) for r in var if r["correct"] == "0")
    n10 = json.load(open(os.path.join(run, result)))
    n0 = json.load(open(os.path.join(run, mean)))
    d = lambda k, s: (n10[k] - n0[k]) * s
    print(f"{seed:>4} | {float(std['p05']):.4f} / {float(std['median']):.4f} / {float(std['p95']):.4f} ({std['prior_std']}) | {cycles:>17} | "
          f"{right:.5f} / {wrong:.5f} ({wrong / right:.2f}x) | {d('accuracy', 100):+.2f}, {d('ece', 100):+.2f}, {d('nll', 1):+.4f}")
