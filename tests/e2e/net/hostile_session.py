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
caller checks the volume and OUTSIDE. On the way, two frames the appliance must not take:
an FLIST sent before the HELLO_ACK was acknowledged (drops.unconfirmed) and a PING
numbered 2^64-1 (drops.pn_ahead: taken, it would make every later frame a duplicate).

Other sessions, each a case of its own (docs/PROTOCOL.md 6.1, docs/ENGINE.md):
    cap SRC DST N          N sessions from SRC are served, the next HELLO is refused BUSY
                           (session.max_sessions_per_peer = N), then all are aborted
    idreuse SRC2 SRC DST   a second allowed address opens a session under the id of one
                           from SRC and pushes its own f.txt first: each session commits
                           its own file (idreuse/v/f.txt "victim", idreuse/a/f.txt
                           "hacker"); the second address never writes into the first's
    rehello SRC DST        a session pushes a file and ends; its HELLO then comes again,
                           as sent and rebuilt: nothing answered, nothing opened
    lastmore SRC DST       FLIST LAST below an entry already seen (in one burst, or
                           after a settled entry), or entries at or above a LAST total
                           (after it): each session gets ABORT(PROTOCOL)
    refused SRC DST IFACE  a HELLO from SRC, outside the allowlist, is refused without an
                           ARP request for SRC (watched on IFACE); with keys, in silence
And the attacks on the keys (docs/SECURITY.md 1), with xfsec.py:
    replay IFACE DST SECS  frames to DST captured on IFACE for SECS seconds, sent again
    nokey SRC DST          an allowed address without the key: version-1 HELLO, HELLO in
                           clear, made-up message 1, wrong static key, frames of no
                           session: nothing answered
    wrongpsk SRC DST       the right static key, another PSK: nothing verifies either way
    flips SRC DST          every byte of a sealed FLIST flipped: none decided or acked
    rekeydest SRC DST      a keyed session's new handshakes (docs/PROTOCOL.md 6.13)
                           naming another destination, another volume, added filter
                           rules and a deletion: unanswered (drops.hs_rekey_changed); one naming the
                           same destination: answered under the new keys
Each prints, as its last line, a JSON object of what the appliance must count for it.
With XF_HS_KEY, XF_HS_PEER_PUB and XF_HS_PSK in the environment the peer holds keys and
speaks session.security aead; without, frames go in clear (session.security none).

    hostile_session.py [traps] SRC_IP DST_IP OUTSIDE
    pull SRC SRC2 DST NAME a PULL from SRC (no peers[].allow_pull there), one malformed,
                           one from SRC2 (allowed to pull) of a source outside
                           control.push_roots: each ABORT(REFUSED) with its reason; and a
                           PULL HELLO in clear: not answered (docs/PROTOCOL.md 6.18)

    hostile_session.py cap|idreuse|lastmore|refused|replay|nokey|wrongpsk|flips|rehello|pull|rekeydest ARGS...
