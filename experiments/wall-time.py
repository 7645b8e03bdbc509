#!/usr/bin/env python3
"""The wall time of each table, from the kept records: the sum over the table's runs of training and every split
evaluated (result.json's train_seconds and each split's eval_seconds, as recorded), and the same for the validation
runs that chose its settings (TASK-val-*, not the studies; for a setup table, TABLE-setup or TABLE-setup-mle, the
setup study's TASK-val-setup-*), less the chosen runs the table reused (the same training log). The runs were made
one or two at a time beside other work, so the sums are one stream's time, not elapsed time.
Usage: experiments/wall-time.py TABLE_DIR...   (e.g. experiments/results/*-table[17])"""
import glob, hashlib, os, sys

from cells import run_seconds


def seconds(run):
    """A run's training and evaluation seconds, and its training log's hash (the run's identity when copied)."""
    first = "result.json" if os.path.exists(os.path.join(run, "result.json")) else "validation.json"
    total = run_seconds(run, first)
    log = os.path.join(run, "training-log.csv")
    return total, hashlib.sha256(open(log, "rb").read()).hexdigest() if os.path.exists(log) else run


print("| table | runs | hours, the table's runs | validation runs | hours, validation runs (not reused) | hours in all |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for table in sys.argv[1:]:
    table = table.rstrip("/")
    runs = [seconds(r) for r in sorted(glob.glob(os.path.join(table, "*", "seed-*")))]
    task = os.path.basename(table).rsplit("-table", 1)[0]
    # a setup table (TABLE-setup, TABLE-setup-mle) was chosen by the setup study's runs, a table by the others
    setup = "-setup" in os.path.basename(table)
    val = [seconds(r) for r in sorted(glob.glob(os.path.join(os.path.dirname(table), f"{task}-val-*", "*", "seed-*")))
           if "-val-study-" not in r and "-twins-split" not in r and ("-val-setup-" in r) == setup]
    reused = {h for _, h in runs}
    extra = sum(s for s, h in val if h not in reused)
    mine = sum(s for s, _ in runs)
    print(f"| {os.path.basename(table)} | {len(runs)} | {mine / 3600:.1f} | {len(val)} | {extra / 3600:.1f} | {(mine + extra) / 3600:.1f} |")
