#!/usr/bin/env python3
"""Tables 1-2: why OBQA-trained adapters score higher on ARC-Challenge than on ARC-Easy out of distribution.

Two answer-picking rules that read no meaning, scored on each multiple-choice set's evaluation split: "longest" (the
choice with the most characters) and "most overlap" (the choice sharing the most content words with the question; ARC-C
and OBQA were both filtered against retrieval and co-occurrence solvers when they were built). Then, for every method's
run in the OBQA table (TABLE/METHOD/seed-S/predictions.json, dev), how often its answer is the longest choice, and
the same on ARC-E and ARC-C for the runs that kept their out-of-distribution predictions (ood-arc-e-predictions.json;
runs that keep out-of-distribution predictions).
Ties go to the first choice. Chance is 1/choices (0.25 for four).
Usage: experiments/choice-bias.py [TABLE [DATA]]   (default experiments/results/obqa-table1 and ../shared/data)
"""
import csv, glob, json, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))
table = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "results", "obqa-table1")
data = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "..", "shared", "data")
STOP = set("the a an of to in and is are was were be by for on at with as that this which what it its from or can most "
           "likely will would do does when how why who".split())


def words(text):
    return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOP}


def arc(path):  # ARC jsonl: question{stem, choices[{text,label}]}, answerKey
    for line in open(path):
        d = json.loads(line)
        choices = d["question"]["choices"]
        yield d["question"]["stem"], [c["text"] for c in choices], [c["label"] for c in choices].index(d["answerKey"])


def obqa(path):  # OpenBookQA dev.tsv: Question Stem, Choices "(A) .. (B) .. (C) .. (D) ..", Answer Key
    for r in csv.DictReader(open(path), delimiter="\t"):
        parts = re.split(r"\(([A-D])\) ", r["Choices"])[1:]
        yield r["Question Stem"], [p.strip() for p in parts[1::2]], "ABCD".index(r["Answer Key"].strip())


def longest(options):
    lengths = [len(o) for o in options]
    return lengths.index(max(lengths))


def most_overlap(question, options):
    overlap = [len(words(question) & words(o)) for o in options]
    return overlap.index(max(overlap))


sets = {"obqa (dev)": list(obqa(os.path.join(data, "openbookqa", "dev.tsv"))),
        "arc-e (dev)": list(arc(os.path.join(data, "arc-easy", "ARC-Easy-Dev.jsonl"))),
        "arc-c (dev)": list(arc(os.path.join(data, "arc-challenge", "ARC-Challenge-Dev.jsonl")))}
print("| set | n | longest choice right | most-overlap choice right |")
print("| --- | ---: | ---: | ---: |")
for name, questions in sets.items():
    n = len(questions)
    right_long = sum(longest(o) == a for _, o, a in questions) / n
    right_overlap = sum(most_overlap(q, o) == a for q, o, a in questions) / n
    print(f"| {name} | {n} | {right_long * 100:.1f}% | {right_overlap * 100:.1f}% |")


def runs_table(title, questions, files):
    """A row per run: its accuracy, how often it answers the longest choice, and its accuracy where that is right or not."""
    print()
    print(f"| {title} | ACC | its answer is the longest choice | ACC where the longest is right | ACC where it is not |")
    print("| --- | ---: | ---: | ---: | ---: |")
    long_right = [longest(o) == a for _, o, a in questions]
    for path in files:
        p = json.load(open(path))
        if p["labels"] != [a for _, _, a in questions]:
            sys.exit(f"{path}: its labels are not those of {title}'s set, in order")
        picks = [row.index(max(row)) for row in p["probabilities"]]  # a missing choice has probability 0
        right = [k == a for k, (_, _, a) in zip(picks, questions)]
        is_longest = sum(k == longest(o) for k, (_, o, _) in zip(picks, questions)) / len(picks)
        def accuracy(where): return sum(r for r, w in zip(right, long_right) if w == where) / sum(w == where for w in long_right)
        run = os.path.relpath(os.path.dirname(path), table)
        print(f"| {run} | {sum(right) / len(right) * 100:.2f} | {is_longest * 100:.1f}% | {accuracy(True) * 100:.1f}% | {accuracy(False) * 100:.1f}% |")


for name, file in [("obqa", "predictions.json"), ("arc-e", "ood-arc-e-predictions.json"), ("arc-c", "ood-arc-c-predictions.json")]:
    files = sorted(glob.glob(os.path.join(table, "*", "seed-*", file)))
    if files:
        runs_table(f"OBQA run on {name} (dev)", sets[f"{name} (dev)"], files)