"""
import base64
import json
import os
import random
import socket
import struct
import sys
import time

import xfsec

HELLO, HELLO_ACK, FLIST, DECISION, SIG, DATA, COPY, FILE_END, COMMIT, ACK, DONE, ABORT, PING = \
    range(1, 14)
F_NOACK, F_REPLY, F_ACKNOW = 0x1, 0x2, 0x4
F_PULL = 0x1000  # HELLO flag: a pull request in dest (docs/PROTOCOL.md 3.1.2)
WHOLE, REFUSED = 2, 4
ST_BAD_PATH, ST_CHECKSUM, ST_SIZE = 1, 5, 6
ABORT_REFUSED, ABORT_BUSY, ABORT_CANCEL, ABORT_PROTOCOL = 2, 3, 6, 7
PORT = 7010
VERSION = 2
# What the appliance must count for this run (printed last, as JSON).
counts = {"hello_peer_cap": 0, "hello_not_allowed": 0, "unconfirmed": 0, "pn_ahead": 0,
          "sessions": 0, "hello_ended": 0}


def sec_from_env():
    """The keys this peer holds (session.security aead), from XF_HS_KEY (its private key
    file), XF_HS_PEER_PUB (the appliance's public key, base64) and XF_HS_PSK (a PSK file,
    optional); None without XF_HS_KEY: frames in clear (session.security none)."""
    if not os.environ.get("XF_HS_KEY"):
        return None
    psk = os.environ.get("XF_HS_PSK")
    return {"s": xfsec.read_key(os.environ["XF_HS_KEY"]),
            "rs": base64.b64decode(os.environ["XF_HS_PEER_PUB"]),
            "psk": xfsec.read_key(psk) if psk else None}


SEC = sec_from_env()


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
    def __init__(self, src, dst, sid=None, sec=None):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, 0))
        self.dst = (dst, PORT)
        self.sid = sid if sid is not None else random.randrange(1, 1 << 32)
        self.pn = 0
        self.got = set()  # packet numbers received (to acknowledge)
        self.acked = set()  # our packet numbers the peer acknowledged
        self.aborted = None  # the appliance's ABORT code
        self.sec = SEC if sec is None else sec  # keys held ({} : none, frames in clear)
        self.ini = xfsec.Initiator(self.sec["s"], self.sec["rs"],
                                   self.sec["psk"]) if self.sec else None
        self.keys = None  # transport keys, once the HELLO_ACK verified
        self.sent = []  # every datagram sent (for replays)
        self.unopened = 0  # frames of the session that did not verify here

    def raw(self, data):
        self.s.sendto(data, self.dst)
        self.sent.append(data)

    def send(self, typ, payload=b"", flags=0, pn=None):
        if pn is None:
            pn = self.pn
            self.pn += 1
        fields = (0x5846, VERSION, typ, flags, len(payload), self.sid, 0, pn)
        if self.keys is not None and typ != HELLO:
            self.raw(self.keys.seal(fields, payload))
        else:
            self.raw(struct.pack(">HBBHHIIQ", *fields) + payload)
        return pn

    def hello_body(self, dest, nonce, max_payload=1456, flags=0):
        """A HELLO's payload: with keys, AEAD asked and Noise message 1, whose payload
        holds dest (none of it in clear); without, dest in clear."""
        if not self.ini:
            return struct.pack(">HHHHIIQHH", VERSION, VERSION, max_payload, 0, 0, flags, nonce,
                               len(dest), 0) + dest
        m1 = self.ini.msg1(self.sid, flags, max_payload, time.time_ns(), dest)
        return struct.pack(">HHHHIIQHH", VERSION, VERSION, max_payload, 0, 0, xfsec.CLEAR,
                           nonce, 0, len(m1)) + m1

    def hello(self, dest, deadline, ack=True, flags=0):
        """HELLO, again until answered. Returns (status, window); acknowledges an
        acceptance unless ack is False."""
        nonce = random.randrange(1 << 64)
        body = self.hello_body(dest, nonce, flags=flags)
        while True:
            if time.monotonic() > deadline:
                fail("session %08x: no HELLO_ACK" % self.sid)
            self.send(HELLO, body)
            while (f := self.recv(0.5)) is not None:
                if f[0] != HELLO_ACK:
                    continue
                status, window = struct.unpack(">HI", f[2][6:12])
                if struct.unpack(">Q", f[2][16:24])[0] != nonce:
                    fail("session %08x: HELLO_ACK with a wrong nonce" % self.sid)
                if status == 0:
                    counts["sessions"] += 1
                    if ack:
                        self.ack()
                return status, window

    def abort(self, code):
        self.send(ABORT, struct.pack(">HH", code, 0))

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
            if self.ini is None:
                payload = data[24:]
            else:
                if self.keys is None and typ == HELLO_ACK and len(data) == 24 + 28 + 76 + 16:
                    self.keys = self.ini.finish(data[52:128])
                payload = self.keys.open(data) if self.keys is not None else None
                if payload is None:
                    self.unopened += 1
                    continue  # not for us: nothing that does not verify is read
            if typ == ACK:
                largest, _, count, _ = struct.unpack(">QIHH", payload[:16])
                for i in range(count):
                    f, l = struct.unpack(">QQ", payload[16 + 16 * i:32 + 16 * i])
                    self.acked.update(range(f, l + 1))
            elif not flags & F_NOACK:
                self.got.add(pn)
            if typ == ABORT:
                self.aborted = struct.unpack(">H", payload[:2])[0]
            return typ, flags, payload

    def recv_raw(self, timeout):
        """Any datagram for this session, verified or not (bytes), or None on timeout."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(65536)
        except socket.timeout:
            return None

    def quiet(self, timeout=1.0):
        """Acknowledge what the appliance still sends until it has gone quiet."""
        while self.recv(timeout) is not None:
            self.ack()


def commit_parse(payload, failures):
    """A COMMIT's failures into failures (file: status); returns its committed count."""
    committed, credit, count = struct.unpack(">IIH", payload[:10])
    for i in range(count):
        file, st = struct.unpack(">IH", payload[12 + 8 * i:18 + 8 * i])
        failures[file] = st
    return committed


def fail(msg):
    print("hostile_session: " + msg, file=sys.stderr)
    sys.exit(1)


