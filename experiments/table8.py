#!/usr/bin/env python3
"""The paper's Table 8 analogue (experiments/table7.sh, step 6): BLoB without each of its three
techniques, against BLoB itself and BBB, on dev; ACC and ECE x100, NLL as mean +- sample std over the seeds found, at
N = 10 (and BLoB's at N = 0). BLoB and BBB are the table's runs (TASK-table7), the ablations TASK-table8-no-{rw,rp,ab}.
Usage: experiments/table8.py OUT TASK  (OUT: a table7.sh output folder or experiments/results)"""
import glob, json, os, sys

from cells import cell

out, task = sys.argv[1], sys.argv[2]
rows = [("BLoB", f"{task}-table7", "blob", "result.json"),
        ("BLoB (N = 0)", f"{task}-table7", "blob", "mean-result.json"),
        ("w/o RW (uniform KL weights)", f"{task}-table8-no-rw", "blob", "result.json"),
        ("w/o RP (softplus(G), not G²)", f"{task}-table8-no-rp", "blob", "result.json"),
        ("w/o AB (B Gaussian too)", f"{task}-table8-no-ab", "blob", "result.json"),
        ("BBB", f"{task}-table7", "bbb", "result.json")]

print(f"| {task} dev (Table 8 analogue) | ACC | ECE | NLL | seeds | min training a run |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for label, folder, method, name in rows:
    rs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, folder, method, "seed-*", name)))]
    if not rs:
        print(f"| {label} | not run yet | | | | |"); continue
    print(f"| {label} | {cell([r['accuracy'] for r in rs], 100)} | {cell([r['ece'] for r in rs], 100)} | "
          f"{cell([r['nll'] for r in rs], 1, 3)} | {len(rs)} | {cell([r.get('train_seconds', 0) for r in rs], 1 / 60, 1)} |")
