#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Seed corpus of fuzz_session: the frame sequences of issue 15 and a correct session, in
# the harness's operation format (tests/fuzz/fuzz_session.c). Bytes are octal escapes.
# usage: session-seeds.sh DIR
set -eu
out=$1
# A correct session: FLIST LAST {a, 74 bytes}; poll; DATA 0..64, 64..74; FILE_END 74,
# CRC of zeros; every frame taken.
printf '\000\000\201\000\002\004\010\001\000\000\000\077\001\000\100\000\011\002\000\112\000\001\017' >"$out/good"
# The same with both DATA frames compressed (peer A announces it), then with the second
# claiming one byte more than its stream holds (the file fails).
printf '\000\000\201\000\002\004\010\101\000\000\000\077\101\000\100\000\011\002\000\112\000\001\017' >"$out/good-zip"
printf '\000\000\201\000\002\004\010\101\000\000\000\077\301\000\100\000\011\002\000\112\000\001\017' >"$out/zip-long"
# The correct session with an attribute set on its entry (count byte bit 3: a set of 8
# bytes whose first is 0, so a valid one is made), then with 4 bytes of garbage (refused
# XATTR, the DATA dropped).
printf '\000\000\211\000\002\010\000abcdefg\004\010\001\000\000\000\077\001\000\100\000\011\002\000\112\000\001\017' >"$out/good-xattr"
printf '\000\000\211\000\002\004\001\002\003\004\004\010\001\000\000\000\077\001\000\100\000\011\002\000\112\000\001\017' >"$out/xattr-bad"
# A placeholder (count byte bit 2, XF_FLIST_F_GIVEUP: refused TOOBIG) at 0, then the
# correct session's file at 1.
printf '\000\000\005\000\002\000\001\201\001\002\004\010\001\001\000\000\077\001\001\100\000\011\002\001\112\000\001\017' >"$out/giveup"
# FLIST {d, d/a} and FLIST LAST (0, 0) in one burst.
printf '\000\000\002\021\000\002\012\000\000\200\017' >"$out/last-burst"
# Entry 0 a bad path, entries 1..2, then LAST (1, 0).
printf '\000\000\003\010\001\000\001\013\001\017\000\001\200\017' >"$out/last-below"
# DATA and FILE_END for a decided file, then LAST (0, 0).
printf '\000\000\001\000\144\004\010\001\000\000\000\077\002\000\164\016\001\000\000\200\017' >"$out/late"
# Symlink x -> ., then x/.xferd, x/.xferd/tmp, x/.xferd/tmp/p.
printf '\000\000\003\043\000\024\077\025\077\000\003\203\006\005\017' >"$out/symlink"
# Both peers (same id) send entry 0; the spoofer sends DATA for it.
printf '\000\000\201\000\002\020\000\201\013\002\004\010\041\000\000\000\010\001\000\000\000\010\017' >"$out/two-peers"
# Huge size (2^40), one DATA byte near the end, FILE_END.
printf '\000\000\201\000\250\004\010\001\000\377\377\000\002\000\377\377\001\017' >"$out/huge"
# The session aborted, then reopened in its slot, then a correct file.
printf '\000\000\001\000\002\005\004\010\006\000\000\201\000\002\017' >"$out/reopen"
# A session whose entry 0 settled (and let its path go) before the end: the MARK item
# named entry 0's path (a NULL pointer in the commit worker, found by this harness).
printf '\000\000\202\000\226\122\014\000\000\040\140\000\000\140\040\000\000\040\120\367\202' >"$out/mark-after-release"
# The correct session with owners (peer A announces them: uid 2, gid 0), and peer B's
# FLIST with owners though its sessions do not announce them (aborted, docs/PROTOCOL.md
# 6.17).
printf '\000\000\301\000\002\004\010\001\000\000\000\077\001\000\100\000\011\002\000\112\000\001\017' >"$out/good-owner"
printf '\020\000\301\000\002\004\010\017' >"$out/owner-mismatch"
# The correct session with owners by name (peer A announces XF_HELLO_F_OWNER_NAMES: uid 2
# and gid 0 named), and two frames that name uid 2 differently (aborted, 6.21).
printf '\000\000\341\000\002\004\010\001\000\000\000\077\001\000\100\000\011\002\000\112\000\001\017' >"$out/good-names"
printf '\000\000\141\000\002\000\001\161\001\002\004\010\017' >"$out/names-conflict"
# One file of 64 bytes ("a", size class 2^6) sent as one DATA frame with its end (op 8,
# docs/PROTOCOL.md 6.9): 64 zeros and their CRC; the same compressed; then with a CRC of
# 0 (the file fails).
printf '\000\000\201\000\206\004\010\010\000\077\001\017' >"$out/good-end"
printf '\000\000\201\000\206\004\010\010\000\077\003\017' >"$out/good-end-zip"
printf '\000\000\201\000\206\004\010\010\000\077\000\017' >"$out/end-bad-crc"
