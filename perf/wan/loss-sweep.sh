#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Loss sweep over the e2e veth link (perf/wan/README.md): two appliances, each in its own
# network namespace on net_af_packet (MTU 1500), nftables dropping N% of the frames at
# random in each direction. For each loss rate one 48 MiB file and a small tree (FILES
# files of 0-4 KiB) are pushed RUNS times; the script prints per run the time, goodput,
# the job's retransmissions, losses, spurious losses, probe timeouts, deepest backoff and
# the receiver's frames it never got, and the receiver's retransmissions; then per rate
# the median and its ratio to the lossless median of the same run of the script.
#
#   loss-sweep.sh XFERD XFERCTL [--runs N] [--loss "0 1 2 5 10 20"] [--mib M]
#                 [--files N] [--limit-s S] [--csv FILE] [--plot FILE.svg]
#                 [--link bridge|direct] [--rate-mbit N] [--set K=V]...
#
# --link bridge (the default) joins the appliances through a bridge in a third namespace
# and drops there, as the bridge forwards; --link direct drops on the egress of the
# appliances' own veth ends, where net_af_packet's TX ring retries what nftables drops
# (perf/wan/README.md). --rate-mbit paces both appliances (session.rate_mbit; default 0,
# unpaced): without congestion control an unpaced sender overruns a loaded receiver's RX
# ring, and pacing below what the receiver keeps up with leaves only nftables' loss.
# --set K=V adds a config setting to both appliances (repeatable), e.g. cores.idle=poll.
#
# Volumes and sources go in /dev/shm when TMPDIR is unset and it has 1 GiB free, else in
# TMPDIR (or /tmp). Root (network namespaces, veth, nftables netdev egress). A push
# that has not finished within --limit-s seconds (default 120) is cancelled and reported
# as such.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/net/lib.sh
. "$here/../../tests/e2e/net/lib.sh"
# Not on the machine's disk: there the receiver's creates wait for the writeback of the
# pushes before (the lossless 2,000-file tree took 50-91 ms on the first push of a sweep
# on ext4 and 540-730 ms from the fifth on; 70-116 ms in /dev/shm), which the sweep
# would take for the cost of the loss.
if [ -z "${TMPDIR:-}" ] && [ "$(df -Pm /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')" -gt 1024 ] 2>/dev/null; then
	export TMPDIR=/dev/shm
fi
xfn_init loss-sweep "${1:-}" "${2:-}"
shift 2
echo "volumes: $T ($(df -PT "$T" | awk 'NR==2 {print $2}'))"

runs=3
losses="0 1 2 5 10 20"
mib=48
files=2000
limit_s=120
csv=
link=bridge
plot=
rate=0
extra_sets=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--loss) losses=$2; shift 2 ;;
	--mib) mib=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--limit-s) limit_s=$2; shift 2 ;;
	--csv) csv=$2; shift 2 ;;
	--link) link=$2; shift 2 ;;
	--plot) plot=$2; shift 2 ;;
	--rate-mbit) rate=$2; shift 2 ;;
	--set) extra_sets+=(--set "$2"); shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done

xfn_ns a
xfn_ns b
if [ "$link" = direct ]; then
	# The appliances' own veth ends: their TX rings see the drop (README: it is retried).
	xfn_veth a "${XFN_TAG}a" b "${XFN_TAG}b"
	drop_ns=(a b)
	drop_dev=("${XFN_TAG}a" "${XFN_TAG}b")
else
	# A bridge in namespace s between them (xfn_lossy_link): frames are dropped as the
	# bridge forwards them, a loss neither appliance's kernel knows of.
	xfn_lossy_link a "${XFN_TAG}a" b "${XFN_TAG}b"
	drop_ns=(s s)
	drop_dev=("${XFN_TAG}sb" "${XFN_TAG}sa")
fi
xfn_nft_loss "${drop_ns[0]}" "${drop_dev[0]}" 0 0
xfn_nft_loss "${drop_ns[1]}" "${drop_dev[1]}" 0 0

