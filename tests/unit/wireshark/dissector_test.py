#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The Wireshark dissector (contrib/wireshark/xferd.lua) against frames built here from
docs/PROTOCOL.md: every frame type in clear with every field's value checked, a session
under AEAD (HELLO with Noise message 1, HELLO_ACK sealed in clear with message 2, sealed
frames shown as encrypted), a frame on a port other than 7010 (the heuristic), and one
malformed frame per codec reason, each of which must carry the dissector's expert error
with that reason while the well-formed ones carry none.

    dissector_test.py SOURCE_ROOT
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HELLO, HELLO_ACK, FLIST, DECISION, SIG, DATA, COPY, FILE_END, COMMIT, ACK, DONE, ABORT, PING = \
    range(1, 14)


def hdr(typ, plen, session=0x11223344, flags=0, pn=7, version=2, reserved=0, magic=0x5846):
    return struct.pack(">HBBHHIIQ", magic, version, typ, flags, plen, session, reserved, pn)


def frame(typ, payload=b"", **kw):
    return hdr(typ, len(payload), **kw) + payload


def hello(dest=b"", flags=0, window=0, auth=b"", status=0, ack=False):
    return struct.pack(">HHHHIIQHH", 2, 2, 1472, status, window, flags, 0x0102030405060708,
                       0 if ack else len(dest), len(auth)) + (b"" if ack else dest) + auth


def block_len(root):
    """The sealed block's one size from MTU 1500 up (XF_HS_BLOCK_LEN), as the code says it."""
    with open(os.path.join(root, "dataplane/secure/xf_hs_block.h")) as f:
        for line in f:
            w = line.split()
            if w[:2] == ["#define", "XF_HS_BLOCK_LEN"]:
                return int(w[2].rstrip("u"))
    sys.exit("XF_HS_BLOCK_LEN not found in xf_hs_block.h")


def entry(path, kind=1, size=10, mode=0o644, target=b"", mtime=-5):
    return struct.pack(">BBHHHQq", kind, 0, len(path), len(target), mode, size, mtime) + path + target


def entry_owned(path, uid, gid, kind=1, size=10, mode=0o644, mtime=-5):
    return struct.pack(">BBHHHQqII", kind, 0, len(path), 0, mode, size, mtime, uid, gid) + path


def udp_packet(payload, sport=7010, dport=7010):
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    return eth + ip + udp


def write_pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(packets):
            f.write(struct.pack("<IIII", 1000 + i, 0, len(p), len(p)) + p)


def pairs(node, out):
    """Every (key, value) of tshark's JSON, nested subtrees included, in order; the
    JSON repeats keys (one per record), so it is read as lists of pairs."""
    if isinstance(node, list) and all(isinstance(x, tuple) for x in node):
        for k, v in node:
            if isinstance(v, str):
                out.append((k, v))
            else:
                pairs(v, out)
    elif isinstance(node, list):
        for x in node:
            if isinstance(x, str):
                continue
            pairs(x, out)
    return out


def first(kv, key):
    return next((v for k, v in kv if k == key), None)


