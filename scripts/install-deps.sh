#!/usr/bin/env bash
# Install the Debian 12 packages needed to build, test and benchmark xferd: everything any
# test, script or benchmark runs (scripts/check-deps.py, the unit test install-deps-complete,
# fails when a program they run comes from a package missing here).
# Idempotent and quiet when everything is present. Run as root (or with sudo).
# docs/DEPENDENCIES.md says why each one was chosen.
set -euo pipefail

packages=(
	# build (git: the format and header checks list the tracked files)
	gcc clang meson ninja-build pkg-config git
	# libraries
	libdpdk-dev liburing-dev libisal-dev libcunit1-dev libyaml-dev libjansson-dev
	# per-frame AES-256-GCM (drivers/crypto) and the handshake primitives (dataplane/secure)
	libipsec-mb-dev libssl-dev
	# sd_notify: readiness, reload and stop under systemd's Type=notify (control/xferd)
	libsystemd-dev
	# the HTTP server of the Prometheus /metrics endpoint (control/xferd/xferd_metrics.c)
	libmicrohttpd-dev
	# the independent Python implementation of the handshake (tests/unit/secure/noise_ref.py)
	python3-cryptography
	# sanitizer and libFuzzer runtimes for clang
	libclang-rt-14-dev
	# dpdk-devbind.py (perf/hw); dpdk-dev: dpdk-telemetry.py (e2e telemetry test),
	# dpdk-test (ring_perf_autotest) and dpdk-testpmd, the baselines in perf/
	dpdk dpdk-dev
	# formatting check
	clang-format
	# end-to-end tests: real rsync as baseline and verifier, veth/netns (iproute2, and
	# ethtool to turn off veth checksum offload), loss (nftables), ping, and the tools
	# their scripts call (awk: mawk; pgrep, ps, sysctl: procps)
	rsync iproute2 nftables ethtool iputils-ping mawk procps
	# XFS volumes for tests and benchmarks (mkfs.xfs on a loop device; losetup, mount and
	# umount come from mount, which is not Essential and so not in a minimal root)
	xfsprogs mount
	# systemd-analyze verify checks the units in dist/systemd (unit test systemd-units);
	# no running systemd is needed
	systemd
	# systemd-nspawn boots systemd in a container to start the unit (e2e-nspawn-boot)
	systemd-container
	# the Debian package (debian/, tests/package): dpkg-buildpackage, debhelper with its
	# meson build system, build-essential (which dpkg-checkbuilddeps requires), lintian
	dpkg-dev debhelper build-essential lintian
	# promtool checks the /metrics exposition (e2e-metrics)
	prometheus
	# the Wireshark dissector's tests (contrib/wireshark): tshark decodes the frames and
	# captures a push (dumpcap). Installed noninteractively, so without non-root capture.
	tshark
	# man pages: groff formats them (unit test man-pages), man shows them
	groff-base man-db
	# extended attributes and POSIX ACLs of the e2e trees (setfattr, getfattr: attr;
	# setfacl, getfacl: acl); xferd itself needs neither (docs/DEPENDENCIES.md)
	attr acl
	# ext4 volumes for the tests of the file system that cannot clone (mkfs.ext4);
	# e2fsprogs is not Essential, so a minimal root lacks it
	e2fsprogs
	# perf/: datasets (openssl as a fast seeded random stream), profiles (perf), plots
	openssl linux-perf gnuplot-nox python3
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
