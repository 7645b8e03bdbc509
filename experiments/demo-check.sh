#!/usr/bin/env bash
# Checks what `./blob demo` claims, on seeds 1, 2 and 3 (or the seeds given): on each seed MLE's ECE is at least twice
# BLoB's, at accuracy within 2 points; MLE + TS is reported beside them. Each demo runs in OUT/seed-S (default
# runs/demo-check) and is timed (wall, and user + sys CPU seconds of the demo and its children); the last lines are
# one row per seed and PASS or FAIL. Not a test: it trains. DEMO_CHECK_PARALLEL=1 runs the seeds at the same time
# (for a loaded machine; the wall times are then not one demo's).
#   experiments/demo-check.sh [OUT] [SEED...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-runs/demo-check}
shift || true
[ $# -gt 0 ] || set -- 1 2 3
seeds=("$@")
mkdir -p "$out"
./blob info | grep -Ei "cpu|threads|cores" || true
uptime || true
./blob --help > /dev/null  # builds the tool once, before any demo starts
demo() {
  local seed=$1 TIMEFORMAT='%R %U %S'
  { time ./blob demo --seed "$seed" --quiet --output "$out/seed-$seed" > "$out/seed-$seed.log" 2>&1 ; } 2> "$out/seed-$seed.time"
}
if [ "${DEMO_CHECK_PARALLEL:-0}" = 1 ]; then
  pids=()
  for seed in "${seeds[@]}"; do demo "$seed" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
else
  for seed in "${seeds[@]}"; do demo "$seed"; done
fi
uptime || true
python3 - "$out" "${seeds[@]}" <<'EOF'
import csv, sys
out, seeds, ok = sys.argv[1], sys.argv[2:], True
print(f"{'seed':>4} {'MLE ACC':>8} {'BLoB ACC':>8} {'MLE ECE':>8} {'MLE+TS ECE':>10} {'BLoB ECE':>8} {'ratio':>6} {'wall s':>6} {'CPU s':>6}  check")
for seed in seeds:
    with open(f"{out}/seed-{seed}/table.csv") as f:
        v = {(r["metric"], r["method"]): float(r["mean"]) for r in csv.DictReader(f)}
    wall, user, system = (float(x) for x in open(f"{out}/seed-{seed}.time").read().split()[-3:])
    ratio = v["ECE", "mle"] / v["ECE", "blob"]
    passed = ratio >= 2 and abs(v["ACC", "mle"] - v["ACC", "blob"]) <= 2
    ok &= passed
    print(f"{seed:>4} {v['ACC', 'mle']:8.2f} {v['ACC', 'blob']:8.2f} {v['ECE', 'mle']:8.2f} {v['ECE', 'mle+ts']:10.2f} "
          f"{v['ECE', 'blob']:8.2f} {ratio:6.2f} {wall:6.0f} {user + system:6.0f}  {'ok' if passed else 'FAIL'}")
print("PASS: MLE's ECE >= 2 x BLoB's at accuracy within 2 points on every seed" if ok else "FAIL")
sys.exit(0 if ok else 1)
EOF
