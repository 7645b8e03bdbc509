#!/usr/bin/env python3
"""The goal for BLoB against MLE, table by table: BLoB (N = 10) ECE <= 0.6 x MLE's, NLL <= 0.85 x MLE's, accuracy within 2 points of
MLE's, and BLoB first or second on ECE among the seven methods; every figure the mean over the seeds found, on dev
(METHOD/seed-S/result.json) or on the validation split (validation.json). A table missing a method or a seed is
reported as incomplete, with what it has.
Usage: experiments/goal.py [dev|validation] TABLE_DIR...   (e.g. experiments/results/*-table[17])"""
import glob, json, os, statistics, sys

args = sys.argv[1:]
split = args.pop(0) if args and args[0] in ("dev", "validation") else "dev"
name = {"dev": "result.json", "validation": "validation.json"}[split]
methods = ["mle", "map", "mcd", "ens", "bbb", "lap", "blob"]

print(f"| table ({split}) | seeds | BLoB / MLE ECE (goal <= 0.6) | BLoB / MLE NLL (<= 0.85) | BLoB - MLE ACC (>= -2) | BLoB's ECE rank (<= 2) | met |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
for table in args:
    runs = {m: [json.load(open(f)) for f in sorted(glob.glob(os.path.join(table, m, "seed-*", name)))] for m in methods}
    label = os.path.basename(table.rstrip("/"))
    if not runs["mle"] or not runs["blob"]:
        print(f"| {label} | - | no {'MLE' if not runs['mle'] else 'BLoB'} runs (not learnt, or not run) | | | | - |")
        continue
    mean = {m: {k: statistics.mean(r[k] for r in rs) for k in ("accuracy", "ece", "nll")} for m, rs in runs.items() if rs}
    seeds = sorted({len(rs) for rs in runs.values()})
    complete = len(mean) == len(methods) and seeds == [3]
    b, m = mean["blob"], mean["mle"]
    ece, nll, acc = b["ece"] / m["ece"], b["nll"] / m["nll"], 100 * (b["accuracy"] - m["accuracy"])
    rank = 1 + sum(v["ece"] < b["ece"] for k, v in mean.items() if k != "blob")
    checks = [ece <= 0.6, nll <= 0.85, acc >= -2, rank <= 2]
    met = ("all" if all(checks) else "missed: " + ", ".join(n for n, c in zip(("ECE", "NLL", "ACC", "rank"), checks) if not c))
    print(f"| {label} | {'/'.join(map(str, seeds))} | {ece:.2f} | {nll:.2f} | {acc:+.2f} | {rank} of {len(mean)} | "
          f"{met if complete else 'incomplete (' + str(len(mean)) + ' methods); ' + met} |")
