#!/usr/bin/env python3
"""The table that decides one task, in the paper's layout: the kept table's MLE, MLE + TS, LAP, LAP + TS, ENS,
ENS + TS, BLoB as the paper specifies it and BLoB + TS, then BLoB in the setup the study chose (TABLE-setup) and that
BLoB + TS, and MLE in its own chosen setup (TABLE-setup-mle) where the study chose one other than the kept table's.
A row is a method's mean ± sample std over the seeds found (ACC, ECE x100, NLL, Brier); a setup not run yet is
missing from the table. The setups are named from TABLE-setup/chosen.txt.
Usage: experiments/decisive-table.py RESULTS TABLE [dev|validation|ood-TASK]   e.g. experiments/results mrpc-table7"""
import glob, json, os, sys

from cells import cell

results, table = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "dev"
if split not in ("dev", "validation") and not split.startswith("ood-"):
    sys.exit(f"decisive-table.py: unknown split {split}")
name = "result.json" if split == "dev" else f"{split}.json"
base, setup, setup_mle = (os.path.join(results, t) for t in (table, table + "-setup", table + "-setup-mle"))
chosen = os.path.join(setup, "chosen.txt")
flags = dict(part.split(": ", 1) for part in open(chosen).read().split(" (")[0].strip().split("; ")) if os.path.exists(chosen) else {}

sources = [(base, "mle", "MLE"), (setup_mle, "mle", f"MLE, {flags.get('MLE', '')}"), (base, "lap", "LAP"), (base, "ens", "ENS"),
           (base, "blob", "BLoB as specified (N = 10)"), (setup, "blob", f"BLoB, {flags.get('BLoB', '')} (N = 10)")]
rows, count = [], None
for folder, method, label in sources:
    for prefix, shown in (("", label), ("calibrated-", label + " + TS")):
        found = sorted(glob.glob(os.path.join(folder, method, "seed-*", prefix + name)))
        if not found: continue
        rs = [json.load(open(f)) for f in found]
        count = count or rs[0]["count"]
        rows.append(f"| {shown} | {cell([r['accuracy'] for r in rs], 100)} | {cell([r['ece'] for r in rs], 100)} | "
                    f"{cell([r['nll'] for r in rs], 1, 3)} | {cell([r['brier'] for r in rs], 1, 3)} | {len(rs)} |")
print(f"| {table} ({split}, n = {count}) | ACC | ECE | NLL | Brier | seeds |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
print("\n".join(rows))