def traps(src, dst, outside):
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
    deadline = time.monotonic() + 20

    # Handshake; the HELLO_ACK is not acknowledged yet, so an FLIST now is not taken.
    status, window = ss.hello(b"hs", deadline, ack=False)
    if status != 0:
        fail("HELLO_ACK status %u (expected 0)" % status)
    if window < n:
        fail("window %u < %u entries" % (window, n))
    flist = struct.pack(">IHH", 0, n, 1) + b"".join(entries)
    early_pn = ss.send(FLIST, flist)
    counts["unconfirmed"] += 1
    ss.ack()

    # The list, then every decision (FLIST again until acknowledged).
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
    # A frame numbered 2^64-1 (as a spoofer would send it) is refused: taken, it would
    # make every later frame of this session a duplicate, and the session would stall.
    ss.send(PING, pn=(1 << 64) - 1)
    counts["pn_ahead"] += 1
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
                committed = max(committed, commit_parse(f[2], failures))
            elif f[0] == DONE:
                done = struct.unpack(">II", f[2][:8])
        ss.ack()
    print("hostile_session: committed %u, failures %s, DONE %s" % (committed, failures, done))
    ss.send(DONE, struct.pack(">II", n, 0))
    # Acknowledge what the appliance still sends until it has gone quiet (closed).
    ss.quiet()

    errors = []
    for pn, what in ((early_pn, "the FLIST sent before the HELLO_ACK was acknowledged"),
                     ((1 << 64) - 1, "the PING numbered 2^64-1")):
        if pn in ss.acked:
            errors.append("%s was acknowledged" % what)
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


def cap(src, dst, n):
    """n sessions from one address are served; one more is refused BUSY."""
    deadline = time.monotonic() + 20
    held = []
    for i in range(n):
        ss = Session(src, dst)
        status, _ = ss.hello(b"cap", deadline)
        if status != 0:
            fail("cap: session %d of %d refused (status %u)" % (i + 1, n, status))
        held.append(ss)
    extra = Session(src, dst)
    if extra.sec:
        # Refused in silence: with AEAD nothing is said before a session has keys.
        counts["hello_peer_cap"] += unanswered(extra, extra.hello_body(b"cap", 1), "cap")
    else:
        status, _ = extra.hello(b"cap", deadline)
        if status != ABORT_BUSY:
            fail("cap: session %d accepted (status %u), expected BUSY" % (n + 1, status))
        counts["hello_peer_cap"] += 1
    for ss in held:
        ss.abort(ABORT_CANCEL)
    print("hostile_session: cap: %d sessions served, the next refused BUSY" % n)


def push_one(ss, index, name, data, deadline):
    """FLIST entry index (a file of data), its DATA and FILE_END, until the file is
    settled; returns its failure status (None if committed)."""
    fl = struct.pack(">IHH", index, 1, 0) + entry(name, size=len(data))
    parts = {FLIST: fl,
             DATA: struct.pack(">IIQ", index, 0, 0) + data,
             FILE_END: struct.pack(">IIQQ", index, 0, len(data), crc64(data))}
    sent = {}
    committed, failures = 0, {}
    step = FLIST
    while committed <= index:
        if time.monotonic() > deadline:
            fail("session %08x: entry %u not settled (step %u; sent up to pn %u, acked %s, "
                 "%u frames did not verify here)" % (ss.sid, index, step, ss.pn,
                                                     sorted(ss.acked)[-5:], ss.unopened))
        if ss.aborted is not None:
            fail("session %08x: aborted by the appliance (code %u)" % (ss.sid, ss.aborted))
        if sent.get(step) is None or sent[step] not in ss.acked:
            sent[step] = ss.send(step, parts[step])
        while (f := ss.recv(0.2)) is not None:
            if f[0] == DECISION and step == FLIST:
                file, dec = struct.unpack(">IB", f[2][4:9])
                if file == index and dec != WHOLE:
                    fail("session %08x: entry %u decided %u" % (ss.sid, index, dec))
                if file == index:
                    step = DATA
            elif f[0] == COMMIT:
                committed = max(committed, commit_parse(f[2], failures))
        if step == DATA and sent.get(DATA) in ss.acked:
            step = FILE_END
        ss.ack()
    return failures.get(index)


def finish(ss, n, deadline):
    """FLIST LAST for n entries, then DONE both ways."""
    pn = None
    while ss.aborted is None:
        if time.monotonic() > deadline:
            fail("session %08x: no DONE" % ss.sid)
        if pn is None or pn not in ss.acked:
            pn = ss.send(FLIST, struct.pack(">IHH", n, 0, 1))
        done = False
        while (f := ss.recv(0.2)) is not None:
            done |= f[0] == DONE
        ss.ack()
        if done:
            break
    if ss.aborted is not None:
        fail("session %08x: aborted by the appliance (code %u)" % (ss.sid, ss.aborted))
    ss.send(DONE, struct.pack(">II", n, 0))
    ss.quiet()


