#!/bin/sh
# End-to-end flow-nfilter speed: the release binaries over a flow-gen archive (warm page cache),
# output to /dev/null (reading, checking, filtering and writing the selected flows; the
# library-only figures are `cargo bench -p flowkit-core --bench filter`).
#
#   bench/nfilter.sh [FLOWS] [RUNS]     (default 3000000 flows, 5 runs; prints the median of each)
set -eu
flows=${1:-3000000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release
cargo build --release -q -p flow-nfilter -p flow-cat -p flow-print -p flow-gen --manifest-path "$root/Cargo.toml"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/flow-gen" -n "$flows" -o "$dir/flows.fk" >/dev/null
size=$(du -m "$dir/flows.fk" | cut -f1)
cat > "$dir/bench.cfg" <<'CFG'
filter-primitive host
  type ip-address
  permit 108.122.199.184
filter-definition one-host
  match ip-source-address host
  or
  match ip-destination-address host
filter-primitive busy
  type ip-address
  permit 29.166.109.43
filter-definition busy-host
  match ip-source-address busy
  or
  match ip-destination-address busy
filter-primitive net10
  type ip-address-prefix
  permit 10.0.0.0/12
filter-primitive webports
  type ip-port
  permit 80,443
filter-definition addrport
  match ip-source-address net10
  match ip-destination-port webports
filter-primitive ssh
  type ip-port
  permit 22
filter-primitive gt1packet
  type counter
  permit gt 1
filter-definition port-counter
  match ip-destination-port ssh
  match packets gt1packet
CFG
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
    printf '%-52s %8.3f s %8.1f M flows/s\n' "$label" "$secs" "$(echo "$flows / $secs / 1000000" | bc -l)"
}
cd "$dir"
for def in one-host busy-host addrport port-counter; do
    n=$("$bin/flow-nfilter" -f bench.cfg -F $def flows.fk | "$bin/flow-print" | tail -n +2 | wc -l)
    echo "$def selects $n flows"
done
run "flow-cat FILE > /dev/null" "$bin/flow-cat flows.fk"
for def in one-host busy-host addrport port-counter; do
    run "flow-nfilter -F $def FILE" "$bin/flow-nfilter -f bench.cfg -F $def flows.fk"
done
run "flow-cat FILE | flow-nfilter -F one-host" "$bin/flow-cat flows.fk | $bin/flow-nfilter -f bench.cfg -F one-host"
run "flow-nfilter -F one-host FILE | flow-print" "$bin/flow-nfilter -f bench.cfg -F one-host flows.fk | $bin/flow-print"
