#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Send hostile UDP datagrams to an xferd appliance and print, as one JSON object, what
the appliance must count for them: drops by reason (the keys of `xferctl --json stats`
drops: frame_<reason>, net_<reason>, no_session, hello_refused, hello_not_allowed) and
bad_frames.

Each datagram is built so that exactly one reason of docs/PROTOCOL.md section 5 (the
first check that fails) or one session-layer drop applies. The appliance runs
session.security aead: a frame other than a HELLO whose header is well-formed is opened
with its session's keys before anything reads its payload, so hostile bodies for
sessions that do not exist count as no_session, not by the codec's reasons; HELLOs are
read in clear. HELLOs come from this host, which is not in the appliance's peer
allowlist: none may be answered (nothing is said in clear), each counted.

    hostile.py DST_IP [PORT]
"""
import json
import random
import socket
import struct
import sys
import time

MAGIC = 0x5846
HELLO, HELLO_ACK, FLIST, DECISION, SIG, DATA, COPY, FILE_END, COMMIT, ACK, DONE, ABORT, PING = \
    range(1, 14)
F_REPLY = 0x2
MTU_PAYLOAD = 1472  # 1500 - 20 (IPv4) - 8 (UDP)

rng = random.Random(20261126)
expect = {}
sent = []


def hdr(typ, payload_len, session=None, flags=0, version=2, magic=MAGIC, reserved=0, pn=None):
    if session is None:
        session = rng.randrange(1, 1 << 32)
    if pn is None:
        pn = rng.randrange(0, 1 << 64)
    return struct.pack(">HBBHHIIQ", magic, version, typ, flags, payload_len, session, reserved, pn)


def frame(typ, payload=b"", **kw):
    return hdr(typ, len(payload), **kw) + payload


def add(reason, datagram):
    sent.append(datagram)
    expect[reason] = expect.get(reason, 0) + 1


def flist_entry(path, kind=1, size=10, mode=0o644, target=b""):
    p = path.encode()
    return struct.pack(">BBHHHQq", kind, 0, len(p), len(target), mode, size, 0) + p + target


def hello_payload(dest=b"", min_v=2, max_v=2, max_payload=1472, nonce=0):
    return struct.pack(">HHHHIIQHH", min_v, max_v, max_payload, 0, 0, 0, nonce, len(dest), 0) + dest


def build():
    # 1. shorter than the 24-byte header, down to an empty datagram
    for n in range(0, 24):
        add("frame_short", bytes(rng.randrange(256) for _ in range(n)))
    # 2. random bytes (never starting with 'X', so never the magic), up to the MTU
    for n in [24, 25, 100, 511, 1000, 1471, MTU_PAYLOAD] + [rng.randrange(24, 1473) for _ in range(13)]:
        b = bytearray(rng.randbytes(n))
        b[0] = rng.choice([c for c in range(256) if c != 0x58])
        add("frame_magic", bytes(b))
    for m in (0x0000, 0x4658, 0x5847, 0xFFFF):  # near misses and byte-swapped
        add("frame_magic", frame(PING, magic=m))
    # 3. versions we do not speak (a HELLO too, version 1's among them: only counted)
    for v in (0, 1, 3, 255):
        add("frame_version", frame(PING, version=v))
        add("frame_version", frame(HELLO, hello_payload(), version=v))
    # 4. unknown types
    for t in (0, 14, 15, 128, 255):
        add("frame_type", frame(t))
    # 5. header len disagreeing with the datagram, including MTU-sized datagrams
    add("frame_length", hdr(PING, 5))
    add("frame_length", hdr(DATA, 0xFFFF) + rng.randbytes(MTU_PAYLOAD - 24))
    add("frame_length", hdr(DATA, 0) + rng.randbytes(MTU_PAYLOAD - 24))
    add("frame_length", hdr(DATA, MTU_PAYLOAD - 24 + 1) + rng.randbytes(MTU_PAYLOAD - 24))
    # 6. reserved header bits: flag bits 8..15 (0 NOACK, 1 REPLY, 2 ACKNOW, 3 KEY_PHASE,
    # 4 KEY_EPOCH, 5 REDO, 6 XATTR and 7 NAMES are defined), XATTR and NAMES off FLIST,
    # REDO off DATA, COPY and FILE_END, the reserved word
    for f in (0x20, 0x40, 0x80, 0x8000):
        add("frame_reserved", frame(PING, flags=f))
    add("frame_reserved", frame(PING, reserved=1))
    # 7. session id 0
    add("frame_field", frame(PING, session=0))
    # 8. truncated bodies
    # (bodies of frames other than HELLO, for no session: dropped before they are read)
    add("no_session", frame(DATA, b"\0" * 15))
    add("no_session", frame(FILE_END, b"\0" * 23))
    add("frame_truncated", frame(HELLO, hello_payload()[:27]))
    add("frame_truncated", frame(HELLO, hello_payload(b"x" * 100)[:-90]))  # dest_len 100, 10 bytes
    # 9. trailing bytes: an MTU-sized PING, a FILE_END with one byte too many
    add("no_session", frame(PING, rng.randbytes(MTU_PAYLOAD - 24)))
    add("no_session", frame(FILE_END, b"\0" * 25))
    add("frame_trailing", frame(HELLO, hello_payload() + b"\0"))
    # 10. reserved fields in the body: DATA's reserved u32
    add("no_session", frame(DATA, struct.pack(">IIQ", 1, 7, 0) + b"data"))
    add("frame_reserved", frame(HELLO, hello_payload()[:6] + b"\0\1" + hello_payload()[8:]))
    # 11. bad counts: DECISION 0 and over its limit, ACK 0, DATA without bytes
    add("no_session", frame(DECISION, struct.pack(">HH", 0, 0)))
    add("no_session", frame(DECISION, struct.pack(">HH", 560, 0)))
    add("no_session", frame(ACK, struct.pack(">QIHH", 5, 0, 0, 0)))
    add("no_session", frame(DATA, struct.pack(">IIQ", 1, 0, 0)))
    # 12. fields out of range: HELLO min_version 0, ABORT code 9, FLIST entry kind 7
    add("frame_field", frame(HELLO, hello_payload(min_v=0)))
    add("frame_field", frame(HELLO, hello_payload(max_payload=100)))
    add("no_session", frame(ABORT, struct.pack(">HH", 9, 0)))
    add("no_session", frame(FLIST, struct.pack(">IHH", 0, 1, 1) + flist_entry("x", kind=7)))
    # 13. inconsistent ranges: huge DATA offsets, COMMIT credit < committed
    add("no_session", frame(DATA, struct.pack(">IIQ", 1, 0, (1 << 63) - 1) + b"0123456789"))
    add("no_session", frame(DATA, struct.pack(">IIQ", 1, 0, (1 << 64) - 1) + b"0"))
    add("no_session", frame(COMMIT, struct.pack(">IIHH", 10, 5, 0, 0)))
    # Well-formed frames for sessions that do not exist: paths with '..', absolute
    # paths, huge offsets, FILE_END, DONE; with and without the reply flag.
    for path in ("../../etc/passwd", "a/../../b", "/etc/shadow", "ok/../..", ".."):
        add("no_session", frame(FLIST, struct.pack(">IHH", 0, 1, 1) + flist_entry(path)))
    add("no_session", frame(DATA, struct.pack(">IIQ", 7, 0, (1 << 62)) + rng.randbytes(1432)))
    add("no_session", frame(DATA, struct.pack(">IIQ", 0xFFFFFFFF, 0, 0) + b"x"))
    add("no_session", frame(FILE_END, struct.pack(">IIQQ", 3, 0, 1 << 40, 0)))
    add("no_session", frame(DONE, struct.pack(">II", 0, 0)))
    add("no_session", frame(PING))
    add("no_session", frame(COMMIT, struct.pack(">IIHH", 1, 2, 0, 0), flags=F_REPLY))
    add("no_session", frame(DECISION, struct.pack(">HHIBBHII", 1, 0, 0, 2, 0, 0, 0, 0),
                            flags=F_REPLY))


def main():
    dst = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 7010
    build()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rng.shuffle(sent)
    # Paced (about 2000 frames/s) so the appliance's RX ring never overflows while it
    # also serves a push: every frame must reach the classifier to be counted.
    for d in sent:
        s.sendto(d, (dst, port))
        time.sleep(0.0005)
    # To a UDP port past the lanes' (port .. port + 15, docs/ENGINE.md "Lanes"):
    # dropped by the network layer.
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5):
        other.sendto(frame(PING), (dst, port + 16))
        expect["net_udp_port"] = expect.get("net_udp_port", 0) + 1
    # To a lane's port, and not an answer to a push of B's (no REPLY flag): dropped
    # before the codec reads it, as no_session.
    for _ in range(5):
        other.sendto(frame(PING), (dst, port + 1))
        expect["no_session"] = expect.get("no_session", 0) + 1
    # A HELLO there never reaches the session table (else: hello_refused, not allowed).
    other.sendto(frame(HELLO, hello_payload(b"", nonce=rng.randrange(1 << 64))), (dst, port + 1))
    expect["no_session"] += 1
    # HELLOs from an address outside the allowlist, one with a hostile destination: not
    # one answered (a refusal in clear would answer strangers and could be forged), each
    # counted as refused for its reason (hello_not_allowed).
    s.settimeout(1.0)
    for dest in (b"", b"../../etc", b"in"):
        s.sendto(frame(HELLO, hello_payload(dest, nonce=rng.randrange(1 << 64))), (dst, port))
        expect["hello_refused"] = expect.get("hello_refused", 0) + 1
        expect["hello_not_allowed"] = expect.get("hello_not_allowed", 0) + 1
    try:
        data = s.recv(65536)
        print("a HELLO from outside the allowlist was answered (%d bytes)" % len(data),
              file=sys.stderr)
        sys.exit(1)
    except socket.timeout:
        pass
    expect["bad_frames"] = sum(v for k, v in expect.items() if k.startswith("frame_"))
    expect["sent"] = len(sent) + 11 + expect["hello_refused"]
    print(json.dumps(expect, sort_keys=True))


if __name__ == "__main__":
    main()
