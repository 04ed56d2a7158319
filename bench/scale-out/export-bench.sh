#!/usr/bin/env bash
# Export speed (flows per CPU-second) and Parquet bytes per flow on generated flows.
# Usage: bench/scale-out/export-bench.sh [FLOWS=3000000]   (release build; scratch in $TMPDIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-3000000}
cargo build -q --release -p flow-gen -p flow-export
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
target/release/flow-gen -n "$n" -o "$work/flows.fk" >/dev/null
in_bytes=$(stat -c %s "$work/flows.fk")
for level in 1 3; do
  rm -rf "$work/pq"
  /usr/bin/time -f "%e %U %S" -o "$work/time" \
    target/release/flow-export --parquet --zstd-level "$level" -o "$work/pq" "$work/flows.fk"
  read -r wall user sys < "$work/time"
  bytes=$(find "$work/pq" -name '*.parquet' -printf '%s\n' | awk '{s+=$1} END {print s}')
  files=$(find "$work/pq" -name '*.parquet' | wc -l)
  awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v b="$bytes" -v f="$files" -v l="$level" -v a="$in_bytes" 'BEGIN {
    printf "zstd %d: %d flows, %d files, %.2f s wall, %.2f s CPU: %.2f M flows/s per CPU-second, %.1f bytes/flow (flowkit archive: %.1f)\n",
      l, n, f, w, u + s, n / (u + s) / 1e6, b / n, a / n }'
done
