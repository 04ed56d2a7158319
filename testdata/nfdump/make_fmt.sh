#!/bin/bash
# Writes nfdump's own `-o fmt:` output for the captures here into fmt/CAPTURE.CASE.txt.gz, one
# file per capture and case of fmt/cases.txt (NAME|TZ|nfdump options|-o value), gzipped (-9n: the
# 20 MB of text take 1.7 MB; `zcat` reads them). flow-print's tests (flow-print/tests/fmt.rs) run
# `TZ=TZ flow-print OPTIONS -f VALUE` on the same capture and compare byte for byte.
# -q leaves out nfdump's header line and summary.
# Made with nfdump 1.7.1 (Debian 12: apt-get install nfdump) on x86-64.
set -euo pipefail
cd "$(dirname "$0")"
captures="scenario-ipfix scenario-v9-lzo softflowd-ipfix-biflow-lz4 softflowd-v5-sampled-lz4
          pmacct-v9-sampled-lzo pmacct-ipv6-ipfix nat-vlan"
for f in vendors/*.nfcapd; do captures="$captures ${f%.nfcapd}"; done
rm -f fmt/*.txt.gz
grep -v '^#' fmt/cases.txt | while IFS='|' read -r name tz opts value; do
  for c in $captures; do
    # shellcheck disable=SC2086 # the options are words
    TZ=$tz nfdump -r "$c.nfcapd" -q $opts -o "$value" | gzip -9n > "fmt/${c##*/}.$name.txt.gz"
  done
done
