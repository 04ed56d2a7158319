#!/usr/bin/env python3
"""Send a few hand-made export datagrams carrying NAT, VLAN, flow id and end reason fields to
127.0.0.1:PORT (an nfcapd listening there), for testdata/nfdump/nat-vlan.nfcapd (see README.md).

usage: make_nat.py PORT
       make_nat.py --pcap FILE   (the same two datagrams as a capture: nat-vlan.pcap)

Datagrams (all values below are the ones the test expects nfdump to print):
  1. IPFIX (domain 7): template 256 with vlanId 58, postVlanId 59, flowEndReason 136,
     postNAT(Source|Destination)IPv4Address 225/226, postNAPT(Source|Destination)TransportPort
     227/228 and flowId 148; template 257 with none of them. Three flows of 256, one of 257.
  2. NetFlow v9 (source id 9): template 260 (IPv4) with SRC_VLAN 58, DST_VLAN 59, NSEL
     CONN_ID 148 and XLATE 225-228; template 261 (IPv6) with XLATE IPv6 281/282, 227/228 and
     CONN_ID 148. Two flows of each.
"""
import socket
import struct
import sys
import ipaddress

BASE = 1764979200  # 2025-12-06 00:00:00 UTC, export time of both datagrams


def v4(s):
    return ipaddress.IPv4Address(s).packed


def v6(s):
    return ipaddress.IPv6Address(s).packed


def template_set(set_id, templates):
    body = b""
    for tid, fields in templates:
        body += struct.pack("!HH", tid, len(fields))
        for ie, ln in fields:
            body += struct.pack("!HH", ie, ln)
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def data_set(tid, records):
    body = b"".join(records)
    pad = (-len(body)) % 4
    body += b"\0" * pad
    return struct.pack("!HH", tid, 4 + len(body)) + body


IPFIX_NAT = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (152, 8),
             (153, 8), (10, 4), (14, 4), (58, 2), (59, 2), (136, 1), (225, 4), (226, 4),
             (227, 2), (228, 2), (148, 8)]
IPFIX_PLAIN = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8), (152, 8),
               (153, 8), (10, 4), (14, 4)]


def ipfix_nat(sa, da, sp, dp, pr, fl, pk, by, t0, t1, i, o, sv, dv, er, xsa, xda, xsp, xdp, fid):
    return (v4(sa) + v4(da) + struct.pack("!HHBBQQQQII", sp, dp, pr, fl, pk, by, t0, t1, i, o)
            + struct.pack("!HHB", sv, dv, er) + v4(xsa) + v4(xda) + struct.pack("!HHQ", xsp, xdp, fid))


def ipfix_plain(sa, da, sp, dp, pr, fl, pk, by, t0, t1, i, o):
    return v4(sa) + v4(da) + struct.pack("!HHBBQQQQII", sp, dp, pr, fl, pk, by, t0, t1, i, o)


def ipfix_message():
    ms = BASE * 1000
    sets = template_set(2, [(256, IPFIX_NAT), (257, IPFIX_PLAIN)])
    sets += data_set(256, [
        ipfix_nat("10.1.0.5", "192.0.2.80", 40001, 443, 6, 0x1b, 12, 3400, ms - 60000, ms - 1500,
                  3, 7, 100, 200, 1, "203.0.113.9", "192.0.2.80", 61001, 443, 1001),
        ipfix_nat("10.1.0.6", "198.51.100.53", 53001, 53, 17, 0, 2, 150, ms - 30000, ms - 29000,
                  3, 7, 101, 4094, 2, "203.0.113.10", "198.51.100.53", 62002, 53, 0x1_0000_0002),
        ipfix_nat("10.1.0.7", "192.0.2.81", 40003, 80, 6, 0x02, 1, 60, ms - 20000, ms - 20000,
                  4, 8, 1, 0, 5, "0.0.0.0", "0.0.0.0", 0, 0, 0),
    ])
    sets += data_set(257, [
        ipfix_plain("10.1.0.8", "192.0.2.82", 40004, 22, 6, 0x18, 40, 5200, ms - 10000, ms - 5000,
                    5, 9),
    ])
    return struct.pack("!HHIII", 10, 16 + len(sets), BASE, 1, 7) + sets


