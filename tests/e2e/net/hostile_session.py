#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A hostile but allowed peer: open a real session with an xferd appliance and push a
file list full of traps, then check what the appliance decided and committed.

The list (paths are relative to the volume root, as a pushing appliance sends them):
    0 hs/             directory
    1 hs/ok.txt       a good file                       -> committed
    2 ../escape       '..' component                    -> REFUSED, BAD_PATH
    3 hs/a/../../b    '..' inside                       -> REFUSED, BAD_PATH
    4 /abs            absolute                          -> REFUSED, BAD_PATH
    5 hs/a//b         empty component                   -> REFUSED, BAD_PATH
    6 hs/<256 x's>    component over 255 bytes          -> REFUSED, BAD_PATH
    7 hs/lnk          symlink to OUTSIDE (absolute)     -> made as given
    8 hs/lnk/victim   a file through that symlink       -> failed; nothing under OUTSIDE
    9 hs/huge.bin     10 bytes, DATA at offset 2^62     -> failed, SIZE (data beyond the
                      announced size must be refused, never written: XF_ST_SIZE)
   10 hs/badcrc.bin   5 bytes, FILE_END with a bad CRC  -> failed, CHECKSUM
   11 hs/short.bin    10 bytes, only 5 sent             -> failed, SIZE or CHECKSUM
The session then ends with DONE both ways. Exit 0 when every outcome is as above; the
caller checks the volume and OUTSIDE.

    hostile_session.py SRC_IP DST_IP OUTSIDE
"""
import os
import random
import socket
import struct
import sys
import time

HELLO, HELLO_ACK, FLIST, DECISION, SIG, DATA, COPY, FILE_END, COMMIT, ACK, DONE, ABORT, PING = \
    range(1, 14)
F_NOACK, F_REPLY = 0x1, 0x2
WHOLE, REFUSED = 2, 4
ST_BAD_PATH, ST_CHECKSUM, ST_SIZE = 1, 5, 6
PORT = 7010


def crc64(data):
    """CRC-64/XZ (ECMA-182 reflected, init and xorout all ones)."""
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xC96C5795D7870F42 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def entry(path, kind=1, size=0, mode=0o644, target=b""):
    p = path.encode() if isinstance(path, str) else path
    return struct.pack(">BBHHHQq", kind, 0, len(p), len(target), mode, size,
                       1700000000 * 10**9) + p + target


class Session:
    def __init__(self, src, dst):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, 0))
        self.dst = (dst, PORT)
        self.sid = random.randrange(1, 1 << 32)
        self.pn = 0
        self.got = set()  # packet numbers received (to acknowledge)
        self.acked = set()  # our packet numbers the peer acknowledged

    def send(self, typ, payload=b"", flags=0):
        pn = self.pn
        self.pn += 1
        self.s.sendto(struct.pack(">HBBHHIIQ", 0x5846, 1, typ, flags, len(payload), self.sid,
                                  0, pn) + payload, self.dst)
        return pn

    def ack(self):
        if not self.got:
            return
        pns = sorted(self.got, reverse=True)
        ranges = []
        for n in pns:
            if ranges and ranges[-1][0] == n + 1:
                ranges[-1][0] = n
            else:
                ranges.append([n, n])
        ranges = ranges[:64]
        body = struct.pack(">QIHH", ranges[0][1], 0, len(ranges), 0)
        body += b"".join(struct.pack(">QQ", f, l) for f, l in ranges)
        self.send(ACK, body)

    def recv(self, timeout):
        """One frame of this session as (type, flags, payload), or None on timeout."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None
            magic, ver, typ, flags, ln, sid, _, pn = struct.unpack(">HBBHHIIQ", data[:24])
            if magic != 0x5846 or sid != self.sid or not flags & F_REPLY:
                continue
            payload = data[24:]
            if typ == ACK:
                largest, _, count, _ = struct.unpack(">QIHH", payload[:16])
                for i in range(count):
                    f, l = struct.unpack(">QQ", payload[16 + 16 * i:32 + 16 * i])
                    self.acked.update(range(f, l + 1))
            elif not flags & F_NOACK:
                self.got.add(pn)
            return typ, flags, payload


