#!/bin/sh
# Writes nfdump's own aggregation (-A, -N: plain numbers; -6: whole IPv6 addresses) of every
# .nfcapd file here into groups/NAME.AGG.csv, one group a line: the keys, flows, packets and
# octets, with a biflow's reverse packets and octets added (flowkit counts both directions; nfdump
# prints them as %opkt/%obyt). flow-stat's tests (flow-stat/tests/groups.rs) compare
# `flow-stat --top KEYS --count 0 --csv` with these, group for group.
# Made with nfdump 1.7.1 (Debian 12: apt-get install nfdump).
set -eu
cd "$(dirname "$0")"
for f in scenario-ipfix scenario-v9-lzo softflowd-ipfix-biflow-lz4 softflowd-v5-sampled-lz4 \
         pmacct-v9-sampled-lzo pmacct-ipv6-ipfix; do
  for agg in "srcip,dstport:%sa %dp" "srcip,dstip,dstport:%sa %da %dp" \
             "dstip,srcport:%da %sp" "srcip4/24,dstport:%sa %dp"; do
    a=${agg%%:*}; fmt=${agg#*:}
    out="groups/$f.$(echo "$a" | tr '/,' '-+').csv"
    nfdump -6 -r "$f.nfcapd" -A "$a" -N -q -o "fmt:$fmt %fl %ipkt %opkt %ibyt %obyt" |
      awk 'NF { n = NF - 5; s = $1; for (i = 2; i <= n; i++) s = s "," $i;
                print s "," $(n+1) "," $(n+2) + $(n+3) "," $(n+4) + $(n+5) }' | sort > "$out"
  done
done
