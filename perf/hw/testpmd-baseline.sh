#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# perf/hw/testpmd-baseline.sh [--mode txonly|io] [--cores N] [--seconds S] [PCI ...]
#
# Line-rate baseline of the reference NIC with dpdk-testpmd at 64, 1518 and 9000-byte
# frames: txonly (transmit only; the NIC's TX ceiling) or io (forward what arrives; needs
# a traffic generator or a looped pair of ports). Prints Mpps per size against 100 GbE line
# rate. Without PCI addresses it uses every bound reference port (E810 on vfio-pci,
# ConnectX-6 Dx on mlx5_core). Exits 77 when there is no such NIC.
set -euo pipefail
. "$(dirname "$0")/nic-lib.sh"

MODE=txonly
CORES=4
SECONDS_PER_SIZE=10
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) MODE=$2; shift 2 ;;
	--cores) CORES=$2; shift 2 ;;
	--seconds) SECONDS_PER_SIZE=$2; shift 2 ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
case $MODE in txonly|io) ;; *) echo "--mode is txonly or io" >&2; exit 2 ;; esac

command -v dpdk-testpmd >/dev/null || xf_skip "dpdk-testpmd not found (Debian package dpdk)"
nics=$(xf_find_nics)
[ -n "$nics" ] || xf_skip "no Intel E810 or NVIDIA ConnectX-6 Dx NIC visible (checked PCI IDs: $XF_E810_IDS $XF_CX6DX_IDS)"
ports=("$@")
if [ ${#ports[@]} -eq 0 ]; then
	while read -r pci id drv; do
		case "$(xf_nic_kind "$id"):$drv" in
		e810:vfio-pci | cx6dx:mlx5_core) ports+=("$pci") ;;
		esac
	done <<<"$nics"
fi
[ ${#ports[@]} -gt 0 ] || xf_skip "reference NIC present but no port bound for DPDK (run perf/hw/bind-ports.sh PCI)"

allow=()
for p in "${ports[@]}"; do allow+=(-a "$p"); done
last=$((CORES))  # lcore 0 is testpmd's main core; forwarding cores 1..CORES
queues=$CORES

# 100 GbE line rate: frame + 20 bytes of preamble and inter-frame gap.
line_rate() { awk -v s="$1" 'BEGIN { printf "%.2f", 100e9 / ((s + 20) * 8) / 1e6 }'; }

printf '%-8s %10s %14s %8s\n' frame Mpps "100G line Mpps" "% line"
for size in 64 1518 9000; do
	pkt=$((size - 4))  # testpmd lengths exclude the 4-byte FCS
	extra=()
	[ "$MODE" = io ] && extra+=(--tx-first)
	if [ "$size" -gt 1518 ]; then
		extra+=(--mbuf-size=10240 --max-pkt-len="$size")
	fi
	log=$(mktemp)
	timeout -s INT "$SECONDS_PER_SIZE" dpdk-testpmd -l "0-$last" "${allow[@]}" \
		--file-prefix xf-testpmd -- --forward-mode="$MODE" --txpkts="$pkt" \
		--nb-cores="$CORES" --rxq="$queues" --txq="$queues" --rxd=2048 --txd=2048 \
		--burst=64 --stats-period=1 --auto-start "${extra[@]}" >"$log" 2>&1 || true
	# Each period prints per-port "Rx-pps: N ... Tx-pps: N"; take the sum over ports of
	# the last full period.
	field=Tx-pps
	[ "$MODE" = io ] && field=Rx-pps
	mpps=$(awk -v f="$field" -v n="${#ports[@]}" '
		{ for (i = 1; i < NF; i++) if ($i == f ":") v[++k] = $(i + 1) }
		END { s = 0; if (k >= n) for (j = k - n + 1; j <= k; j++) s += v[j]; printf "%.2f", s / 1e6 }' "$log")
	lr=$(line_rate "$size")
	printf '%-8s %10s %14s %7.1f%%\n' "$size B" "$mpps" "$lr" "$(awk -v a="$mpps" -v b="$lr" 'BEGIN { print 100 * a / b }')"
	if [ "$mpps" = "0.00" ]; then
		echo "  no rate parsed; testpmd said:" >&2
		tail -5 "$log" >&2
	fi
	rm -f "$log"
done
