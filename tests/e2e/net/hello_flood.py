#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A flood of HELLOs from an allowed address (docs/SECURITY.md 3), until STOPFILE exists
or SECONDS have passed. Each HELLO has its own session id and a made-up message 1:
three in four with a valid mac1 (the appliance's public key is public, so anyone can
compute it), which costs the appliance Diffie-Hellman work unless it is under load, one
in four with a wrong mac1. None carries a mac2, and the cookie replies that come back
are counted, checked for their shape, and never used.

It sends RATE HELLOs a second in bursts, and prints ready once the first burst is out,
then as its last line a JSON object: sent_mac1 (valid mac1), sent_bad (wrong mac1),
cookie_replies (HELLO_ACKs with a cookie reply), other (any other datagram: must be 0,
an appliance answers a HELLO it will not serve with nothing).

    hello_flood.py SRC DST PUBKEY_B64 RATE SECONDS STOPFILE
"""
import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time

HELLO, HELLO_ACK = 1, 2
F_REPLY, F_NOACK = 0x2, 0x1
F_AEAD, F_COOKIE, F_SEALED_DEST, F_SEALED_OPTS = 0x2, 0x10, 0x4000, 0x20000
PORT, VERSION, MSG1_LEN, COOKIE_LEN = 7010, 2, 148, 52


def main():
    src, dst, pub_b64, rate, seconds, stop = sys.argv[1:7]
    rate, seconds = int(rate), float(seconds)
    mac1_key = hashlib.sha256(b"mac1----" + base64.b64decode(pub_b64)).digest()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    counts = {"sent_mac1": 0, "sent_bad": 0, "cookie_replies": 0, "other": 0}
    burst = max(1, rate // 100)  # every 10 ms
    end = time.monotonic() + seconds
    nxt = time.monotonic()
    ready = False
    n = 0
    while time.monotonic() < end and not os.path.exists(stop):
        for _ in range(burst):
            sid = int.from_bytes(os.urandom(4), "big") | 1
            m1 = bytes([1, 0, 0, 0]) + struct.pack(">I", sid) + os.urandom(108)
            good = n % 4 != 3
            m1 += hmac.new(mac1_key, m1, hashlib.sha256).digest()[:16] if good \
                else os.urandom(16)
            m1 += bytes(16)  # no mac2
            body = struct.pack(">HHHHIIQHH", VERSION, VERSION, 1456, 0, 0,
                               F_AEAD | F_SEALED_DEST | F_SEALED_OPTS, n, 0, MSG1_LEN) + m1
            hdr = struct.pack(">HBBHHIIQ", 0x5846, VERSION, HELLO, 0, len(body), sid, 0, 0)
            try:
                s.sendto(hdr + body, (dst, PORT))
            except BlockingIOError:
                continue
            counts["sent_mac1" if good else "sent_bad"] += 1
            n += 1
        if not ready:
            print("ready", flush=True)
            ready = True
        nxt += 0.01
        while True:
            try:
                data = s.recv(65536)
            except BlockingIOError:
                break
            if (len(data) == 24 + 28 + COOKIE_LEN and data[3] == HELLO_ACK and
                    struct.unpack(">H", data[4:6])[0] == F_REPLY | F_NOACK and
                    struct.unpack(">I", data[24 + 12:24 + 16])[0] == F_COOKIE and
                    data[52] == 3):
                counts["cookie_replies"] += 1
            else:
                counts["other"] += 1
        time.sleep(max(0.0, nxt - time.monotonic()))
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
