#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent reference of xferd's handshake (docs/SECURITY.md), on python3-cryptography.

Noise_IKpsk2_25519_AESGCM_SHA256 (Noise rev 34), WireGuard-style mac1/mac2 and cookie
reply, and the transport key derivation, written from the specification and
docs/SECURITY.md, not from the C code. It runs the C program noise_vec with random fixed
keys, ephemerals, PSK (or none), prologue, indexes, message 1 payloads (the HELLO's
destination field) and cookie inputs, computes every
message and key itself, and fails on the first byte that differs (both directions).
This cross-implementation check stands in for third-party test-vector files.

usage: noise_ref.py NOISE_VEC [ROUNDS]
"""
import hashlib
import hmac
import os
import random
import struct
import subprocess
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

NAME = b"Noise_IKpsk2_25519_AESGCM_SHA256"
RAW = serialization.Encoding.Raw


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        RAW, serialization.PublicFormat.Raw)


def dh(priv, pub_):
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub_))


def hkdf(ck, ikm, n):
    tk = mac(ck, ikm)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = mac(tk, prev + bytes([i]))
        out.append(prev)
    return out


class Sym:
    def __init__(self, prologue, rs):
        self.h = NAME  # exactly 32 bytes: used as is
        self.ck = NAME
        self.k = None
        self.n = 0
        self.mix_hash(prologue)
        self.mix_hash(rs)

    def mix_hash(self, d):
        self.h = sha(self.h, d)

    def mix_key(self, ikm):
        self.ck, self.k = hkdf(self.ck, ikm, 2)
        self.n = 0

    def mix_key_and_hash(self, ikm):
        self.ck, th, self.k = hkdf(self.ck, ikm, 3)
        self.mix_hash(th)
        self.n = 0

    def nonce(self):
        return b"\0\0\0\0" + struct.pack(">Q", self.n)

    def enc(self, pt):
        ct = AESGCM(self.k).encrypt(self.nonce(), pt, self.h)
        self.n += 1
        self.mix_hash(ct)
        return ct

    def dec(self, ct):
        pt = AESGCM(self.k).decrypt(self.nonce(), ct, self.h)
        self.n += 1
        self.mix_hash(ct)
        return pt

    def split(self):
        return hkdf(self.ck, b"", 2)


def tai64n(ns):
    return struct.pack(">QI", (1 << 62) + ns // 10**9, ns % 10**9)


def expand(secret, label, n):
    return HKDFExpand(hashes.SHA256(), n, label).derive(secret)


def run(vec, rnd):
    ipriv, rpriv, ieph, reph = (rnd.randbytes(32) for _ in range(4))
    psk = rnd.randbytes(32) if rnd.random() < 0.5 else None
    version, caps = rnd.randrange(256), rnd.randrange(1 << 32)
    unix_ns = rnd.randrange(1 << 62)
    iidx, ridx = rnd.randrange(1 << 32), rnd.randrange(1 << 32)
    secret, src, cn = rnd.randbytes(32), rnd.randbytes(6), rnd.randbytes(12)
    # Message 1's payload after the timestamp (the HELLO's destination field): none, one
    # byte, a few hundred, or the longest (4095).
    plen = rnd.choice([0, 0, 1, rnd.randrange(2, 400), 4095])
    payload = rnd.randbytes(plen)
    args = [vec, ipriv.hex(), rpriv.hex(), ieph.hex(), reph.hex(), psk.hex() if psk else "-",
            str(version), str(caps), str(unix_ns), str(iidx), str(ridx), secret.hex(),
            src.hex(), cn.hex(), payload.hex() if payload else "-"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    got = dict(line.split(" ", 1) for line in out.splitlines())
    got = {k: bytes.fromhex(v) for k, v in got.items()}

    ipub, rpub = pub(ipriv), pub(rpriv)
    prologue = b"xferd-noise" + bytes([version]) + struct.pack(">I", caps)
    psk_ = psk if psk else bytes(32)
    mac1_r = sha(b"mac1----", rpub)
    mac1_i = sha(b"mac1----", ipub)

    def msg1(ts_ns, cookie):
        s = Sym(prologue, rpub)
        epub = pub(ieph)
        s.mix_hash(epub)
        s.mix_key(epub)
        s.mix_key(dh(ieph, rpub))
        es = s.enc(ipub)
        s.mix_key(dh(ipriv, rpub))
        ets = s.enc(tai64n(ts_ns) + payload)
        m = bytes([1, 0, 0, 0]) + struct.pack(">I", iidx) + epub + es + ets
        m += mac(mac1_r, m)[:16]
        m += mac(cookie, m)[:16] if cookie else bytes(16)
        return s, m

    _, m1 = msg1(unix_ns, None)
    expect = {"msg1": m1}
    cookie = mac(secret, src)[:16]
    expect["cookie_reply"] = (bytes([3, 0, 0, 0]) + struct.pack(">I", iidx) + cn +
                              AESGCM(sha(b"cookie--", rpub)).encrypt(cn, cookie, m1[-32:-16]))
    s, m1b = msg1(unix_ns + 1, cookie)
    expect["msg1b"] = m1b

    # Responder's side of message 1, from the bytes (decrypts what the initiator sent).
    r = Sym(prologue, rpub)
    re = m1b[8:40]
    r.mix_hash(re)
    r.mix_key(re)
    r.mix_key(dh(rpriv, re))
    assert r.dec(m1b[40:88]) == ipub
    r.mix_key(dh(rpriv, ipub))
    pt = r.dec(m1b[88:-32])
    assert pt[:12] == tai64n(unix_ns + 1)
    expect["payload"] = pt[12:]
    # Message 2.
    epub = pub(reph)
    r.mix_hash(epub)
    r.mix_key(epub)
    r.mix_key(dh(reph, re))
    r.mix_key(dh(reph, ipub))
    r.mix_key_and_hash(psk_)
    m2 = bytes([2, 0, 0, 0]) + struct.pack(">II", ridx, iidx) + epub + r.enc(b"")
    m2 += mac(mac1_i, m2)[:16]
    expect["msg2"] = m2
    # Initiator's side of message 2.
    s.mix_hash(epub)
    s.mix_key(epub)
    s.mix_key(dh(ieph, epub))
    s.mix_key(dh(ipriv, epub))
    s.mix_key_and_hash(psk_)
    assert s.dec(m2[44:60]) == b""
    k1, k2 = s.split()
    assert (k1, k2) == tuple(r.split()) and s.h == r.h
    expect.update(i_send=k1, i_recv=k2, r_send=k2, r_recv=k1, i_hash=s.h, r_hash=r.h)
    for d, sec in (("i2r", k1), ("r2i", k2)):
        expect[d + "_key"] = expand(sec, b"xferd key", 32)
        expect[d + "_iv"] = expand(sec, b"xferd iv", 12)
        expect[d + "_next"] = expand(sec, b"xferd ku", 32)

    for k, v in expect.items():
        if got.get(k) != v:
            print(f"MISMATCH {k}\n  C:      {got.get(k, b'').hex()}\n  Python: {v.hex()}")
            return False
    if set(got) != set(expect):
        print("MISMATCH keys", sorted(set(got) ^ set(expect)))
        return False
    return True


def main():
    vec = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    rnd = random.Random(int(os.environ.get("XF_NOISE_SEED", "19")))
    for i in range(rounds):
        if not run(vec, rnd):
            print(f"round {i}: C and Python differ")
            return 1
    print(f"{rounds} handshakes: C and Python agree on every message and key")
    return 0


if __name__ == "__main__":
    sys.exit(main())