def main():
    root = sys.argv[1]
    if shutil.which("tshark") is None:
        print("FAIL: tshark not in PATH (Debian package tshark; scripts/install-deps.sh)")
        return 1
    lua = os.path.join(root, "contrib/wireshark/xferd.lua")
    cases = []  # (datagram, {field: expected first value}, expected error reason or None, port)

    def good(d, fields, port=7010):
        cases.append((d, fields, None, port))

    def bad(d, reason):
        cases.append((d, {}, reason, 7010))

    # Every type in clear (a session whose HELLO has no AEAD).
    good(frame(HELLO, hello(b"in/here", flags=0x5, window=9)),
         {"xferd.type": "1", "xferd.magic": "0x5846", "xferd.version": "2",
          "xferd.hello.dest": "in/here", "xferd.hello.window": "9",
          "xferd.hello.flags.checksum": "1", "xferd.hello.flags.delete": "1",
          "xferd.hello.flags.aead": "0", "xferd.hello.nonce": "0x0102030405060708",
          "xferd.hello.max_payload": "1472", "xferd.session": "0x11223344", "xferd.pn": "7"})
    good(frame(HELLO_ACK, hello(status=0, window=64, ack=True), flags=0x6),
         {"xferd.type": "2", "xferd.hello.window": "64", "xferd.flags.reply": "1",
          "xferd.flags.acknow": "1", "xferd.flags.noack": "0"})
    good(frame(FLIST, struct.pack(">IHH", 5, 3, 1) + entry(b"a/b") + entry(b"d", kind=2, size=0,
                                                                       mode=0o755) +
               entry(b"l", kind=3, size=3, target=b"../")),
         {"xferd.flist.first_index": "5", "xferd.flist.count": "3", "xferd.flist.flags.last": "1",
          "xferd.entry.index": "5", "xferd.entry.path": "a/b", "xferd.entry.kind": "1",
          "xferd.entry.mode": "420", "xferd.entry.mtime_ns": "-5", "xferd.entry.target": "../"})
    good(frame(DECISION, struct.pack(">HH", 2, 0) + struct.pack(">IBBHII", 4, 3, 0, 0, 2048, 9) +
               struct.pack(">IBBHII", 5, 4, 1, 0, 0, 0), flags=2),
         {"xferd.decision.count": "2", "xferd.decision.file": "4", "xferd.decision.decision": "3",
          "xferd.decision.block_size": "2048", "xferd.decision.block_count": "9"})
    # A dry run with itemized changes: the HELLO's flags, a DECISION's items (6.14).
    good(frame(HELLO, hello(b"d", flags=0x60)),
         {"xferd.hello.flags.dryrun": "1", "xferd.hello.flags.itemize": "1"})
    good(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 2, 0, 0x6, 0, 0),
               flags=2),
         {"xferd.decision.items": "0x0006", "xferd.decision.items.size": "1",
          "xferd.decision.items.time": "1", "xferd.decision.items.new": "0"})
    good(frame(SIG, struct.pack(">IIIHH", 4, 2048, 10, 2, 0) + struct.pack(">II", 0xA, 0xB) * 2,
               flags=2),
         {"xferd.sig.file": "4", "xferd.sig.first_block": "10", "xferd.sig.count": "2",
          "xferd.sig.block": "10", "xferd.sig.weak": "0x0000000a", "xferd.sig.strong": "0x0000000b"})
    good(frame(DATA, struct.pack(">IIQ", 4, 0, 1 << 40) + b"x" * 100, flags=4),
         {"xferd.data.file": "4", "xferd.data.offset": str(1 << 40), "xferd.data.len": "100",
          "xferd.data.raw_len": "0"})
    # Compressed (docs/PROTOCOL.md 6.16): 40 bytes that inflate to 8932.
    good(frame(DATA, struct.pack(">IIQ", 5, 8932, 4096) + b"z" * 40),
         {"xferd.data.file": "5", "xferd.data.raw_len": "8932", "xferd.data.len": "40"})
    good(frame(HELLO, hello(b"d", flags=0x100)), {"xferd.hello.flags.compress": "1"})
    # The receiver's volume asks for it in its HELLO_ACK; a pull's --no-compress.
    good(frame(HELLO_ACK, hello(window=64, flags=0x100, ack=True), flags=0x6),
         {"xferd.hello.flags.compress": "1"})
    good(frame(HELLO, hello(b"/s\0d", flags=0x41000)), {"xferd.hello.flags.no_compress": "1"})
    # Sent again whole (6.19): the HELLO's REDO flag, and the header flag of its frames.
    good(frame(HELLO, hello(b"d", flags=0x8000)), {"xferd.hello.flags.redo": "1"})
    # Extended attributes and ACLs (docs/PROTOCOL.md 6.20): the HELLO flags, FLIST
    # entries ending with a 16-bit length and the attribute set (header flag 0x40).
    good(frame(HELLO, hello(b"d", flags=0xc00)),
         {"xferd.hello.flags.xattrs": "1", "xferd.hello.flags.acls": "1"})
    xset = bytes(8) + struct.pack(">HBH", 1, 6, 1) + b"user.kv"
    good(frame(FLIST, struct.pack(">IHH", 0, 2, 1) + entry(b"a") + struct.pack(">H", len(xset)) +
               xset + entry(b"d", kind=2, size=0) + struct.pack(">H", 0), flags=0x40),
         {"xferd.flags.xattr": "1", "xferd.entry.xattr_len": str(len(xset)),
          "xferd.entry.path": "a"})
    bad(frame(FLIST, struct.pack(">IHH", 0, 1, 1) + entry(b"a") + struct.pack(">H", 9) + b"x",
              flags=0x40), "truncated")
    bad(frame(DATA, struct.pack(">IIQ", 5, 0, 0) + b"z", flags=0x40), "reserved")
    # A file's one DATA frame with its end (6.9): the CRC-64 after the bytes, offset 0;
    # the HELLO_ACK flag that allows it.
    good(frame(DATA, struct.pack(">IIQ", 5, 0, 0) + b"z" * 10 + struct.pack(">Q", 0xABCDEF),
               flags=0x100),
         {"xferd.flags.end": "1", "xferd.data.len": "10", "xferd.data.crc64": "0x0000000000abcdef"})
    bad(frame(DATA, struct.pack(">IIQ", 5, 0, 4) + b"z" * 10, flags=0x100), "field")
    bad(frame(DATA, struct.pack(">IIQ", 5, 0, 0) + b"z" * 8, flags=0x100), "count")
    bad(frame(DATA, struct.pack(">IIQ", 5, 0, 0) + b"z" * 7, flags=0x100), "truncated")
    bad(frame(FILE_END, struct.pack(">IHHQQ", 1, 0, 0, 1, 0), flags=0x100), "reserved")
    good(frame(HELLO_ACK, hello(window=64, flags=0x80000, ack=True), flags=0x6),
         {"xferd.hello.flags.data_end": "1"})
    good(frame(DATA, struct.pack(">IIQ", 5, 0, 0) + b"z" * 8, flags=0x20),
         {"xferd.flags.redo": "1", "xferd.data.file": "5"})
    # --delete with filter rules: the destination field is dest, a NUL, the rules (6.12).
    good(frame(HELLO, hello(b"m/d\0- *.o\n", flags=0x10004, window=9)),
         {"xferd.hello.flags.filters": "1", "xferd.hello.dest": "m/d",
          "xferd.hello.rules": "- *.o\n"})
    bad(frame(HELLO, hello(b"m/d", flags=0x10004)), "field")  # FILTERS without the NUL
    # Owners (docs/PROTOCOL.md 6.17): the HELLO flag, entries with uid and gid, items o, g.
    good(frame(HELLO, hello(b"d", flags=0x200)), {"xferd.hello.flags.owner": "1"})
    good(frame(FLIST, struct.pack(">IHH", 0, 2, 3) + entry_owned(b"a", 1000, 4294967295) +
               entry_owned(b"d", 0, 50, kind=2, size=0)),
         {"xferd.flist.flags.owner": "1", "xferd.entry.uid": "1000",
          "xferd.entry.gid": "4294967295", "xferd.entry.path": "a"})
    good(frame(FLIST, struct.pack(">IHH", 0, 1, 2) + entry_owned(b"d", 0, 50, kind=2, size=0)),
         {"xferd.entry.uid": "0", "xferd.entry.gid": "50", "xferd.entry.kind": "2"})
    good(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 1, 0, 0x60, 0, 0),
               flags=2),
         {"xferd.decision.items.owner": "1", "xferd.decision.items.group": "1"})
    # A placeholder (6.23): FLIST flag GIVEUP, one regular entry of size 0; its REFUSED
    # DECISION with status 12 (TOOBIG); two entries, a size, or FLIST flag bit 3 refused.
    good(frame(FLIST, struct.pack(">IHH", 5, 1, 4) + entry(b"cut", size=0, mode=0)),
         {"xferd.flist.flags.giveup": "1", "xferd.entry.path": "cut"})
    good(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 5, 4, 12, 0, 0, 0),
               flags=2),
         {"xferd.decision.status": "12"})
    bad(frame(FLIST, struct.pack(">IHH", 5, 2, 4) + entry(b"a", size=0) + entry(b"b", size=0)),
        "field")
    bad(frame(FLIST, struct.pack(">IHH", 5, 1, 4) + entry(b"a", size=3)), "field")
    bad(frame(FLIST, struct.pack(">IHH", 5, 1, 8) + entry(b"a", size=0)), "reserved")
    # Attributes and ACLs (6.20): items x and a; bit 9 up reserved.
    good(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 1, 0, 0x180, 0, 0),
               flags=2),
         {"xferd.decision.items.xattr": "1", "xferd.decision.items.acl": "1",
          "xferd.decision.items.owner": "0"})
    bad(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 1, 0, 0x200, 0, 0),
              flags=2), "reserved")
    bad(frame(FLIST, struct.pack(">IHH", 0, 1, 2) + entry(b"x")), "truncated")
    # Names (docs/PROTOCOL.md 6.21): the HELLO flag, a table after the entries (header
    # flag 0x80), and what the decoder refuses in it.
    good(frame(HELLO, hello(b"d", flags=0x2200)), {"xferd.hello.flags.owner_names": "1"})
    owned2 = struct.pack(">IHH", 0, 1, 3) + entry_owned(b"a", 1000, 50)

    def name(kind, nid, n):
        return struct.pack(">BBI", kind, len(n), nid) + n

    good(frame(FLIST, owned2 + struct.pack(">H", 2) + name(1, 1000, b"alice") +
               name(2, 50, b"staff"), flags=0x80),
         {"xferd.flags.names": "1", "xferd.names.count": "2", "xferd.name.id": "1000",
          "xferd.name.name": "alice", "xferd.name.kind": "1"})
    bad(frame(FLIST, owned2 + struct.pack(">H", 1) + name(1, 1000, b"a:b"), flags=0x80), "name")
    bad(frame(FLIST, owned2 + struct.pack(">H", 1) + name(1, 1000, b"a\0b"), flags=0x80),
        "name")
    bad(frame(FLIST, owned2 + struct.pack(">H", 1) + name(1, 1000, b"x" * 65), flags=0x80),
        "name")
    bad(frame(FLIST, owned2 + struct.pack(">H", 2) + name(2, 50, b"staff") +
              name(1, 1000, b"alice"), flags=0x80), "name_id")
    bad(frame(FLIST, owned2 + struct.pack(">H", 0), flags=0x80), "count")
    bad(frame(FLIST, struct.pack(">IHH", 0, 1, 1) + entry(b"x") + struct.pack(">H", 1) +
              name(1, 0, b"root"), flags=0x80), "name_id")
    bad(frame(PING, flags=0x80), "reserved")
    bad(frame(HELLO, hello(b"d", flags=0x2000)), "field")  # names without owners
    good(frame(COPY, struct.pack(">IIQQ", 4, 4096, 8192, 0)),
         {"xferd.copy.file": "4", "xferd.copy.len": "4096", "xferd.copy.offset": "8192",
          "xferd.copy.src_offset": "0"})
    good(frame(FILE_END, struct.pack(">IHHQQ", 4, 0, 0, 100, 0xDEADBEEF)),
         {"xferd.file_end.size": "100", "xferd.file_end.crc64": "0x00000000deadbeef"})
    good(frame(COMMIT, struct.pack(">IIHH", 9, 73, 1, 65535) + struct.pack(">IHH", 5, 1, 0), flags=2),
         {"xferd.commit.committed": "9", "xferd.commit.credit": "73", "xferd.commit.seq": "65535",
          "xferd.commit.file": "5", "xferd.commit.status": "1"})
    good(frame(ACK, struct.pack(">QIHH", 20, 250, 2, 0) + struct.pack(">QQ", 15, 20) +
               struct.pack(">QQ", 0, 13), flags=1),
         {"xferd.ack.largest": "20", "xferd.ack.delay_us": "250", "xferd.ack.count": "2",
          "xferd.ack.first": "15", "xferd.ack.last": "20"})
    good(frame(DONE, struct.pack(">IIIIHH", 9, 0, 3, 1, 1, 0), flags=2),
         {"xferd.done.files": "9", "xferd.done.deleted": "3", "xferd.done.kept": "1",
          "xferd.done.del_status": "1"})
    good(frame(ABORT, struct.pack(">HH", 6, 9) + b"cancelled"),
         {"xferd.abort.code": "6", "xferd.abort.msg": "cancelled"})
    good(frame(PING), {"xferd.type": "13"})
    # The heuristic: xferd on another port.
    good(frame(PING, session=0x55), {"xferd.type": "13", "xferd.session": "0x00000055"}, port=7111)

    # A session under AEAD: HELLO with message 1, HELLO_ACK with message 2 and a tag,
    # then sealed frames whose payload is shown as encrypted.
    m1 = bytes([1, 0, 0, 0]) + struct.pack(">I", 0xABCD) + bytes(range(32)) + b"S" * 48 + \
        b"T" * 28 + b"M" * 16 + b"\0" * 16
    # Message 1 whose payload holds a sealed block of its one size (SEALED_OPTS: options,
    # destination field, padding), as every HELLO of a sender at MTU 1500 or more has.
    blk = block_len(root)
    m1d = m1[:88] + b"P" * (28 + blk) + m1[116:]
    m2 = bytes([2, 0, 0, 0]) + struct.pack(">II", 0x77, 0xABCD) + b"E" * 32 + b"Z" * 16 + b"M" * 16
    sess = {"session": 0x99}
    good(frame(HELLO, hello(b"", flags=0x24002, auth=m1), **sess),
         {"xferd.hello.flags.aead": "1", "xferd.hello.auth_len": "148", "xferd.noise.type": "1",
          "xferd.hello.flags.sealed_dest": "1", "xferd.hello.flags.sealed_opts": "1",
          "xferd.noise.sender_index": "0x0000abcd", "xferd.noise.timestamp": None})
    good(frame(HELLO, hello(b"", flags=0x24002, auth=m1d), **sess),
         {"xferd.hello.auth_len": str(148 + blk), "xferd.noise.sealed_len": str(blk),
          "xferd.hello.flags.filters": "0", "xferd.hello.flags.delete": "0",
          "xferd.noise.payload": None, "xferd.noise.mac1": None})
    # A responder under load: a cookie reply, in clear, no tag (docs/PROTOCOL.md 3.1).
    good(frame(HELLO_ACK, hello(window=0, flags=0x10, auth=b"C" * 52, ack=True), flags=0x2, **sess),
         {"xferd.hello.flags.cookie": "1", "xferd.hello.auth_len": "52", "xferd.hello.cookie": None})
    good(frame(HELLO_ACK, hello(window=64, flags=0x2, auth=m2, ack=True) + b"G" * 16,
               flags=0x6, **sess),
         {"xferd.hello.auth_len": "76", "xferd.noise.type": "2",
          "xferd.noise.receiver_index": "0x0000abcd", "xferd.sealed": "1", "xferd.tag": None})
    good(frame(DATA, b"\x01" * 116, flags=0x8, **sess),
         {"xferd.sealed": "1", "xferd.encrypted_len": "100", "xferd.data.len": "84",
          "xferd.flags.key_phase": "1", "xferd.tag": None})
    good(frame(ACK, b"\x02" * 48, flags=0x11, **sess), {"xferd.sealed": "1", "xferd.encrypted_len": "32"})
    good(frame(PING, b"\x03" * 16, **sess), {"xferd.sealed": "1", "xferd.encrypted_len": "0"})

    # One malformed frame per reason (sessions in clear).
    bad(frame(PING, version=3), "version")
    bad(hdr(PING, 4) + b"\0\0", "length")
    bad(frame(PING, reserved=1), "reserved")
    bad(frame(PING, flags=0x40), "reserved")
    bad(frame(PING, session=0), "field")
    bad(frame(COPY, b"\0" * 20), "truncated")
    bad(frame(PING, b"\0"), "trailing")
    bad(frame(DATA, struct.pack(">IIQ", 4, 8933, 0) + b"x"), "field")  # raw_len
    bad(frame(DATA, struct.pack(">IIQ", 4, 100, (1 << 63) - 100) + b"x"), "range")
    bad(frame(DATA, struct.pack(">IIQ", 4, 0, 0)), "count")
    bad(frame(ACK, struct.pack(">QIHH", 5, 0, 0, 0)), "count")
    bad(frame(FLIST, struct.pack(">IHH", 0, 1, 0) + entry(b"x", kind=4)), "field")
    bad(frame(FLIST, struct.pack(">IHH", 0, 1, 0) + entry(b"x", kind=2, size=1)), "field")
    bad(frame(DATA, struct.pack(">IIQ", 4, 0, (1 << 63) - 1) + b"x"), "range")
    bad(frame(ACK, struct.pack(">QIHH", 5, 0, 1, 0) + struct.pack(">QQ", 6, 5)), "range")
    bad(frame(COMMIT, struct.pack(">IIHH", 9, 8, 0, 0)), "range")
    bad(frame(ABORT, struct.pack(">HH", 6, 2) + b"\n!"), "field")
    bad(frame(HELLO, hello(flags=0x2)), "field")  # AEAD without message 1
    bad(frame(HELLO, hello(flags=0x2, auth=m1)), "field")  # the destination not sealed
    bad(frame(HELLO, hello(b"x", flags=0x24002, auth=m1)), "field")  # sealed, and dest in clear
    bad(frame(HELLO, hello(flags=0x4000)), "field")  # SEALED_DEST without AEAD
    bad(frame(HELLO, hello(flags=0x20000)), "field")  # SEALED_OPTS without AEAD
    bad(frame(HELLO, hello(flags=0x24002, auth=m1[:147])), "field")  # message 1 cut short
    bad(frame(HELLO, hello(flags=0x4002, auth=m1)), "field")  # the options not sealed
    bad(frame(HELLO, hello(flags=0x24006, window=3, auth=m1)), "field")  # DELETE in clear
    bad(frame(HELLO, hello(flags=0x24002, window=3, auth=m1)), "field")  # a limit in clear
    bad(frame(HELLO, hello(flags=0x80000)), "reserved")  # the lowest flag not defined
    bad(frame(HELLO, hello(flags=0x40000)), "field")  # NO_COMPRESS without PULL
    bad(frame(HELLO, hello(b"/s\0d", flags=0x41100)), "field")  # ... with COMPRESS
    bad(frame(HELLO_ACK, hello(status=1, flags=0x100, ack=True)), "field")  # ask in a refusal
    bad(frame(HELLO_ACK, hello(window=64, flags=0x40000, ack=True)), "reserved")
    bad(frame(HELLO, hello(flags=0x10)), "reserved")  # COOKIE is the HELLO_ACK's
    bad(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 2, 0, 0x3, 0, 0)),
        "field")  # NEW with another item
    bad(frame(DECISION, struct.pack(">HH", 1, 0) + struct.pack(">IBBHII", 6, 2, 0, 0x400, 0, 0)),
        "reserved")

    # Hostile input: mutations of every frame above (bytes flipped, cut short, grown), with
    # the header's length kept equal to the datagram's so that each reaches the payload
    # decoders. None may make the dissector throw (a Lua error); what it finds wrong is
    # its own expert error.
    rng = random.Random(20261206)
    fuzz = []
    for _ in range(300):
        b = bytearray(rng.choice(cases)[0])
        for _ in range(rng.randrange(1, 6)):
            op = rng.randrange(3)
            if op == 0 and len(b) > 24:
                b[rng.randrange(24, len(b))] = rng.randrange(256)
            elif op == 1 and len(b) > 24:
                del b[rng.randrange(24, len(b)):]
            else:
                b += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        b[6:8] = struct.pack(">H", len(b) - 24)
        fuzz.append(bytes(b))

    with tempfile.TemporaryDirectory() as d:
        cap = os.path.join(d, "frames.pcap")
        write_pcap(cap, [udp_packet(c[0], dport=c[3]) for c in cases])
        out = subprocess.run(["tshark", "-n", "-X", "lua_script:" + lua, "-r", cap, "-T", "json"],
                             capture_output=True, text=True, check=True).stdout
        fcap = os.path.join(d, "fuzz.pcap")
        write_pcap(fcap, [udp_packet(f) for f in fuzz])
        fout = subprocess.run(["tshark", "-n", "-X", "lua_script:" + lua, "-r", fcap, "-T",
                               "fields", "-e", "frame.number", "-e", "xferd.type", "-e",
                               "_ws.lua.error", "-E", "separator=\t"],
                              capture_output=True, text=True, check=True).stdout
    pkts = json.loads(out, object_pairs_hook=lambda p: p)
    fails = 0
    if len(pkts) != len(cases):
        print(f"FAIL: {len(pkts)} packets decoded, {len(cases)} written")
        return 1
    for i, (pkt, (_, fields, reason, _port)) in enumerate(zip(pkts, cases), 1):
        layers = dict(dict(dict(pkt)["_source"])["layers"])
        kv = pairs(layers.get("xferd", []), [])
        allkv = pairs(list(layers.items()), [])
        # Expert items come as message, severity, group: keep the error ones' messages.
        errors = [v for j, (k, v) in enumerate(allkv) if k == "_ws.expert.message" and
                  any(k2 == "_ws.expert.severity" and v2 == "8388608"
                      for k2, v2 in allkv[j + 1:j + 3])]
        if "xferd" not in layers:
            print(f"FAIL: packet {i}: not decoded as xferd")
            fails += 1
            continue
        keys = {k for k, _ in allkv}
        if "_ws.lua.error" in keys:
            print(f"FAIL: packet {i}: the dissector threw (Lua error)")
            fails += 1
        # The malformed-packet mark: Wireshark adds it with every expert error of the
        # MALFORMED group, so exactly the malformed frames carry it.
        if ("_ws.malformed" in keys) != (reason is not None):
            print(f"FAIL: packet {i}: malformed-packet mark {'present' if reason is None else 'absent'}")
            fails += 1
        for k, want in fields.items():
            got = first(kv, k)
            if got is None or (want is not None and got != want):
                print(f"FAIL: packet {i}: {k} = {got}, expected {want}")
                fails += 1
        if reason is None and errors:
            print(f"FAIL: packet {i}: unexpected expert errors {errors}")
            fails += 1
        if reason is not None and not any(m.startswith(reason + ":") for m in errors):
            print(f"FAIL: packet {i}: expected an expert error '{reason}: ...', got {errors}")
            fails += 1
    threw = 0
    for line in fout.splitlines():
        n, typ, lua_error = (line.split("\t") + ["", ""])[:3]
        if lua_error or not typ:
            print(f"FAIL: mutated frame {n}: {'the dissector threw' if lua_error else 'not decoded'}")
            threw += 1
    if len(fout.splitlines()) != len(fuzz):
        print(f"FAIL: {len(fout.splitlines())} mutated frames read, {len(fuzz)} written")
        threw += 1
    fails += threw
    print(f"dissector: {len(cases)} frames, {sum(1 for c in cases if c[2])} malformed, "
          f"{len(fuzz)} mutated; {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
