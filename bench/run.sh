#!/usr/bin/env bash
# Reproduces the benchmark table of the README: generates corpora at 1×
# (the bundled transcript), 100× and 10,000× with a fixed seed, builds the
# index and runs `forumbot-bench run` on each, in release (the bench binary
# is the workspace crate crates/bench; its cold starts time the release
# `forumbot` beside it, which this script builds first).
#
#   bench/run.sh [OUT_DIR]            # default /tmp/forumbot-bench
#   SCALES="1 100 1000" bench/run.sh  # other scales (1 = the bundled transcript)
#   BENCH_ARGS="--questions 5000" bench/run.sh
#
# Each scale leaves OUT_DIR/xN/ (data directory), OUT_DIR/xN.txt (the table)
# and OUT_DIR/xN.json (every figure). Take numbers on a quiet machine: the
# load average is printed with each table.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/forumbot-bench}"
scales="${SCALES:-1 100 10000}"
seed="${SEED:-1}"
read -r -a extra <<< "${BENCH_ARGS:-}"

cd "$repo"
cargo build --release --quiet -p forumbot -p forumbot-bench
bench() { cargo run --release --quiet -p forumbot-bench -- "$@"; }
mkdir -p "$out"

for n in $scales; do
    dir="$out/x$n"
    if [ "$n" = 1 ]; then
        # 1×: the bundled transcript itself, copied so its index is built
        # outside the repository.
        mkdir -p "$dir/transcripts"
        cp data/transcripts/*.txt data/transcripts/*.toml "$dir/transcripts/"
    else
        # Deterministic; files that are already there are rewritten the same.
        bench gen --transcripts "$n" --seed "$seed" --out "$dir"
    fi
    echo "== ${n}× =="
    bench --data "$dir" run --save "$out/x$n.json" "${extra[@]}" | tee "$out/x$n.txt"
    echo
done
