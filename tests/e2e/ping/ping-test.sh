#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# End to end with the kernel as a peer: the kernel pings our dataplane (xf_port over
# net_af_packet, xf_net answering ARP and ICMP) across a veth pair between two network
# namespaces. Needs root and the af_packet PMD; exits 77 saying what is missing.
#
#   ping-test.sh /path/to/l3-responder
set -euo pipefail

resp=${1:?usage: ping-test.sh /path/to/l3-responder}
tag="xfp$$"
ns_k="${tag}k"       # kernel side: has the IP address and runs ping
ns_d="${tag}d"       # dataplane side: the responder owns this end via AF_PACKET
if_k="${tag}a"
if_d="${tag}b"
ip_k=10.213.7.1
ip_d=10.213.7.2
log=$(mktemp -t xf-e2e-ping.XXXXXX)
resp_pid=

skip() {
	echo "e2e-ping: SKIP: $*" >&2
	exit 77
}

fail() {
	echo "e2e-ping: FAIL: $*" >&2
	echo "--- responder stderr ---" >&2
	cat "$log" >&2 || true
	exit 1
}

cleanup() {
	if [ -n "$resp_pid" ] && kill -0 "$resp_pid" 2>/dev/null; then
		kill "$resp_pid" 2>/dev/null || true
		wait "$resp_pid" 2>/dev/null || true
	fi
	ip netns del "$ns_k" 2>/dev/null || true
	ip netns del "$ns_d" 2>/dev/null || true
	rm -f "$log"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces and veth)"
command -v ip >/dev/null || skip "needs iproute2 ('ip')"
command -v ping >/dev/null || skip "needs ping (iputils-ping)"
command -v timeout >/dev/null || skip "needs timeout (coreutils)"
[ -x "$resp" ] || fail "responder $resp is not executable"

ip netns add "$ns_k" 2>/dev/null || skip "'ip netns add' failed: no network namespace support"
ip netns add "$ns_d" 2>/dev/null || skip "'ip netns add' failed: no network namespace support"
ip link add "$if_k" netns "$ns_k" type veth peer name "$if_d" netns "$ns_d" 2>/dev/null ||
	skip "cannot create a veth pair (veth module missing?)"
ip -n "$ns_k" link set lo up
ip -n "$ns_k" addr add "$ip_k/24" dev "$if_k"
ip -n "$ns_k" link set "$if_k" up
# The dataplane end has no address: the kernel there must not answer ARP itself.
ip -n "$ns_d" link set "$if_d" up

# The responder's stdin is our pipe: closing it ends the responder; its stdout tells us
# when it is ready. Everything is bounded by timeout(1) as well.
coproc RESP {
	exec timeout 40 ip netns exec "$ns_d" "$resp" \
		--no-huge --no-pci -m 256 --file-prefix "xf-e2e-ping-$$" --no-telemetry -l 0 \
		--log-level lib.eal:error --vdev "net_af_packet0,iface=$if_d" \
		-- --device net_af_packet0 --ip "$ip_d" --seconds 30 2>"$log"
}
resp_pid=$RESP_PID
resp_out=${RESP[0]}
resp_in=${RESP[1]}

ready=0
while IFS= read -r -t 20 -u "$resp_out" line; do
	if [ "$line" = ready ]; then
		ready=1
		break
	fi
done
if [ "$ready" -ne 1 ]; then
	rc=0
	wait "$resp_pid" || rc=$?
	resp_pid=
	if [ "$rc" -eq 77 ]; then
		cat "$log" >&2
		skip "the responder could not open net_af_packet0 (af_packet PMD missing?)"
	fi
	fail "responder did not print 'ready' (exit status $rc)"
fi

ping_out=$(ip netns exec "$ns_k" ping -n -c 5 -W 1 -i 0.2 "$ip_d" 2>&1) || true
echo "$ping_out"

# Close the responder's stdin and collect its counters.
exec {resp_in}>&-
stats=$(timeout 10 cat <&"$resp_out") || true
rc=0
wait "$resp_pid" || rc=$?
resp_pid=
echo "$stats"
[ "$rc" -eq 0 ] || fail "responder exited with status $rc"

echo "$ping_out" | grep -q " 5 received" || fail "ping did not get 5 replies"
replied=$(echo "$stats" | sed -n 's/^icmp_echo_replied=//p')
[ "${replied:-0}" -ge 5 ] || fail "responder counted ${replied:-0} echo replies, expected >= 5"
arp=$(echo "$stats" | sed -n 's/^arp_replied=//p')
[ "${arp:-0}" -ge 1 ] || fail "responder answered no ARP request"
echo "e2e-ping: PASS (kernel got 5/5 replies; responder answered $arp ARP, $replied echo)"
