#!/usr/bin/env python3
"""Why WG-S's validation accuracy is below chance while dev's is at chance (WG-S not learnt).

WinoGrande is written in twins: two sentences that differ in one trigger word, with the same two options and opposite
answers (qIDs PREFIX-1 and PREFIX-2). The validation split is carved from train_s (experiments/carve.py, checked against
the run's saved labels) example by example, so most validation examples have their twin in the examples trained on,
with the other answer; dev's twins are both in dev. A model that learns a twin's answer from the sentence they share
answers the held-out twin wrongly (with two options, a wrong answer there is the trained twin's). The script counts the
validation examples whose twin was trained on and gives each run's accuracy on them and on the rest.
Usage: experiments/winogrande-twins.py [TABLE_DIR] [DATA_DIR]
       (defaults experiments/results/winogrande-s-table1-twins-split, the earlier runs that split twins, and
       ../shared/data/winogrande; every run found there)"""
import glob, json, os, sys

from carve import held_out

table = sys.argv[1] if len(sys.argv) > 1 else "experiments/results/winogrande-s-table1-twins-split"
data = sys.argv[2] if len(sys.argv) > 2 else "../shared/data/winogrande"


def load(name):  # (twin key, label: 0 = option1, 1 = option2)
    rows = [json.loads(line) for line in open(os.path.join(data, name)) if line.strip()]
    return [(r["qID"].rsplit("-", 1)[0], int(r["answer"]) - 1) for r in rows]


train = load("train_s.jsonl")
held = held_out([y for _, y in train])
validation = [e for i, e in enumerate(train) if i in held]
trained = {key: y for i, (key, y) in enumerate(train) if i not in held}

runs = sorted(glob.glob(os.path.join(table, "*", "seed-*", "validation-predictions.json")))
if not runs:
    sys.exit(f"winogrande-twins.py: no validation predictions under {table}")
twin = [key in trained for key, _ in validation]
opposite = sum(trained[key] != y for key, y in validation if key in trained)
print(f"validation: {len(validation)} examples; {sum(twin)} have their twin among the {len(train) - len(held)} trained on "
      f"({opposite} of them with the opposite answer)")
print("| run | ACC, twin trained on (n) | ACC, twin not trained on (n) |")
print("| --- | ---: | ---: |")
for path in runs:
    p = json.load(open(path))
    if p["labels"] != [y for _, y in validation]:
        sys.exit(f"winogrande-twins.py: the carved validation split's labels differ from {path}'s: this script carves example by "
                 "example, as the code once did; runs made since hold twins out together")
    answer = [max(range(len(q)), key=q.__getitem__) for q in p["probabilities"]]
    ok = [a == y for a, (_, y) in zip(answer, validation)]
    with_twin = [o for o, t in zip(ok, twin) if t]
    without = [o for o, t in zip(ok, twin) if not t]
    run = os.path.relpath(os.path.dirname(path), table)
    print(f"| {run} | {100 * sum(with_twin) / max(len(with_twin), 1):.1f} ({len(with_twin)}) | "
          f"{100 * sum(without) / max(len(without), 1):.1f} ({len(without)}) |")
