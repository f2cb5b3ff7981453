#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end over net_memif: files whose sizes sit on every boundary of the framing
# (0, 1, around the 1432-byte DATA payload of an MTU-1500 frame and its multiples, around
# the MTU and the UDP payload, 64 KiB, 1 MiB, around the most a file's one DATA frame
# carries with its end) and one big file of random data (1 GiB by default) arrive
# identical; a second push sends no file data.
#
#   push-sizes.sh XFERD XFERCTL [BIG_BYTES]
set -euo pipefail
# shellcheck source=tests/e2e/lib/pair.sh
. "$(dirname "$0")/../lib/pair.sh"
pair_init e2e-push-sizes "${1:?usage: push-sizes.sh XFERD XFERCTL [BIG_BYTES]}" "${2:?}"
big=${3:-$((1 << 30))}
src=$PAIR_DIR/src
PAIR_PUSH_TIMEOUT=300 # read by pair_push (1 GiB at ~20 MB/s on a busy box)

mtu=1500
chunk=$((mtu - 20 - 8 - 24 - 16)) # IP, UDP, frame header, DATA fields: 1432
sizes=(0 1 2 $((mtu - 1)) "$mtu" $((mtu + 1)) $((mtu - 28)) $((mtu - 28 + 1)))
# A file of at most `room` bytes goes as one DATA frame with its end, the CRC-64 after its
# bytes, and no FILE_END (docs/PROTOCOL.md 6.9); the pair seals every frame (a 16-byte tag).
room=$((chunk - 16 - 8))
sizes+=($((room - 1)) "$room" $((room + 1)))
for k in 1 2 3 7 64 733; do
	sizes+=($((k * chunk - 1)) $((k * chunk)) $((k * chunk + 1)))
done
sizes+=(4095 4096 4097 65535 65536 65537 1048575 1048576 1048577)
t0=$EPOCHREALTIME
nsmall=$(python3 "$PAIR_LIB_DIR/mktree.py" sizes "$src" "${sizes[@]}" --seed 1432)
[ "$nsmall" -eq "${#sizes[@]}" ] || pair_fail "mktree made $nsmall files"
# The big file: random (no holes), written quickly (openssl's generator is several times
# faster than /dev/urandom); an mtime in the past.
if command -v openssl >/dev/null; then
	openssl rand -out "$src/big.bin" "$big"
else
	head -c "$big" /dev/urandom >"$src/big.bin"
fi
[ "$(stat -c %s "$src/big.bin")" -eq "$big" ] || pair_fail "could not write $big random bytes"
touch -d '2010-10-10 10:10:10.123456789' "$src/big.bin" "$src"
pair_log "generated ${#sizes[@]} boundary files and $big bytes in $(pair_since "$t0")s"
bytes=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
nreg=$((nsmall + 1))

pair_start --set "ports[0].mtu=$mtu" # the sizes above are MTU 1500 boundaries
pair_push "$src" sizes >/dev/null || pair_fail "push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent "$nreg"
pair_expect_field bytes_total "$bytes"
pair_expect_field bytes_done "$bytes"
nend=0
for s in "${sizes[@]}"; do
	[ "$s" -lt 1 ] || [ "$s" -gt "$room" ] || nend=$((nend + 1))
done
pair_expect_field files_data_end "$nend"
got=$(pair_json b 'sum(v["pipeline_data_ends"] for v in j["volumes"])' stats)
[ "$got" -eq "$nend" ] || pair_fail "B took $got files with their end in their DATA frame, expected $nend"
ms=$(pair_job_field elapsed_ms)
pair_log "$bytes bytes in ${ms} ms: $(python3 -c "print('%.1f' % ($bytes / max($ms, 1) / 1e3))") MB/s," \
	"$(pair_job_field retransmits) retransmits, $(pair_job_field wire_bytes_sent) wire bytes"
pair_verify "$src" "$PAIR_VOL_B/sizes"
# Accounting: every frame A's push handed to its transmit path (each DATA frame at least
# once, and each retransmission once more) either left the port or is counted as a drop.
# memif itself loses nothing, so no frame may vanish unaccounted.
for side in a b; do
	pair_log "stats $side: drops $(pair_json "$side" '{k: v for k, v in j["drops"].items() if v}' stats)," \
		"ports $(pair_json "$side" 'j["ports"]' stats)"
done
data_frames=$(find "$src" -type f -printf '%s\n' | awk -v c="$chunk" '{ n += int(($1 + c - 1) / c) } END { print n }')
retx=$(pair_job_field retransmits)
accounted=$(pair_json a 'sum(p["tx_packets"] + p["tx_errors"] for p in j["ports"]) + sum(j["drops"].values())' stats)
[ "$accounted" -ge $((data_frames + retx)) ] ||
	pair_fail "A sent or dropped $accounted frames, but pushed $data_frames DATA frames and $retx retransmissions: $((data_frames + retx - accounted)) frames vanished uncounted"

total=$(pair_job_field files_total)
pair_push "$src" sizes >/dev/null || pair_fail "second push: exit $?"
pair_expect_field state "done"
pair_expect_field files_failed 0
pair_expect_field files_sent 0
pair_expect_field bytes_done 0
pair_expect_field files_uptodate "$total"
wire=$(pair_job_field wire_bytes_sent)
[ "$wire" -lt $((1 << 20)) ] || pair_fail "second push sent $wire bytes on the wire"

pair_pass
