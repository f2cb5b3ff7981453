/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the L2/L3 edge. Frames are written byte by byte here (not with DPDK's
 * structs) and checksums are checked against a plain RFC 1071 reference, so the code
 * under test is compared with an independent reading of the wire formats.
 *
 * Over 1,000 lines, one file: it is one CUnit program per module (docs/TESTING.md), and
 * the neighbour state machine's tests share the frame builders, the interface setup and
 * the injected clock with the ARP, ICMP and UDP tests.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_net.h"
#include "xf_test.h"

/* ---- reference helpers, independent of xf_net and DPDK ---- */

/* The checksum field value for the bytes (with the field itself zero). */
static uint16_t
ref_cksum(const uint8_t *p, size_t n)
{
	return (uint16_t)~xf_test_inet_sum(p, n, 0);
}

/* UDP checksum of an IPv4 datagram: ip at p, header length ihl bytes. */
static uint16_t
ref_udp_cksum(const uint8_t *ip, size_t ihl)
{
	uint16_t ulen = (uint16_t)(ip[ihl + 4] << 8 | ip[ihl + 5]);
	uint8_t ph[12];
	uint32_t sum;
	uint16_t c;

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)(ulen >> 8);
	ph[11] = (uint8_t)ulen;
	sum = xf_test_inet_sum(ph, sizeof(ph), 0);
	c = (uint16_t)~xf_test_inet_sum(ip + ihl, ulen, sum);
	return c == 0 ? 0xffff : c;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static const uint8_t our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_ip[4] = { 10, 1, 0, 1 };
static const uint8_t peer_ip[4] = { 10, 1, 0, 2 };
static const uint8_t other_ip[4] = { 10, 1, 0, 3 };
#define OUR_PORT  7400
#define PEER_PORT 40000

static uint32_t
be_ip(const uint8_t ip[4])
{
	uint32_t v;

	memcpy(&v, ip, 4);
	return v;
}

static struct xf_net net;
static _Alignas(64) uint8_t buf[2048];

/* An interface at mac and ip on a /24, MTU 1500, ARP requests 100 apart. */
static void
net_init_at(struct xf_net *n, const uint8_t mac[6], const uint8_t ip[4], uint16_t port)
{
	struct xf_net_conf c;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac.addr_bytes, mac, 6);
	c.ip = be_ip(ip);
	c.prefix_len = 24;
	c.udp_port = port;
	c.mtu = 1500;
	c.arp_interval = 100;
	CU_ASSERT_FATAL(xf_net_init(n, &c) == 0);
}

static void
net_setup(void)
{
	net_init_at(&net, our_mac, our_ip, OUR_PORT);
	memset(buf, 0xa5, sizeof(buf));
}

/* ---- frame builders ---- */

static void
mk_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

static uint16_t
mk_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], const uint8_t sip[4], const uint8_t tip[4])
{
	mk_eth(f, op == 1 ? bcast : our_mac, sha, 0x0806);
	put16(f + 14, 1);
	put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, sip, 4);
	memset(f + 32, 0, 6);
	if (op == 2) {
		memcpy(f + 32, our_mac, 6);
	}
	memcpy(f + 38, tip, 4);
	memset(f + 42, 0, 18); /* Ethernet padding */
	return 60;
}

/* IPv4 header at f + 14 with ihl words; options (if any) filled with NOP (1). */
static void
mk_ip(uint8_t *f, unsigned int ihl, uint16_t total, uint8_t proto, const uint8_t src[4],
      const uint8_t dst[4], uint16_t frag)
{
	uint8_t *ip = f + 14;

	mk_eth(f, our_mac, peer_mac, 0x0800);
	ip[0] = (uint8_t)(0x40 | ihl);
	ip[1] = 0;
	put16(ip + 2, total);
	put16(ip + 4, 0x1234);
	put16(ip + 6, frag);
	ip[8] = 61;
	ip[9] = proto;
	put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	memset(ip + 20, 1, ihl * 4 > 20 ? ihl * 4 - 20 : 0);
	put16(ip + 10, ref_cksum(ip, ihl * 4));
}

/* A UDP datagram to us with payload bytes i*7; returns the frame length. */
static uint16_t
mk_udp_opt(uint8_t *f, unsigned int ihl, uint16_t plen, uint16_t dport, bool cksum)
{
	uint16_t hl = (uint16_t)(ihl * 4);
	uint8_t *udp = f + 14 + hl;

	mk_ip(f, ihl, (uint16_t)(hl + 8 + plen), 17, peer_ip, our_ip, 0x4000);
	put16(udp, PEER_PORT);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	for (uint16_t i = 0; i < plen; i++) {
		udp[8 + i] = (uint8_t)(i * 7);
	}
	if (cksum) {
		put16(udp + 6, ref_udp_cksum(f + 14, hl));
	}
	return (uint16_t)(14 + hl + 8 + plen);
}

static uint16_t
mk_udp(uint8_t *f, uint16_t plen)
{
	return mk_udp_opt(f, 5, plen, OUR_PORT, true);
}

/* Recompute the IPv4 header checksum after a test edited the header. */
static void
fix_ip_cksum(uint8_t *f)
{
	uint8_t *ip = f + 14;

	put16(ip + 10, 0);
	put16(ip + 10, ref_cksum(ip, (size_t)(ip[0] & 0xf) * 4));
}

static uint16_t
mk_icmp(uint8_t *f, uint8_t type, uint16_t plen)
{
	uint8_t *icmp = f + 34;

	mk_ip(f, 5, (uint16_t)(20 + 8 + plen), 1, peer_ip, our_ip, 0);
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0xbeef);
	put16(icmp + 6, 3);
	for (uint16_t i = 0; i < plen; i++) {
		icmp[8 + i] = (uint8_t)(0x30 + i);
	}
	put16(icmp + 2, ref_cksum(icmp, 8u + plen));
	return (uint16_t)(34 + 8 + plen);
}

/* Run the classifier, expect a drop for reason; only that counter moves. */
static void
expect_drop(uint16_t len, uint32_t flags, enum xf_net_drop reason)
{
	struct xf_net_counters before = net.ctr;
	struct xf_net_rx_result r;

	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), flags, 0, &r), XF_NET_DROP);
	CU_ASSERT_EQUAL(r.verdict, XF_NET_DROP);
	CU_ASSERT_EQUAL(r.drop, reason);
	for (unsigned int i = 0; i < XF_NET_DROP_MAX; i++) {
		CU_ASSERT_EQUAL(net.ctr.drop[i], before.drop[i] + (i == (unsigned int)reason));
	}
	CU_ASSERT_EQUAL(net.ctr.udp_payload, before.udp_payload);
	CU_ASSERT_EQUAL(net.ctr.icmp_echo_replied, before.icmp_echo_replied);
	CU_ASSERT_EQUAL(net.ctr.arp_replied, before.arp_replied);
}

