#!/bin/bash
# The BLoB setup study, on the validation split only (seed 1), stated before it runs. From each task's chosen settings
# (its table's chosen.txt: lr and kl-lr), one change at a time:
#   head    --head adapted-frozen: BLoB's adapter on the classification head, the head's own weights frozen at their
#           initialisation (the official code's head), so the Bayesian A acts on the logits directly;
#   std     --std-in-adamw: G also in AdamW, so the likelihood shapes Omega weight by weight;
#   cycles  --kl-gamma G: a shorter pseudo-rescaled KL cycle M, at least 30 cycles in the run (G per task below);
# then "combined": every change that lowered BLoB's validation NLL below the chosen BLoB run's, together (run only when
# two or more did). MLE gets the head change too ("mle-head"), compared with its chosen run the same way.
# The winner of each method is the lowest validation NLL; experiments/setup-study.py OUT TASK... tables it.
# Folders: OUT/TASK-val-setup-{blob-head,blob-std,blob-cycles,blob-combined,mle-head}; the chosen runs it compares
# with are the kept TASK-val-mle-lrL and TASK-val-blob-klK (compare reuses them from experiments/results).
# Usage: experiments/setup-study.sh OUT TASK...   (the study's tasks: mrpc boolq arc-c)
set -euo pipefail
out=${1:?usage: experiments/setup-study.sh OUT TASK...}; shift
[ $# -gt 0 ] || set -- mrpc boolq arc-c
cd "$(dirname "$0")/.."
. experiments/protocol.sh
workspace "$out"
require_bf16
common+=(--precision auto --quiet --seeds 1)
# γ with at least 30 KL cycles in 4 epochs: M = floor(100 N^(pi/γ) / 32) with N the training split (after the validation carve)
gamma() { case $1 in mrpc) echo 18;; boolq) echo 24;; arc-c) echo 60;; *) echo "no γ chosen for $1" >&2; exit 2;; esac; }
nll() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["nll"])' "$1/$2/seed-1/validation.json"; }
lower() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }
log() { echo "== $(date -u +%FT%TZ) $*"; }
for task in "$@"; do
  read -r -a shape <<< "$(recipe "$task")"
  lr=$(chosen_lr "$results" "$task"); kl=$(chosen_kl "$results" "$task")
  [ -n "$lr" ] && [ -n "$kl" ] || { echo "$results/$(table_of "$task")/chosen.txt: no lr and kl-lr" >&2; exit 2; }
  base=("${common[@]}" "${shape[@]}" --task "$task" --lr "$lr" --kl-lr "$kl")
  log "$task: lr $lr, kl-lr $kl; MLE with the official head"
  ./blob compare "${base[@]}" --methods mle --head adapted-frozen --output "$out/$task-val-setup-mle-head"; keep
  declare -A change=([head]="--head adapted-frozen" [std]="--std-in-adamw" [cycles]="--kl-gamma $(gamma "$task")")
  reference=$(nll "$out/$task-val-blob-kl$kl" blob)
  better=()
  for arm in head std cycles; do
    log "$task: BLoB, $arm (${change[$arm]})"
    # shellcheck disable=SC2086 # one option, or an option and its value
    ./blob compare "${base[@]}" --methods blob ${change[$arm]} --output "$out/$task-val-setup-blob-$arm"; keep
    if lower "$(nll "$out/$task-val-setup-blob-$arm" blob)" "$reference"; then better+=("$arm"); fi
  done
  log "$task: lower validation NLL than the chosen BLoB run ($reference): ${better[*]:-none}"
  if [ ${#better[@]} -ge 2 ]; then
    flags=(); for arm in "${better[@]}"; do read -r -a f <<< "${change[$arm]}"; flags+=("${f[@]}"); done
    log "$task: BLoB, combined (${flags[*]})"
    ./blob compare "${base[@]}" --methods blob "${flags[@]}" --output "$out/$task-val-setup-blob-combined"; keep
  fi
  log "$task: done"
done
