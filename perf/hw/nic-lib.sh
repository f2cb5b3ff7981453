# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
# Shared by perf/hw/*.sh: find the reference NICs (HARDWARE.md) on this machine.
#   Intel E810 (ice): 8086:1591 1592 1593 1599 159a 159b
#   NVIDIA ConnectX-6 Dx (mlx5): 15b3:101d (PF), 101e (VF)
# Prints "PCI VENDOR:DEVICE DRIVER" per NIC found, from lspci -Dnn and sysfs (the same
# IDs dpdk-devbind.py --status-dev net shows).

XF_E810_IDS="8086:1591 8086:1592 8086:1593 8086:1599 8086:159a 8086:159b"
XF_CX6DX_IDS="15b3:101d 15b3:101e"

xf_nic_kind() { # VENDOR:DEVICE -> e810 | cx6dx | ""
	case " $XF_E810_IDS " in *" $1 "*) echo e810; return ;; esac
	case " $XF_CX6DX_IDS " in *" $1 "*) echo cx6dx; return ;; esac
	echo ""
}

xf_find_nics() {
	local dev id drv
	for dev in /sys/bus/pci/devices/*; do
		[ -e "$dev/vendor" ] || continue
		id="$(sed 's/^0x//' "$dev/vendor"):$(sed 's/^0x//' "$dev/device")"
		[ -n "$(xf_nic_kind "$id")" ] || continue
		drv=none
		[ -L "$dev/driver" ] && drv=$(basename "$(readlink "$dev/driver")")
		echo "$(basename "$dev") $id $drv"
	done
}

xf_skip() { # exit 77 (skipped) with a message saying what is missing
	echo "$(basename "$0"): SKIP: $*" >&2
	exit 77
}