/* ---- tests ---- */

static void
test_init_rejects(void)
{
	struct xf_net_conf c;
	struct xf_net n;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac.addr_bytes, our_mac, 6);
	c.ip = be_ip(our_ip);
	c.mtu = 1500;
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), 0);
	c.mtu = 9001;
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), -EINVAL);
	c.mtu = 9000;
	c.ip = 0;
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), -EINVAL);
	c.ip = be_ip(our_ip);
	c.prefix_len = 33;
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), -EINVAL);
	c.prefix_len = 24;
	c.mac.addr_bytes[0] = 0x01; /* multicast */
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), -EINVAL);
}

static void
test_drop_names(void)
{
	for (unsigned int i = 0; i < XF_NET_DROP_MAX; i++) {
		const char *a = xf_net_drop_name((enum xf_net_drop)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		CU_ASSERT(strlen(a) > 0);
		CU_ASSERT(strcmp(a, "unknown") != 0);
		for (unsigned int j = 0; j < i; j++) {
			CU_ASSERT(strcmp(a, xf_net_drop_name((enum xf_net_drop)j)) != 0);
		}
	}
	CU_ASSERT_STRING_EQUAL(xf_net_drop_name(XF_NET_DROP_MAX), "unknown");
}

static void
test_arp_request_reply(void)
{
	struct xf_net_rx_result r;
	struct rte_ether_addr mac;
	uint8_t arp[64];
	uint16_t arp_len;
	uint16_t len;

	net_setup();
	len = mk_arp(buf, 1, peer_mac, peer_ip, our_ip);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 5, &r), XF_NET_REPLY);
	CU_ASSERT_EQUAL(r.reply_len, 60);
	CU_ASSERT(memcmp(buf, peer_mac, 6) == 0);
	CU_ASSERT(memcmp(buf + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(buf + 12), 0x0806);
	CU_ASSERT_EQUAL(get16(buf + 14), 1);
	CU_ASSERT_EQUAL(get16(buf + 16), 0x0800);
	CU_ASSERT_EQUAL(buf[18], 6);
	CU_ASSERT_EQUAL(buf[19], 4);
	CU_ASSERT_EQUAL(get16(buf + 20), 2);
	CU_ASSERT(memcmp(buf + 22, our_mac, 6) == 0);
	CU_ASSERT(memcmp(buf + 28, our_ip, 4) == 0);
	CU_ASSERT(memcmp(buf + 32, peer_mac, 6) == 0);
	CU_ASSERT(memcmp(buf + 38, peer_ip, 4) == 0);
	for (unsigned int i = 42; i < 60; i++) {
		CU_ASSERT_EQUAL(buf[i], 0);
	}
	CU_ASSERT_EQUAL(net.ctr.arp_replied, 1);
	/* The requester was learned (RFC 826 merge): resolving it needs no ARP. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 6, &mac, arp, &arp_len), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(arp_len, 0);
}

static void
test_arp_not_for_us(void)
{
	struct rte_ether_addr mac;
	uint8_t arp[64];
	uint16_t arp_len;

	net_setup();
	expect_drop(mk_arp(buf, 1, peer_mac, peer_ip, other_ip), 0, XF_NET_DROP_ARP_NOT_US);
	/* A request for someone else does not create an entry for its sender. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 0, &mac, arp, &arp_len),
	                -EAGAIN);
	/* An unsolicited reply aimed elsewhere from an unknown host is dropped too. */
	mk_arp(buf, 2, peer_mac, other_ip, other_ip);
	expect_drop(60, 0, XF_NET_DROP_ARP_NOT_US);
}

static void
test_arp_malformed(void)
{
	net_setup();
	mk_arp(buf, 1, peer_mac, peer_ip, our_ip);
	expect_drop(40, 0, XF_NET_DROP_ARP_MALFORMED); /* cut inside the ARP body */
	mk_arp(buf, 1, peer_mac, peer_ip, our_ip);
	buf[18] = 8; /* hardware address length */
	expect_drop(60, 0, XF_NET_DROP_ARP_MALFORMED);
	mk_arp(buf, 1, peer_mac, peer_ip, our_ip);
	put16(buf + 16, 0x86dd); /* protocol type */
	expect_drop(60, 0, XF_NET_DROP_ARP_MALFORMED);
	mk_arp(buf, 3, peer_mac, peer_ip, our_ip); /* RARP request */
	expect_drop(60, 0, XF_NET_DROP_ARP_OP);
}

