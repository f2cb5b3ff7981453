# SPDX-License-Identifier: BSD-3-Clause
"""The initiator's side of xferd's protocol version 2 security (docs/SECURITY.md), for the
hostile peers of the network tests: Noise IKpsk2 message 1 in the HELLO, message 2 from
the HELLO_ACK, and AES-256-GCM on every frame after it (header as associated data,
16-byte tag, nonce = IV xor packet number, key phase 0 only).

The Noise core is the independent Python reference of the unit tests
(tests/unit/secure/noise_ref.py, on python3-cryptography), not a copy of it.
"""
import base64
import copy
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "unit",
                                "secure"))
from noise_ref import Sym, dh, expand, mac, pub, sha, tai64n  # noqa: E402

VERSION = 2
HELLO_ACK = 2
F_AEAD = 0x2
F_DELETE = 0x4  # HELLO flags (docs/PROTOCOL.md 3.1); the window is then the deletion limit
F_VOLUME = 0x8  # dest's first component names the receiver's volume
F_SEALED_DEST = 0x4000  # with F_AEAD: the destination field is message 1's payload
F_FILTERS = 0x10000  # with F_DELETE: the field holds the rules after the path and a NUL
F_SEALED_OPTS = 0x20000  # with F_AEAD: the options too are message 1's payload
CLEAR = F_AEAD | F_SEALED_DEST | F_SEALED_OPTS  # the only flags a HELLO shows in clear
BLOCK = 1256  # every sealed block's size at MTU >= 1500 (dataplane/secure/xf_hs_block.h)
F_KEY_PHASE = 0x8
MSG1_LEN, MSG2_LEN, TAG = 148, 76, 16
HDR = struct.Struct(">HBBHHIIQ")


def read_key(path):
    """A key file as `xferd keygen` writes it: base64 of 32 bytes and a newline."""
    with open(path, "rb") as f:
        return base64.b64decode(f.read().strip())


def new_key():
    return os.urandom(32)


def prologue(flags, max_payload, window=0):
    """The handshake's prologue: version, capabilities, with F_DELETE the HELLO's window
    (the deletion limit), with flags from bit 16 on those flags (flags >> 16). The
    destination field is message 1's payload, not here."""
    options = struct.pack(">I", window) if flags & F_DELETE else b""
    options += struct.pack(">I", flags >> 16) if flags >> 16 else b""  # e.g. FILTERS
    return b"xferd-noise" + bytes([VERSION]) + struct.pack(
        ">I", (max_payload << 16) | (flags & 0xFFFF)) + options


def sealed_block(flags, window, dest, size=BLOCK, field_len=None):
    """Message 1's payload after its timestamp (docs/PROTOCOL.md 3.1.4): the HELLO's
    real flags (CLEAR among them) and window, the field's length (field_len: another
    claim than len(dest)), the field, zero bytes to size, as the appliance sends it."""
    n = len(dest) if field_len is None else field_len
    b = struct.pack(">IIH", flags | CLEAR, window, n) + dest
    return b + bytes(max(size - len(b), 0))


class Keys:
    """One session's transport keys (one direction each)."""

    def __init__(self, send_secret, recv_secret):
        self.send = (AESGCM(expand(send_secret, b"xferd key", 32)),
                     expand(send_secret, b"xferd iv", 12))
        self.recv = (AESGCM(expand(recv_secret, b"xferd key", 32)),
                     expand(recv_secret, b"xferd iv", 12))

    @staticmethod
    def nonce(iv, pn):
        return bytes(a ^ b for a, b in zip(iv, bytes(4) + struct.pack(">Q", pn)))

    def seal(self, hdr_fields, payload):
        """A whole frame: the header (its len counting the tag) and the sealed payload."""
        magic, ver, typ, flags, _, sid, res, pn = hdr_fields
        hdr = HDR.pack(magic, ver, typ, flags & ~F_KEY_PHASE, len(payload) + TAG, sid, res, pn)
        aead, iv = self.send
        return hdr + aead.encrypt(self.nonce(iv, pn), payload, hdr)

    def open(self, data):
        """The plaintext payload of a received frame, or None when it does not verify."""
        typ, pn = data[3], struct.unpack(">Q", data[16:24])[0]
        aead, iv = self.recv
        try:
            if typ == HELLO_ACK:  # authenticated whole, encrypted not at all
                aead.decrypt(self.nonce(iv, pn), data[-TAG:], data[:-TAG])
                return data[24:-TAG]
            return aead.decrypt(self.nonce(iv, pn), data[24:], data[:24])
        except Exception:  # cryptography's InvalidTag
            return None


class Initiator:
    """Our side of one handshake: static key s, the responder's public key rs, a PSK."""

    def __init__(self, s, rs, psk=None):
        self.s, self.rs, self.psk = s, rs, psk or bytes(32)

    def msg1(self, index, flags, max_payload, unix_ns, dest=b"", window=0, block=None):
        """Message 1, its payload the timestamp and then the sealed block of the HELLO's
        flags, window and destination field (F_SEALED_OPTS, F_SEALED_DEST: the HELLO
        carries none of them in clear, its flags CLEAR and window 0, which the prologue
        binds); block: that payload as given instead."""
        self.e = os.urandom(32)
        if block is None:
            block = sealed_block(flags, window, dest)
        st = Sym(prologue(CLEAR, max_payload, 0), self.rs)
        epub = pub(self.e)
        st.mix_hash(epub)
        st.mix_key(epub)
        st.mix_key(dh(self.e, self.rs))
        es = st.enc(pub(self.s))
        st.mix_key(dh(self.s, self.rs))
        ets = st.enc(tai64n(unix_ns) + block)
        m = bytes([1, 0, 0, 0]) + struct.pack(">I", index) + epub + es + ets
        m += mac(sha(b"mac1----", self.rs), m)[:16] + bytes(16)
        self.st = st
        self.st_after_msg1 = copy.deepcopy(st)
        return m

    def finish(self, m2, verify=True):
        """Keys from message 2, or None when it does not verify (a wrong key or PSK).
        With verify False, the keys this side derives even then: what an attacker who
        goes on sending (with a wrong PSK, say) seals with."""
        st = self.st
        re = m2[12:44]
        st.mix_hash(re)
        st.mix_key(re)
        st.mix_key(dh(self.e, re))
        st.mix_key(dh(self.s, re))
        st.mix_key_and_hash(self.psk)
        if verify:
            try:
                st.dec(m2[44:60])
            except Exception:  # cryptography's InvalidTag
                return None
        k1, k2 = st.split()
        return Keys(k1, k2)
