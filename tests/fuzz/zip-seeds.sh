#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpus of fuzz_zip: raw_len (2 bytes, big-endian) and a raw DEFLATE stream of
# that many bytes, made by Python's zlib (another DEFLATE writer than igzip), stored,
# fixed and dynamic Huffman blocks, plus a truncated one and a zip bomb
# (tests/fuzz/fuzz_zip.c).
# usage: zip-seeds.sh DIR
set -eu
python3 - "$1" <<'PY'
import os, sys, zlib

out = sys.argv[1]
text = b"".join(b"static int xf_frame_%d(struct xf_work *it);\n" % i for i in range(200))


def deflate(raw, level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, strategy)
    return c.compress(raw) + c.flush()


def seed(name, raw_len, stream):
    # raw_len - 1 as the harness reads it (modulo XF_DATA_RAW_MAX, plus 1)
    with open(os.path.join(out, "seed-" + name), "wb") as f:
        f.write((raw_len - 1).to_bytes(2, "big") + stream)


seed("text", 4096, deflate(text[:4096]))
seed("stored", 1000, deflate(os.urandom(1000), 0))
seed("fixed", 300, deflate(text[:300], 6, zlib.Z_FIXED))
seed("rle", 8000, deflate(b"a" * 8000, 9, zlib.Z_RLE))
seed("cut", 4096, deflate(text[:4096])[:-5])
seed("bomb", 8932, deflate(bytes(1 << 20), 9))
PY
