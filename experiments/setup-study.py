#!/usr/bin/env python3
"""The BLoB setup study (experiments/setup-study.sh) as one table per task: seed 1 on the validation split, the chosen
run (the table's lr and kl-lr, head trained) beside each change (head: --head adapted-frozen; std: --std-in-adamw;
cycles: --kl-gamma with at least 30 KL cycles; combined: the changes that lowered BLoB's NLL, together), for BLoB and
for MLE (head only). The lowest validation NLL of each method is its choice, marked "chosen"; a run not finished yet
is left out, and a method whose runs are not all there says so.
Usage: experiments/setup-study.py RESULTS TASK...   (RESULTS e.g. experiments/results; TASK e.g. mrpc boolq arc-c)"""
import json, os, re, sys

results, tasks = sys.argv[1], sys.argv[2:]
table_of = lambda task: f"{task}-table1" if task in ("obqa", "arc-c", "arc-e", "winogrande-s") else f"{task}-table7"
for task in tasks:
    chosen = open(os.path.join(results, table_of(task), "chosen.txt")).read()
    lr = re.search(r"^lr ([0-9.e-]+)", chosen).group(1)
    kl = re.search(r"kl-lr ([0-9.]+)", chosen).group(1)
    arms = {"blob": [("as chosen", f"{task}-val-blob-kl{kl}")] + [(arm, f"{task}-val-setup-blob-{arm}") for arm in ("head", "std", "cycles", "combined")],
            "mle": [("as chosen", f"{task}-val-mle-lr{lr}"), ("head", f"{task}-val-setup-mle-head")]}
    print(f"{task} (validation split, seed 1; lr {lr}, kl-lr {kl}):\n")
    print("| method | setup | ACC | ECE | NLL | |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for method, rows in arms.items():
        found = []
        for name, folder in rows:
            path = os.path.join(results, folder, method, "seed-1", "validation.json")
            if os.path.exists(path): found.append((name, json.load(open(path))))
        best = min(found, key=lambda x: x[1]["nll"])[0] if found else None
        for name, r in found:
            print(f"| {method} | {name} | {100 * r['accuracy']:.2f} | {100 * r['ece']:.2f} | {r['nll']:.4f} | {'chosen' if name == best else ''} |")
        missing = [n for n, _ in rows if n not in dict(found) and n != "combined"]
        if missing: print(f"| {method} | not run yet: {', '.join(missing)} | | | | |")
    print()
