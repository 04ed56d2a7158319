#!/bin/bash
# Group-by against nfdump -A on the same flows (issue 22: "30 M flows, two keys, 10 times nfdump").
#
#   bench/group-by.sh [-n FLOWS] [-r ROUNDS] [-w WORKDIR] [-k NFDUMP_KEYS:FLOWKIT_KEYS] [-o OLD_FLOW_STAT]
#
# 1. builds flow-gen, flow-send and flow-stat (release);
# 2. flow-gen makes FLOWS flows (default 30,000,000) as an archive and as IPFIX packets in a pcap;
#    flow-send replays the pcap (20,000 datagrams/s) into nfcapd on 127.0.0.1, and the script stops
#    unless nfcapd stored all of them; the pcap is then deleted. WORKDIR (default
#    /tmp/flowkit-groupby) keeps archive and nfcapd file for the next run: 1.1 GB and 3.7 GB for
#    30 M flows; delete it when done;
# 3. checks that both count the same number of groups, then times
#    `nfdump -r FILE -A srcip,dstport -n 10 -O flows -N -q` and
#    `flow-stat --top srcaddr,dstport --count 10 ARCHIVE` (and OLD_FLOW_STAT, another build, if
#    given) in alternation, ROUNDS rounds (default 5): median and minimum of wall and CPU time
#    (user + system) each (bench/interleave), then the peak RSS of one more run of each.
#
# The machine may be shared: compare the CPU times, and only figures of one interleaved run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flows=30000000 rounds=5 work=/tmp/flowkit-groupby keys="srcip,dstport:srcaddr,dstport" old=""
while getopts "n:r:w:k:o:" opt; do
  case $opt in
    n) flows=$OPTARG ;; r) rounds=$OPTARG ;; w) work=$OPTARG ;; k) keys=$OPTARG ;;
    o) old=$(realpath "$OPTARG") ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
nf_keys=${keys%%:*} fk_keys=${keys#*:}
(cd "$root" && cargo build --release -q -p flow-gen -p flow-send -p flow-stat)
bin=$root/target/release
mkdir -p "$work"
archive=$work/flows-$flows.fk nfd=$work/nfcapd-$flows
if [ ! -s "$archive" ] || [ ! -d "$nfd" ]; then
  rm -rf "$nfd" && mkdir -p "$nfd"
  "$bin/flow-gen" -n "$flows" -o "$archive" --pcap "$work/gen.pcap" > /dev/null
  port=$((39000 + $$ % 1000))
  nfcapd -p "$port" -b 127.0.0.1 -w "$nfd" -B 33554432 -t 3600 -D -P "$work/nfcapd.pid" > /dev/null 2>&1
  sleep 1
  "$bin/flow-send" "$work/gen.pcap" -d "127.0.0.1:$port" --rate 20000 > /dev/null
  sleep 2 && kill "$(cat "$work/nfcapd.pid")" && sleep 3
  rm -f "$work/gen.pcap"
  stored=$(nfdump -R "$nfd" -I | sed -n 's/^Flows: //p')
  if [ "$stored" != "$flows" ]; then
    rm -rf "$nfd"
    echo "nfcapd stored $stored of $flows flows; try again (a slower --rate in this script)" >&2
    exit 1
  fi
fi
nfile=$(ls "$nfd"/nfcapd.* | head -1)
cat "$archive" "$nfile" > /dev/null # both in the page cache: warm reads are compared

nf="nfdump -r $nfile -A $nf_keys -n 10 -O flows -N -q"
fk="$bin/flow-stat --top $fk_keys --count 10 $archive"
groups_nf=$(nfdump -r "$nfile" -A "$nf_keys" -N -q | wc -l)
groups_fk=$("$bin/flow-stat" --top "$fk_keys" --count 1 "$archive" | sed -n '1s/.*(\([0-9]*\) distinct.*/\1/p')
echo "# $flows flows; groups of $nf_keys: nfdump $groups_nf, flow-stat $groups_fk; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$groups_nf" = "$groups_fk" ] || { echo "the group counts differ" >&2; exit 1; }
cmds=("$nf" "$fk")
[ -n "$old" ] && cmds+=("$old --top $fk_keys --count 10 $archive")
"$root/bench/interleave" "$rounds" "${cmds[@]}"
for c in "${cmds[@]}"; do
  /usr/bin/time -f "peak RSS %M KB | $c" bash -c "$c" 2>&1 > /dev/null | tail -1
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
