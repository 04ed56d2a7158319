#!/bin/sh
# Expressions (-e, nfdump's syntax) against the filter definitions that say the same thing
# (-F, bench/bench.cfg, where each definition names its nfdump expression): flow-nfilter over a
# flow-gen archive (warm page cache), the release binaries, --count (reading, checking and
# filtering) and writing the selected flows to /dev/null. Both must select the same flows.
#
#   bench/expressions.sh [FLOWS] [RUNS]     (default 3000000 flows, 5 runs; medians)
set -eu
flows=${1:-3000000}
runs=${2:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/target/release
cargo build --release -q -p flow-nfilter -p flow-gen --manifest-path "$root/Cargo.toml"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/flow-gen" -n "$flows" -o "$dir/flows.fk" >/dev/null
cat "$dir/flows.fk" > /dev/null
echo "$flows flows ($(du -m "$dir/flows.fk" | cut -f1) MB archive), $(nproc) cores, median of $runs runs"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
secs() {
    for _ in $(seq "$runs"); do
        s=$(date +%s.%N)
        sh -c "$1" >/dev/null
        e=$(date +%s.%N)
        echo "$e - $s" | bc -l
    done | median
}
nf="$bin/flow-nfilter"
printf '| %-48s | %-10s | %-22s | %-22s | %-5s |\n' "expression (-e) / definition (-F)" "work" "-F" "-e" "-e/-F"
echo "|---|---|---|---|---|"
while IFS='|' read -r def expr; do
    f="$nf -f $root/bench/bench.cfg -F $def"
    e="$nf -e '$expr'"
    a=$(sh -c "$f --count $dir/flows.fk")
    b=$(sh -c "$e --count $dir/flows.fk")
    if [ "$a" != "$b" ]; then
        echo "$def selects $a flows, -e '$expr' $b" >&2
        exit 1
    fi
    for work in count write; do
        case $work in
            count) opt="--count $dir/flows.fk" ;;
            write) opt="$dir/flows.fk" ;;
        esac
        tf=$(secs "$f $opt")
        te=$(secs "$e $opt")
        printf '| %-48s | %-10s | %6.3f s (%5.1f M/s) | %6.3f s (%5.1f M/s) | %5.2f |\n' \
            "$expr ($a flows)" "$work" "$tf" "$(echo "$flows / $tf / 1000000" | bc -l)" \
            "$te" "$(echo "$flows / $te / 1000000" | bc -l)" "$(echo "$te / $tf" | bc -l)"
    done
done <<'PAIRS'
host -v ADDR=10.0.3.7|host 10.0.3.7
ssh-gt1|dst port 22 and packets > 1
broad|net 10.0.0.0/8 and not port 80 and packets > 1
PAIRS
