#!/usr/bin/env python3
"""Rewrite an uncompressed nfdump 1.7 file (layout 2) with ZSTD-compressed blocks, the way
nfdump 1.7.2+ writes them (`-z=zstd`: each block payload one zstd frame, header byte
compression = 4). nfdump 1.7.1 (Debian's) cannot write ZSTD, so this uses the zstd CLI.
usage: make_zstd.py IN.nfcapd OUT.nfcapd"""
import struct, subprocess, sys

src = open(sys.argv[1], "rb").read()
hdr = bytearray(src[:40])
magic, version = struct.unpack_from("<HH", hdr, 0)
assert magic == 0xA50C and version == 2 and hdr[16] == 0, "need an uncompressed layout-2 file"
off_appendix = struct.unpack_from("<q", hdr, 24)[0]
out = bytearray()
pos, new_appendix = 40, 0
while pos < len(src):
    if pos == off_appendix:
        new_appendix = 40 + len(out)
    nrec, size, btype, flags = struct.unpack_from("<IIHH", src, pos)
    payload = src[pos + 12:pos + 12 + size]
    if not flags & 1:  # FLAG_BLOCK_UNCOMPRESSED blocks stay as they are
        payload = subprocess.run(["zstd", "-q", "-c", "-3", "--no-check"], input=payload,
                                 capture_output=True, check=True).stdout
    out += struct.pack("<IIHH", nrec, len(payload), btype, flags) + payload
    pos += 12 + size
hdr[16] = 4
struct.pack_into("<q", hdr, 24, new_appendix)
open(sys.argv[2], "wb").write(bytes(hdr) + bytes(out))