static void
test_arp_reply_learns_and_resolve(void)
{
	struct xf_net_rx_result r;
	struct rte_ether_addr mac;
	uint8_t arp[64];
	uint16_t arp_len = 99;

	net_setup();
	/* Unknown: an ARP request is built, then rate-limited until the interval passes. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 1000, &mac, arp, &arp_len),
	                -EAGAIN);
	CU_ASSERT_EQUAL_FATAL(arp_len, 60);
	CU_ASSERT(memcmp(arp, bcast, 6) == 0);
	CU_ASSERT(memcmp(arp + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(arp + 12), 0x0806);
	CU_ASSERT_EQUAL(get16(arp + 14), 1);
	CU_ASSERT_EQUAL(get16(arp + 16), 0x0800);
	CU_ASSERT_EQUAL(arp[18], 6);
	CU_ASSERT_EQUAL(arp[19], 4);
	CU_ASSERT_EQUAL(get16(arp + 20), 1);
	CU_ASSERT(memcmp(arp + 22, our_mac, 6) == 0);
	CU_ASSERT(memcmp(arp + 28, our_ip, 4) == 0);
	for (unsigned int i = 32; i < 38; i++) {
		CU_ASSERT_EQUAL(arp[i], 0);
	}
	CU_ASSERT(memcmp(arp + 38, peer_ip, 4) == 0);
	for (unsigned int i = 42; i < 60; i++) {
		CU_ASSERT_EQUAL(arp[i], 0);
	}
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 1099, &mac, arp, &arp_len),
	                -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 0);
	/* The next request goes on the neighbour timer, not with the frames. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 1100, &mac, arp, &arp_len),
	                -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 0);
	CU_ASSERT_EQUAL(xf_net_neigh_poll(&net, 1099, arp), 0);
	CU_ASSERT_EQUAL(xf_net_neigh_poll(&net, 1100, arp), 60);
	CU_ASSERT_EQUAL(net.ctr.arp_requests, 2);

	/* The peer's reply is consumed and resolves it. */
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, mk_arp(buf, 2, peer_mac, peer_ip, our_ip), sizeof(buf),
	                          0, 1200, &r),
	                XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 1201, &mac, arp, &arp_len), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(net.ctr.arp_learned, 1);

	/* Broadcast and zero addresses are never resolved. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, UINT32_MAX, 0, &mac, arp, &arp_len), -EINVAL);
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, 0, 0, &mac, arp, &arp_len), -EINVAL);
}

static void
test_neigh_static_wins_and_full(void)
{
	static const uint8_t spoof[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0xee };
	struct xf_net_rx_result r;
	struct rte_ether_addr mac, pm;
	uint8_t arp[64];
	uint16_t arp_len;

	net_setup();
	memcpy(pm.addr_bytes, peer_mac, 6);
	CU_ASSERT_EQUAL(xf_net_neigh_add_static(&net, be_ip(peer_ip), &pm), 0);
	CU_ASSERT_EQUAL(
	        xf_net_rx(&net, buf, mk_arp(buf, 2, spoof, peer_ip, our_ip), sizeof(buf), 0, 1, &r),
	        XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 2, &mac, arp, &arp_len), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);

	/* Learned entries are evicted for new ones; static ones never. */
	for (uint32_t i = 1; i < XF_NET_NEIGH_MAX; i++) {
		uint8_t ip[4] = { 10, 2, 0, (uint8_t)i };

		CU_ASSERT_EQUAL(xf_net_neigh_add_static(&net, be_ip(ip), &pm), 0);
	}
	{
		uint8_t ip[4] = { 10, 3, 0, 1 };

		CU_ASSERT_EQUAL(xf_net_neigh_add_static(&net, be_ip(ip), &pm), -ENOSPC);
		CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(ip), 3, &mac, arp, &arp_len),
		                -ENOSPC);
	}
	CU_ASSERT_EQUAL(xf_net_neigh_add_static(&net, UINT32_MAX, &pm), -EINVAL);
}

static void
test_neigh_eviction(void)
{
	struct rte_ether_addr mac;
	uint8_t arp[64];
	uint16_t arp_len;
	uint8_t first[4] = { 10, 1, 0, 100 };

	net_setup();
	/* Fill the table with pending entries; the oldest is reused for one more. */
	for (uint32_t i = 0; i < XF_NET_NEIGH_MAX; i++) {
		uint8_t ip[4] = { 10, 1, 0, (uint8_t)(100 + i) };

		CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(ip), 10 + i, &mac, arp, &arp_len),
		                -EAGAIN);
		CU_ASSERT_EQUAL(arp_len, 60);
	}
	{
		uint8_t ip[4] = { 10, 1, 0, 200 };

		CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(ip), 50, &mac, arp, &arp_len),
		                -EAGAIN);
		CU_ASSERT_EQUAL(arp_len, 60);
	}
	/* The first one was evicted, so asking again at once builds a new request. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(first), 51, &mac, arp, &arp_len), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 60);
}

/* ---- neighbour reachability (NUD) with injected time ---- */

static const uint8_t new_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x22 };
static struct rte_ether_addr mac; /* what use() resolved, or lookup() found */
static uint8_t arp[64];           /* the request use() or tick() built */
static uint16_t arp_len;          /* its length, from use() */

/* A frame is about to go to ip at now: resolve it (NUD's use of an entry). */
static int
use(const uint8_t ip[4], uint64_t now)
{
	return xf_net_neigh_resolve(&net, be_ip(ip), now, &mac, arp, &arp_len);
}

/* The timers at now; @return the length of the request built at arp, or 0. */
static uint16_t
tick(uint64_t now)
{
	return xf_net_neigh_poll(&net, now, arp);
}

static int
lookup(const uint8_t ip[4])
{
	return xf_net_neigh_lookup(&net, be_ip(ip), &mac);
}

/* The entry of ip in the table under test, or NULL. */
static const struct xf_net_neigh *
entry(const uint8_t ip[4])
{
	for (unsigned int i = 0; i < XF_NET_NEIGH_MAX; i++) {
		if (net.neigh[i].state != XF_NET_NEIGH_FREE && net.neigh[i].ip == be_ip(ip)) {
			return &net.neigh[i];
		}
	}
	return NULL;
}

static enum xf_net_neigh_state
state_of(const uint8_t ip[4])
{
	const struct xf_net_neigh *n = entry(ip);

	return n == NULL ? XF_NET_NEIGH_FREE : (enum xf_net_neigh_state)n->state;
}

/* Timers of these tests: requests every 100, confirmations hold 1000, delay 500. */
static void
nud_setup(void)
{
	net_setup();
	net.conf.reachable_time = 1000;
	net.conf.delay_time = 500;
}

/* Feed one ARP frame (built in buf) at time now; @return the verdict. */
static enum xf_net_verdict
arp_in(uint16_t op, const uint8_t sha[6], const uint8_t sip[4], const uint8_t tip[4], uint64_t now)
{
	struct xf_net_rx_result r;

	return xf_net_rx(&net, buf, mk_arp(buf, op, sha, sip, tip), sizeof(buf), 0, now, &r);
}

