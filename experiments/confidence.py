#!/usr/bin/env python3
"""How confident each method of a table is on dev, on its right and on its wrong answers (part of BLoB's diagnosis):
the mean top-class probability over all answers, over the right ones and over the wrong ones, beside the accuracy;
mean over the seeds found (METHOD/seed-S/predictions.json). A calibrated method's mean confidence equals its accuracy.
Usage: experiments/confidence.py TABLE_DIR [predictions file name, default predictions.json]"""
import glob, json, os, statistics, sys

table = sys.argv[1]
name = sys.argv[2] if len(sys.argv) > 2 else "predictions.json"
print(f"| {os.path.basename(table.rstrip('/'))} ({name}) | ACC | mean confidence | on right answers | on wrong answers | seeds |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for method in ["mle", "map", "mcd", "ens", "bbb", "lap", "blob"]:
    rows = []
    for path in sorted(glob.glob(os.path.join(table, method, "seed-*", name))):
        p = json.load(open(path))
        top = [(max(q), max(range(len(q)), key=q.__getitem__) == y) for q, y in zip(p["probabilities"], p["labels"])]
        rows.append((statistics.mean(ok for _, ok in top), statistics.mean(c for c, _ in top),
                     statistics.mean(c for c, ok in top if ok), statistics.mean(c for c, ok in top if not ok)))
    if rows:
        m = [statistics.mean(c) for c in zip(*rows)]
        print(f"| {method.upper()} | {100 * m[0]:.2f} | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.3f} | {len(rows)} |")
