#!/usr/bin/env python3
"""Community IDs of the Suricata EVE samples' flow events, by Corelight's reference
implementation (PyPI `communityid`), from the events' own fields: one `flow_id,community_id`
line an event. Usage: make.py ../other-logs/suricata/NAME.json > NAME.community-id.csv"""
import json
import sys

import communityid

PROTOS = {"TCP": 6, "UDP": 17, "SCTP": 132, "ICMP": 1, "IPv6-ICMP": 58}
cid = communityid.CommunityID(seed=0)
print("flow_id,community_id")
for line in open(sys.argv[1], encoding="utf-8"):
    e = json.loads(line)
    if e.get("event_type") != "flow":
        continue
    p = PROTOS.get(e["proto"])
    src, dst = e["src_ip"], e["dest_ip"]
    if p == 6:
        t = communityid.FlowTuple.make_tcp(src, dst, e["src_port"], e["dest_port"])
    elif p == 17:
        t = communityid.FlowTuple.make_udp(src, dst, e["src_port"], e["dest_port"])
    elif p == 132:
        t = communityid.FlowTuple.make_sctp(src, dst, e["src_port"], e["dest_port"])
    elif p == 1:
        t = communityid.FlowTuple.make_icmp(src, dst, e.get("icmp_type", 0), e.get("icmp_code", 0))
    elif p == 58:
        t = communityid.FlowTuple.make_icmp6(src, dst, e.get("icmp_type", 0), e.get("icmp_code", 0))
    else:
        continue
    print(f'{e["flow_id"]},{cid.calc(t)}')
