#!/usr/bin/env bash
# Copies a training run's resumable state (checkpoint/, best/, metrics.jsonl) from the
# uncommitted runs/ into checkpoints/, which is committed, so that a run longer than a
# session survives it. scripts/train-methods-table.sh resumes from there when runs/ has
# no copy. Usage (from the repo root): scripts/keep-run.sh runs/table/NAME [...]
# The copy is made in a temporary folder and swapped in, so an interrupted copy leaves
# the previous kept state whole; a checkpoint being swapped by the trainer at that
# moment (checkpoint.old present, checkpoint missing) is refused: run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/keep-run.sh runs/table/NAME [...]" >&2; exit 2; }
for run in "$@"; do
  run=${run%/}
  [ -f "$run/checkpoint/state.json" ] || { echo "keep-run: '$run' has no checkpoint/state.json (not a run folder, or the trainer is swapping it: try again)" >&2; exit 1; }
  dest="checkpoints/${run#runs/}"
  tmp="$dest.tmp-$$"
  mkdir -p "$(dirname "$dest")"
  rm -rf "$tmp"
  mkdir "$tmp"
  cp -r "$run/checkpoint" "$tmp/checkpoint"
  [ -d "$run/best" ] && cp -r "$run/best" "$tmp/best"
  [ -f "$run/metrics.jsonl" ] && cp "$run/metrics.jsonl" "$tmp/metrics.jsonl"
  rm -rf "$dest.old"
  [ -d "$dest" ] && mv "$dest" "$dest.old"
  mv "$tmp" "$dest"
  rm -rf "$dest.old"
  step=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$dest/checkpoint/state.json','utf8')).step)")
  echo "kept $run at step $step -> $dest ($(du -sh "$dest" | cut -f1))"
done
