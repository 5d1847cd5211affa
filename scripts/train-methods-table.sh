#!/usr/bin/env bash
# Trains every method of docs/results.md with the same architecture and budget and
# evaluates each on ../shared/benchmarks/bsd68/sigma25. Resumable: run it again and
# finished methods are skipped (their result JSON exists), a cut run resumes from its
# checkpoint. Usage (from the repo root, after npm run build):
#   scripts/train-methods-table.sh [STEPS] [METHOD:SEED ...]
# Default: 3000 steps, n2n n2v n2self n2same n2same-pro at seed 1, then seeds 2 and 3
# of n2same and n2same-pro. Logs in runs/table/*.log, results in bench/results/table-*.json.
# A run longer than a session: scripts/keep-run.sh runs/table/NAME copies its checkpoint to
# checkpoints/table/NAME (committed); a later session's run of this script resumes from there.
# n2same-pro starts from its seed's n2same run at the step where the two part (15/16 of the
# steps; hush train --resume-from), so run n2same first: the pair costs one n2same run.
# Variants: EXTRA holds more hush train flags and SUFFIX names the variant, e.g.
#   EXTRA="--lambda 0.4" SUFFIX=lambda0.4 scripts/train-methods-table.sh 3000 n2same:1
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-3000}
shift || true
jobs=("$@")
[ ${#jobs[@]} -eq 0 ] && jobs=(n2n:1 n2v:1 n2self:1 n2same:1 n2same-pro:1 n2same:2 n2same-pro:2 n2same:3 n2same-pro:3 n2true:1)
mkdir -p runs/table bench/results
for job in "${jobs[@]}"; do
  m=${job%%:*}; seed=${job##*:}
  name="$m-s$seed-$steps${SUFFIX:+-$SUFFIX}"
  result="bench/results/table-$name.json"
  [ -f "$result" ] && { echo "== $name: done ($result)"; continue; }
  kept="checkpoints/table/$name"
  if [ ! -d "runs/table/$name" ] && [ -f "$kept/checkpoint/state.json" ]; then
    cp -r "$kept" "runs/table/$name"
    echo "== $name: resuming from $kept"
  fi
  train() {
    node bin/hush.js train --method "$m" --model dncnn --model-options depth=12,width=48 --data ../shared/datasets/Train400 \
      --noise gaussian --sigma255 25 --steps "$steps" --batch 16 --patch 48 --val-split 0.02 --seed "$seed" \
      ${EXTRA:-} --out "runs/table/$name" --resume "$@" --json > "runs/table/$name.train.json" 2>> "runs/table/$name.log"
  }
  # n2same-pro trains as n2same up to its last 1/16 (--last 0.0625): an n2same run leaves its
  # checkpoint at that step in NAME-at-STEP, and the n2same-pro run of the same seed starts there
  parts=$(( (steps * 15 + 8) / 16 ))
  snap="n2same-s$seed-$steps${SUFFIX:+-$SUFFIX}-at$parts"
  if [[ $m == n2same* ]] && [ ! -d "runs/table/$snap" ] && [ -f "checkpoints/table/$snap/checkpoint/state.json" ]; then cp -r "checkpoints/table/$snap" "runs/table/$snap"; fi
  if [ "$m" = n2same ] && [ ! -d "runs/table/$snap" ]; then
    at=$(node -e "try{console.log(JSON.parse(require('fs').readFileSync('runs/table/$name/checkpoint/state.json','utf8')).step)}catch{console.log(0)}")
    if [ "$at" -lt "$parts" ]; then
      echo "== $name: training to step $parts ($(date -u +%H:%M:%S))"
      train --stop-after "$parts"
      at=$parts
    fi
    if [ "$at" -eq "$parts" ]; then
      rm -rf "runs/table/$snap.tmp"
      cp -r "runs/table/$name" "runs/table/$snap.tmp" && mv "runs/table/$snap.tmp" "runs/table/$snap"
      # kept (committed with checkpoints/) so that a later session's n2same-pro finds it
      scripts/keep-run.sh "runs/table/$snap"
    else
      echo "== $name: its checkpoint is at step $at, past $parts: no start for n2same-pro $seed is kept" >&2
    fi
  fi
  from=()
  if [ "$m" = n2same-pro ]; then
    if [ -d "runs/table/$snap" ]; then
      from=(--resume-from "runs/table/$snap")
      echo "== $name: starting from runs/table/$snap"
    else
      echo "== $name: no n2same run at step $parts (runs/table/$snap) to start from: training all $steps steps (run n2same:$seed first to save that)" >&2
    fi
  fi
  echo "== $name: training ($(date -u +%H:%M:%S))"
  train "${from[@]}"
  echo "== $name: evaluating ($(date -u +%H:%M:%S))"
  node dist/bench/quality/models/evaluate.bench.js --model "runs/table/$name/best" --set bsd68 --out "$result.tmp" > "runs/table/$name.eval.log" 2>&1
  mv "$result.tmp" "$result"
  cp "runs/table/$name.train.json" "bench/results/table-$name.train.json"
  tail -3 "runs/table/$name.eval.log"
  # the n2same / n2same-pro comparison also needs the models of the last step
  if [ "$m" = n2same ] || [ "$m" = n2same-pro ]; then
    node dist/bench/quality/models/evaluate.bench.js --model "runs/table/$name/checkpoint/model" --set bsd68 --out "bench/results/table-$name-final.json.tmp" > "runs/table/$name.eval-final.log" 2>&1
    mv "bench/results/table-$name-final.json.tmp" "bench/results/table-$name-final.json"
    tail -1 "runs/table/$name.eval-final.log"
  fi
done
