#!/usr/bin/env python3
"""The README's headline table from the kept records: per task, MLE's and BLoB's (N = 10) dev ACC / ECE / NLL and
MLE + T's ECE / NLL (compare --calibrate temperature), means over the seeds kept; the lowest ECE and the lowest NLL of
the three in bold. Usage: experiments/readme-headline.py [RESULTS]   (default experiments/results)"""
import glob, json, os, statistics, sys

results = sys.argv[1] if len(sys.argv) > 1 else os.path.join("experiments", "results")
TASKS = [("MRPC", "mrpc-table7"), ("RTE", "rte-table7"), ("WiC", "wic-table7"), ("BoolQ", "boolq-table7"),
         ("OBQA", "obqa-table1"), ("ARC-C", "arc-c-table1"), ("ARC-E", "arc-e-table1")]


def means(table, method, name):
    rs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(results, table, method, "seed-*", name)))]
    return {k: statistics.mean(r[k] for r in rs) for k in ("accuracy", "ece", "nll")}


print("| task (dev) | MLE ACC / ECE / NLL | BLoB (N = 10) ACC / ECE / NLL | MLE + T ECE / NLL |")
print("| --- | ---: | ---: | ---: |")
for task, table in TASKS:
    mle, blob, ts = means(table, "mle", "result.json"), means(table, "blob", "result.json"), means(table, "mle", "calibrated-result.json")
    ece = {k: f"{100 * m['ece']:.2f}" for k, m in (("mle", mle), ("blob", blob), ("ts", ts))}
    nll = {k: f"{m['nll']:.3f}" for k, m in (("mle", mle), ("blob", blob), ("ts", ts))}
    low_ece, low_nll = min(ece.values(), key=float), min(nll.values(), key=float)
    b = lambda d, k, low: f"**{d[k]}**" if d[k] == low else d[k]
    print(f"| {task} | {100 * mle['accuracy']:.2f} / {b(ece, 'mle', low_ece)} / {b(nll, 'mle', low_nll)} | "
          f"{100 * blob['accuracy']:.2f} / {b(ece, 'blob', low_ece)} / {b(nll, 'blob', low_nll)} | "
          f"{b(ece, 'ts', low_ece)} / {b(nll, 'ts', low_nll)} |")
