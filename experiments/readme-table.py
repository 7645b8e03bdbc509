#!/usr/bin/env python3
"""A comparison's kept results as one Markdown table in the paper's layout (a row per method; ACC, ECE x100, NLL, Brier as
mean +- sample std over the seeds found; the wall time a run), with a "+ TS" row after each method whose runs were
calibrated (compare --calibrate temperature: calibrated-*.json). compare's own table.md has a row per metric and method.
Usage: experiments/readme-table.py TABLE_DIR [dev|validation|ood-TASK]   (ood-TASK: the out-of-distribution set TASK, e.g.
ood-arc-c, read from each run's ood-TASK.json; the wall-time column is left empty there)"""
import glob, json, os, sys

from cells import cell, run_seconds

table, split = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "dev")
if split not in ("dev", "validation") and not split.startswith("ood-"):
    sys.exit(f"readme-table.py: unknown split {split}")
names = {"dev": ("result.json", "mean-result.json")}.get(split, (f"{split}.json", f"mean-{split}.json"))
order = ["mle", "map", "mcd", "ens", "bbb", "lap", "blob"]
label = {"mle": "MLE", "map": "MAP", "mcd": "MCD", "ens": "ENS", "bbb": "BBB", "lap": "LAP", "blob": "BLoB (N = 10)", "blob-n0": "BLoB (N = 0)"}
label.update({m + "+ts": label[m] + " + TS" for m in order})

rows, seeds = [], set()
for method in order:
    for name, shown in ((names[1], method + "-n0"), (names[0], method), ("calibrated-" + names[0], method + "+ts")):
        found = sorted(glob.glob(os.path.join(table, method, "seed-*", name)))
        if not found: continue
        rs = [json.load(open(f)) for f in found]
        seeds.update(os.path.basename(os.path.dirname(f)) for f in found)
        secs = [run_seconds(os.path.dirname(f), os.path.basename(f)) for f in found]
        rows.append(f"| {label[shown]} | {cell([r['accuracy'] for r in rs], 100)} | {cell([r['ece'] for r in rs], 100)} | "
                    f"{cell([r['nll'] for r in rs], 1, 3)} | {cell([r['brier'] for r in rs], 1, 3)} | {len(rs)} | "
                    f"{cell(secs, 1 / 60, 1) if secs and shown == method and not split.startswith('ood-') else ''} |")
print(f"| {os.path.basename(table)} ({split}, n = {rs[0]['count']}) | ACC | ECE | NLL | Brier | seeds | min a run |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
print("\n".join(rows))
