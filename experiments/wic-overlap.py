#!/usr/bin/env python3
"""Why WiC's validation split overstates dev accuracy (part of WiC's diagnosis): how much of each split shares a
sentence or a target word with the examples trained on, and each method's accuracy on the examples that do and do not.

The validation split is carved from WiC's training file as Blob.Data.ValidationSplit does (experiments/carve.py); the
script checks its labels against the run's saved validation predictions, so a carving that differs from the code's
stops it.
Usage: experiments/wic-overlap.py [TABLE_DIR] [DATA_DIR]
       (defaults experiments/results/wic-table7 and ../shared/data/wic; methods mle, lap, blob; seeds 1-3)"""
import json, os, sys

from carve import held_out

table = sys.argv[1] if len(sys.argv) > 1 else "experiments/results/wic-table7"
data = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/wic"
def load(split):  # (target word, sentence 1, sentence 2, label: 1 = same sense)
    rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(data, f"{split}.data.txt"))]
    gold = [line.strip() for line in open(os.path.join(data, f"{split}.gold.txt"))]
    return [(r[0], r[3], r[4], 1 if g == "T" else 0) for r, g in zip(rows, gold)]


train, dev = load("train"), load("dev")
held = held_out([e[3] for e in train])
validation = [e for i, e in enumerate(train) if i in held]
trained = [e for i, e in enumerate(train) if i not in held]
words = {e[0] for e in trained}
sentences = {s for e in trained for s in (e[1], e[2])}


def correct(method, seed, file):
    p = json.load(open(os.path.join(table, method, f"seed-{seed}", file)))
    return p["labels"], [max(range(len(q)), key=q.__getitem__) == y for q, y in zip(p["probabilities"], p["labels"])]


labels, _ = correct("mle", 1, "validation-predictions.json")
if labels != [e[3] for e in validation]:
    sys.exit("wic-overlap.py: the carved validation split's labels differ from the run's; the carving here is not the code's")

print("| split | n | shares a sentence with training | shares the target word | method | ACC, shares a sentence | ACC, shares none | ACC, word seen | ACC, word unseen |")
print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
for name, examples, file in [("validation", validation, "validation-predictions.json"), ("dev", dev, "predictions.json")]:
    sentence = [e[1] in sentences or e[2] in sentences for e in examples]
    word = [e[0] in words for e in examples]
    for method in ("mle", "lap", "blob"):
        groups = {k: [] for k in ("s", "ns", "w", "nw")}
        for seed in (1, 2, 3):
            _, ok = correct(method, seed, file)
            for key, mask in (("s", sentence), ("ns", [not x for x in sentence]), ("w", word), ("nw", [not x for x in word])):
                chosen = [o for o, m in zip(ok, mask) if m]
                groups[key].append(100 * sum(chosen) / len(chosen))
        mean = {k: sum(v) / len(v) for k, v in groups.items()}
        print(f"| {name} | {len(examples)} | {sum(sentence)} ({100 * sum(sentence) / len(examples):.1f}%) | "
              f"{sum(word)} ({100 * sum(word) / len(examples):.1f}%) | {method.upper()} | {mean['s']:.1f} | {mean['ns']:.1f} | "
              f"{mean['w']:.1f} | {mean['nw']:.1f} |")
