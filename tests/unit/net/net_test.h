/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the net test files share: the reference checksums, the addresses of the test
 * interface and its set-up, the frame builders, and the tests the neighbour file holds
 * (one CUnit program per module, docs/TESTING.md, so main() lists them all).
 */
#ifndef NET_TEST_H
#define NET_TEST_H

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_net.h"
#include "xf_test.h"

/* ---- reference helpers, independent of xf_net and DPDK ---- */

/* The checksum field value for the bytes (with the field itself zero). */
static inline uint16_t
ref_cksum(const uint8_t *p, size_t n)
{
	return (uint16_t)~xf_test_inet_sum(p, n, 0);
}

/* UDP checksum of an IPv4 datagram: ip at p, header length ihl bytes. */
static inline uint16_t
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

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t
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

static inline uint32_t
be_ip(const uint8_t ip[4])
{
	uint32_t v;

	memcpy(&v, ip, 4);
	return v;
}

extern struct xf_net net;
extern uint8_t buf[2048];

/* An interface at mac and ip on a /24, MTU 1500, ARP requests 100 apart. */
static inline void
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

static inline void
net_setup(void)
{
	net_init_at(&net, our_mac, our_ip, OUR_PORT);
	memset(buf, 0xa5, sizeof(buf));
}

/* ---- frame builders ---- */

static inline void
mk_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
}

static inline uint16_t
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
static inline void
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
static inline uint16_t
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

static inline uint16_t
mk_udp(uint8_t *f, uint16_t plen)
{
	return mk_udp_opt(f, 5, plen, OUR_PORT, true);
}

/* Recompute the IPv4 header checksum after a test edited the header. */
static inline void
fix_ip_cksum(uint8_t *f)
{
	uint8_t *ip = f + 14;

	put16(ip + 10, 0);
	put16(ip + 10, ref_cksum(ip, (size_t)(ip[0] & 0xf) * 4));
}

static inline uint16_t
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
static inline void
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

/* ---- tests of the neighbour table and its reachability, in test_net_neigh.c ---- */

void test_neigh_static_wins_and_full(void);
void test_neigh_eviction(void);
void test_nud_stale_delay_probe_failed(void);
void test_nud_confirmation_stops_probes(void);
void test_nud_probe_silent_peer(void);
void test_nud_incomplete_fails(void);
void test_nud_announcements(void);
void test_nud_no_ageing(void);
void test_next_hop(void);

#endif /* NET_TEST_H */