def idreuse(src2, src, dst):
    """A session from src2 under the id of a session from src: each is its own."""
    deadline = time.monotonic() + 30
    victim = Session(src, dst)
    attacker = Session(src2, dst, sid=victim.sid)
    for ss, dest in ((victim, b"idreuse/v"), (attacker, b"idreuse/a")):
        status, _ = ss.hello(dest, deadline)
        if status != 0:
            fail("idreuse: HELLO to %s refused (status %u)" % (dest.decode(), status))
    # The second address pushes its f.txt first, to its end: with sessions found by id
    # alone it would land in the first session (opened first). Paths carry the
    # destination, as a sender's do.
    if push_one(attacker, 0, "idreuse/a/f.txt", b"hacker", deadline) is not None:
        fail("idreuse: the second address's f.txt failed in its own session")
    if push_one(victim, 0, "idreuse/v/f.txt", b"victim", deadline) is not None:
        fail("idreuse: the first address's f.txt failed")
    finish(attacker, 1, deadline)
    finish(victim, 1, deadline)
    print("hostile_session: idreuse: both sessions under id %08x committed their own file"
          % victim.sid)


def rehello(src, dst):
    """A session pushes a file and ends; then its HELLO comes again, the same bytes and
    a new one (a fresh message 1, as a sender that rebuilt it would send) under its id:
    neither opens it anew (drops.hello_ended), nothing is answered."""
    deadline = time.monotonic() + 30
    ss = Session(src, dst)
    status, _ = ss.hello(b"rehello", deadline)
    if status != 0:
        fail("rehello: HELLO refused (status %u)" % status)
    first = ss.sent[0]
    if push_one(ss, 0, "rehello/f.txt", b"once", deadline) is not None:
        fail("rehello: f.txt failed")
    finish(ss, 1, deadline)
    # Until the appliance has ended the session: a PING it no longer acknowledges.
    while True:
        if time.monotonic() > deadline:
            fail("rehello: the session never ended")
        pn = ss.send(PING)
        while (f := ss.recv(0.2)) is not None and pn not in ss.acked:
            pass
        if pn not in ss.acked:
            counts["no_session"] = counts.get("no_session", 0) + 1
            break
    ss.raw(first)
    ss.send(HELLO, ss.hello_body(b"rehello", random.randrange(1 << 64)))
    if (f := ss.recv(1.0)) is not None:
        fail("rehello: the appliance answered a HELLO of an ended session (type %u)" % f[0])
    counts["hello_ended"] += 2
    print("hostile_session: rehello: session %08x ended; its HELLO twice again, unanswered"
          % ss.sid)


def lastmore(src, dst):
    """FLIST LAST whose total is below an entry already seen: ABORT(PROTOCOL)."""
    deadline = time.monotonic() + 30
    bursts = [
        # {directory d, file d/a}, then LAST (first_index 0, count 0) in one burst
        [struct.pack(">IHH", 0, 2, 0) + entry("d", kind=2, mode=0o755)
         + entry("d/a", size=5),
         struct.pack(">IHH", 0, 0, 1)],
        # entry 0 a bad path (settles at once), entries 1..3, then LAST (1, 0)
        [struct.pack(">IHH", 0, 4, 0) + entry("../x", size=1) + entry("m1", size=5)
         + entry("m2", size=5) + entry("m3", size=5),
         struct.pack(">IHH", 1, 0, 1)],
        # LAST (1, 0) first, then entries 0..2: two at or above the total
        [struct.pack(">IHH", 1, 0, 1),
         struct.pack(">IHH", 0, 3, 0) + entry("n0", size=1) + entry("n1", size=1)
         + entry("n2", size=1)],
    ]
    sessions = [Session(src, dst) for _ in bursts]
    for k, ss in enumerate(sessions):
        status, _ = ss.hello(b"lastmore%d" % k, deadline)
        if status != 0:
            fail("lastmore: HELLO refused (status %u)" % status)
    for k, frames in enumerate(bursts):
        ss = sessions[k]
        pns = [ss.send(FLIST, f) for f in frames]
        while ss.aborted is None:
            if time.monotonic() > deadline:
                fail("lastmore %d: no ABORT(PROTOCOL) from the appliance" % k)
            while (f := ss.recv(0.2)) is not None:
                pass
            ss.ack()
            for i, pn in enumerate(pns):
                if pn not in ss.acked and ss.aborted is None:
                    pns[i] = ss.send(FLIST, frames[i])
        if ss.aborted != ABORT_PROTOCOL:
            fail("lastmore %d: ABORT code %u, expected PROTOCOL" % (k, ss.aborted))
        ss.quiet(0.5)
    # Each abort is the receive pipeline's own, counted once in its volume's
    # pipeline_proto_aborts and pipeline_proto_err (docs/CONTROL.md).
    counts["pipeline_proto_aborts"] = len(bursts)
    counts["min"] = {"pipeline_proto_err": len(bursts)}
    print("hostile_session: lastmore: every sequence ended with ABORT(PROTOCOL)")


