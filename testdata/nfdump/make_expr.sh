#!/bin/sh
# Writes which flows nfdump 1.7.1 selects with each expression of expressions.txt, for each
# .nfcapd file below, into expr/NAME.txt: one line per expression, `EXPRESSION<TAB>FLOWS`,
# FLOWS being the selected flows' line numbers in NAME.truth.txt (0-based; `3-7` a run), found
# by matching nfdump's printout of the selection, in the truth file's own format, in file order.
# flow-nfilter/tests/expressions.rs runs `flow-nfilter -e` on the same files and wants the same
# flows. Made with nfdump 1.7.1 (Debian 12: apt-get install nfdump) and python3.
set -eu
cd "$(dirname "$0")"
fmt='fmt:%ts|%te|%sa|%da|%sp|%dp|%pr|%flg|%tos|%ipkt|%ibyt|%opkt|%obyt|%in|%out|%sas|%das|%smk|%dmk|%nh|%ra|%eng'
for f in scenario-ipfix softflowd-ipfix-biflow-lz4 softflowd-v5-sampled-lz4 \
         pmacct-v9-sampled-lzo pmacct-ipv6-ipfix vendors/*.nfcapd; do
  f=${f%.nfcapd}
  out="expr/$(basename "$f").txt"
  : > "$out"
  grep -v '^#' expressions.txt | while IFS= read -r e; do
    TZ=UTC nfdump -r "$f.nfcapd" -q -N -6 -o "$fmt" "$e" | grep -v '^No matching flows$' |
      sed 's/ *| */|/g; s/^ *//; s/ *$//' > expr/selected.tmp
    python3 - "$f.truth.txt" expr/selected.tmp "$e" >> "$out" <<'PY'
import sys
truth = open(sys.argv[1]).read().splitlines()
picked = open(sys.argv[2]).read().splitlines()
rows, i = [], 0
for line in picked:  # nfdump prints the selection in file order: a subsequence of the truth
    while truth[i] != line:
        i += 1
    rows.append(i)
    i += 1
runs = []
for r in rows:
    if runs and runs[-1][1] + 1 == r:
        runs[-1][1] = r
    else:
        runs.append([r, r])
print(sys.argv[3] + "\t" + ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs))
PY
  done
done
rm -f expr/selected.tmp
