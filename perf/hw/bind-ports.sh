#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# perf/hw/bind-ports.sh [PCI ...]: bind the reference NIC ports to vfio-pci for DPDK.
#
# Intel E810 ports are bound to vfio-pci (dpdk-devbind.py --bind=vfio-pci). ConnectX-6 Dx
# ports stay on mlx5_core: the mlx5 PMD is bifurcated and needs no rebinding.
# With no PCI address, lists the reference NICs found. Exits 77 when none is visible.
set -euo pipefail
. "$(dirname "$0")/nic-lib.sh"

command -v dpdk-devbind.py >/dev/null || xf_skip "dpdk-devbind.py not found (Debian package dpdk)"
nics=$(xf_find_nics)
[ -n "$nics" ] || xf_skip "no Intel E810 or NVIDIA ConnectX-6 Dx NIC visible (checked PCI IDs: $XF_E810_IDS $XF_CX6DX_IDS)"

if [ $# -eq 0 ]; then
	echo "reference NICs (PCI, id, driver); pass the addresses to bind:"
	echo "$nics"
	exit 0
fi

need_vfio=0
for pci in "$@"; do
	[[ $pci == *:*:*.* ]] || pci="0000:$pci"
	line=$(grep "^$pci " <<<"$nics" || true)
	[ -n "$line" ] || xf_skip "$pci is not an E810 or ConnectX-6 Dx port on this machine"
	read -r _ id drv <<<"$line"
	case $(xf_nic_kind "$id") in
	e810)
		need_vfio=1
		if [ "$drv" = vfio-pci ]; then
			echo "$pci: already on vfio-pci"
			continue
		fi
		if [ ! -d /sys/kernel/iommu_groups ] || [ -z "$(ls /sys/kernel/iommu_groups)" ]; then
			echo "$pci: no IOMMU groups: enable VT-d/AMD-Vi in the BIOS and boot with intel_iommu=on iommu=pt (HARDWARE.md)" >&2
			exit 1
		fi
		modprobe vfio-pci
		dpdk-devbind.py --bind=vfio-pci "$pci"
		echo "$pci: bound to vfio-pci (was $drv)"
		;;
	cx6dx)
		if [ "$drv" != mlx5_core ]; then
			echo "$pci: ConnectX-6 Dx on driver '$drv'; the mlx5 PMD needs mlx5_core (modprobe mlx5_core, dpdk-devbind.py --bind=mlx5_core $pci)" >&2
			exit 1
		fi
		echo "$pci: ConnectX-6 Dx stays on mlx5_core (bifurcated mlx5 PMD, nothing to bind)"
		;;
	esac
done
[ $need_vfio = 0 ] || dpdk-devbind.py --status-dev net