def refused(src, dst, iface):
    """A HELLO from outside the allowlist: refused, and no ARP request for src."""
    arp = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    arp.bind((iface, 0))
    arp.setblocking(False)
    deadline = time.monotonic() + 20
    ss = Session(src, dst)
    nonce = random.randrange(1 << 64)
    body = ss.hello_body(b"", nonce)
    status = None if not ss.sec else ABORT_REFUSED
    if ss.sec:
        counts["hello_not_allowed"] += unanswered(ss, body, "refused")
    while status is None:
        if time.monotonic() > deadline:
            fail("refused: no HELLO_ACK")
        ss.send(HELLO, body)
        counts["hello_not_allowed"] += 1
        while (f := ss.recv(0.5)) is not None:
            if f[0] == HELLO_ACK:
                status = struct.unpack(">H", f[2][6:8])[0]
                break
    if status != ABORT_REFUSED:
        fail("refused: HELLO_ACK status %u, expected REFUSED" % status)
    # An ARP request for src would have gone out before the refusal (the refusal waited
    # for its answer): everything it could be is in the socket's queue now.
    target = socket.inet_aton(src)
    while True:
        try:
            fr = arp.recv(2048)
        except BlockingIOError:
            break
        if len(fr) >= 42 and fr[20:22] == b"\x00\x01" and fr[38:42] == target:
            fail("refused: the appliance sent an ARP request for %s" % src)
    print("hostile_session: refused: HELLO from %s refused without ARP" % src)


def unanswered(ss, body, what, tries=3, typ=HELLO):
    """Send body (a HELLO) tries times; nothing may come back. Returns tries."""
    for _ in range(tries):
        ss.send(typ, body)
        if (f := ss.recv_raw(0.4)) is not None:
            fail("%s: the appliance answered (%d bytes)" % (what, len(f)))
    return tries


def nokey(src, dst):
    """An allowed address without the key: a version-1 HELLO, a HELLO in clear, one with
    a made-up message 1, one with a valid mac1 but a static key the appliance does not
    know, one whose sealed destination field was changed on the way, and frames of a
    session that does not exist. Nothing answers, all counted."""
    ss = Session(src, dst, sec={})
    old = struct.pack(">HHHHIIQHH", 1, 1, 1472, 0, 0, 0, 1, 0, 0)
    v1 = struct.pack(">HBBHHIIQ", 0x5846, 1, HELLO, 0, len(old), ss.sid, 0, 0) + old
    for _ in range(3):
        ss.raw(v1)
        if ss.recv_raw(0.4) is not None:
            fail("nokey: a version-1 HELLO was answered")
    counts["bad_frames"] = counts.get("bad_frames", 0) + 3
    counts["hs_mode"] = counts.get("hs_mode", 0) + unanswered(
        ss, ss.hello_body(b"nk", 2), "nokey: HELLO in clear")
    body = struct.pack(">HHHHIIQHH", VERSION, VERSION, 1456, 0, 0,
                       xfsec.CLEAR, 3, 0,
                       xfsec.MSG1_LEN) + os.urandom(xfsec.MSG1_LEN)
    counts["hs_bad_mac"] = counts.get("hs_bad_mac", 0) + unanswered(
        ss, body, "nokey: made-up message 1")
    # A key of its own (a wrong static key): mac1 passes (the appliance's public key is
    # public), the handshake finds no such peer.
    wrong = Session(src, dst, sec={"s": xfsec.new_key(), "rs": SEC["rs"], "psk": SEC["psk"]})
    counts["hs_no_key"] = counts.get("hs_no_key", 0) + unanswered(
        wrong, wrong.hello_body(b"nk", 4), "nokey: wrong static key", tries=1)
    # The right keys, one byte of message 1's encrypted destination field changed on the
    # way and mac1 made again (the appliance's public key is public): the handshake fails
    # on message 1's tag (hs_failed), nothing answers, nothing is written under nk/.
    keyed = Session(src, dst)
    body = bytearray(keyed.hello_body(b"nk/tampered", 6))
    body[28 + 88 + 12 + 2] ^= 1
    body[-32:-16] = xfsec.mac(xfsec.sha(b"mac1----", SEC["rs"]), bytes(body[28:-32]))[:16]
    counts["hs_failed"] = counts.get("hs_failed", 0) + unanswered(
        keyed, bytes(body), "nokey: destination field changed", tries=1)
    # The right keys, message 1 intact, its sealed block not of its form (cut inside its
    # fixed part; padding that is not zeros; a field's length that claims one byte past the
    # padding, or the most a u16 says): the handshake thread refuses it (hs_failed).
    for what, block in (("cut short", xfsec.sealed_block(0, 0, b"nk/cut")[:8]),
                        ("nonzero padding", xfsec.sealed_block(0, 0, b"nk/pad")[:-1] + b"x"),
                        ("length past the padding",
                         xfsec.sealed_block(0, 0, b"nk/long", field_len=xfsec.BLOCK - 10 + 1)),
                        ("length 65535", xfsec.sealed_block(0, 0, b"nk/long", field_len=65535))):
        cut = Session(src, dst)
        m1 = cut.ini.msg1(cut.sid, 0, 1456, time.time_ns(), block=block)
        body = struct.pack(">HHHHIIQHH", VERSION, VERSION, 1456, 0, 0, xfsec.CLEAR, 7, 0,
                           len(m1)) + m1
        counts["hs_failed"] += unanswered(cut, body, "nokey: sealed block " + what, tries=1)
    for typ, payload in ((FLIST, struct.pack(">IHH", 0, 1, 1) + entry("nk/f", size=1)),
                         (DATA, struct.pack(">IIQ", 0, 0, 0) + b"x"), (PING, b"")):
        ss.send(typ, payload)
        counts["no_session"] = counts.get("no_session", 0) + 1
    if ss.recv_raw(0.5) is not None:
        fail("nokey: frames of no session were answered")
    print("hostile_session: nokey: nothing answered, nothing written")