set_args=(--set session.timeout_ms=30000 --set "session.rate_mbit=$rate" ${extra_sets[@]+"${extra_sets[@]}"})
xfn_start A a "${XFN_TAG}a" 10.213.9.1/24 10.213.9.2 "${set_args[@]}"
xfn_start B b "${XFN_TAG}b" 10.213.9.2/24 10.213.9.1 "${set_args[@]}"

mkdir -p "$T/src/file" "$T/src/tree"
head -c $((mib << 20)) /dev/urandom >"$T/src/file/big.bin"
xfn_mktree "$T/src/tree" 20261206 "$files"
tree_bytes=$(du -sb "$T/src/tree" | cut -f1)

# set_loss PCT: replace the drop rule's percentage on both egresses.
set_loss() {
	xfn_nft_set_drop "${drop_ns[0]}" "${drop_dev[0]}" "$1"
	xfn_nft_set_drop "${drop_ns[1]}" "${drop_dev[1]}" "$1"
}

out="$T/results.csv"
echo "kind,loss,run,ms,ok,goodput_MBps,retransmits,lost,spurious,pto,pto_backoff_max,peer_missing,rx_retransmits" >"$out"
n=0
for loss in $losses; do
	set_loss "$loss"
	for r in $(seq "$runs"); do
		for kind in file tree; do
			n=$((n + 1))
			dest="run$n"
			bytes=$((mib << 20))
			[ "$kind" = tree ] && bytes=$tree_bytes
			rx_before=$(xfn_q B stats "r['dataplane']['retransmits']")
			start=$(date +%s%N)
			ok=1
			timeout "$limit_s" "$XFERCTL" -s "$T/A.sock" push "$T/src/$kind" \
				"peer:$dest" --wait >/dev/null 2>&1 || ok=0
			ms=$((($(date +%s%N) - start) / 1000000))
			if [ "$ok" = 0 ]; then
				xfn_ctl A cancel "$(xfn_q A jobs "max(j['id'] for j in r['jobs'])")" >/dev/null 2>&1 || true
			fi
			read -r state retx lost spur pto backoff missing < <(xfn_q A jobs \
				"' '.join(str(max(r['jobs'], key=lambda j: j['id']).get(k, -1)) for k in ('state', 'retransmits', 'lost', 'spurious', 'pto', 'pto_backoff_max', 'peer_missing'))")
			[ "$state" = "done" ] || ok=0
			if [ "$ok" = 1 ] && ! diff -r "$T/src/$kind" "$T/B/$dest" >/dev/null; then
				ok=0
			fi
			rx_retx=$(($(xfn_q B stats "r['dataplane']['retransmits']") - rx_before))
			gp=$(python3 -c "print('%.1f' % ($bytes / 1e6 / max($ms, 1) * 1000))")
			echo "$kind,$loss,$r,$ms,$ok,$gp,$retx,$lost,$spur,$pto,$backoff,$missing,$rx_retx" >>"$out"
			printf '%-4s loss=%2s%% run=%d %7d ms ok=%d %7s MB/s retx=%s lost=%s spurious=%s pto=%s backoff_max=%s peer_missing=%s rx_retx=%s\n' \
				"$kind" "$loss" "$r" "$ms" "$ok" "$gp" "$retx" "$lost" "$spur" "$pto" "$backoff" "$missing" "$rx_retx"
			rm -rf "${T:?}/B/$dest"
		done
	done
done
echo "nft drops at ${loss}%: toward B $(xfn_nft_counters "${drop_ns[0]}" "${drop_dev[0]}" | cut -d' ' -f1)," \
	"toward A $(xfn_nft_counters "${drop_ns[1]}" "${drop_dev[1]}" | cut -d' ' -f1)"
if [ -n "$csv" ]; then cp "$out" "$csv"; fi

python3 "$here/loss_table.py" "$out" ${plot:+--plot "$plot"}
xfn_stop A
xfn_stop B
