#!/bin/sh
# Writes nfdump's own aggregation of every .nfcapd file here into groups/, for flow-stat's tests
# (flow-stat/tests/groups.rs, measures.rs), which compare flow-stat's groups with these, group
# for group. Made with nfdump 1.7.1 (Debian 12: apt-get install nfdump).
#
# groups/NAME.AGG.csv: nfdump -A AGG (-N: plain numbers; -6: whole IPv6 addresses), one group a
#   line: the keys, flows, packets, octets, duration (ms), bps, pps, bpp. Packets and octets
#   have a biflow's reverse counts added (flowkit counts both directions; nfdump prints them as
#   %opkt/%obyt). The duration is nfdump's %td in ms (a group whose latest end is before its
#   earliest start wraps round 2^64 ms there: 18446744073709552000). bps, pps and bpp are
#   nfdump's %bps %pps %bpp, which use the forward counts only; where a group has reverse counts
#   they are worked out here by nfdump's own formula (String_bps and the others in nfdump's
#   output_fmt.c) over both directions, as flowkit reports them, and the script stops if that
#   formula ever gives other numbers than nfdump printed for the forward counts.
# groups/NAME.bidir-5tuple.csv: the same for nfdump -b (both directions of a TCP or UDP 5-tuple
#   folded into one group; nfdump folds no other protocol, so only TCP and UDP groups are kept),
#   keys source address, source port, destination address, destination port, protocol number,
#   the ends in the order nfdump saw first.
# groups/NAME.KEYS.distinct-FIELD.csv: from nfdump's listing of the flows (-o fmt:), how many
#   distinct values of FIELD each combination of KEYS saw (sort -u, then a count per key).
set -eu
cd "$(dirname "$0")"

# Reads lines "KEYS... fl ipkt opkt ibyt obyt td bps pps bpp"; writes the CSV described above.
measures() {
  awk 'function rate(count, ms) { return ms + 0 == 0 ? 0 : int(count / (ms / 1000.0)) }
       function per_packet(octets, packets) { return packets + 0 == 0 ? 0 : int(octets / packets) }
       NF {
         n = NF - 9; s = $1; for (i = 2; i <= n; i++) s = s "," $i
         fl = $(n+1); ip = $(n+2); op = $(n+3); ib = $(n+4); ob = $(n+5)
         ms = $(n+6); sub(/\./, "", ms); sub(/^0+/, "", ms); if (ms == "") ms = "0"
         bps = $(n+7); pps = $(n+8); bpp = $(n+9)
         if (rate(ib * 8, ms) != bps || rate(ip, ms) != pps || per_packet(ib, ip) != bpp) {
           print "nfdump computed other rates than its formula: " $0 > "/dev/stderr"; exit 1
         }
         if (op + ob > 0) {
           bps = rate((ib + ob) * 8, ms); pps = rate(ip + op, ms); bpp = per_packet(ib + ob, ip + op)
         }
         print s "," fl "," ip + op "," ib + ob "," ms "," bps "," pps "," bpp
       }'
}

counts='%fl %ipkt %opkt %ibyt %obyt %td %bps %pps %bpp'
for f in scenario-ipfix scenario-v9-lzo softflowd-ipfix-biflow-lz4 softflowd-v5-sampled-lz4 \
         pmacct-v9-sampled-lzo pmacct-ipv6-ipfix; do
  for agg in "srcip,dstport:%sa %dp" "srcip,dstip,dstport:%sa %da %dp" "srcip,dstip:%sa %da" \
             "dstip,srcport:%da %sp" "srcip4/24,dstport:%sa %dp"; do
    a=${agg%%:*}; fmt=${agg#*:}
    out="groups/$f.$(echo "$a" | tr '/,' '-+').csv"
    nfdump -6 -r "$f.nfcapd" -A "$a" -N -q -o "fmt:$fmt $counts" | measures | sort > "$out"
  done
  nfdump -6 -r "$f.nfcapd" -b -N -q -o "fmt:%sa %sp %da %dp %pr $counts" | measures |
    awk -F, '$5 == 6 || $5 == 17' | sort > "groups/$f.bidir-5tuple.csv"
  for d in "srcip:dstport:%sa %dp" "srcip+dstip:dstport:%sa %da %dp"; do
    keys=${d%%:*}; rest=${d#*:}; field=${rest%%:*}; fmt=${rest#*:}
    nkeys=$(echo "$keys" | tr '+' '\n' | wc -l)
    nfdump -6 -r "$f.nfcapd" -N -q -o "fmt:$fmt" | awk NF | sort -u |
      awk -v n="$nkeys" '{ k = $1; for (i = 2; i <= n; i++) k = k "," $i; c[k]++ }
                         END { for (k in c) print k "," c[k] }' |
      sort > "groups/$f.$keys.distinct-$field.csv"
  done
done
