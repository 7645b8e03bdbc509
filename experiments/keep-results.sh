#!/bin/bash
# Copies the small records of the finished runs under OUT into RESULTS (default experiments/results, committed), so a
# later run, on a fresh machine, reuses them instead of training again (`compare` reuses a finished run whose
# settings.json equals its own; see docs/cli.md, "What is reused"). Kept: each finished run's settings, results,
# predictions and logs (JSON, CSV; not the risk-coverage CSVs, which compare redraws from the predictions), and each
# comparison's tables and overlaid pictures (the conformal and OOD ones of --conformal too). Never kept: adapters, checkpoints, TensorBoard events (model weights and
# bulk; they stay in OUT). A run counts as finished when it holds
# result.json (dev) and the ood-TASK.json of every out-of-distribution set its settings name, or validation.json in a
# folder that only evaluates the validation split (NAME-val-*).
# Usage: experiments/keep-results.sh OUT [RESULTS]
set -euo pipefail
out=${1:?usage: experiments/keep-results.sh OUT [RESULTS]}
results=$(mkdir -p "${2:-$(dirname "$0")/results}" && cd "${2:-$(dirname "$0")/results}" && pwd)
cd "$out"
# finished_ood RUN: true unless the run's settings name out-of-distribution sets (--ood) it has not evaluated yet
# (compare writes result.json first, then ood-TASK.json for each; a record kept in between has no adapter left to
# evaluate them with, so the next table7.sh would train the run again)
finished_ood() {
  local tasks task
  tasks=$(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["ood_tasks"]))' "$1/settings.json" 2>/dev/null || true)
  for task in $tasks; do [ -f "$1/ood-$task.json" ] || return 1; done
}
for comparison in */; do
  comparison=${comparison%/}
  [ -d "$comparison" ] || continue
  want=result.json; [[ $comparison == *-val-* ]] && want=validation.json
  kept=0
  for run in "$comparison"/*/seed-*; do
    [ -f "$run/$want" ] || continue
    [ $want = validation.json ] || finished_ood "$run" || continue # validation-only runs evaluate no --ood set
    find "$run" -maxdepth 1 -type f \( -name '*.json' -o -name '*.csv' \) -not -name '*risk-coverage.csv' -print0 | xargs -0 cp -u --parents -t "$results" # -u: never replace a newer kept record with an older copy
    kept=$((kept + 1))
  done
  [ $kept -gt 0 ] || continue
  find "$comparison" -maxdepth 1 -type f \( -name 'table*' -o -name '*reliability.png' -o -name '*risk-coverage.png' -o -name 'conformal-*.png' -o -name 'ood-roc.png' -o -name '*.txt' \) -print0 |
    xargs -0 -r cp -u --parents -t "$results"
  echo "kept $kept finished run(s) of $comparison in $results/$comparison"
done
