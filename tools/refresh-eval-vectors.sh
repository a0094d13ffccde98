#!/usr/bin/env bash
# Rewrites tests/data/eval/vectors.bin: the embeddings of every passage of the
# bundled forum and of the two archive sets, which the floor tests reuse by
# content instead of embedding ~1,500 passages on every run. Run it after a
# change to what a passage is embedded as (src/semantic/vectors.rs) or to how
# transcripts are cut into passages; it takes some minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin forumbot
out=tests/data/eval/vectors.bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$out"
mkdir -p "$work/forum"
cp -r data/transcripts "$work/forum/"
cp -r tests/data/eval/rc/drcd tests/data/eval/rc/cmrc "$work/"
for set in forum cmrc drcd; do
  FORUMBOT__SEMANTIC__CACHE_FILE="$PWD/$out" target/release/forumbot --data "$work/$set" index | tail -1
done
ls -l "$out"