/* Resolve the peer at t = 0 and answer it at t = 10: REACHABLE, confirmed at 10. */
static void
nud_reachable_peer(void)
{
	nud_setup();
	CU_ASSERT_EQUAL(use(peer_ip, 0), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 60);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(arp_in(2, peer_mac, peer_ip, our_ip, 10), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
}

/* The len bytes at arp are our ARP request for tip, sent to dst (broadcast or unicast). */
static void
expect_request(uint16_t len, const uint8_t dst[6], const uint8_t tip[4])
{
	CU_ASSERT_EQUAL_FATAL(len, 60);
	CU_ASSERT(memcmp(arp, dst, 6) == 0);
	CU_ASSERT(memcmp(arp + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(arp + 12), 0x0806);
	CU_ASSERT_EQUAL(get16(arp + 20), 1);
	CU_ASSERT(memcmp(arp + 22, our_mac, 6) == 0);
	CU_ASSERT(memcmp(arp + 28, our_ip, 4) == 0);
	CU_ASSERT(memcmp(arp + 38, tip, 4) == 0);
}

static void
test_nud_stale_delay_probe_failed(void)
{
	nud_reachable_peer();
	/* Acknowledged traffic at 500 keeps it reachable until 1500. */
	xf_net_neigh_confirm(&net, be_ip(peer_ip), 500);
	CU_ASSERT_EQUAL(use(peer_ip, 1499), 0);
	CU_ASSERT_EQUAL(arp_len, 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(tick(1499), 0);
	/* Unconfirmed since: the next use finds it stale, uses it and waits (DELAY). */
	CU_ASSERT_EQUAL(use(peer_ip, 1500), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(arp_len, 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_DELAY);
	CU_ASSERT_EQUAL(tick(1999), 0);
	/* No confirmation by 2000: three unicast probes to the MAC it has, 100 apart... */
	for (unsigned int i = 0; i < XF_NET_UCAST_PROBES; i++) {
		uint64_t t = 2000 + 100 * i;

		CU_ASSERT_EQUAL(tick(t - 1), 0);
		expect_request(tick(t), peer_mac, peer_ip);
		CU_ASSERT_EQUAL(tick(t), 0);
		CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_PROBE);
		/* Frames still go to it meanwhile (PROBE is usable, as in Linux). */
		CU_ASSERT_EQUAL(use(peer_ip, t + 1), 0);
		CU_ASSERT_EQUAL(arp_len, 0);
	}
	CU_ASSERT_EQUAL(net.ctr.arp_probes, XF_NET_UCAST_PROBES);
	/* ... then three broadcast ones ... */
	for (unsigned int i = 0; i < XF_NET_MCAST_PROBES; i++) {
		uint64_t t = 2000 + 100 * (XF_NET_UCAST_PROBES + i);

		CU_ASSERT_EQUAL(tick(t - 1), 0);
		expect_request(tick(t), bcast, peer_ip);
	}
	CU_ASSERT_EQUAL(net.ctr.arp_requests, 1 + XF_NET_MCAST_PROBES);
	CU_ASSERT_EQUAL(net.ctr.neigh_failed, 0);
	/* ... and unanswered, it has failed: held frames are dropped (lookup)... */
	CU_ASSERT_EQUAL(tick(2599), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_PROBE);
	CU_ASSERT_EQUAL(tick(2600), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_FAILED);
	CU_ASSERT_EQUAL(net.ctr.neigh_failed, 1);
	CU_ASSERT_EQUAL(lookup(peer_ip), -EHOSTUNREACH);
	/* ... and the next frame resolves it again first (broadcast, held meanwhile). */
	CU_ASSERT_EQUAL(use(peer_ip, 5000), -EAGAIN);
	expect_request(arp_len, bcast, peer_ip);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(lookup(peer_ip), -EAGAIN);
	/* The peer is back with another MAC: the reply to us resolves it, and says so. */
	CU_ASSERT_EQUAL(arp_in(2, new_mac, peer_ip, our_ip, 5001), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(lookup(peer_ip), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, new_mac, 6) == 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 1);
}

static void
test_nud_confirmation_stops_probes(void)
{
	nud_reachable_peer();
	/* Stale at 1010, used at 1200: DELAY until 1700; an ACK at 1300 confirms it. */
	CU_ASSERT_EQUAL(use(peer_ip, 1200), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_DELAY);
	xf_net_neigh_confirm(&net, be_ip(peer_ip), 1300);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(tick(1700), 0);
	CU_ASSERT_EQUAL(tick(2299), 0);
	CU_ASSERT_EQUAL(net.ctr.arp_probes, 0);
	/* Stale again (2300), used, then probed: a confirmation in PROBE stops the probes. */
	CU_ASSERT_EQUAL(use(peer_ip, 2300), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_DELAY);
	CU_ASSERT_EQUAL(tick(2800), 60);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_PROBE);
	xf_net_neigh_confirm(&net, be_ip(peer_ip), 2850);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	for (uint64_t t = 2900; t < 3800; t += 50) {
		CU_ASSERT_EQUAL(tick(t), 0);
	}
	CU_ASSERT_EQUAL(net.ctr.arp_probes, 1);
	CU_ASSERT_EQUAL(net.ctr.neigh_failed, 0);
	/* An answer to a probe (unicast to us) confirms it too. */
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(peer_ip), 4000), 0);
	CU_ASSERT_EQUAL(tick(4000), 60);
	CU_ASSERT_EQUAL(arp_in(2, peer_mac, peer_ip, our_ip, 4001), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(tick(4100), 0);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 0);
}