V9_V4 = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4), (22, 4), (21, 4),
         (10, 4), (14, 4), (58, 2), (59, 2), (148, 4), (225, 4), (226, 4), (227, 2), (228, 2)]
V9_V6 = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (6, 1), (2, 4), (1, 4), (22, 4), (21, 4),
         (10, 4), (14, 4), (148, 4), (281, 16), (282, 16), (227, 2), (228, 2)]
UPTIME = 3_600_000  # sysUpTime of the v9 header, ms


def v9_common(sp, dp, pr, fl, pk, by, first, last, i, o):
    # first/last: ms before the export time
    return struct.pack("!HHBBIIIIII", sp, dp, pr, fl, pk, by, UPTIME - first, UPTIME - last, i, o)


def v9_message():
    sets = template_set(0, [(260, V9_V4), (261, V9_V6)])
    sets += data_set(260, [
        v4("172.16.5.10") + v4("192.0.2.90") + v9_common(51000, 443, 6, 0x1f, 20, 9000, 50000, 2000, 11, 12)
        + struct.pack("!HHI", 300, 301, 424242) + v4("198.51.100.200") + v4("192.0.2.90")
        + struct.pack("!HH", 1025, 443),
        v4("172.16.5.11") + v4("192.0.2.91") + v9_common(51001, 123, 17, 0, 1, 76, 40000, 40000, 11, 12)
        + struct.pack("!HHI", 302, 0, 7) + v4("198.51.100.201") + v4("192.0.2.91")
        + struct.pack("!HH", 1026, 123),
    ])
    sets += data_set(261, [
        v6("2001:db8:a::10") + v6("2001:db8:ffff::1") + v9_common(52000, 443, 6, 0x1b, 9, 2100, 30000, 1000, 13, 14)
        + struct.pack("!I", 99) + v6("2001:db8:5::a") + v6("2001:db8:ffff::1") + struct.pack("!HH", 2000, 443),
        v6("fe80::1") + v6("2001:db8:ffff::2") + v9_common(52001, 53, 17, 0, 1, 80, 25000, 25000, 13, 14)
        + struct.pack("!I", 0xfffffffe) + v6("2001:db8:5::b") + v6("::") + struct.pack("!HH", 2001, 0),
    ])
    count = 2 + 4  # templates and data records
    return struct.pack("!HHIIII", 9, count, UPTIME, BASE, 1, 9) + sets


def write_pcap(path, msgs):
    """Raw-IP pcap (LINKTYPE_RAW 101) of the datagrams from 127.0.0.1:9995 to 127.0.0.1:2055,
    stamped with their export time; UDP checksum 0 (none)."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)
    for msg in msgs:
        udp = struct.pack("!HHHH", 9995, 2055, 8 + len(msg), 0) + msg
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                          v4("127.0.0.1"), v4("127.0.0.1"))
        csum = sum(struct.unpack("!10H", hdr))
        while csum > 0xFFFF:
            csum = (csum & 0xFFFF) + (csum >> 16)
        hdr = hdr[:10] + struct.pack("!H", ~csum & 0xFFFF) + hdr[12:]
        pkt = hdr + udp
        out += struct.pack("<IIII", BASE, 0, len(pkt), len(pkt)) + pkt
    with open(path, "wb") as f:
        f.write(out)


def main():
    if sys.argv[1] == "--pcap":
        write_pcap(sys.argv[2], (ipfix_message(), v9_message()))
        return
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for msg in (ipfix_message(), v9_message()):
        s.sendto(msg, ("127.0.0.1", port))
    print("sent 2 datagrams")


if __name__ == "__main__":
    main()
