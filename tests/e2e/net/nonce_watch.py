#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Watch sealed xferd frames on bridge ports and check that no nonce is used twice.

A sealed frame's nonce is its key's IV xor its packet number, and packet numbers only
grow in each direction of a session whatever key is in use (docs/SECURITY.md 4), so a
nonce reused would show as two different frames with one (direction, session, packet
number). Identical copies are duplicates (nftables dup, retransmission never makes one:
it takes a new number) and are counted apart. HELLOs (in clear, message 1 protects
itself) are left out of that, but those seen on the first port are counted with their
distinct ephemeral keys (each copy of a HELLO sent again carries a fresh message 1). Runs until SIGTERM, then prints one JSON object: frames seen, the
reused numbers (must be 0), duplicates, and the frames seen under each key epoch bit and
key phase bit per port (a new handshake flips the epoch bit, a key update the phase).
A port's socket sees the frames it forwards both ways; the REPLY flag gives the direction.

    nonce_watch.py IFACE...
"""
import hashlib
import json
import select
import signal
import socket
import struct
import sys

PORT = 7010
HELLO = 1
F_REPLY, F_KEY_PHASE, F_KEY_EPOCH = 0x2, 0x8, 0x10

stop = False


def on_term(*_):
    global stop
    stop = True


def main():
    signal.signal(signal.SIGTERM, on_term)
    socks = {}
    for iface in sys.argv[1:]:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((iface, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setblocking(False)
        socks[s.fileno()] = (iface, s)
    seen = {}  # (iface, sid, pn) -> digest
    hellos = []  # ephemeral keys of the HELLOs seen on the first port
    out = {"frames": 0, "reused": 0, "duplicates": 0,
           "bits": {i: {"epoch0": 0, "epoch1": 0, "phase0": 0, "phase1": 0}
                    for i in sys.argv[1:]}}
    print("nonce_watch: ready", flush=True)
    while not stop:
        try:
            ready, _, _ = select.select(list(socks), [], [], 0.2)
        except InterruptedError:
            continue
        for fd in ready:
            iface, s = socks[fd]
            while True:
                try:
                    fr = s.recv(65536)
                except BlockingIOError:
                    break
                # IPv4/UDP to or from port 7010, xferd version 2, not a HELLO
                if (len(fr) < 42 + 24 or fr[12:14] != b"\x08\x00" or fr[23] != 17
                        or PORT not in struct.unpack(">HH", fr[34:38])):
                    continue
                x = fr[42:]
                if x[0:2] != b"\x58\x46" or x[2] != 2:
                    continue
                if x[3] == HELLO:
                    # message 1 after the body and dest: type, index, then the ephemeral
                    if iface == sys.argv[1] and len(x) >= 24 + 28:
                        m1 = 24 + 28 + struct.unpack(">H", x[48:50])[0]
                        hellos.append(x[m1 + 8:m1 + 40].hex())
                    continue
                (flags,) = struct.unpack(">H", x[4:6])
                (sid,) = struct.unpack(">I", x[8:12])
                (pn,) = struct.unpack(">Q", x[16:24])
                out["frames"] += 1
                b = out["bits"][iface]
                b["epoch1" if flags & F_KEY_EPOCH else "epoch0"] += 1
                b["phase1" if flags & F_KEY_PHASE else "phase0"] += 1
                d = hashlib.blake2b(x, digest_size=16).digest()
                # Each port sees both directions: the responder's frames carry REPLY.
                key = (iface, sid, flags & F_REPLY, pn)
                if key in seen:
                    if seen[key] == d:
                        out["duplicates"] += 1
                    else:
                        out["reused"] += 1
                else:
                    seen[key] = d
    out["hellos"] = len(hellos)
    out["hello_ephemerals"] = len(set(hellos))
    print(json.dumps(out, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
