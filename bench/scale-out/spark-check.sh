#!/usr/bin/env bash
# Real Spark (pyspark, local mode) selects what flow-nfilter selects: exports the sample day
# plus pmacct's IPv6 IPFIX flows with flow-export, translates every definition of the shipped
# filter files with `flow-nfilter --sql spark`, and compares Spark's counts with
# `flow-nfilter --count`; the same for every expression of testdata/nfdump/expressions.txt
# (`-e EXPR --sql spark`). Opt-in (not in CI: Spark's start-up alone takes ~10 s, and pyspark is
# a 300 MB download). Needs: pip install pyspark; Java 17.
# Usage: bench/scale-out/spark-check.sh [TARGET_DIR_PROFILE=debug]
set -euo pipefail
cd "$(dirname "$0")/../.."
profile=${1:-debug}
[ "$profile" = release ] && cargo build -q --release -p flow-export -p flow-nfilter -p flow-import \
  || cargo build -q -p flow-export -p flow-nfilter -p flow-import
bin=target/$profile
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TZ=UTC
$bin/flow-import testdata/captures/pmacct-ipv6-ipfix.nsec.pcap -o "$work/ipv6.fk"
inputs=(testdata/2010-11-09/ft-v05.2010-11-09.000000+0000 "$work/ipv6.fk")
$bin/flow-export --parquet -o "$work/pq" "${inputs[@]}"
vars=(-v ADDR=189.22.36.165 -v PORT=53 -v PROT=udp -v H=8.8.8.8)
echo "[" > "$work/cases.json"
sep=""
for cfg in filters/filter.cfg testdata/filters/*.cfg; do
  for d in $(grep -i '^filter-definition' "$cfg" | awk '{print $2}'); do
    # Unused -v bindings only warn; definitions the filter language cannot use are skipped.
    sql=$($bin/flow-nfilter -f "$cfg" -F "$d" "${vars[@]}" --sql spark 2>/dev/null) || { echo "skip $cfg:$d (not translatable)"; continue; }
    n=$($bin/flow-nfilter -f "$cfg" -F "$d" "${vars[@]}" --count "${inputs[@]}" 2>/dev/null)
    printf '%s{"name": "%s:%s", "count": %s, "sql": %s}\n' "$sep" "$cfg" "$d" "$n" \
      "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$sql")" >> "$work/cases.json"
    sep=","
  done
done
# Every nfdump expression of the equivalence tests, translated with `-e EXPR --sql spark`.
while IFS= read -r e; do
  case "$e" in ''|'#'*) continue ;; esac
  sql=$($bin/flow-nfilter -e "$e" --sql spark 2>/dev/null) || { echo "skip -e '$e' (not translatable)"; continue; }
  n=$($bin/flow-nfilter -e "$e" --count "${inputs[@]}" 2>/dev/null)
  printf '%s{"name": "-e %s", "count": %s, "sql": %s}\n' "$sep" \
    "$(printf '%s' "$e" | tr -d '"\\')" "$n" \
    "$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$sql")" >> "$work/cases.json"
  sep=","
done < testdata/nfdump/expressions.txt
echo "]" >> "$work/cases.json"
python3 bench/scale-out/spark_filters.py "$work/pq" "$work/cases.json"
