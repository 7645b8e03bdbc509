#!/bin/bash
# Adds the temperature-scaled rows (METHOD+TS) to the kept tables: for each finished table in RESULTS (default
# experiments/results), the same `compare` that made it (its options, its chosen.txt's lr and kl-lr) with
# --calibrate temperature. Every run is reused from its records (no training, no prediction): T is fitted on each run's
# validation predictions and applied to its dev and out-of-distribution predictions; the tables are written again with
# the calibrated rows. A table with an unfinished run is skipped (compare would train it).
# Usage: experiments/calibrate-tables.sh [TABLE ...]   (default: every finished table of the seven methods or of MLE alone)
set -euo pipefail
cd "$(dirname "$0")/.."
results=${RESULTS:-experiments/results}
[ $# -gt 0 ] || set -- mrpc-table7 rte-table7 cola-table7 wic-table7 boolq-table7 obqa-table1 arc-c-table1 arc-e-table1 winogrande-s-table1
. experiments/protocol.sh
require_bf16
for table in "$@"; do
  task=${table%-table*}
  chosen=$results/$table/chosen.txt
  [ -f "$chosen" ] || { echo "$table: no $chosen; skipped" >&2; continue; }
  lr=$(chosen_lr "$results" "$task"); kl=$(chosen_kl "$results" "$task")
  methods=(mle map mcd ens bbb lap blob); args=(--lr "$lr" --kl-lr "$kl")
  if grep -q "not learnt" "$chosen"; then methods=(mle); args=(--lr "$lr"); fi
  missing=0
  for m in "${methods[@]}"; do for s in 1 2 3; do [ -f "$results/$table/$m/seed-$s/result.json" ] || missing=1; done; done
  [ $missing = 0 ] || { echo "$table: a run is unfinished; skipped" >&2; continue; }
  read -r -a shape <<< "$(recipe "$task")"
  echo "== $table: lr $lr${kl:+, kl-lr $kl}"
  ./blob compare --task "$task" "${common[@]}" --precision auto --quiet --seeds 1 2 3 --evaluate both --calibrate temperature \
    "${shape[@]}" "${args[@]}" --methods "${methods[@]}" --output "$results/$table" | grep -E "^(table|total)"
done