static void
test_nud_probe_silent_peer(void)
{
	struct rte_ether_addr pm;

	nud_reachable_peer();
	/* A session finds the peer silent at 20, well within reachable_time: probe now. */
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(peer_ip), 20), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_PROBE);
	expect_request(tick(20), peer_mac, peer_ip);
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(peer_ip), 30), -EALREADY);
	/* The peer restarted with another MAC: our unicast probes go unanswered, the
	 * broadcast one is answered (to our MAC): reachable at the new MAC. */
	CU_ASSERT_EQUAL(tick(120), 60);
	CU_ASSERT_EQUAL(tick(220), 60);
	expect_request(tick(320), bcast, peer_ip);
	CU_ASSERT_EQUAL(arp_in(2, new_mac, peer_ip, our_ip, 321), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(use(peer_ip, 322), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, new_mac, 6) == 0);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 1);
	CU_ASSERT_EQUAL(tick(1000), 0);
	/* Nothing to probe for an unknown peer, nor for a static one. */
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(other_ip), 400), -ENOENT);
	memcpy(pm.addr_bytes, peer_mac, 6);
	CU_ASSERT_EQUAL(xf_net_neigh_add_static(&net, be_ip(other_ip), &pm), 0);
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(other_ip), 400), -ENOENT);
	/* A static entry stays as it is: never stale, confirmed or changed by ARP. */
	xf_net_neigh_confirm(&net, be_ip(other_ip), 500);
	CU_ASSERT_EQUAL(arp_in(1, new_mac, other_ip, other_ip, 600), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(arp_in(2, new_mac, other_ip, our_ip, 700), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(use(other_ip, 99999), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(arp_len, 0);
	CU_ASSERT_EQUAL(state_of(other_ip), XF_NET_NEIGH_STATIC);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 1);
}

static void
test_nud_incomplete_fails(void)
{
	nud_setup();
	CU_ASSERT_EQUAL(use(peer_ip, 0), -EAGAIN);
	expect_request(arp_len, bcast, peer_ip);
	/* Held frames ask again on their own pace: no more than one request per interval. */
	CU_ASSERT_EQUAL(use(peer_ip, 50), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 0);
	expect_request(tick(100), bcast, peer_ip);
	CU_ASSERT_EQUAL(use(peer_ip, 150), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 0);
	expect_request(tick(200), bcast, peer_ip);
	CU_ASSERT_EQUAL(net.ctr.arp_requests, XF_NET_MCAST_PROBES);
	CU_ASSERT_EQUAL(tick(299), 0);
	CU_ASSERT_EQUAL(lookup(peer_ip), -EAGAIN);
	CU_ASSERT_EQUAL(tick(300), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_FAILED);
	CU_ASSERT_EQUAL(lookup(peer_ip), -EHOSTUNREACH);
	CU_ASSERT_EQUAL(net.ctr.neigh_failed, 1);
	/* Frames do not move the timers (a caller that stops polling stops judging): only
	 * the poll sends the next requests and gives the entry up. */
	CU_ASSERT_EQUAL(use(other_ip, 1000), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 60);
	CU_ASSERT_EQUAL(use(other_ip, 5000), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 0);
	CU_ASSERT_EQUAL(state_of(other_ip), XF_NET_NEIGH_INCOMPLETE);
	CU_ASSERT_EQUAL(tick(5000), 60);
	CU_ASSERT_EQUAL(tick(5100), 60);
	CU_ASSERT_EQUAL(tick(5200), 0);
	CU_ASSERT_EQUAL(state_of(other_ip), XF_NET_NEIGH_FAILED);
	CU_ASSERT_EQUAL(net.ctr.neigh_failed, 2);
	/* Nothing left to time. */
	CU_ASSERT_EQUAL(tick(100000), 0);
	CU_ASSERT_EQUAL(net.timer_at, UINT64_MAX);
	/* The next frame resolves it again. */
	CU_ASSERT_EQUAL(use(other_ip, 100001), -EAGAIN);
	CU_ASSERT_EQUAL(arp_len, 60);
	CU_ASSERT_EQUAL(state_of(other_ip), XF_NET_NEIGH_INCOMPLETE);
}

static void
test_nud_announcements(void)
{
	struct xf_net_rx_result r;
	struct xf_net peer;
	uint16_t len;
	uint64_t answered;

	nud_reachable_peer();
	/* The peer announces a new MAC (gratuitous request): taken at once, and checked at
	 * next use (STALE), not trusted as confirmed. */
	CU_ASSERT_EQUAL(arp_in(1, new_mac, peer_ip, peer_ip, 20), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_STALE);
	CU_ASSERT_EQUAL(use(peer_ip, 21), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, new_mac, 6) == 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_DELAY);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 1);
	/* The same announcement again changes nothing (the DELAY check goes on). */
	CU_ASSERT_EQUAL(arp_in(1, new_mac, peer_ip, peer_ip, 30), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_DELAY);
	/* A gratuitous reply, and a request for us from a new MAC, update it too. */
	CU_ASSERT_EQUAL(arp_in(2, peer_mac, peer_ip, peer_ip, 40), XF_NET_CONSUMED);
	CU_ASSERT(memcmp(entry(peer_ip)->mac.addr_bytes, peer_mac, 6) == 0);
	answered = net.ctr.arp_replied;
	CU_ASSERT_EQUAL(arp_in(1, new_mac, peer_ip, our_ip, 50), XF_NET_REPLY);
	CU_ASSERT_EQUAL(net.ctr.arp_replied, answered + 1);
	CU_ASSERT(memcmp(entry(peer_ip)->mac.addr_bytes, new_mac, 6) == 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_STALE);
	CU_ASSERT_EQUAL(net.ctr.neigh_changed, 3);
	/* An announcement from a host we have no entry for creates none: counted, dropped. */
	CU_ASSERT_EQUAL(arp_in(1, new_mac, other_ip, other_ip, 60), XF_NET_DROP);
	CU_ASSERT_EQUAL(state_of(other_ip), XF_NET_NEIGH_FREE);
	CU_ASSERT_EQUAL(net.ctr.drop[XF_NET_DROP_ARP_NOT_US], 1);
	/* A host claiming our own address is never learned. */
	CU_ASSERT_EQUAL(arp_in(1, new_mac, our_ip, our_ip, 70), XF_NET_DROP);
	CU_ASSERT_EQUAL(state_of(our_ip), XF_NET_NEIGH_FREE);
	/* A failed entry announced again is usable again. */
	CU_ASSERT_EQUAL(xf_net_neigh_probe(&net, be_ip(peer_ip), 100), 0);
	for (uint64_t t = 100; t <= 700; t += 100) {
		tick(t);
	}
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_FAILED);
	CU_ASSERT_EQUAL(arp_in(1, new_mac, peer_ip, peer_ip, 800), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(lookup(peer_ip), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, new_mac, 6) == 0);
	/* Every frame seen is accounted for: dropped by reason, answered or taken in. */
	{
		uint64_t sum = net.ctr.arp_replied + net.ctr.icmp_echo_replied +
		               net.ctr.udp_payload + net.ctr.arp_consumed;

		for (unsigned int i = 0; i < XF_NET_DROP_MAX; i++) {
			sum += net.ctr.drop[i];
		}
		CU_ASSERT_EQUAL(sum, net.ctr.rx_frames);
	}

	/* Our own announcement: a broadcast request for our address, from our MAC... */
	len = xf_net_announce(&net, arp);
	expect_request(len, bcast, our_ip);
	CU_ASSERT_EQUAL(net.ctr.arp_announced, 1);
	/* ... which a peer that knew another MAC for us takes. */
	net_init_at(&peer, peer_mac, peer_ip, OUR_PORT);
	CU_ASSERT_EQUAL(xf_net_rx(&peer, buf, mk_arp(buf, 1, new_mac, our_ip, peer_ip), sizeof(buf),
	                          0, 0, &r),
	                XF_NET_REPLY);
	CU_ASSERT_EQUAL(xf_net_rx(&peer, arp, len, sizeof(arp), 0, 1, &r), XF_NET_CONSUMED);
	CU_ASSERT_EQUAL(xf_net_neigh_lookup(&peer, be_ip(our_ip), &mac), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(peer.ctr.neigh_changed, 1);
}

