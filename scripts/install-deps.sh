#!/usr/bin/env bash
# Install the Debian 12 packages needed to build, test and benchmark xferd.
# Idempotent and quiet when everything is present. Run as root (or with sudo).
# docs/DEPENDENCIES.md says why each one was chosen.
set -euo pipefail

packages=(
	# build
	gcc clang meson ninja-build pkg-config
	# libraries
	libdpdk-dev liburing-dev libisal-dev libcunit1-dev libyaml-dev libjansson-dev
	# sanitizer and libFuzzer runtimes for clang
	libclang-rt-14-dev
	# dpdk-test (ring_perf_autotest) and dpdk-testpmd as baselines
	dpdk
	# formatting check
	clang-format
	# end-to-end tests: real rsync as baseline and verifier, veth/netns, loss, ping
	rsync iproute2 nftables iputils-ping
	# perf report plots
	gnuplot-nox python3
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}; run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
