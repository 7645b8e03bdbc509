#!/usr/bin/env python3
"""The two short tables of docs/guarantees.md, from a comparison's kept tables (compare ... --conformal): dev's
answer sets (coverage, size, singletons under LAC and APS; the smallest sets in bold) and the OOD detection AUROC by
1 - max p / entropy for every --ood set, with the number of seeds that kept the OOD predictions (the best in bold).
Usage: experiments/guarantee-summary.py COMPARISON   (e.g. experiments/results/obqa-table1)"""
import csv, os, sys
from collections import defaultdict

folder = sys.argv[1]


def read(name):
    """{(group, method): {column: (mean, std, seeds)}} in the file's order of methods and groups."""
    cells = defaultdict(dict)
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            cells[(row["group"], row["method"])][row["column"]] = (float(row["mean"]), float(row["std"] or "nan"), int(row["seeds"]))  # one seed: no std
    return cells


def ordered(keys, index):
    return list(dict.fromkeys(k[index] for k in keys))


conformal = read("table-conformal.csv")
methods = [m for m in ordered(conformal, 1) if "+" not in m]
columns = [f"{rule} {what}" for rule in ("LAC", "APS") for what in ("coverage", "size", "singletons")]
smallest = {c: min(conformal[("dev", m)][c][0] for m in methods) for c in columns if c.endswith("size")}
print("| Method | " + " | ".join(columns) + " |")
print("| --- |" + " ---: |" * len(columns))
for m in methods:
    cells = []
    for c in columns:
        mean, std, _ = conformal[("dev", m)][c]
        text = f"{mean:.2f} ± {std:.2f}" if c.endswith("size") else f"{mean:.1f} ± {std:.1f}"
        cells.append(f"**{text}**" if c in smallest and round(mean, 2) == round(smallest[c], 2) else text)
    print(f"| {m} | " + " | ".join(cells) + " |")

print()
ood = read("table-ood-detection.csv")
sets = ordered(ood, 0)
best = {s: max(ood[(s, m)]["AUROC 1−max p"][0] for m in methods) for s in sets}
print("| Method | " + " | ".join(f"{s} (s)" for s in sets) + " |")
print("| --- |" + " ---: |" * len(sets))
for m in methods:
    cells = []
    for s in sets:
        (p, _, seeds), (h, _, _) = ood[(s, m)]["AUROC 1−max p"], ood[(s, m)]["AUROC entropy"]
        pair = f"{p:.1f} / {h:.1f}"
        cells.append(f"{'**' + pair + '**' if round(p, 1) == round(best[s], 1) else pair} ({seeds})")
    print(f"| {m} | " + " | ".join(cells) + " |")