def rekeydest(src, dst):
    """A session of a keyed peer into rk/a, confirmed; then new handshakes of it (a
    fresh message 1 in a HELLO of the session, as a push sends every
    session.rekey_after_ms) whose sealed destination field names rk/b, another volume, or
    rk/a with a filter rule added (its flags too): the appliance refuses each unanswered
    (drops.hs_rekey_changed). One that names rk/a again is answered, with message 2 in a
    HELLO_ACK sealed under the new handshake's keys: so the refusals were for what they
    asked. The session then ends by our ABORT, under the keys it has."""
    deadline = time.monotonic() + 30
    ss = Session(src, dst)
    status, _ = ss.hello(b"rk/a", deadline)
    if status != 0:
        fail("rekeydest: HELLO refused (status %u)" % status)
    # Confirmed once our ACK of the HELLO_ACK is in: a PING acknowledged says so.
    while True:
        if time.monotonic() > deadline:
            fail("rekeydest: the session was never confirmed")
        pn = ss.send(PING, flags=F_ACKNOW)
        while ss.recv(0.2) is not None and pn not in ss.acked:
            pass
        if pn in ss.acked:
            break

    def rekey(dest, flags=0, wait=0.8):
        """A new handshake's HELLO for dest; the keys of its answer within wait
        seconds, or None (the handshake thread answers in milliseconds)."""
        ini = xfsec.Initiator(SEC["s"], SEC["rs"], SEC["psk"])
        nonce = random.randrange(1 << 64)
        m1 = ini.msg1(ss.sid, flags, 1456, time.time_ns(), dest)
        ss.send(HELLO, struct.pack(">HHHHIIQHH", VERSION, VERSION, 1456, 0, 0, xfsec.CLEAR,
                                   nonce, 0, len(m1)) + m1)
        end = time.monotonic() + wait
        while (left := end - time.monotonic()) > 0:
            data = ss.recv_raw(left)
            if data is None:
                break
            typ, sid = data[3], struct.unpack(">I", data[8:12])[0]
            if typ != HELLO_ACK or sid != ss.sid or len(data) != 24 + 28 + 76 + 16:
                continue  # the session's own traffic (ACKs of our PINGs)
            keys = ini.finish(data[52:128])
            if keys is None or keys.open(data) is None:
                fail("rekeydest: a HELLO_ACK that does not verify under the new keys")
            if struct.unpack(">Q", keys.open(data)[16:24])[0] != nonce:
                fail("rekeydest: a HELLO_ACK with a wrong nonce")
            return keys
        return None

    refused = 0
    for dest, flags, what in ((b"rk/b", 0, "another destination"),
                              (b"other/rk/a", 0x8, "another volume"),
                              (b"rk/a\0- *.x\n", 0x10004, "a deletion with filter rules")):
        if rekey(dest, flags) is not None:
            fail("rekeydest: a new handshake naming %s was answered" % what)
        refused += 1
    if rekey(b"rk/a", wait=5.0) is None:
        fail("rekeydest: a new handshake naming the same destination was not answered")
    ss.abort(ABORT_CANCEL)
    counts["hs_rekey_changed"] = counts.get("hs_rekey_changed", 0) + refused
    print("hostile_session: rekeydest: %d new handshakes naming another destination "
          "unanswered, the same one answered" % refused)


