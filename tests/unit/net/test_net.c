/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the L2/L3 edge. Frames are written byte by byte here (not with DPDK's
 * structs) and checksums are checked against a plain RFC 1071 reference, so the code
 * under test is compared with an independent reading of the wire formats.
 */
#include "net_test.h"

struct xf_net net;
_Alignas(64) uint8_t buf[2048];

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
	c.udp_port = 65530;
	c.udp_ports = 6; /* 65530..65535 */
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), 0);
	c.udp_ports = 7; /* past 65535 */
	CU_ASSERT_EQUAL(xf_net_init(&n, &c), -EINVAL);
	c.udp_port = 0;
	c.udp_ports = 0;
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

/* A session's frame fills an entry being resolved, and only such an entry. */
static void
test_neigh_heard(void)
{
	struct rte_ether_addr mac, pm, om;
	uint8_t arp[64];
	uint16_t arp_len;

	net_setup();
	memcpy(pm.addr_bytes, peer_mac, 6);
	memcpy(om.addr_bytes, peer_mac, 6);
	om.addr_bytes[5] ^= 0x40;
	/* No entry: nothing is created from a frame, but an accepted session makes one. */
	CU_ASSERT_FALSE(xf_net_neigh_heard(&net, be_ip(peer_ip), &pm, 10, false));
	CU_ASSERT_TRUE(xf_net_neigh_heard(&net, be_ip(other_ip), &pm, 10, true));
	CU_ASSERT_EQUAL(xf_net_neigh_lookup(&net, be_ip(other_ip), &mac), 0);
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 0, &mac, arp, &arp_len),
	                -EAGAIN);
	/* Resolving: the frame's MAC is taken (STALE), and frames can go. */
	CU_ASSERT_TRUE(xf_net_neigh_heard(&net, be_ip(peer_ip), &pm, 20, false));
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net, be_ip(peer_ip), 21, &mac, arp, &arp_len), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	CU_ASSERT_EQUAL(xf_net_neigh_lookup(&net, be_ip(peer_ip), &mac), 0);
	/* Known: another MAC in a frame changes nothing (that is ARP's and NUD's). */
	CU_ASSERT_FALSE(xf_net_neigh_heard(&net, be_ip(peer_ip), &om, 30, true));
	CU_ASSERT_EQUAL(xf_net_neigh_lookup(&net, be_ip(peer_ip), &mac), 0);
	CU_ASSERT(memcmp(mac.addr_bytes, peer_mac, 6) == 0);
	/* A source off the subnet: its entry would be the gateway's. */
	CU_ASSERT_FALSE(
	        xf_net_neigh_heard(&net, be_ip((const uint8_t[4]){ 10, 99, 0, 1 }), &pm, 40, true));
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
	CU_ASSERT_EQUAL(r.dst_port, OUR_PORT);
}

/* The lanes' ports: udp_port .. udp_port + udp_ports - 1 are ours, and say which. */
static void
test_udp_lane_ports(void)
{
	struct xf_net_rx_result r;

	net_setup();
	net.conf.udp_ports = 4;
	for (unsigned int k = 0; k < 4; k++) {
		uint16_t len = mk_udp_opt(buf, 5, 10, (uint16_t)(OUR_PORT + k), true);

		CU_ASSERT_EQUAL(xf_net_rx(&net, buf, len, sizeof(buf), 0, 0, &r), XF_NET_PAYLOAD);
		CU_ASSERT_EQUAL(r.dst_port, OUR_PORT + k);
	}
	expect_drop(mk_udp_opt(buf, 5, 10, OUR_PORT + 4, true), 0, XF_NET_DROP_UDP_PORT);
	expect_drop(mk_udp_opt(buf, 5, 10, OUR_PORT - 1, true), 0, XF_NET_DROP_UDP_PORT);
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
	expect_drop(mk_udp_opt(buf, 5, 10, OUR_PORT - 1, true), 0, XF_NET_DROP_UDP_PORT);

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
	{ "UDP to the lanes' ports", test_udp_lane_ports },
	{ "a session's frame resolves a neighbour being resolved", test_neigh_heard },
	{ "UDP drops", test_udp_drops },
	{ "RX offload flags", test_rx_offload_flags },
	{ "TX header build", test_tx_build },
};

int
main(void)
{
	return xf_test_main("net", NULL, NULL, XF_TESTS(tests));
}
