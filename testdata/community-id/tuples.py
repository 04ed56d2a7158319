#!/usr/bin/env python3
"""Community IDs, by Corelight's reference implementation (PyPI `communityid`, seed 0), of the
five-tuples in a CSV with the columns src_addr,dst_addr,protocol,src_port,dst_port (ICMP type
and code as NetFlow carries them in the destination port: type * 256 + code). Writes the tuple
and its ID a line. Usage: tuples.py TUPLES.csv > OUT.csv"""
import csv
import sys

import communityid

cid = communityid.CommunityID(seed=0)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["src_addr", "dst_addr", "protocol", "src_port", "dst_port", "community_id"])
for r in csv.DictReader(open(sys.argv[1], encoding="utf-8")):
    sa, da, p = r["src_addr"], r["dst_addr"], int(r["protocol"])
    sp, dp = int(r["src_port"]), int(r["dst_port"])
    if p == 6:
        t = communityid.FlowTuple.make_tcp(sa, da, sp, dp)
    elif p == 17:
        t = communityid.FlowTuple.make_udp(sa, da, sp, dp)
    elif p == 132:
        t = communityid.FlowTuple.make_sctp(sa, da, sp, dp)
    elif p == 1:
        t = communityid.FlowTuple.make_icmp(sa, da, dp >> 8, dp & 0xFF)
    elif p == 58:
        t = communityid.FlowTuple.make_icmp6(sa, da, dp >> 8, dp & 0xFF)
    else:
        t = communityid.FlowTuple(p, sa, da)
    out.writerow([sa, da, p, sp, dp, cid.calc(t)])
