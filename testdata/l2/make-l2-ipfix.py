#!/usr/bin/env python3
"""Writes l2-ipfix.pcap: IPFIX packets (written by hand, RFC 7011) carrying what flowkit's
MAC, MPLS and application-id columns hold, for nfdump 1.7.1's nfcapd to give its view.

Templates (one set each, then one data set per template, flows 10.9.T.N -> 192.0.2.N):
  256: 56/80 MACs, 70/71/72 MPLS entries, 95 applicationId (4 bytes, engine 13 PANA-L7)
  257: 56 and 81 (postSourceMacAddress) both, 80 and 57 both: the plain ones win
  258: only 81 and 57 (post MACs), 70 alone, 95 variable-length (engine 20 PEN, 8 bytes;
       engine 3 IANA-L4, 3 bytes)
usage: make-l2-ipfix.py OUT.pcap"""
import struct, sys

T0 = 1764860000  # 2025-12-04 14:53:20 UTC


def mac(i):
    return bytes([0x02, 0x00, 0x5E, 0x10, i >> 8, i & 0xFF])


def mpls(label, exp, bos):
    v = label << 4 | exp << 1 | bos
    return v.to_bytes(3, "big")


def common(t, n):
    src = bytes([10, 9, t, n])
    dst = bytes([192, 0, 2, n])
    start = (T0 + n) * 1000
    return (src + dst + struct.pack(">HHB", 40000 + n, 443, 6)
            + struct.pack(">QQQQ", n + 1, 100 * (n + 1), start, start + 500))


COMMON = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8), (152, 8), (153, 8)]
VARLEN = 0xFFFF

templates = {
    256: COMMON + [(56, 6), (80, 6), (70, 3), (71, 3), (72, 3), (95, 4)],
    257: COMMON + [(81, 6), (56, 6), (57, 6), (80, 6)],
    258: COMMON + [(81, 6), (57, 6), (70, 3), (95, VARLEN)],
}


def rec256(n):
    labels = [mpls(16 + n, n % 8, 0), mpls(1000 + n, 0, 0), mpls(200000 + n, 7, 1)]
    if n % 4 == 3:  # one label only
        labels = [mpls(16 + n, 0, 1), bytes(3), bytes(3)]
    app = bytes([13, 0, 0, 80 + n])
    return common(0, n) + mac(n) + mac(0x100 + n) + b"".join(labels) + app


def rec257(n):
    return common(1, n) + mac(0x200 + n) + mac(n) + mac(0x300 + n) + mac(0x100 + n)


def rec258(n):
    if n % 2:
        app = bytes([20, 0, 0, 0x0D, 0xD3, 0, 0x01, n])  # PEN 3539 (Cisco), selector 256+n
    else:
        app = bytes([3, 0, 53])  # IANA-L4 port 53
    return (common(2, n) + mac(0x400 + n) + mac(0x500 + n) + mpls(300 + n, 1, 1)
            + bytes([len(app)]) + app)


def set_(sid, body):
    pad = (-len(body)) % 4
    return struct.pack(">HH", sid, 4 + len(body) + pad) + body + bytes(pad)


def message(seq, sets):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), T0 + 100, seq, 7) + body


tset = b""
for tid, fields in templates.items():
    tset += struct.pack(">HH", tid, len(fields))
    for ie, ln in fields:
        tset += struct.pack(">HH", ie, ln)
msgs = [message(0, [set_(2, tset)])]
seq = 0
for tid, rec in [(256, rec256), (257, rec257), (258, rec258)]:
    recs = b"".join(rec(n) for n in range(1, 9))
    msgs.append(message(seq, [set_(tid, recs)]))
    seq += 8

out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
for i, m in enumerate(msgs):
    udp = struct.pack(">HHHH", 40000, 2055, 8 + len(m), 0) + m
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                     bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
    fr = bytes(6) + bytes(6) + b"\x08\x00" + ip
    out.write(struct.pack("<IIII", T0 + 100, i, len(fr), len(fr)) + fr)
