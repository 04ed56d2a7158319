#!/bin/bash
# Writes nfdump's printout of the extension columns flowkit's record carries beyond the truth
# files' (NAT addresses and ports, VLANs, NSEL connection id, end reason) for every capture here,
# into ext/CAPTURE.txt.gz, one line a flow in file order, gzipped (-9n; `zcat` reads them):
#   xlate src addr|xlate dst addr|xlate src port|xlate dst port|src vlan|dst vlan|conn id|end reason
# and of the layer-2 and application columns into ext-l2/CAPTURE.txt.gz:
#   in src mac|out dst mac|in dst mac|out src mac|mpls1|mpls2|mpls3|nbar application id
# Read by flowkit-core/src/archive/nfdump/tests.rs. Made with nfdump 1.7.1 (Debian 12).
set -euo pipefail
cd "$(dirname "$0")"
captures="scenario-ipfix scenario-v9-lzo softflowd-ipfix-biflow-lz4 softflowd-v5-sampled-lz4
          pmacct-v9-sampled-lzo pmacct-ipv6-ipfix nat-vlan l2-ipfix"
for f in vendors/*.nfcapd; do captures="$captures ${f%.nfcapd}"; done
rm -f ext/*.txt.gz ext-l2/*.txt.gz
mkdir -p ext-l2
for c in $captures; do
  nfdump -r "$c.nfcapd" -q -N -6 -o 'fmt:%xsa|%xda|%xsp|%xdp|%svln|%dvln|%nfc|%end' \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//' | gzip -9n > "ext/${c##*/}.txt.gz"
  nfdump -r "$c.nfcapd" -q -N -6 -o 'fmt:%ismc|%odmc|%idmc|%osmc|%mpls1|%mpls2|%mpls3|%nbid' \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//' | gzip -9n > "ext-l2/${c##*/}.txt.gz"
done
