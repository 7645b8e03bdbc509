#!/bin/bash
# The tables that decide: each task's table (its lr and kl-lr as chosen on its validation split) with BLoB in the setup
# the study chose (experiments/setup-study.sh, tabled by setup-study.py), seeds 1-3, validation and dev (and OBQA's
# out-of-distribution sets), every run calibrated (--calibrate temperature), into OUT/TABLE-setup; the table's other
# rows (MLE, MLE + TS, LAP, ENS, ENS + TS, BLoB as the paper specifies it) are the kept TABLE's. MLE is run again, into
# OUT/TABLE-setup-mle, only when MLE_FLAGS (its own chosen setup) is not empty. ts-goal.py TABLE=TABLE-setup compares.
# Usage: experiments/setup-tables.sh OUT "BLOB_FLAGS" TASK...   e.g. experiments/setup-tables.sh /work/runs "--head adapted-frozen" mrpc
set -euo pipefail
out=${1:?usage: experiments/setup-tables.sh OUT BLOB_FLAGS TASK...}; flags=${2?usage: experiments/setup-tables.sh OUT BLOB_FLAGS TASK...}; shift 2
cd "$(dirname "$0")/.."
. experiments/protocol.sh
workspace "$out"
require_bf16
log() { echo "== $(date -u +%FT%TZ) $*"; }
for task in "$@"; do
  read -r -a shape <<< "$(recipe "$task")"
  table=$(table_of "$task")-setup
  base=("${common[@]}" --precision auto --quiet --seeds 1 2 3 --evaluate both --calibrate temperature "${shape[@]}"
        --task "$task" --lr "$(chosen_lr "$results" "$task")" --kl-lr "$(chosen_kl "$results" "$task")")
  mkdir -p "$out/$table"; echo "BLoB: $flags${MLE_FLAGS:+; MLE: $MLE_FLAGS} (the setup study's choice)" > "$out/$table/chosen.txt"
  log "$task: BLoB $flags, seeds 1-3"
  # shellcheck disable=SC2086 # the flags are options and values
  ./blob compare "${base[@]}" --methods blob $flags --output "$out/$table"; keep
  if [ -n "${MLE_FLAGS:-}" ]; then
    log "$task: MLE $MLE_FLAGS, seeds 1-3"
    # shellcheck disable=SC2086
    ./blob compare "${base[@]}" --methods mle $MLE_FLAGS --output "$out/$table-mle"; keep
  fi
  log "$task: done"
done
