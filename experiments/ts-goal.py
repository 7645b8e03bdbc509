#!/usr/bin/env python3
"""The decisive comparison: BLoB against plain LoRA with one temperature fitted on the validation split (MLE + TS), split
by split. The goal: BLoB has lower NLL and lower ECE than MLE + TS with accuracy within 2 points. For each TABLE_DIR
(a comparison run with compare --calibrate temperature) and each split it holds (dev, and every out-of-distribution
set ood-TASK), the means over the seeds both methods have: BLoB (N = 10) and BLoB + TS beside MLE + TS.
BLOB_DIR, where given as TABLE_DIR=BLOB_DIR, takes BLoB's runs from another comparison (a BLoB setup chosen later),
and MLE's from TABLE_DIR; MLE_DIR, where given as TABLE_DIR=BLOB_DIR=MLE_DIR, takes MLE's from a third (MLE's own
chosen setup). A split where MLE + TS has no calibrated runs is reported as such.
Usage: experiments/ts-goal.py TABLE_DIR[=BLOB_DIR[=MLE_DIR]]..."""
import glob, json, os, re, statistics, sys


def runs(table, method, name):
    return {os.path.basename(os.path.dirname(f)): json.load(open(f)) for f in sorted(glob.glob(os.path.join(table, method, "seed-*", name)))}


def mean(rs, key):
    return statistics.mean(r[key] for r in rs)


print("| table | split | seeds | ACC: BLoB − MLE+TS | ECE: MLE+TS / BLoB / BLoB+TS | NLL: MLE+TS / BLoB / BLoB+TS | BLoB beats MLE+TS |")
print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
for arg in sys.argv[1:]:
    table, blob_table, mle_table = (arg.split("=") + ["", ""])[:3]
    blob_table, mle_table = blob_table or table, mle_table or table
    splits = ["result.json"] + sorted(os.path.basename(f) for f in glob.glob(os.path.join(table, "blob", "seed-1", "ood-*.json"))
                                      if re.fullmatch(r"ood-[a-z0-9-]+\.json", os.path.basename(f)) and not f.endswith("-predictions.json"))
    label = os.path.basename(table.rstrip("/")) + "".join(f" ({who}: {os.path.basename(t.rstrip('/'))})"
                                                          for who, t in (("BLoB", blob_table), ("MLE", mle_table)) if t != table)
    for name in splits:
        split = "dev" if name == "result.json" else name[:-5]
        mle_ts = runs(mle_table, "mle", "calibrated-" + name)
        blob, blob_ts = runs(blob_table, "blob", name), runs(blob_table, "blob", "calibrated-" + name)
        seeds = sorted(set(mle_ts) & set(blob))
        if not seeds:
            print(f"| {label} | {split} | 0 | no {'MLE + TS' if not mle_ts else 'BLoB'} runs | | | – |")
            continue
        m, b = [mle_ts[s] for s in seeds], [blob[s] for s in seeds]
        bt = [blob_ts[s] for s in seeds if s in blob_ts]
        acc = 100 * (mean(b, "accuracy") - mean(m, "accuracy"))
        ece = (100 * mean(m, "ece"), 100 * mean(b, "ece"), 100 * mean(bt, "ece") if bt else float("nan"))
        nll = (mean(m, "nll"), mean(b, "nll"), mean(bt, "nll") if bt else float("nan"))
        checks = {"NLL": nll[1] < nll[0], "ECE": ece[1] < ece[0], "ACC": acc >= -2}
        verdict = "yes" if all(checks.values()) else "no: " + ", ".join(k for k, ok in checks.items() if not ok)
        print(f"| {label} | {split} | {len(seeds)} | {acc:+.2f} | {ece[0]:.2f} / {ece[1]:.2f} / {ece[2]:.2f} | "
              f"{nll[0]:.3f} / {nll[1]:.3f} / {nll[2]:.3f} | {verdict} |")