static void
test_nud_no_ageing(void)
{
	nud_reachable_peer();
	net.conf.reachable_time = 0; /* confirmations hold for ever */
	CU_ASSERT_EQUAL(use(peer_ip, UINT64_MAX / 2), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(arp_len, 0);
}

static void
test_next_hop(void)
{
	uint8_t far[4] = { 192, 168, 7, 7 };
	uint8_t gw[4] = { 10, 1, 0, 254 };

	net_setup();
	CU_ASSERT_EQUAL(xf_net_next_hop(&net, be_ip(peer_ip)), be_ip(peer_ip));
	CU_ASSERT_EQUAL(xf_net_next_hop(&net, be_ip(far)), 0);
	net.conf.gateway = be_ip(gw);
	CU_ASSERT_EQUAL(xf_net_next_hop(&net, be_ip(far)), be_ip(gw));
}

static void
test_icmp_echo(void)
{
	static uint8_t orig[2048];
	struct xf_net_rx_result r;
	uint16_t len;

	net_setup();
	len = mk_icmp(buf, 8, 56);
	memcpy(orig, buf, len);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 0, &r), XF_NET_REPLY);
	CU_ASSERT_EQUAL(r.reply_len, len);
	CU_ASSERT(memcmp(buf, peer_mac, 6) == 0);
	CU_ASSERT(memcmp(buf + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(buf + 12), 0x0800);
	/* IP: addresses swapped, TTL reset, checksum valid; rest as sent. */
	CU_ASSERT(memcmp(buf + 14, orig + 14, 8) == 0);
	CU_ASSERT_EQUAL(buf[22], 64);
	CU_ASSERT_EQUAL(buf[23], 1);
	CU_ASSERT(memcmp(buf + 26, our_ip, 4) == 0);
	CU_ASSERT(memcmp(buf + 30, peer_ip, 4) == 0);
	CU_ASSERT_EQUAL(xf_test_inet_sum(buf + 14, 20, 0), 0xffff);
	{
		uint8_t ip[20];

		memcpy(ip, buf + 14, 20);
		put16(ip + 10, 0);
		CU_ASSERT_EQUAL(get16(buf + 24), ref_cksum(ip, 20));
	}
	/* ICMP: echo reply, id/seq/data as sent, checksum recomputed. */
	CU_ASSERT_EQUAL(buf[34], 0);
	CU_ASSERT_EQUAL(buf[35], 0);
	CU_ASSERT(memcmp(buf + 38, orig + 38, (size_t)len - 38) == 0);
	{
		uint8_t icmp[64];

		memcpy(icmp, buf + 34, 64);
		put16(icmp + 2, 0);
		CU_ASSERT_EQUAL(get16(buf + 36), ref_cksum(icmp, 64));
	}
	CU_ASSERT_EQUAL(net.ctr.icmp_echo_replied, 1);

	/* A tiny echo (no data) is padded to the Ethernet minimum with zeros. */
	net_setup();
	len = mk_icmp(buf, 8, 0);
	CU_ASSERT_EQUAL(len, 42);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, 60, sizeof(buf), 0, 0, &r), XF_NET_REPLY);
	CU_ASSERT_EQUAL(r.reply_len, 60);
	for (unsigned int i = 42; i < 60; i++) {
		CU_ASSERT_EQUAL(buf[i], 0);
	}
	CU_ASSERT_EQUAL(xf_test_inet_sum(buf + 34, 8, 0), 0xffff);
}

static void
test_icmp_bad(void)
{
	net_setup();
	mk_icmp(buf, 8, 16);
	buf[34 + 10] ^= 0x01; /* data changed after the checksum */
	expect_drop(34 + 24, 0, XF_NET_DROP_ICMP_CKSUM);
	expect_drop(mk_icmp(buf, 13, 12), 0, XF_NET_DROP_ICMP_TYPE); /* timestamp request */
	expect_drop(mk_icmp(buf, 0, 16), 0, XF_NET_DROP_ICMP_TYPE);  /* echo reply */
	mk_ip(buf, 5, 20 + 4, 1, peer_ip, our_ip, 0);
	expect_drop(60, 0, XF_NET_DROP_ICMP_SHORT);
}

static void
test_udp_good(void)
{
	struct xf_net_rx_result r;
	uint16_t len;

	net_setup();
	len = mk_udp(buf, 101);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 0, &r), XF_NET_PAYLOAD);
	CU_ASSERT_EQUAL(r.payload_off, 42);
	CU_ASSERT_EQUAL(r.payload_len, 101);
	CU_ASSERT_EQUAL(r.src_ip, be_ip(peer_ip));
	CU_ASSERT_EQUAL(r.src_port, PEER_PORT);
	CU_ASSERT_EQUAL(buf[42 + 100], (uint8_t)(100 * 7));
	CU_ASSERT_EQUAL(net.ctr.udp_payload, 1);

	/* Zero checksum means none; padding after a short datagram is ignored. */
	len = mk_udp_opt(buf, 5, 3, OUR_PORT, false);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, 60, sizeof(buf), 0, 0, &r), XF_NET_PAYLOAD);
	CU_ASSERT_EQUAL(r.payload_len, 3);
	CU_ASSERT(len < 60);

	/* IP options are skipped. */
	len = mk_udp_opt(buf, 7, 20, OUR_PORT, true);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 0, &r), XF_NET_PAYLOAD);
	CU_ASSERT_EQUAL(r.payload_off, 14 + 28 + 8);
	CU_ASSERT_EQUAL(r.payload_len, 20);

	/* Broadcast destination MAC is accepted (the IP still has to be ours). */
	len = mk_udp(buf, 10);
	memcpy(buf, bcast, 6);
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 0, &r), XF_NET_PAYLOAD);

	/* Largest datagram at MTU 9000. */
	{
		static _Alignas(64) uint8_t jumbo[9100];

		len = mk_udp_opt(jumbo, 5, 9000 - 28, OUR_PORT, true);
		CU_ASSERT_EQUAL(xf_net_rx(&net, jumbo, len, sizeof(jumbo), 0, 0, &r),
		                XF_NET_PAYLOAD);
		CU_ASSERT_EQUAL(r.payload_len, 9000 - 28);
	}
}

