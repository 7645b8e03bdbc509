#!/usr/bin/env python3
"""The Markdown table a comparison wrote (compare's table*.md: its first table, without the notes below it), for the
results document. Usage: experiments/kept-table.py PATH   (e.g. experiments/results/obqa-table1/table-conformal.md)"""
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
start = next(i for i, line in enumerate(lines) if line.startswith("|"))
end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
print("\n".join(lines[start:end]))
