#!/bin/sh
# End-to-end flow-print speed: the release binaries over a flow-gen archive, output to /dev/null
# (formatting, reading and writing; the library-only figures are `cargo bench --bench print`).
#
#   bench/print.sh [FLOWS] [RUNS]     (default 3000000 flows, 5 runs; prints the median of each)
set -eu
flows=${1:-3000000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release
cargo build --release -q -p flow-print -p flow-cat -p flow-gen --manifest-path "$root/Cargo.toml"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/flow-gen" -n "$flows" -o "$dir/flows.fk" >/dev/null
size=$(du -m "$dir/flows.fk" | cut -f1)
echo "$flows flows ($size MB archive), $(nproc) cores, median of $runs runs"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {
    label=$1
    shift
    secs=$(for _ in $(seq "$runs"); do
        s=$(date +%s.%N)
        sh -c "$*" >/dev/null
        e=$(date +%s.%N)
        echo "$e - $s" | bc -l
    done | median)
    printf '%-34s %8.3f s %12.0f lines/s\n' "$label" "$secs" "$(echo "$flows / $secs" | bc -l)"
}
cd "$dir"
run "flow-print FILE (-f 3)" "$bin/flow-print flows.fk"
run "flow-print -f 5 FILE" "$bin/flow-print -f 5 flows.fk"
run "flow-print -f csv FILE" "$bin/flow-print -f csv flows.fk"
run "flow-print -f json FILE" "$bin/flow-print -f json flows.fk"
run "flow-cat FILE | flow-print" "$bin/flow-cat flows.fk | $bin/flow-print"
run "flow-cat FILE | flow-print -f csv" "$bin/flow-cat flows.fk | $bin/flow-print -f csv"
