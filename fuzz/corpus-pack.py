#!/usr/bin/env python3
"""Packs a fuzz corpus directory into one file of the kept corpus (testdata/fuzz-corpus/TARGET.corpus),
or unpacks one into a directory (to seed a run: fuzz/corpus/TARGET/).

The file is the inputs one after another, each a little-endian u32 length then its bytes, in name
order; tests/fuzz_regressions.rs replays them. Keep only small inputs (the default: up to 4 KiB).

  fuzz/corpus-pack.py pack DIR OUT [MAX_BYTES]     e.g. after `TARGET -merge=1 MIN_DIR corpus/TARGET`
  fuzz/corpus-pack.py unpack FILE DIR
"""
import os, struct, sys, hashlib

def pack(src, out, limit=4096):
    n = 0
    with open(out, "wb") as f:
        for name in sorted(os.listdir(src)):
            data = open(os.path.join(src, name), "rb").read()
            if len(data) <= limit:
                f.write(struct.pack("<I", len(data)) + data)
                n += 1
    print(f"{out}: {n} inputs")

def unpack(path, dst):
    os.makedirs(dst, exist_ok=True)
    b = open(path, "rb").read()
    i = n = 0
    while i + 4 <= len(b):
        (k,) = struct.unpack_from("<I", b, i)
        data = b[i + 4:i + 4 + k]
        open(os.path.join(dst, hashlib.sha1(data).hexdigest()), "wb").write(data)
        i += 4 + k
        n += 1
    print(f"{dst}: {n} inputs")

if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "pack":
        pack(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 4096)
    elif len(sys.argv) == 4 and sys.argv[1] == "unpack":
        unpack(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
