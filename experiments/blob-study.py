#!/usr/bin/env python3
"""What one changed BLoB setting does on the validation split (experiments/table7.sh, step 5).

A row per run: the table's own BLoB validation run (TASK-val-blob-klK, K the kl-lr chosen for the table), the other
kl-lr values of step 3's grid, then each TASK-val-study-* run; BLoB seed 1, validation split only. Columns: ACC, ECE x100 and NLL at N = 10 and at
N = 0 (the mean weights), Omega's median at the end against sigma_p, and the training time.
Usage: experiments/blob-study.py OUT TASK  (OUT: a table7.sh output folder or experiments/results)
"""
import csv, glob, json, os, re, sys

out, task = sys.argv[1], sys.argv[2]
table = "obqa-table1" if task == "obqa" else f"{task}-table7"
kl = re.search(r"kl-lr (\S+?)[ ,(]", open(os.path.join(out, table, "chosen.txt")).read() + " ").group(1)
runs = [(f"table's (kl-lr {kl})", os.path.join(out, f"{task}-val-blob-kl{kl}"))]
runs += [(f"kl-lr {d.rsplit('-kl', 1)[1]} (step 3's grid)", d) for d in sorted(glob.glob(os.path.join(out, f"{task}-val-blob-kl*")))
         if d.rsplit("-kl", 1)[1] != kl]
# a study run of the chosen kl-lr itself (tried as a change before it joined the grid) is the table's row
runs += [(os.path.basename(d)[len(f"{task}-val-study-"):], d) for d in sorted(glob.glob(os.path.join(out, f"{task}-val-study-*")))
         if os.path.basename(d) != f"{task}-val-study-kl-lr{kl}"]
print(f"| {task} BLoB, validation (seed 1) | ACC | ECE | NLL | ACC, ECE, NLL at N = 0 | Omega median (prior) | min training |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, folder in runs:
    run = os.path.join(folder, "blob", "seed-1")
    if not os.path.exists(os.path.join(run, "validation.json")):
        print(f"| {name} | not run yet | | | | | |"); continue
    r = json.load(open(os.path.join(run, "validation.json")))
    m = json.load(open(os.path.join(run, "mean-validation.json")))
    std = list(csv.DictReader(open(os.path.join(run, "posterior-std.csv"))))[-1]
    print(f"| {name} | {r['accuracy'] * 100:.2f} | {r['ece'] * 100:.2f} | {r['nll']:.3f} | "
          f"{m['accuracy'] * 100:.2f}, {m['ece'] * 100:.2f}, {m['nll']:.3f} | {float(std['median']):.4f} ({std['prior_std']}) | "
          f"{r.get('train_seconds', 0) / 60:.1f} |")