static void
test_l2_drops(void)
{
	net_setup();
	mk_udp(buf, 10);
	expect_drop(10, 0, XF_NET_DROP_SHORT);
	mk_udp(buf, 10);
	memcpy(buf, other_ip, 4); /* some other unicast MAC 0a:01:00:03:00:00 */
	buf[0] = 0x0a;
	expect_drop(52, 0, XF_NET_DROP_DST_MAC);
	mk_udp(buf, 10);
	buf[0] = 0x01; /* multicast 01:00:00:00:00:01: a reason of its own */
	expect_drop(52, 0, XF_NET_DROP_MULTICAST);
	mk_udp(buf, 10);
	memcpy(buf, (const uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6); /* IPv6 all-nodes */
	expect_drop(52, 0, XF_NET_DROP_MULTICAST);
	/* A frame the caller could not hand over (several buffers) is counted too. */
	{
		struct xf_net_counters before = net.ctr;

		xf_net_rx_discard(&net, XF_NET_DROP_CHAINED);
		CU_ASSERT_EQUAL(net.ctr.rx_frames, before.rx_frames + 1);
		CU_ASSERT_EQUAL(net.ctr.drop[XF_NET_DROP_CHAINED],
		                before.drop[XF_NET_DROP_CHAINED] + 1);
	}
	mk_udp(buf, 10);
	put16(buf + 12, 0x86dd);
	expect_drop(60, 0, XF_NET_DROP_ETHERTYPE);
	/* 802.1Q: TPID 0x8100, TCI, then IPv4 */
	mk_eth(buf, our_mac, peer_mac, 0x8100);
	put16(buf + 14, 0x0005);
	put16(buf + 16, 0x0800);
	expect_drop(60, 0, XF_NET_DROP_VLAN);
	put16(buf + 12, 0x88a8);
	expect_drop(60, 0, XF_NET_DROP_VLAN);
}

static void
test_ip_drops(void)
{
	net_setup();
	mk_udp(buf, 10);
	expect_drop(14 + 19, 0, XF_NET_DROP_IP_SHORT);

	mk_udp(buf, 10);
	buf[14] = 0x65; /* version 6 */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_VERSION);

	mk_udp(buf, 10);
	buf[14] = 0x44; /* IHL 4 */
	expect_drop(52, 0, XF_NET_DROP_IP_IHL);

	mk_udp(buf, 10);
	buf[14] = 0x4f; /* IHL 15: 60 bytes, beyond a 52-byte frame */
	expect_drop(52, 0, XF_NET_DROP_IP_IHL);

	mk_udp(buf, 10);
	put16(buf + 16, 39); /* beyond the frame (38 bytes of IP) */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_TOTAL_LEN);

	mk_udp(buf, 10);
	put16(buf + 16, 19); /* below the header */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_TOTAL_LEN);

	mk_udp(buf, 10);
	buf[14 + 10] ^= 0x40;
	expect_drop(52, 0, XF_NET_DROP_IP_CKSUM);

	mk_udp(buf, 10);
	put16(buf + 20, 0x2000); /* MF */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_FRAGMENT);

	mk_udp(buf, 10);
	put16(buf + 20, 0x0001); /* offset 8 bytes, last fragment */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_FRAGMENT);

	mk_udp(buf, 10);
	memcpy(buf + 30, other_ip, 4);
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_DST);

	mk_udp(buf, 10);
	memset(buf + 26, 0xff, 4); /* broadcast source */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_SRC);

	mk_udp(buf, 10);
	memcpy(buf + 26, our_ip, 4); /* our own address as source */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_SRC);

	mk_udp(buf, 10);
	buf[23] = 6; /* TCP */
	fix_ip_cksum(buf);
	expect_drop(52, 0, XF_NET_DROP_IP_PROTO);
}

static void
test_udp_drops(void)
{
	net_setup();
	expect_drop(mk_udp_opt(buf, 5, 10, OUR_PORT + 1, true), 0, XF_NET_DROP_UDP_PORT);

	mk_udp(buf, 10);
	put16(buf + 38, 17); /* UDP length != IP payload length (18) */
	expect_drop(52, 0, XF_NET_DROP_UDP_LEN);
	mk_udp(buf, 10);
	put16(buf + 38, 7);
	expect_drop(52, 0, XF_NET_DROP_UDP_LEN);

	mk_ip(buf, 5, 20 + 6, 17, peer_ip, our_ip, 0);
	expect_drop(60, 0, XF_NET_DROP_UDP_SHORT);

	mk_udp(buf, 10);
	buf[42 + 3] ^= 0x10; /* payload changed after the checksum */
	expect_drop(52, 0, XF_NET_DROP_UDP_CKSUM);
}

static void
test_rx_offload_flags(void)
{
	struct xf_net_rx_result r;

	net_setup();
	/* NIC says both checksums are good: they are not recomputed. */
	mk_udp(buf, 10);
	buf[24] ^= 0x01;
	buf[42] ^= 0x01;
	CU_ASSERT_EQUAL(xf_net_rx(&net, buf, 52, sizeof(buf),
	                          XF_NET_RX_IP_CKSUM_GOOD | XF_NET_RX_L4_CKSUM_GOOD, 0, &r),
	                XF_NET_PAYLOAD);
	/* NIC says bad: dropped even if software would accept. */
	mk_udp(buf, 10);
	expect_drop(52, XF_NET_RX_IP_CKSUM_BAD, XF_NET_DROP_IP_CKSUM);
	expect_drop(52, XF_NET_RX_L4_CKSUM_BAD, XF_NET_DROP_UDP_CKSUM);
	/* No verdict from the NIC: software checks. */
	buf[42] ^= 0x01;
	expect_drop(52, 0, XF_NET_DROP_UDP_CKSUM);

	CU_ASSERT_EQUAL(
	        xf_net_rx_flags_from_mbuf(RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD),
	        XF_NET_RX_IP_CKSUM_GOOD | XF_NET_RX_L4_CKSUM_BAD);
	CU_ASSERT_EQUAL(xf_net_rx_flags_from_mbuf(RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN |
	                                          RTE_MBUF_F_RX_L4_CKSUM_NONE),
	                0);
}