def fail(msg):
    print("hostile_session: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    src, dst, outside = sys.argv[1:4]
    ok_data, bad_data = b"hello", b"world"
    entries = [
        entry("hs", kind=2, mode=0o755),
        entry("hs/ok.txt", size=len(ok_data)),
        entry("../escape", size=1),
        entry("hs/a/../../b", size=1),
        entry("/abs", size=1),
        entry("hs/a//b", size=1),
        entry("hs/" + "x" * 256, size=1),
        entry("hs/lnk", kind=3, mode=0o777, size=len(outside), target=outside.encode()),
        entry("hs/lnk/victim", size=len(bad_data)),
        entry("hs/huge.bin", size=10),
        entry("hs/badcrc.bin", size=len(bad_data)),
        entry("hs/short.bin", size=10),
    ]
    n = len(entries)
    ss = Session(src, dst)
    nonce = random.randrange(1 << 64)
    dest = b"hs"
    hello = struct.pack(">HHHHIIQHH", 1, 1, 1472, 0, 0, 0, nonce, len(dest), 0) + dest
    deadline = time.monotonic() + 20

    # Handshake (HELLO again until answered).
    window = None
    while window is None:
        if time.monotonic() > deadline:
            fail("no HELLO_ACK")
        ss.send(HELLO, hello)
        while (f := ss.recv(0.5)) is not None:
            if f[0] == HELLO_ACK:
                status, window = struct.unpack(">HI", f[2][6:12])
                if status != 0 or struct.unpack(">Q", f[2][16:24])[0] != nonce:
                    fail("HELLO_ACK status %u (expected 0) or wrong nonce" % status)
                break
    if window < n:
        fail("window %u < %u entries" % (window, n))

    # The list, then every decision (FLIST again until acknowledged).
    flist = struct.pack(">IHH", 0, n, 1) + b"".join(entries)
    decisions = {}
    fl_pn = None
    while len(decisions) < n:
        if time.monotonic() > deadline:
            fail("decisions for %s only" % sorted(decisions))
        if fl_pn is None or fl_pn not in ss.acked:
            fl_pn = ss.send(FLIST, flist)
        while (f := ss.recv(0.3)) is not None:
            if f[0] == DECISION:
                count = struct.unpack(">H", f[2][:2])[0]
                for i in range(count):
                    file, dec, st, _, bs, bc = struct.unpack(">IBBHII", f[2][4 + 16 * i:20 + 16 * i])
                    decisions[file] = (dec, st)
        ss.ack()
    print("hostile_session: decisions %s" % decisions)
    for i in (2, 3, 4, 5, 6):
        if decisions[i] != (REFUSED, ST_BAD_PATH):
            fail("entry %d: decision %s, expected REFUSED/BAD_PATH" % (i, decisions[i]))
    for i in (1, 9, 10, 11):
        if decisions[i][0] != WHOLE:
            fail("entry %d: decision %s, expected WHOLE" % (i, decisions[i]))

    # DATA for the WHOLE files; FILE_END once all of it is acknowledged (section 6.9).
    data = {1: [(0, ok_data)], 8: [(0, bad_data)], 9: [(1 << 62, b"0123456789")],
            10: [(0, bad_data)], 11: [(0, b"01234")]}
    ends = {1: (len(ok_data), crc64(ok_data)), 8: (len(bad_data), crc64(bad_data)),
            9: (10, crc64(b"0123456789")), 10: (len(bad_data), crc64(bad_data) ^ 1),
            11: (10, crc64(b"0123456789"))}
    pending = {}
    for file, chunks in data.items():
        if decisions[file][0] != WHOLE:
            continue
        for off, b in chunks:
            pending[struct.pack(">IIQ", file, 0, off) + b] = None
    while pending:
        if time.monotonic() > deadline:
            fail("DATA never acknowledged")
        for body, pn in list(pending.items()):
            if pn is None or pn not in ss.acked:
                pending[body] = ss.send(DATA, body)
        while (f := ss.recv(0.2)) is not None:
            pass
        pending = {b: pn for b, pn in pending.items() if pn is None or pn not in ss.acked}
        ss.ack()

    # FILE_END, then COMMITs until every entry is settled, DONE both ways.
    fe = {}
    for file, (size, crc) in ends.items():
        if decisions[file][0] == WHOLE:
            fe[file] = struct.pack(">IIQQ", file, 0, size, crc)
    fe_pn = {}
    committed, failures, done = 0, {}, None
    while done is None:
        if time.monotonic() > deadline:
            fail("not settled: committed %u of %u" % (committed, n))
        for file, body in fe.items():
            if fe_pn.get(file) is None or fe_pn[file] not in ss.acked:
                fe_pn[file] = ss.send(FILE_END, body)
        while (f := ss.recv(0.2)) is not None:
            if f[0] == COMMIT:
                c, credit, count = struct.unpack(">IIH", f[2][:10])
                committed = max(committed, c)
                for i in range(count):
                    file, st = struct.unpack(">IH", f[2][12 + 8 * i:18 + 8 * i])
                    failures[file] = st
            elif f[0] == DONE:
                done = struct.unpack(">II", f[2][:8])
        ss.ack()
    print("hostile_session: committed %u, failures %s, DONE %s" % (committed, failures, done))
    ss.send(DONE, struct.pack(">II", n, 0))
    # Acknowledge what the appliance still sends until it has gone quiet (closed).
    while (f := ss.recv(1.0)) is not None:
        ss.ack()

    errors = []
    if committed != n:
        errors.append("committed %u, expected %u" % (committed, n))
    want = {2: {ST_BAD_PATH}, 3: {ST_BAD_PATH}, 4: {ST_BAD_PATH}, 5: {ST_BAD_PATH},
            6: {ST_BAD_PATH}, 8: None, 9: {ST_SIZE}, 10: {ST_CHECKSUM},
            11: {ST_SIZE, ST_CHECKSUM}}
    for file, sts in want.items():
        if file not in failures or (sts is not None and failures[file] not in sts):
            errors.append("entry %d: failure status %s, expected one of %s"
                          % (file, failures.get(file), sts))
    extra = set(failures) - set(want)
    if extra:
        errors.append("entries %s failed unexpectedly (%s)" % (sorted(extra), failures))
    # PROTOCOL.md 3.10: DONE carries "files committed"; settled (n) or committed
    # without the failed ones (n - failures) are both readings of it.
    if done[0] not in (n, n - len(failures)) or done[1] != 0:
        errors.append("DONE %s, expected files %u or %u and status 0"
                      % (done, n, n - len(failures)))
    if errors:
        fail("; ".join(errors))
    print("hostile_session: every outcome as expected")


if __name__ == "__main__":
    main()
