#!/usr/bin/env python3
"""How much of MLE's dev NLL any rescaling of its confidence can remove, from a table's kept MLE runs.

The goal asks BLoB (N = 10) for NLL <= 0.85 x MLE's. Part of MLE's NLL is overconfidence, which a less confident model
removes; the rest is how well MLE ranks the answers, which no change of confidence removes. This script measures the two
parts with temperature scaling of MLE's own predictions (p_T proportional to p^(1/T), the same answers at another
confidence):
- "val T": T chosen on the validation split (validation-predictions.json, the split that chose the settings), then
  applied once to dev: the post-hoc calibration a practitioner can do blind;
- "best T": T chosen on dev itself: the lowest dev NLL that any single temperature gives MLE's answers, a floor for
  calibration by rescaling alone (not a result: it looks at dev).
Beside them the goal's 0.85 x MLE NLL and BLoB's own (mean over the seeds found). ECE uses 15 equal-width bins on the
top-1 confidence, as Metrics.Ece does; its untempered value is checked against the run's result.json.
Usage: experiments/nll-floor.py TABLE_DIR...   (e.g. experiments/results/*-table[17])"""
import glob, json, math, os, statistics, sys

EPS = 1e-12


def tempered(probs, t):
    out = []
    for p in probs:
        z = [math.log(max(q, EPS)) / t for q in p]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        s = sum(e)
        out.append([v / s for v in e])
    return out


def nll(probs, labels):
    return statistics.mean(-math.log(max(p[y], EPS)) for p, y in zip(probs, labels))


def ece(probs, labels, bins=15):
    count, correct, conf = [0] * (bins + 1), [0.0] * (bins + 1), [0.0] * (bins + 1)
    for p, y in zip(probs, labels):
        top = max(range(len(p)), key=p.__getitem__)
        b = min(int(p[top] * bins), bins)  # [i/bins, (i+1)/bins); a confidence of exactly 1 in a bin of its own
        count[b] += 1; conf[b] += p[top]; correct[b] += top == y
    return sum(abs(correct[b] - conf[b]) for b in range(bins + 1)) / len(labels)


def best_t(probs, labels):
    grid = [math.exp(k / 100) for k in range(-150, 301)]  # T from 0.22 to 20
    return min(grid, key=lambda t: nll(tempered(probs, t), labels))


def load(path):
    r = json.load(open(path))
    return r["probabilities"], r["labels"]


print("| table (dev) | MLE NLL | goal (0.85 x) | MLE at val T: T, NLL, ECE | MLE at best dev T: T, NLL | BLoB NLL | BLoB ECE |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for table in sys.argv[1:]:
    label = os.path.basename(table.rstrip("/"))
    rows = []
    for run in sorted(glob.glob(os.path.join(table, "mle", "seed-*"))):
        if not (os.path.exists(f"{run}/predictions.json") and os.path.exists(f"{run}/validation-predictions.json")):
            continue
        dev, val = load(f"{run}/predictions.json"), load(f"{run}/validation-predictions.json")
        kept = json.load(open(f"{run}/result.json"))
        if abs(ece(*dev) - kept["ece"]) > 1e-3 or abs(nll(*dev) - kept["nll"]) > 1e-3:
            sys.exit(f"nll-floor.py: {run}: ECE/NLL recomputed from predictions.json differ from result.json")
        tv, td = best_t(*val), best_t(*dev)
        at_val = tempered(dev[0], tv)
        rows.append((nll(*dev), tv, nll(at_val, dev[1]), ece(at_val, dev[1]), td, nll(tempered(dev[0], td), dev[1])))
    blob = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(table, "blob", "seed-*", "result.json")))]
    if not rows:
        continue
    m = [statistics.mean(c) for c in zip(*rows)]
    b = (f"{statistics.mean(r['nll'] for r in blob):.3f}", f"{100 * statistics.mean(r['ece'] for r in blob):.2f}") if blob else ("-", "-")
    print(f"| {label} ({len(rows)} seeds) | {m[0]:.3f} | {0.85 * m[0]:.3f} | {m[1]:.2f}, {m[2]:.3f}, {100 * m[3]:.2f} | "
          f"{m[4]:.2f}, {m[5]:.3f} | {b[0]} | {b[1]} |")