static void
test_tx_build(void)
{
	struct xf_net_flow flow;
	struct xf_net_rx_result r;
	struct xf_net peer;
	struct xf_net_conf pc;
	int len;

	net_setup();
	memset(&flow, 0, sizeof(flow));
	memcpy(flow.dst_mac.addr_bytes, peer_mac, 6);
	flow.dst_ip = be_ip(peer_ip);
	flow.dst_port = PEER_PORT;
	for (unsigned int i = 0; i < 333; i++) {
		buf[XF_NET_HDR_LEN + i] = (uint8_t)(i ^ 0x5a);
	}
	len = xf_net_tx_build(&net, &flow, buf, 333, 0);
	CU_ASSERT_EQUAL_FATAL(len, 42 + 333);
	CU_ASSERT(memcmp(buf, peer_mac, 6) == 0);
	CU_ASSERT(memcmp(buf + 6, our_mac, 6) == 0);
	CU_ASSERT_EQUAL(get16(buf + 12), 0x0800);
	CU_ASSERT_EQUAL(buf[14], 0x45);
	CU_ASSERT_EQUAL(get16(buf + 16), 20 + 8 + 333);
	CU_ASSERT_EQUAL(get16(buf + 20), 0x4000); /* DF, no fragments */
	CU_ASSERT_EQUAL(buf[22], 64);
	CU_ASSERT_EQUAL(buf[23], 17);
	CU_ASSERT(memcmp(buf + 26, our_ip, 4) == 0);
	CU_ASSERT(memcmp(buf + 30, peer_ip, 4) == 0);
	CU_ASSERT_EQUAL(get16(buf + 34), OUR_PORT);
	CU_ASSERT_EQUAL(get16(buf + 36), PEER_PORT);
	CU_ASSERT_EQUAL(get16(buf + 38), 8 + 333);
	{
		uint8_t copy[2048];
		uint16_t ipc = get16(buf + 24), udpc = get16(buf + 40);

		memcpy(copy, buf, (size_t)len);
		put16(copy + 24, 0);
		put16(copy + 40, 0);
		CU_ASSERT_EQUAL(ipc, ref_cksum(copy + 14, 20));
		CU_ASSERT_EQUAL(udpc, ref_udp_cksum(copy + 14, 20));
	}
	/* The IP id advances per datagram. */
	{
		uint16_t id = get16(buf + 18);

		CU_ASSERT_EQUAL(xf_net_tx_build(&net, &flow, buf, 333, 0), len);
		CU_ASSERT_EQUAL(get16(buf + 18), (uint16_t)(id + 1));
	}

	/* The peer's classifier accepts it and finds the payload. */
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.mac.addr_bytes, peer_mac, 6);
	pc.ip = be_ip(peer_ip);
	pc.prefix_len = 24;
	pc.udp_port = PEER_PORT;
	pc.mtu = 1500;
	CU_ASSERT_FATAL(xf_net_init(&peer, &pc) == 0);
	CU_ASSERT_EQUAL(xf_net_rx(&peer, buf, (uint16_t)len, sizeof(buf), 0, 0, &r),
	                XF_NET_PAYLOAD);
	CU_ASSERT_EQUAL(r.payload_off, 42);
	CU_ASSERT_EQUAL(r.payload_len, 333);
	CU_ASSERT_EQUAL(r.src_port, OUR_PORT);
	CU_ASSERT_EQUAL(buf[42 + 332], (uint8_t)(332 ^ 0x5a));

	/* Offloads: IP checksum left zero, UDP checksum holds the pseudo-header sum. */
	len = xf_net_tx_build(&net, &flow, buf, 100, XF_NET_TX_IP_CKSUM | XF_NET_TX_UDP_CKSUM);
	CU_ASSERT_EQUAL_FATAL(len, 142);
	CU_ASSERT_EQUAL(get16(buf + 24), 0);
	{
		uint8_t ph[12];

		memcpy(ph, our_ip, 4);
		memcpy(ph + 4, peer_ip, 4);
		ph[8] = 0;
		ph[9] = 17;
		put16(ph + 10, 108);
		CU_ASSERT_EQUAL(get16(buf + 40), xf_test_inet_sum(ph, 12, 0));
	}
	CU_ASSERT_EQUAL(xf_net_tx_ol_flags(XF_NET_TX_IP_CKSUM | XF_NET_TX_UDP_CKSUM),
	                RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM);
	CU_ASSERT_EQUAL(xf_net_tx_ol_flags(0), 0);

	/* No UDP checksum (a shared-memory link): the field is 0, the IP checksum is
	 * still computed, and the peer accepts the datagram (RFC 768). */
	len = xf_net_tx_build(&net, &flow, buf, 333, XF_NET_TX_UDP_NONE);
	CU_ASSERT_EQUAL_FATAL(len, 375);
	CU_ASSERT_EQUAL(get16(buf + 40), 0);
	{
		uint8_t copy[2048];
		uint16_t ipc = get16(buf + 24);

		memcpy(copy, buf, (size_t)len);
		put16(copy + 24, 0);
		CU_ASSERT_EQUAL(ipc, ref_cksum(copy + 14, 20));
	}
	CU_ASSERT_EQUAL(xf_net_tx_ol_flags(XF_NET_TX_UDP_NONE), 0);
	CU_ASSERT_EQUAL(xf_net_rx(&peer, buf, (uint16_t)len, sizeof(buf), 0, 0, &r),
	                XF_NET_PAYLOAD);
	CU_ASSERT_EQUAL(r.payload_len, 333);

	/* MTU bounds. */
	CU_ASSERT_EQUAL(xf_net_tx_build(&net, &flow, buf, 1472, 0), 1514);
	CU_ASSERT_EQUAL(xf_net_tx_build(&net, &flow, buf, 1473, 0), -EMSGSIZE);
	flow.dst_port = 0;
	CU_ASSERT_EQUAL(xf_net_tx_build(&net, &flow, buf, 10, 0), -EINVAL);
	CU_ASSERT_EQUAL(net.ctr.tx_built, 5);
}

static const struct xf_test tests[] = {
	{ "init rejects bad config", test_init_rejects },
	{ "drop reason names", test_drop_names },
	{ "ARP request for us is answered", test_arp_request_reply },
	{ "ARP not for us", test_arp_not_for_us },
	{ "ARP malformed", test_arp_malformed },
	{ "ARP reply learns, requests rate-limited", test_arp_reply_learns_and_resolve },
	{ "static neighbours win, table full", test_neigh_static_wins_and_full },
	{ "neighbour eviction", test_neigh_eviction },
	{ "NUD: stale, delay, probe (unicast, broadcast), failed",
	  test_nud_stale_delay_probe_failed },
	{ "NUD: a confirmation stops the probes", test_nud_confirmation_stops_probes },
	{ "NUD: a silent peer is probed, found at its new MAC", test_nud_probe_silent_peer },
	{ "NUD: resolving fails after broadcast requests", test_nud_incomplete_fails },
	{ "NUD: announcements update known entries", test_nud_announcements },
	{ "NUD: reachable_time 0 never ages", test_nud_no_ageing },
	{ "next hop", test_next_hop },
	{ "ICMP echo reply", test_icmp_echo },
	{ "ICMP bad", test_icmp_bad },
	{ "UDP good", test_udp_good },
	{ "L2 drops", test_l2_drops },
	{ "IPv4 drops", test_ip_drops },
	{ "UDP drops", test_udp_drops },
	{ "RX offload flags", test_rx_offload_flags },
	{ "TX header build", test_tx_build },
};

int
main(void)
{
	return xf_test_main("net", NULL, NULL, XF_TESTS(tests));
}
