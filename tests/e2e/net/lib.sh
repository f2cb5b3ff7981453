# SPDX-License-Identifier: BSD-3-Clause
# Shared code of the network end-to-end tests (sourced, not run): network namespaces,
# veth pairs, a Linux bridge, nftables loss, xferd appliances on net_af_packet, trees
# and their comparison. Every object is named after the test's tag and removed by the
# EXIT trap this file installs.
#
#   . lib.sh; xfn_init NAME XFERD XFERCTL
#
# Appliances run in their own network namespace, each attached to one end of a veth
# with net_af_packet (qdisc_bypass=0 so that egress hooks on that end see its frames).
# The kernel side of an appliance's veth has no address, so the kernel never answers
# ARP in the appliance's place.

XFN_NAME=
XFN_TAG=
T=
XFERD=
XFERCTL=
XFN_NS=()
XFN_PIDS=()
XFN_WAIT_S=${XFN_WAIT_S:-30}

xfn_log() {
	echo "$XFN_NAME: $*" >&2
}

xfn_skip() {
	echo "$XFN_NAME: SKIP: $*" >&2
	exit 77
}

# Print the appliances' logs and fail.
xfn_fail() {
	local f
	echo "$XFN_NAME: FAIL: $*" >&2
	for f in "$T"/*.err; do
		[ -e "$f" ] || continue
		echo "--- $(basename "$f") (last 40 lines) ---" >&2
		tail -n 40 "$f" >&2
	done
	exit 1
}

xfn_cleanup() {
	local pid ns
	set +e
	for pid in "${XFN_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	for pid in "${XFN_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# Deleting a namespace deletes its veths, bridge and nftables tables with it.
	for ns in "${XFN_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$T" ] && rm -rf "$T"
	rm -rf /var/run/dpdk/"$XFN_TAG"-* 2>/dev/null
}

# Check what every network test needs; exit 77 naming what is missing.
xfn_require() {
	local c
	[ "$(id -u)" -eq 0 ] || xfn_skip "needs root (network namespaces, veth, nftables)"
	for c in ip nft timeout python3 diff rsync ethtool; do
		command -v "$c" >/dev/null || xfn_skip "needs '$c' in PATH"
	done
	[ -x "$XFERD" ] || xfn_fail "$XFERD is not executable"
	[ -x "$XFERCTL" ] || xfn_fail "$XFERCTL is not executable"
	ip netns add "${XFN_TAG}probe" 2>/dev/null ||
		xfn_skip "'ip netns add' failed: no network namespace support"
	XFN_NS+=("${XFN_TAG}probe")
	ip -n "${XFN_TAG}probe" link add "${XFN_TAG}p0" type veth peer name "${XFN_TAG}p1" \
		2>/dev/null || xfn_skip "cannot create a veth pair (veth module missing?)"
	ip netns exec "${XFN_TAG}probe" nft -f - 2>/dev/null <<-EOF ||
		table netdev probe {
			chain c { type filter hook egress device "${XFN_TAG}p0" priority 0; }
		}
	EOF
		xfn_skip "nftables cannot hook netdev egress on a veth (kernel < 5.16 or nf_tables missing)"
	ip netns del "${XFN_TAG}probe"
	XFN_NS=()
}

# xfn_init NAME XFERD XFERCTL: temp dir, names, cleanup trap.
xfn_init() {
	XFN_NAME=$1
	XFERD=$2
	XFERCTL=$3
	if [ -z "$XFERD" ] || [ -z "$XFERCTL" ]; then
		echo "usage: $0 XFERD XFERCTL" >&2
		exit 2
	fi
	# Short: interface names are at most 15 bytes ("<tag>" + 4).
	XFN_TAG="xf$(printf '%x' $(($$ % 65536)))${XFN_NAME:0:2}"
	T=$(mktemp -d -t "xf-e2e-$XFN_NAME.XXXXXX")
	trap xfn_cleanup EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	xfn_require
}

# xfn_ns NAME: a namespace called <tag>NAME with lo up; prints nothing.
xfn_ns() {
	local ns="$XFN_TAG$1"
	ip netns add "$ns" || xfn_fail "ip netns add $ns"
	XFN_NS+=("$ns")
	ip -n "$ns" link set lo up
}

# Make an interface quiet (no IPv6 chatter), without TX offloads (the kernel would
# leave UDP checksums for a NIC that a veth does not have), and up.
xfn_if_prepare() {
	local ns="$XFN_TAG$1" dev=$2
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" 2>/dev/null || true
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null 2>&1 ||
		xfn_fail "ethtool -K $dev tx off"
	ip -n "$ns" link set "$dev" up
}

# xfn_veth NS1 DEV1 NS2 DEV2: a veth pair between two of our namespaces.
xfn_veth() {
	ip link add "$2" netns "$XFN_TAG$1" type veth peer name "$4" netns "$XFN_TAG$3" ||
		xfn_fail "cannot create veth $2/$4"
	xfn_if_prepare "$1" "$2"
	xfn_if_prepare "$3" "$4"
}

# xfn_bridge NS BR [ADDR/PLEN] DEV...: a bridge over DEVs (in NS), optionally addressed.
xfn_bridge() {
	local ns=$1 br=$2 addr=$3 d
	shift 3
	ip -n "$XFN_TAG$ns" link add "$br" type bridge || xfn_fail "cannot create bridge $br"
	ip netns exec "$XFN_TAG$ns" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" 2>/dev/null || true
	for d in "$@"; do
		ip -n "$XFN_TAG$ns" link set "$d" master "$br"
	done
	[ -n "$addr" ] && ip -n "$XFN_TAG$ns" addr add "$addr" dev "$br"
	ip netns exec "$XFN_TAG$ns" ethtool -K "$br" tx off >/dev/null 2>&1 || true
	ip -n "$XFN_TAG$ns" link set "$br" up
}

# xfn_lossy_link NS_A DEV_A NS_B DEV_B: join DEV_A (in NS_A) and DEV_B (in NS_B) through a
# bridge in a namespace of its own, "s", whose ports are <tag>sa (toward A) and <tag>sb
# (toward B): give those to xfn_nft_loss. Loss is emulated there, as the bridge forwards,
# and not on an appliance's own veth end: net_af_packet sends through the kernel's
# packet_mmap TX ring, which keeps a frame the egress hook dropped and sends it again on
# the next send(), so a drop there is a delay until the appliance next transmits, not a
# loss (perf/wan/README.md).
xfn_lossy_link() {
	xfn_ns s
	xfn_veth "$1" "$2" s "${XFN_TAG}sa"
	xfn_veth "$3" "$4" s "${XFN_TAG}sb"
	xfn_bridge s "${XFN_TAG}br" "" "${XFN_TAG}sa" "${XFN_TAG}sb"
}

# xfn_watch_start DEV...: nonce_watch.py on the bridge ports DEV... of xfn_lossy_link's
# namespace (sealed frames' packet numbers, HELLOs' ephemeral keys), until xfn_watch_stop,
# which sets XFN_WATCH to its JSON result.
XFN_WATCH_PID=
XFN_WATCH=
xfn_watch_start() {
	ip netns exec "${XFN_TAG}s" python3 "$(dirname "${BASH_SOURCE[0]}")/nonce_watch.py" "$@" \
		>"$T/watch.out" 2>"$T/watch.err" &
	XFN_WATCH_PID=$!
	XFN_PIDS+=("$XFN_WATCH_PID")
	for _ in $(seq 100); do
		grep -q ready "$T/watch.out" 2>/dev/null && return
		sleep 0.1
	done
	xfn_fail "nonce_watch.py did not start: $(cat "$T/watch.err")"
}

xfn_watch_stop() {
	kill -TERM "$XFN_WATCH_PID"
	wait "$XFN_WATCH_PID" || xfn_fail "nonce_watch.py failed: $(cat "$T/watch.err")"
	XFN_WATCH=$(tail -n 1 "$T/watch.out")
}

# xfn_nft_loss NS DEV DROP_PCT DUP_PCT: random drop and duplication on DEV's egress. DEV
# must not be an appliance's own end (see xfn_lossy_link).
xfn_nft_loss() {
	local ns="$XFN_TAG$1" dev=$2
	ip netns exec "$ns" nft -f - <<-EOF || xfn_fail "nft rules on $dev"
		table netdev xfloss_$dev {
			chain egress {
				type filter hook egress device "$dev" priority 0;
				numgen random mod 100 < $3 counter drop
				numgen random mod 100 < $4 counter dup to "$dev"
			}
		}
	EOF
}

# xfn_nft_set_drop NS DEV DROP_PCT: replace xfn_nft_loss's rules on DEV with a drop of
# DROP_PCT% alone (no duplication), counters from 0.
xfn_nft_set_drop() {
	local ns="$XFN_TAG$1" dev=$2
	ip netns exec "$ns" nft flush chain netdev "xfloss_$dev" egress &&
		ip netns exec "$ns" nft add rule netdev "xfloss_$dev" egress \
			numgen random mod 100 '<' "$3" counter drop ||
		xfn_fail "nft drop rule on $dev"
}

# xfn_nft_counters NS DEV: "dropped=N duplicated=M" of xfn_nft_loss's rules.
xfn_nft_counters() {
	ip netns exec "$XFN_TAG$1" nft list table netdev "xfloss_$2" |
		awk '/counter/ { for (i = 1; i <= NF; i++) if ($i == "packets") c[n++] = $(i + 1) }
		     END { printf "dropped=%s duplicated=%s\n", c[0], c[1] }'
}

# The appliances' common configuration; per-appliance keys come as --set overrides.
xfn_base_config() {
	[ -e "$T/base.yaml" ] && return
	cat >"$T/base.yaml" <<-'EOF'
		# SPDX-License-Identifier: BSD-3-Clause
		version: 1
		appliance: {name: e2e, log_level: info}
		eal: {file_prefix: placeholder, hugepages: false, memory_mb: 256, pci: false}
		cores: {main: 0, rx: [1], workers: [2], cpus: [0, 1], idle: backoff}
		ports:
		  - {name: wire0, device: "net_af_packet0,iface=lo", ipv4: 10.0.0.1/24, mtu: 1500}
		volumes:
		  - {name: data, path: /, fsync: none}
		peers:
		  - {name: peer, ipv4: 10.0.0.2}
		session: {timeout_ms: 10000, keepalive_ms: 500}
		control: {socket: /nonexistent}
	EOF
}

# xfn_key: the test key pair ($T/test.key, public key in XFN_PUB), made once with
# `xferd keygen`. Every appliance of a test holds it, so each one's peer entry names the
# same public key whichever appliance (or restart of one) is behind the address; the
# attacks use keys of their own.
xfn_key() {
	[ -e "$T/test.key" ] || "$XFERD" keygen "$T/test.key" >"$T/test.pub" ||
		xfn_fail "xferd keygen failed"
	XFN_PUB=$(cat "$T/test.pub")
}

# xfn_start NAME NS DEV ADDR/PLEN PEER_IP [--set K=V]...: run an appliance in namespace
# NS on DEV (through net_af_packet) with volume $T/NAME (created if missing), control
# socket $T/NAME.sock; wait for its "xferd: ready". Sets XFN_PID_<NAME>.
xfn_start() {
	local name=$1 ns="$XFN_TAG$2" dev=$3 addr=$4 peer=$5 pid fd line=
	shift 5
	xfn_base_config
	xfn_key
	mkdir -p "$T/$name"
	rm -f "$T/$name.fifo"
	mkfifo "$T/$name.fifo"
	ip netns exec "$ns" "$XFERD" -c "$T/base.yaml" \
		--set "eal.file_prefix=$XFN_TAG-$name" \
		--set "appliance.name=$name" \
		--set "control.socket=$T/$name.sock" \
		--set "control.push_roots=[\"$T\"]" \
		--set "volumes[0].path=$T/$name" \
		--set "ports[0].device=net_af_packet0,iface=$dev,qdisc_bypass=0" \
		--set "ports[0].mtu=1500" \
		--set "ports[0].ipv4=$addr" \
		--set "peers[0].ipv4=$peer" \
		--set "peers[0].public_key=$XFN_PUB" \
		--set "session.private_key_file=$T/test.key" \
		"$@" >"$T/$name.fifo" 2>>"$T/$name.err" &
	pid=$!
	XFN_PIDS+=("$pid")
	printf -v "XFN_PID_$name" '%s' "$pid"
	# Read its stdout up to the readiness line (EOF if it dies first), then leave the
	# rest to a cat that ends with it.
	exec {fd}<"$T/$name.fifo"
	while IFS= read -r -t "$XFN_WAIT_S" -u "$fd" line; do
		echo "$line" >>"$T/$name.out"
		[ "$line" = "xferd: ready" ] && break
	done
	cat <&"$fd" >>"$T/$name.out" &
	exec {fd}<&-
	[ "$line" = "xferd: ready" ] || xfn_fail "appliance $name did not print 'xferd: ready'"
}

# xfn_kill9 NAME: SIGKILL an appliance and reap it.
xfn_kill9() {
	local v="XFN_PID_$1"
	kill -9 "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null || true
}

# xfn_stop NAME: orderly shutdown; fails if the appliance does not exit 0.
xfn_stop() {
	local v="XFN_PID_$1" rc=0
	timeout 10 "$XFERCTL" -s "$T/$1.sock" shutdown >/dev/null || kill "${!v}" 2>/dev/null
	wait "${!v}" || rc=$?
	[ "$rc" -eq 0 ] || xfn_fail "appliance $1 exited with status $rc"
	# Under -Db_sanitize a report does not always change the exit status.
	if grep -q -E 'runtime error:|ERROR: (Address|Leak|Undefined)Sanitizer' "$T/$1.err"; then
		xfn_fail "appliance $1: sanitizer report in its log"
	fi
}

# xfn_ctl NAME ARGS...: xferctl against appliance NAME (bounded).
xfn_ctl() {
	local name=$1
	shift
	timeout 20 "$XFERCTL" -s "$T/$name.sock" "$@"
}

# xfn_q NAME CMD EXPR...: evaluate Python expressions over the JSON result of
# `xferctl --json CMD` (bound to r), one line each.
xfn_q() {
	local name=$1 cmd=$2 json
	shift 2
	json=$(xfn_ctl "$name" --json "$cmd") || xfn_fail "xferctl $cmd on $name failed"
	python3 -c '
import json, sys
r = json.loads(sys.argv[1])
r = r.get("result", r)
for e in sys.argv[2:]:
    print(eval(e))
' "$json" "$@"
}

# xfn_mktree DIR SEED FILES [LARGE]: a seeded, nested tree of FILES small files (0..4 KiB,
# a few empty), plus LARGE files of 1..4 MiB; prints nothing.
xfn_mktree() {
	python3 - "$@" <<-'EOF'
		import os, random, sys
		root, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
		large = int(sys.argv[4]) if len(sys.argv) > 4 else 0
		rng = random.Random(seed)
		dirs = [""]
		for i in range(max(1, n // 40)):
		    parent = rng.choice(dirs)
		    if parent.count("/") >= 5:
		        parent = ""
		    dirs.append(os.path.join(parent, "d%04d" % i))
		for d in dirs:
		    os.makedirs(os.path.join(root, d), exist_ok=True)
		def write(path, size):
		    with open(path, "wb") as f:
		        f.write(rng.randbytes(size))
		for i in range(n):
		    size = 0 if i % 97 == 0 else rng.randint(1, 4096)
		    write(os.path.join(root, rng.choice(dirs), "f%05d.bin" % i), size)
		for i in range(large):
		    write(os.path.join(root, rng.choice(dirs), "big%02d.bin" % i),
		          rng.randint(1 << 20, 4 << 20))
	EOF
}

# xfn_same SRC DST: fail unless DST holds exactly SRC (content, modes, mtimes).
xfn_same() {
	local out
	out=$(rsync -a -n -i --checksum --exclude=/.xferd "$1/" "$2/") ||
		xfn_fail "rsync comparison failed to run"
	[ -z "$out" ] || xfn_fail "rsync -a -n -i --checksum $1/ $2/ reports differences:
$(echo "$out" | head -n 20)"
	diff -r -x .xferd "$1" "$2" >/dev/null || xfn_fail "diff -r $1 $2 reports differences"
}