def pull_refused(src, dst, request, reason, text):
    """A keyed PULL HELLO: the session opens (the handshake authenticated the request),
    and ends in ABORT(REFUSED) whose text names the reason; we then abort it."""
    ss = Session(src, dst)
    status, _ = ss.hello(request, time.monotonic() + 10, flags=F_PULL)
    if status != 0:
        fail("pull %s: HELLO_ACK status %d" % (reason, status))
    deadline = time.monotonic() + 10
    while ss.aborted is None:
        if time.monotonic() > deadline:
            fail("pull %s: no ABORT" % reason)
        if (f := ss.recv(0.5)) is not None and f[0] != ABORT:
            ss.ack()
        elif f is not None:
            code, n = struct.unpack(">HH", f[2][:4])
            msg = f[2][4:4 + n].decode()
            want = "pull refused (%s): %s" % (reason, text)
            if code != ABORT_REFUSED or not msg.startswith(want):
                fail("pull %s: ABORT %d '%s', want REFUSED '%s...'" % (reason, code, msg, want))
    ss.abort(ABORT_CANCEL)
    counts["pull_" + reason] = counts.get("pull_" + reason, 0) + 1
    print("hostile_session: pull %s: refused as '%s'" % (reason, msg))


def pull(src, src_allowed, dst, name):
    """Pulls (docs/PROTOCOL.md 6.18) that must be refused, each with its reason: from a
    peer without peers[].allow_pull; a malformed request (judged before the allowlist's
    permission); from a peer allowed to pull, a source outside control.push_roots; and a
    PULL HELLO in clear, without the handshake: not answered at all, nothing judged."""
    pull_refused(src, dst, b"/etc\0pulled", "not_allowed",
                 "this peer may not pull from %s (peers[].allow_pull)" % name)
    pull_refused(src, dst, b"/etc", "bad_request", "malformed")
    pull_refused(src, dst, b"/etc/../x\0pulled", "bad_request", "malformed")
    pull_refused(src_allowed, dst, b"/etc\0pulled", "outside_roots",
                 "'/etc' is not beneath control.push_roots of %s" % name)
    ss = Session(src, dst, sec={})
    counts["hs_mode"] = counts.get("hs_mode", 0) + unanswered(
        ss, ss.hello_body(b"/etc\0pulled", 5, flags=F_PULL), "pull: PULL HELLO in clear")


def wrongpsk(src, dst):
    """The right static key with another PSK: the appliance answers (the PSK enters at
    message 2), but nothing of either side verifies at the other: its HELLO_ACK does not
    open here, our frames sealed with the keys we derive are dropped there, and its
    session times out."""
    sec = dict(SEC, psk=xfsec.new_key())
    ss = Session(src, dst, sec=sec)
    ss.send(HELLO, ss.hello_body(b"wp", 5))
    deadline = time.monotonic() + 10
    while (f := ss.recv_raw(0.5)) is None or f[3] != HELLO_ACK:
        if time.monotonic() > deadline:
            fail("wrongpsk: no HELLO_ACK (the PSK is not checked before message 2)")
    if ss.ini.finish(f[52:128]) is not None:
        fail("wrongpsk: message 2 verified with another PSK")
    counts["sessions"] += 1
    counts["timed_out"] = counts.get("timed_out", 0) + 1
    # The keys this side derives (finish() above consumed the handshake state: again).
    ss.ini.st = ss.ini.st_after_msg1
    ss.keys = ss.ini.finish(f[52:128], verify=False)
    for k in range(5):
        ss.send(FLIST, struct.pack(">IHH", 0, 1, 1) + entry("wp/f%d" % k, size=1))
    # The appliance's own frames (its HELLO_ACK again, an ACK of the HELLO, probes) do
    # not open here; that ours did not open there is in its counters (auth_failed) and
    # in its volume (no wp/).
    counts["auth_failed"] = counts.get("auth_failed", 0) + 5
    while (f := ss.recv_raw(0.5)) is not None:
        if ss.keys.open(f) is not None:
            fail("wrongpsk: a frame of the appliance opened with the wrong PSK's keys")
    print("hostile_session: wrongpsk: no frame verified either way")


