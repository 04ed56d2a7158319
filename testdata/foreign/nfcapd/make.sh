#!/bin/bash
# nfdump 1.7.1's printout of the captures here (nfcapd 1.7.1's files of testdata/foreign cases
# that testdata/nfdump/vendors does not hold), in the formats of testdata/nfdump: NAME.truth.txt
# as testdata/nfdump/README.md step 3, NAME.ext.txt and NAME.ext-l2.txt as make_ext.sh (not
# gzipped: they are small). Read by flowkit-core/tests/foreign_ext.rs.
set -euo pipefail
cd "$(dirname "$0")"
for f in *.nfcapd; do
  c=${f%.nfcapd}
  TZ=UTC nfdump -r "$f" -q -N -6 -o 'fmt:%ts|%te|%sa|%da|%sp|%dp|%pr|%flg|%tos|%ipkt|%ibyt|%opkt|%obyt|%in|%out|%sas|%das|%smk|%dmk|%nh|%ra|%eng' \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//' > "$c.truth.txt"
  nfdump -r "$f" -q -N -6 -o 'fmt:%xsa|%xda|%xsp|%xdp|%svln|%dvln|%nfc|%end' \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//' > "$c.ext.txt"
  nfdump -r "$f" -q -N -6 -o 'fmt:%ismc|%odmc|%idmc|%osmc|%mpls1|%mpls2|%mpls3|%nbid' \
    | sed 's/ *| */|/g; s/^ *//; s/ *$//' > "$c.ext-l2.txt"
done
