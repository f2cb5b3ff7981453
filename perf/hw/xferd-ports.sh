#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# perf/hw/xferd-ports.sh [--workers "1 2 4 8"] [--mtu 9000] [--data DIR] PCI_A PCI_B
#
# xferd between two ports of the reference NIC, cabled back to back on one box (or the
# two appliances of HARDWARE.md: run it with one PCI address on each, see --help): two
# xferd processes, one per port, built in release; the `large` and `small` datasets of
# ../shared/BENCHMARKS.md pushed from A to B for each worker count; prints Gbit/s of file
# data, Mpps on the wire (from the ports' packet counters) and files/s. The datasets come
# from perf/datasets.sh. Exits 77 when there is no reference NIC bound for DPDK, or no
# hugepages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/nic-lib.sh"

WORKERS="1 2 4 8"
MTU=9000
DATA=""
while [ $# -gt 0 ]; do
	case "$1" in
	--workers) WORKERS=$2; shift 2 ;;
	--mtu) MTU=$2; shift 2 ;;
	--data) DATA=$2; shift 2 ;;
	-h|--help) sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done

[ "$(id -u)" -eq 0 ] || xf_skip "needs root (hugepages, vfio-pci)"
nics=$(xf_find_nics)
[ -n "$nics" ] || xf_skip "no Intel E810 or NVIDIA ConnectX-6 Dx NIC visible (checked PCI IDs: $XF_E810_IDS $XF_CX6DX_IDS)"
[ $# -eq 2 ] || { echo "usage: $0 [options] PCI_A PCI_B (two bound ports, cabled)" >&2; exit 2; }
for pci in "$1" "$2"; do
	grep -q "^$pci " <<<"$nics" || xf_skip "$pci is not a reference NIC port (found: $(cut -d' ' -f1 <<<"$nics" | tr '\n' ' '))"
done
hp=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
[ "${hp:-0}" -gt 0 ] || xf_skip "no free hugepages (HARDWARE.md: default_hugepagesz=1G hugepages=8)"

build="$top/build/release"
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release -Dtests=false >/dev/null
ninja -C "$build" >/dev/null
xferd="$build/control/xferd/xferd"
xferctl="$build/control/xferctl/xferctl"

work=$(mktemp -d /tmp/xf-hw.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$DATA" ]; then
	DATA="$work/data"
	"$top/perf/datasets.sh" "$DATA" large small >/dev/null
fi

ncpu=$(nproc)
# start NAME PCI IP PEER_IP FIRST_WORKER_LCORE NWORKERS
start() {
	local name=$1 pci=$2 ip=$3 peer=$4 first=$5 n=$6 workers="" i
	for ((i = 0; i < n; i++)); do workers+="${workers:+,}$((first + 1 + i))"; done
	mkdir -p "$work/$name"
	"$xferd" -c "$top/config/reference-appliance.yaml" \
		--set "appliance.name=hw-$name" --set "eal.file_prefix=xf-hw-$name" \
		--set "eal.memory_mb=2048" \
		--set "cores.main=$((first - 1))" --set "cores.rx=[$first]" \
		--set "cores.workers=[$workers]" \
		--set "ports[0].device=$pci" --set "ports[0].ipv4=$ip/24" --set "ports[0].mtu=$MTU" \
		--set "peers[0].name=peer" --set "peers[0].ipv4=$peer" \
		--set "volumes=[{name: data, path: $work/$name, fsync: none}]" \
		--set "control.socket=$work/$name.sock" --set "control.push_roots=[\"$DATA\"]" \
		>"$work/$name.out" 2>"$work/$name.err" &
	pids+=($!)
	timeout 60 bash -c "until grep -q 'xferd: ready' '$work/$name.out'; do
		kill -0 $! 2>/dev/null || exit 1; sleep 0.1; done" || {
		cat "$work/$name.err" >&2
		echo "xferd $name did not start" >&2
		exit 1
	}
}

stop() {
	"$xferctl" -s "$work/A.sock" shutdown >/dev/null 2>&1 || true
	"$xferctl" -s "$work/B.sock" shutdown >/dev/null 2>&1 || true
	wait "${pids[@]}" 2>/dev/null || true
	pids=()
}

tx_packets() { # SOCK
	"$xferctl" -s "$1" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["ports"][0]["tx_packets"])'
}

echo "xferd between $1 and $2, MTU $MTU, $ncpu CPUs, $(uname -r), release build"
printf '%-8s %-7s %10s %10s %10s %10s\n' dataset workers seconds Gbit/s Mpps files/s
for w in $WORKERS; do
	# A: main lcore 1, RX 2, workers after; B: the same shape after A's cores.
	need=$((2 * (2 + w) + 1))
	if [ "$need" -gt "$ncpu" ]; then
		echo "skipping $w workers: needs $need CPUs, this box has $ncpu"
		continue
	fi
	start A "$1" 192.168.77.1 192.168.77.2 2 "$w"
	start B "$2" 192.168.77.2 192.168.77.1 $((4 + w)) "$w"
	for ds in large small; do
		rm -rf "$work/B/$ds"
		p0=$(tx_packets "$work/A.sock")
		t0=$(date +%s.%N)
		"$xferctl" -s "$work/A.sock" push "$DATA/$ds" "peer:$ds" --wait >/dev/null
		t1=$(date +%s.%N)
		p1=$(tx_packets "$work/A.sock")
		bytes=$(du -sb "$DATA/$ds" | cut -f1)
		files=$(find "$DATA/$ds" -type f | wc -l)
		python3 - "$ds" "$w" "$t0" "$t1" "$bytes" "$((p1 - p0))" "$files" <<'PY'
import sys
ds, w, t0, t1, b, p, f = sys.argv[1:]
s = float(t1) - float(t0)
print("%-8s %-7s %10.2f %10.2f %10.3f %10.0f" % (ds, w, s, int(b) * 8 / s / 1e9, int(p) / s / 1e6, int(f) / s))
PY
	done
	stop
done
