# The tables' protocol, sourced by the scripts that repeat a table's compare (calibrate-tables.sh, setup-study.sh,
# setup-tables.sh): the options every table shares, each task's recipe and table folder, and the lr and kl-lr its
# validation split chose (RESULTS/TABLE/chosen.txt). experiments/table7.sh, which made the tables, says the same.
common=(--model minilm --batch-size 32 --group-by-length --prior-std 0.2 --rank 8 --alpha 8
        --targets 're:.*encoder.*(query|key|value|dense)' --validation-fraction 0.15)
# recipe TASK: its epochs and length; OBQA also evaluates out of distribution (Tables 1-2)
recipe() { case $1 in
  mrpc) echo "--epochs 4 --max-length 128";;
  rte) echo "--epochs 6 --max-length 256";;
  obqa) echo "--epochs 4 --max-length 128 --ood arc-c arc-e mmlu-chem mmlu-phys";;
  arc-e|arc-c|winogrande-s) echo "--epochs 4 --max-length 128";;
  *) echo "--epochs 4 --max-length 256";; esac; }
table_of() { case $1 in obqa|arc-e|arc-c|winogrande-s) echo "$1-table1";; *) echo "$1-table7";; esac; }
# chosen_lr RESULTS TASK / chosen_kl RESULTS TASK: from the table's chosen.txt ("lr 2e-3, kl-lr 0.01 (chosen ...)")
chosen_lr() { sed -n 's/^lr \([0-9.e-]*\)[ ,].*/\1/p' "$1/$(table_of "$2")/chosen.txt"; }
chosen_kl() { sed -n 's/.*kl-lr \([0-9.]*\) .*/\1/p' "$1/$(table_of "$2")/chosen.txt"; }
# the kept runs were made in bf16: a table that reuses them must resolve --precision auto to bf16 too
require_bf16() {
  local resolved; resolved=$(./blob info | sed -n 's/^--precision auto: //p')
  [ "$resolved" = bf16 ] || { echo "this CPU resolves --precision auto to $resolved; the kept runs are bf16: run this where auto is bf16" >&2; exit 2; }
}
# workspace OUT: makes OUT (absolute in $out), restores the kept records (RESULTS, default experiments/results) into it
# first, and keeps what finishes there back into RESULTS on exit (experiments/keep-results.sh)
workspace() {
  results=${RESULTS:-experiments/results}
  mkdir -p "$1"; out=$(cd "$1" && pwd)
  if [ -d "$results" ]; then cp -rn "$results"/. "$out"/ || true; fi
  trap 'experiments/keep-results.sh "$out" "$results" > /dev/null' EXIT
}
keep() { experiments/keep-results.sh "$out" "$results" > /dev/null; }
