#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Loss recovery degrades gracefully (docs/RELIABILITY.md, "Random loss"): two appliances
# joined by a bridge (xfn_lossy_link), a 48 MiB file pushed at 300 Mbit/s once over the
# lossless link and once with 5% of the frames dropped at random in each direction. Both copies arrive
# identical, the lossy push saw loss and repaired it, and it takes less than BOUND (10)
# times the lossless push plus 2 s: room for a lost HELLO resent twice (1 s, then 2 s of
# probe timeout before any RTT sample). Pushes that waited on timers instead of resending
# took 100 times as long (51 s against 0.3 s, issue 20) and would fail it.
#
#   lossy-goodput.sh XFERD XFERCTL [MIB] [BOUND]   (root; exits 77 saying what is missing)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
xfn_init e2e-lossy-goodput "${1:-}" "${2:-}"
mib=${3:-48}
bound=${4:-10}

xfn_ns a
xfn_ns b
xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"
xfn_nft_loss s "${XFN_TAG}sb" 0 0
xfn_nft_loss s "${XFN_TAG}sa" 0 0

# Both paced at 300 Mbit/s: without congestion control an unpaced sender overruns the
# receiver's RX ring whenever the machine is loaded, and those losses (thousands per push,
# perf/wan/README.md) would be timed here along with nftables' 5%.
pace=(--set session.rate_mbit=300)
xfn_start A a "${XFN_TAG}a" 10.213.11.1/24 10.213.11.2 "${pace[@]}"
xfn_start B b "${XFN_TAG}b" 10.213.11.2/24 10.213.11.1 "${pace[@]}"

mkdir "$T/src"
python3 -c '
import random, sys
rng = random.Random(20261206)
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(rng.randbytes(1 << 20))
' "$T/src/big.bin" "$mib"


# push DEST: push the file, check the job and the copy; prints "ms retransmits lost".
push() {
	local start ms rc=0 state failed retx lost
	start=$(date +%s%N)
	xfn_ctl A push "$T/src" "peer:$1" --wait >/dev/null 2>&1 || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$rc" -eq 0 ] || xfn_fail "push to $1 exited with status $rc after $ms ms"
	read -r state failed retx lost < <(xfn_q A jobs \
		"' '.join(str(max(r['jobs'], key=lambda j: j['id'])[k]) for k in ('state', 'files_failed', 'retransmits', 'lost'))")
	[ "$state" = "done" ] || xfn_fail "push to $1: job state $state"
	[ "$failed" -eq 0 ] || xfn_fail "push to $1: $failed files failed"
	xfn_same "$T/src" "$T/B/$1"
	echo "$ms $retx $lost"
}

# A first push settles what a link's first push pays once (neighbour resolution) before
# the timed ones.
mkdir "$T/warm"
echo warm >"$T/warm/f"
xfn_ctl A push "$T/warm" peer:warm --wait >/dev/null || xfn_fail "the warm-up push failed"
read -r ms0 retx0 lost0 < <(push clean)
xfn_log "lossless: $mib MiB in $ms0 ms (retransmits=$retx0 lost=$lost0)"
xfn_nft_set_drop s "${XFN_TAG}sb" 5
xfn_nft_set_drop s "${XFN_TAG}sa" 5
read -r ms5 retx5 lost5 < <(push lossy)
xfn_log "5% drop each way: $mib MiB in $ms5 ms (retransmits=$retx5 lost=$lost5);" \
	"nft toward B: $(xfn_nft_counters s "${XFN_TAG}sb" | cut -d" " -f1), toward A: $(xfn_nft_counters s "${XFN_TAG}sa" | cut -d" " -f1)"

[ "$lost5" -gt 0 ] || xfn_fail "the sender detected no loss at 5% drop"
[ "$retx5" -gt 0 ] || xfn_fail "the sender retransmitted nothing at 5% drop"
limit=$((ms0 * bound + 2000))
[ "$ms5" -lt "$limit" ] ||
	xfn_fail "5% drop took $ms5 ms, over $bound x the lossless $ms0 ms + 2 s ($limit ms)"

xfn_stop A
xfn_stop B
echo "$XFN_NAME: PASS (lossless $ms0 ms, 5% drop $ms5 ms: $((ms5 * 100 / (ms0 > 0 ? ms0 : 1)))% of the lossless time)"