def flips(src, dst):
    """Every byte of a sealed FLIST frame flipped in turn (one bit each): none is
    acknowledged or decided; the genuine frame then is, and its file commits."""
    deadline = time.monotonic() + 30
    ss = Session(src, dst)
    status, _ = ss.hello(b"fl", deadline)
    if status != 0:
        fail("flips: HELLO refused (status %u)" % status)
    ss.quiet(0.3)
    data = b"flipped"
    fl = struct.pack(">IHH", 0, 1, 0) + entry("fl/f.txt", size=len(data))
    pn = ss.pn
    ss.pn += 1
    genuine = ss.keys.seal((0x5846, VERSION, FLIST, 0, 0, ss.sid, 0, pn), fl)
    # Where each flip is dropped (docs/PROTOCOL.md 2.1, 5): magic, version, the flags'
    # reserved bits (and REDO, which an FLIST may not carry), len and the reserved word by
    # the codec; a changed session id as no session; a packet number moved more than 8192
    # ahead before the tag is tried; every other byte (type, key phase, payload, tag) by
    # the tag.
    for i in range(len(genuine)):
        bad = bytearray(genuine)
        bad[i] ^= 1 << (i % 8)
        ss.raw(bytes(bad))
        pn_delta = (1 << (i % 8)) << (8 * (23 - i)) if 16 <= i < 24 else 0
        why = ("bad_frames" if i in (0, 1, 2, 6, 7) or 12 <= i < 16
               or (i in (4, 5) and (bad[4] << 8 | bad[5]) & ~0xDF)
               else "no_session" if 8 <= i < 12
               else "pn_ahead" if pn_delta > 8192
               else "auth_failed")
        counts[why] = counts.get(why, 0) + 1
    # Then a genuine PING asking for an ACK at once. The appliance reads the one queue
    # these frames arrive on in order, so the ACK that covers the PING was built after it
    # had judged every flipped frame: had one been taken, its number would be in that ACK.
    # (Waiting for the appliance to go quiet instead would never end in time: it sends an
    # ACK every session.keepalive_ms, and its idle timer ends the session meanwhile.)
    ping = ss.send(PING, flags=F_ACKNOW)
    while ping not in ss.acked:
        if time.monotonic() > deadline:
            fail("flips: the PING after the flipped frames was never acknowledged")
        if (f := ss.recv(0.5)) is None:
            ping = ss.send(PING, flags=F_ACKNOW)  # lost: again, under a new number
        elif f[0] == DECISION:
            fail("flips: a flipped FLIST was decided")
    if pn in ss.acked:
        fail("flips: a flipped FLIST was acknowledged")
    if push_one(ss, 0, "fl/f.txt", data, deadline) is not None:
        fail("flips: the genuine file failed")
    finish(ss, 1, deadline)
    print("hostile_session: flips: %d flipped frames dropped, the genuine one taken"
          % len(genuine))


def replay(iface, dst, seconds):
    """Frames on their way to dst (a legitimate push among them) captured on iface (the
    bridge port towards dst: it sees forwarded frames) for seconds, then sent again on it
    as they were: each is a replay the appliance must drop (a
    duplicate packet number, or a session that has ended). Prints how many."""
    # ETH_P_ALL: only such a tap sees the frames the bridge sends out of this port.
    cap_s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    cap_s.bind((iface, 0))
    target = socket.inet_aton(dst)
    frames = []
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        cap_s.settimeout(max(end - time.monotonic(), 0.01))
        try:
            fr = cap_s.recv(65536)
        except socket.timeout:
            break
        # IPv4/UDP to dst port 7010, xferd version 2, not a HELLO (in clear: its own case)
        if (len(fr) >= 42 + 24 and fr[23] == 17 and fr[30:34] == target
                and struct.unpack(">H", fr[36:38])[0] == PORT and fr[44] == VERSION
                and fr[45] != HELLO):
            frames.append(fr)
    if not frames:
        fail("replay: nothing captured")
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out.bind((iface, 0))
    # Paced (about 2000 frames/s), as hostile.py: every frame must reach the classifier
    # to be counted, beside the push the appliance serves meanwhile.
    for fr in frames:
        out.send(fr)
        time.sleep(0.0005)
    counts["replayed"] = len(frames)
    print("hostile_session: replay: %d captured frames sent again" % len(frames))


def main():
    args = sys.argv[1:]
    cases = {"traps": lambda a: traps(*a), "cap": lambda a: cap(a[0], a[1], int(a[2])),
             "idreuse": lambda a: idreuse(*a), "lastmore": lambda a: lastmore(*a),
             "refused": lambda a: refused(*a), "nokey": lambda a: nokey(*a),
             "wrongpsk": lambda a: wrongpsk(*a), "flips": lambda a: flips(*a),
             "replay": lambda a: replay(*a), "rehello": lambda a: rehello(*a),
             "pull": lambda a: pull(*a),
             "rekeydest": lambda a: rekeydest(*a)}
    case = args.pop(0) if args and args[0] in cases else "traps"
    cases[case](args)
    print(json.dumps(counts, sort_keys=True))

if __name__ == "__main__":
    main()
