/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL test of the port driver and the L2/L3 edge together, on virtual devices: two
 * ring-backed ports wired back to back (A's TX ring is B's RX ring and the reverse).
 * B plays the peer: it resolves A by ARP, pings it, sends it UDP and malformed frames;
 * A runs xf_net on what it receives and sends its replies back.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "xf_base.h"
#include "xf_net.h"
#include "xf_port.h"
#include "xf_test.h"

#define BURST      32
#define PORT_A_UDP 7400
#define PORT_B_UDP 40000

static struct rte_mempool *pool;
static struct xf_port pa, pb;
static struct xf_net net_a, net_b;
static const uint8_t ip_a[4] = { 192, 168, 50, 1 };
static const uint8_t ip_b[4] = { 192, 168, 50, 2 };

static uint32_t
be_ip(const uint8_t ip[4])
{
	uint32_t v;

	memcpy(&v, ip, 4);
	return v;
}

/* Make a ring pair and two ports on it. */
static void
open_pair(const char *a_name, const char *b_name, struct xf_port *a, struct xf_port *b,
          const struct xf_fault_conf *b_fault)
{
	char ra_name[32], rb_name[32], dev[64];
	struct rte_ring *ra, *rb;
	struct xf_port_conf c;

	snprintf(ra_name, sizeof(ra_name), "r_%s", a_name);
	snprintf(rb_name, sizeof(rb_name), "r_%s", b_name);
	ra = rte_ring_create(ra_name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	rb = rte_ring_create(rb_name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ra);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rb);
	/* A receives from ra and sends into rb; B the other way round. */
	CU_ASSERT_FATAL(rte_eth_from_rings(a_name, &ra, 1, &rb, 1, SOCKET_ID_ANY) >= 0);
	CU_ASSERT_FATAL(rte_eth_from_rings(b_name, &rb, 1, &ra, 1, SOCKET_ID_ANY) >= 0);

	memset(&c, 0, sizeof(c));
	c.nb_queues = 1;
	c.nb_rxd = 256;
	c.nb_txd = 256;
	c.mtu = 1500;
	c.mp = pool;
	snprintf(dev, sizeof(dev), "net_ring_%s", a_name);
	c.device = dev;
	CU_ASSERT_EQUAL_FATAL(xf_port_open(a, &c), 0);
	CU_ASSERT_FALSE(a->hotplugged);
	snprintf(dev, sizeof(dev), "net_ring_%s", b_name);
	if (b_fault != NULL) {
		c.fault = *b_fault;
	}
	CU_ASSERT_EQUAL_FATAL(xf_port_open(b, &c), 0);
	CU_ASSERT_EQUAL_FATAL(xf_port_start(a), 0);
	CU_ASSERT_EQUAL_FATAL(xf_port_start(b), 0);
}

static void
init_net(struct xf_net *n, const struct xf_port *p, const uint8_t ip[4], uint16_t port)
{
	struct xf_net_conf c;

	memset(&c, 0, sizeof(c));
	c.mac = p->mac;
	c.ip = be_ip(ip);
	c.prefix_len = 24;
	c.udp_port = port;
	c.mtu = p->mtu;
	c.arp_interval = 10;
	CU_ASSERT_EQUAL_FATAL(xf_net_init(n, &c), 0);
}

static int
suite_init(void)
{
	pool = rte_pktmbuf_pool_create("xf_eal_port", 2047, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	return pool == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	xf_port_close(&pa);
	xf_port_close(&pb);
	return 0;
}

/* Send raw bytes as one frame from port p. */
static void
send_bytes(struct xf_port *p, const uint8_t *bytes, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	d = rte_pktmbuf_append(m, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	memcpy(d, bytes, len);
	CU_ASSERT_EQUAL_FATAL(xf_port_tx_burst(p, 0, &m, 1), 1);
}

/*
 * Receive everything waiting on p and run xf_net on it: send replies back, free drops
 * and consumed frames, and keep UDP payload frames (with their results) for the caller.
 */
static unsigned int
pump(struct xf_port *p, struct xf_net *n, struct rte_mbuf **keep, struct xf_net_rx_result *kres,
     unsigned int keep_max)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int kept = 0;
	uint16_t nb;

	while ((nb = xf_port_rx_burst(p, 0, pkts, BURST)) > 0) {
		for (uint16_t i = 0; i < nb; i++) {
			struct rte_mbuf *m = pkts[i];
			struct xf_net_rx_result r;
			uint16_t len = rte_pktmbuf_data_len(m);

			xf_net_rx(n, rte_pktmbuf_mtod(m, uint8_t *), len,
			          (uint16_t)(len + rte_pktmbuf_tailroom(m)),
			          xf_net_rx_flags_from_mbuf(m->ol_flags), 0, &r);
			switch (r.verdict) {
			case XF_NET_REPLY:
				m->data_len = r.reply_len;
				m->pkt_len = r.reply_len;
				CU_ASSERT_EQUAL(xf_port_tx_burst(p, 0, &m, 1), 1);
				break;
			case XF_NET_PAYLOAD:
				if (kept < keep_max) {
					kres[kept] = r;
					keep[kept++] = m;
					break;
				}
				/* fall through */
			default:
				rte_pktmbuf_free(m);
				break;
			}
		}
	}
	return kept;
}

static void
test_link_up(void)
{
	struct rte_eth_link link;

	open_pair("xfa", "xfb", &pa, &pb, NULL);
	init_net(&net_a, &pa, ip_a, PORT_A_UDP);
	init_net(&net_b, &pb, ip_b, PORT_B_UDP);

	CU_ASSERT_EQUAL(xf_port_link(&pa, &link), 0);
	CU_ASSERT_EQUAL(link.link_status, RTE_ETH_LINK_UP);
	CU_ASSERT_EQUAL(pa.mtu, 1500);
	CU_ASSERT_EQUAL(pa.rss_hf, 0); /* one queue: no RSS */
	CU_ASSERT_FALSE(rte_is_same_ether_addr(&pa.mac, &pb.mac));
}

static void
test_arp(void)
{
	struct rte_ether_addr mac;
	uint8_t arp[XF_NET_MIN_FRAME];
	uint16_t arp_len;

	/* B does not know A: it sends an ARP request; A answers; B learns A's MAC. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net_b, be_ip(ip_a), 100, &mac, arp, &arp_len),
	                -EAGAIN);
	CU_ASSERT_EQUAL_FATAL(arp_len, XF_NET_MIN_FRAME);
	send_bytes(&pb, arp, arp_len);
	CU_ASSERT_EQUAL(pump(&pa, &net_a, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(net_a.ctr.arp_replied, 1);
	CU_ASSERT_EQUAL(pump(&pb, &net_b, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(net_b.ctr.arp_learned, 1);
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net_b, be_ip(ip_a), 101, &mac, arp, &arp_len), 0);
	CU_ASSERT(rte_is_same_ether_addr(&mac, &pa.mac));
	/* A learned B from the request. */
	CU_ASSERT_EQUAL(xf_net_neigh_resolve(&net_a, be_ip(ip_b), 101, &mac, arp, &arp_len), 0);
	CU_ASSERT(rte_is_same_ether_addr(&mac, &pb.mac));
}

/* An ICMP echo request from B to A, written byte by byte. */
static uint16_t
mk_echo(uint8_t *f, uint16_t seq)
{
	uint8_t *ip = f + 14, *icmp = f + 34;
	uint16_t c;

	memcpy(f, pa.mac.addr_bytes, 6);
	memcpy(f + 6, pb.mac.addr_bytes, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 32;
	ip[8] = 64;
	ip[9] = 1;
	memcpy(ip + 12, ip_b, 4);
	memcpy(ip + 16, ip_a, 4);
	c = (uint16_t)~xf_test_inet_sum(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	memset(icmp, 0, 8);
	icmp[0] = 8;
	icmp[4] = 0x12;
	icmp[5] = 0x34;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	for (unsigned int i = 0; i < 32; i++) {
		icmp[8 + i] = (uint8_t)i;
	}
	c = (uint16_t)~xf_test_inet_sum(icmp, 40, 0);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	return 14 + 20 + 40;
}

static void
test_icmp_echo(void)
{
	struct rte_mbuf *pkts[BURST];
	uint8_t f[128];
	uint16_t nb;

	for (uint16_t seq = 1; seq <= 3; seq++) {
		send_bytes(&pb, f, mk_echo(f, seq));
	}
	pump(&pa, &net_a, NULL, NULL, 0);
	CU_ASSERT_EQUAL(net_a.ctr.icmp_echo_replied, 3);
	nb = xf_port_rx_burst(&pb, 0, pkts, BURST);
	CU_ASSERT_EQUAL_FATAL(nb, 3);
	for (uint16_t i = 0; i < nb; i++) {
		const uint8_t *r = rte_pktmbuf_mtod(pkts[i], const uint8_t *);

		CU_ASSERT_EQUAL(rte_pktmbuf_data_len(pkts[i]), 74);
		CU_ASSERT(memcmp(r, pb.mac.addr_bytes, 6) == 0);
		CU_ASSERT(memcmp(r + 6, pa.mac.addr_bytes, 6) == 0);
		CU_ASSERT(memcmp(r + 26, ip_a, 4) == 0);
		CU_ASSERT(memcmp(r + 30, ip_b, 4) == 0);
		CU_ASSERT_EQUAL(xf_test_inet_sum(r + 14, 20, 0), 0xffff);
		CU_ASSERT_EQUAL(r[34], 0); /* echo reply */
		CU_ASSERT_EQUAL(xf_test_inet_sum(r + 34, 40, 0), 0xffff);
		CU_ASSERT_EQUAL(r[41], i + 1); /* sequence, in order */
		rte_pktmbuf_free(pkts[i]);
	}
}

static void
test_udp_payload(void)
{
	struct rte_mbuf *keep[4];
	struct xf_net_rx_result res[4];
	struct xf_net_flow flow;
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	uint8_t *d;
	int len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	memset(&flow, 0, sizeof(flow));
	uint8_t arp[XF_NET_MIN_FRAME];
	uint16_t arp_len;

	CU_ASSERT_EQUAL_FATAL(
	        xf_net_neigh_resolve(&net_b, be_ip(ip_a), 200, &flow.dst_mac, arp, &arp_len), 0);
	flow.dst_ip = be_ip(ip_a);
	flow.dst_port = PORT_A_UDP;
	d = (uint8_t *)rte_pktmbuf_append(m, XF_NET_HDR_LEN + 1000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	for (unsigned int i = 0; i < 1000; i++) {
		d[XF_NET_HDR_LEN + i] = (uint8_t)(i * 13);
	}
	len = xf_net_tx_build(&net_b, &flow, d, 1000, 0);
	CU_ASSERT_EQUAL_FATAL(len, XF_NET_HDR_LEN + 1000);
	CU_ASSERT_EQUAL_FATAL(xf_port_tx_burst(&pb, 0, &m, 1), 1);

	CU_ASSERT_EQUAL_FATAL(pump(&pa, &net_a, keep, res, 4), 1);
	CU_ASSERT_EQUAL(res[0].payload_len, 1000);
	CU_ASSERT_EQUAL(res[0].src_ip, be_ip(ip_b));
	CU_ASSERT_EQUAL(res[0].src_port, PORT_B_UDP);
	d = rte_pktmbuf_mtod_offset(keep[0], uint8_t *, res[0].payload_off);
	for (unsigned int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(d[i], (uint8_t)(i * 13));
	}
	rte_pktmbuf_free(keep[0]);
}

static void
test_malformed_counted(void)
{
	struct xf_net_counters before = net_a.ctr;
	struct xf_net_flow flow;
	uint8_t f[256];
	uint16_t l;

	memset(&flow, 0, sizeof(flow));
	flow.dst_mac = pa.mac;
	flow.dst_ip = be_ip(ip_a);
	flow.dst_port = PORT_A_UDP;
	memset(f, 0, sizeof(f));

	send_bytes(&pb, f, 10); /* short */
	l = (uint16_t)xf_net_tx_build(&net_b, &flow, f, 20, 0);
	f[24] ^= 0xff; /* IP header checksum */
	send_bytes(&pb, f, l);
	l = (uint16_t)xf_net_tx_build(&net_b, &flow, f, 20, 0);
	f[XF_NET_HDR_LEN + 5] ^= 0x01; /* UDP payload after checksum */
	send_bytes(&pb, f, l);
	l = (uint16_t)xf_net_tx_build(&net_b, &flow, f, 20, 0);
	f[12] = 0x81; /* VLAN tag */
	f[13] = 0x00;
	send_bytes(&pb, f, l);
	flow.dst_port = PORT_A_UDP + 1;
	send_bytes(&pb, f, (uint16_t)xf_net_tx_build(&net_b, &flow, f, 20, 0));
	flow.dst_port = PORT_A_UDP;
	flow.dst_ip = be_ip(ip_b); /* not A's address */
	send_bytes(&pb, f, (uint16_t)xf_net_tx_build(&net_b, &flow, f, 20, 0));

	CU_ASSERT_EQUAL(pump(&pa, &net_a, NULL, NULL, 0), 0);
	CU_ASSERT_EQUAL(net_a.ctr.rx_frames, before.rx_frames + 6);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_SHORT], before.drop[XF_NET_DROP_SHORT] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_IP_CKSUM],
	                before.drop[XF_NET_DROP_IP_CKSUM] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_UDP_CKSUM],
	                before.drop[XF_NET_DROP_UDP_CKSUM] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_VLAN], before.drop[XF_NET_DROP_VLAN] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_UDP_PORT],
	                before.drop[XF_NET_DROP_UDP_PORT] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.drop[XF_NET_DROP_IP_DST], before.drop[XF_NET_DROP_IP_DST] + 1);
	CU_ASSERT_EQUAL(net_a.ctr.udp_payload, before.udp_payload);
}

struct xstat_find {
	const char *name;
	uint64_t value;
	int found;
	int count;
};

static void
xstat_cb(void *arg, const char *name, uint64_t value)
{
	struct xstat_find *x = arg;

	x->count++;
	if (strcmp(name, x->name) == 0) {
		x->found++;
		x->value = value;
	}
}

static void
test_xstats(void)
{
	struct xstat_find x = { .name = "rx_good_packets" };
	struct rte_eth_stats st;
	int n;

	n = xf_port_xstats(&pa, xstat_cb, &x);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(x.count, n);
	CU_ASSERT_EQUAL(x.found, 1);
	CU_ASSERT_EQUAL_FATAL(rte_eth_stats_get(pa.port_id, &st), 0);
	CU_ASSERT_EQUAL(x.value, st.ipackets);
	CU_ASSERT_EQUAL(x.value, net_a.ctr.rx_frames);
}

/* B's TX goes through a reorder stage: A gets every frame exactly once, some late. */
static void
test_fault_stage(void)
{
	static const struct xf_fault_conf fc = { .seed = 7, .reorder_p = 0.3, .reorder_k = 3 };
	struct xf_port fa, fb;
	struct xf_net fna, fnb;
	struct xf_net_flow flow;
	struct rte_mbuf *keep[256];
	struct xf_net_rx_result res[256];
	uint8_t seen[200];
	unsigned int got = 0, late = 0, max = 0;

	open_pair("xfc", "xfd", &fa, &fb, &fc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb.fault);
	CU_ASSERT_PTR_NULL(fa.fault);
	init_net(&fna, &fa, ip_a, PORT_A_UDP);
	init_net(&fnb, &fb, ip_b, PORT_B_UDP);
	memset(&flow, 0, sizeof(flow));
	flow.dst_mac = fa.mac;
	flow.dst_ip = be_ip(ip_a);
	flow.dst_port = PORT_A_UDP;
	for (unsigned int i = 0; i < 200; i += 10) {
		struct rte_mbuf *ms[10];

		for (unsigned int j = 0; j < 10; j++) {
			uint8_t *d;

			ms[j] = rte_pktmbuf_alloc(pool);
			CU_ASSERT_PTR_NOT_NULL_FATAL(ms[j]);
			d = (uint8_t *)rte_pktmbuf_append(ms[j], XF_NET_HDR_LEN + 1);
			d[XF_NET_HDR_LEN] = (uint8_t)(i + j);
			CU_ASSERT_EQUAL(xf_net_tx_build(&fnb, &flow, d, 1, 0), XF_NET_HDR_LEN + 1);
		}
		CU_ASSERT_EQUAL(xf_port_tx_burst(&fb, 0, ms, 10), 10);
		got += pump(&fa, &fna, keep + got, res + got, 256 - got);
	}
	xf_port_tx_poll(&fb, 0, true);
	got += pump(&fa, &fna, keep + got, res + got, 256 - got);
	CU_ASSERT_EQUAL(got, 200);
	CU_ASSERT_EQUAL(fb.fault[0].refused, 0);
	memset(seen, 0, sizeof(seen));
	for (unsigned int i = 0; i < got; i++) {
		unsigned int v = *rte_pktmbuf_mtod_offset(keep[i], uint8_t *, res[i].payload_off);

		CU_ASSERT_EQUAL(seen[v], 0);
		seen[v] = 1;
		if (v < max) {
			late++;
		} else {
			max = v;
		}
		rte_pktmbuf_free(keep[i]);
	}
	CU_ASSERT(late > 0);
	CU_ASSERT_EQUAL(fb.fault[0].stage.st.reordered > 0, 1);
	xf_port_close(&fa);
	xf_port_close(&fb);
}

/* Hot-plugged vdevs: net_null with RSS across two queues; a bogus device; bad configs. */
static void
test_hotplug_and_errors(void)
{
	struct xf_port p;
	struct xf_port_conf c;
	struct rte_mbuf *m;
	uint16_t port_id;

	memset(&c, 0, sizeof(c));
	c.device = "net_null0,copy=1";
	c.nb_queues = 2;
	c.mtu = 9000;
	c.mp = pool;
	CU_ASSERT_EQUAL_FATAL(xf_port_open(&p, &c), 0);
	CU_ASSERT(p.hotplugged);
	CU_ASSERT(p.rss_hf != 0);
	CU_ASSERT_EQUAL(p.rss_hf & ~(uint64_t)(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP), 0);
	CU_ASSERT_EQUAL(p.nb_queues, 2);
	CU_ASSERT_EQUAL(xf_port_start(&p), 0);
	m = rte_pktmbuf_alloc(pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	rte_pktmbuf_append(m, 60);
	CU_ASSERT_EQUAL(xf_port_tx_burst(&p, 1, &m, 1), 1);
	xf_port_close(&p);
	CU_ASSERT_EQUAL(p.name[0], '\0');
	/* Closing removed the device. */
	CU_ASSERT_NOT_EQUAL(rte_eth_dev_get_port_by_name("net_null0", &port_id), 0);

	c.device = "net_nosuchdriver0";
	c.nb_queues = 1;
	CU_ASSERT_EQUAL(xf_port_open(&p, &c), -ENODEV);
	c.device = "net_null1";
	c.nb_queues = 0;
	CU_ASSERT_EQUAL(xf_port_open(&p, &c), -EINVAL);
	c.nb_queues = RTE_MAX_QUEUES_PER_PORT + 1;
	CU_ASSERT_EQUAL(xf_port_open(&p, &c), -EINVAL);
	c.nb_queues = 1;
	c.fault.reorder_p = 2.0;
	CU_ASSERT_EQUAL(xf_port_open(&p, &c), -EINVAL);
	c.fault.reorder_p = 0;
	c.mp = NULL;
	CU_ASSERT_EQUAL(xf_port_open(&p, &c), -EINVAL);
	xf_port_close(&p); /* safe after a failed open */
}

struct resident_ctx {
	uintptr_t page;
	size_t pages, resident;
};

static void
count_resident(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr,
               unsigned int mem_idx)
{
	struct resident_ctx *c = opaque;
	uintptr_t start = (uintptr_t)memhdr->addr & ~(c->page - 1);
	uintptr_t end = ((uintptr_t)memhdr->addr + memhdr->len + c->page - 1) & ~(c->page - 1);
	size_t n = (end - start) / c->page;
	unsigned char *vec = malloc(n);

	(void)mp;
	(void)mem_idx;
	CU_ASSERT_PTR_NOT_NULL_FATAL(vec);
	CU_ASSERT_EQUAL_FATAL(mincore((void *)start, end - start, vec), 0);
	for (size_t i = 0; i < n; i++) {
		c->resident += vec[i] & 1;
	}
	c->pages += n;
	free(vec);
}

/*
 * A pool of jumbo mbufs (without hugepages, as the dev pair runs): most of its pages have
 * no memory until written. After xf_port_pool_populate every page is resident, and the
 * mbufs still work.
 */
static void
test_pool_populate(void)
{
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
	        "xf_eal_jumbo", 1023, 0, 0, RTE_PKTMBUF_HEADROOM + 9216, SOCKET_ID_ANY);
	struct resident_ctx before = { .page = (uintptr_t)sysconf(_SC_PAGESIZE) };
	struct resident_ctx after = before;
	struct rte_mbuf *m;
	int64_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
	rte_mempool_mem_iter(mp, count_resident, &before);
	printf("\n  before: %zu of %zu pages resident", before.resident, before.pages);
	CU_ASSERT(before.resident < before.pages / 2);
	n = xf_port_pool_populate(mp);
	CU_ASSERT_EQUAL(n, (int64_t)(before.pages * before.page));
	rte_mempool_mem_iter(mp, count_resident, &after);
	printf(", after: %zu of %zu\n", after.resident, after.pages);
	CU_ASSERT_EQUAL(after.resident, after.pages);
	m = rte_pktmbuf_alloc(mp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(rte_pktmbuf_tailroom(m), 9216);
	rte_pktmbuf_free(m);
	rte_mempool_free(mp);
}

/*
 * The port's counters: frames sent from A and received on B, in the totals and in queue
 * 0, the only queue of the pair. A fresh pair, so that the counts start at zero.
 */
static void
test_port_stats(void)
{
	static const uint8_t frame[64] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1 };
	struct xf_port a, b;
	struct xf_port_stats sa, sb;
	struct rte_mbuf *pkts[BURST];
	unsigned int got = 0;

	open_pair("xsa", "xsb", &a, &b, NULL);
	for (unsigned int i = 0; i < 5; i++) {
		send_bytes(&a, frame, sizeof(frame));
	}
	for (unsigned int tries = 0; got < 5 && tries < 1000; tries++) {
		uint16_t nb = xf_port_rx_burst(&b, 0, pkts, BURST);

		for (uint16_t i = 0; i < nb; i++) {
			rte_pktmbuf_free(pkts[i]);
		}
		got += nb;
	}
	CU_ASSERT_EQUAL_FATAL(got, 5);
	CU_ASSERT_EQUAL(xf_port_stats(&a, &sa), 0);
	CU_ASSERT_EQUAL(xf_port_stats(&b, &sb), 0);
	CU_ASSERT_EQUAL(sa.tx_packets, 5);
	CU_ASSERT_EQUAL(sa.q[0].tx_packets, 5);
	CU_ASSERT_EQUAL(sa.rx_packets, 0);
	CU_ASSERT_EQUAL(sb.rx_packets, 5);
	CU_ASSERT_EQUAL(sb.q[0].rx_packets, 5);
	CU_ASSERT_EQUAL(sb.tx_packets, 0);
	xf_port_close(&a);
	xf_port_close(&b);
}

/* The port's pool: one whole frame of the MTU per mbuf, never less than 2048 bytes. */
static void
test_pool_create(void)
{
	static const struct {
		uint16_t mtu;
		uint16_t room;
	} cases[] = { { 576, 2048 }, { 1500, 2048 }, { 9000, 9000 + 14 + 64 } };

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[32];
		struct rte_mempool *mp;
		struct rte_mbuf *m;

		snprintf(name, sizeof(name), "xf_eal_pool%u", i);
		mp = xf_port_pool_create(name, 1023, cases[i].mtu);
		CU_ASSERT_PTR_NOT_NULL_FATAL(mp);
		CU_ASSERT_EQUAL(mp->size, 1023);
		CU_ASSERT_EQUAL(rte_pktmbuf_data_room_size(mp),
		                RTE_PKTMBUF_HEADROOM + cases[i].room);
		m = rte_pktmbuf_alloc(mp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(rte_pktmbuf_tailroom(m), cases[i].room);
		rte_pktmbuf_free(m);
		/* The name is taken while the pool lives: a second one fails with EEXIST. */
		errno = 0;
		CU_ASSERT_PTR_NULL(xf_port_pool_create(name, 1023, cases[i].mtu));
		CU_ASSERT_EQUAL(errno, EEXIST);
		xf_port_pool_free(mp);
	}
	xf_port_pool_free(NULL);
}

/* Open dev with nq queues (started). */
static void
open_dev(struct xf_port *p, const char *dev, uint16_t nq)
{
	struct xf_port_conf c = { .device = dev,
		                  .nb_queues = nq,
		                  .nb_rxd = 256,
		                  .nb_txd = 256,
		                  .mtu = 1500,
		                  .mp = pool };

	CU_ASSERT_EQUAL_FATAL(xf_port_open(p, &c), 0);
	CU_ASSERT_EQUAL_FATAL(xf_port_start(p), 0);
}

static const struct xf_port_rule steer_rules[] = {
	{ .src_port = 0, .dst_port = 7001, .queue = 1 },
	{ .src_port = 7000, .dst_port = 7000, .queue = 0 },
	{ .src_port = 7001, .dst_port = 7000, .queue = 1 },
};

/*
 * Steering: one queue needs none; a device without rte_flow (net_ring) refuses every
 * rule and, without RSS, spreads nothing; net_tap (TC flower rules; this needs
 * /dev/net/tun and CAP_NET_ADMIN) installs them all where the kernel has the multiq
 * qdisc and flower, and otherwise refuses them (its validate accepts, its create fails)
 * and falls back to the kernel's hash over the queues. Either way no rule stays half.
 */
static void
test_steering(void)
{
	struct rte_ring *rx[2], *tx[2];
	struct xf_port p;
	char dev[96];
	unsigned int n = XF_ARRAY_SIZE(steer_rules);

	open_dev(&p, "net_null_steer1", 1);
	CU_ASSERT_EQUAL(xf_port_steer(&p, steer_rules, n), XF_PORT_STEER_NONE);
	CU_ASSERT_EQUAL(p.rules_installed + p.rules_refused, 0);
	xf_port_close(&p);

	for (unsigned int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "r_steer_rx%u", i);
		rx[i] = rte_ring_create(name, 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "r_steer_tx%u", i);
		tx[i] = rte_ring_create(name, 256, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		CU_ASSERT_FATAL(rx[i] != NULL && tx[i] != NULL);
	}
	CU_ASSERT_FATAL(rte_eth_from_rings("steer", rx, 2, tx, 2, SOCKET_ID_ANY) >= 0);
	open_dev(&p, "net_ring_steer", 2);
	CU_ASSERT_EQUAL(xf_port_steer(&p, steer_rules, n), XF_PORT_STEER_NONE);
	CU_ASSERT_EQUAL(p.rules_installed, 0);
	CU_ASSERT_EQUAL(p.rules_refused, n);
	CU_ASSERT_STRING_EQUAL(xf_port_steering_name(p.steering), "none");
	xf_port_close(&p);

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("\n  net_tap part not run: needs root and /dev/net/tun\n");
		return;
	}
	snprintf(dev, sizeof(dev), "net_tap_steer,iface=xfst%d", (int)(getpid() % 100000));
	open_dev(&p, dev, 2);
	CU_ASSERT_TRUE(p.kernel_hash);
	switch (xf_port_steer(&p, steer_rules, n)) {
	case XF_PORT_STEER_FLOW:
		CU_ASSERT_EQUAL(p.rules_installed, n);
		CU_ASSERT_EQUAL(p.rules_refused, 0);
		break;
	case XF_PORT_STEER_RSS:
		CU_ASSERT_EQUAL(p.rules_installed, 0);
		CU_ASSERT_EQUAL(p.rules_refused, n);
		printf("\n  net_tap refused the flow rules here; fell back to the kernel's hash\n");
		break;
	default:
		CU_FAIL("net_tap with 2 queues: neither flow nor rss");
	}
	/* A queue the port lacks is refused before the device is asked; all or none. */
	{
		struct xf_port_rule bad[2] = { steer_rules[0], { .dst_port = 7002, .queue = 2 } };

		CU_ASSERT_EQUAL(xf_port_steer(&p, bad, 2), XF_PORT_STEER_RSS);
		CU_ASSERT_EQUAL(p.rules_installed, 0);
		CU_ASSERT(p.rules_refused >= 1);
	}
	xf_port_close(&p);
}

static const struct xf_test tests[] = {
	{ "open a ring pair, link up", test_link_up },
	{ "ARP resolve across the pair", test_arp },
	{ "ICMP echo answered", test_icmp_echo },
	{ "UDP classified as payload", test_udp_payload },
	{ "malformed frames counted", test_malformed_counted },
	{ "xstats", test_xstats },
	{ "TX fault stage", test_fault_stage },
	{ "hot-plug and errors", test_hotplug_and_errors },
	{ "a pool's pages populated at start", test_pool_populate },
	{ "the port's pool holds one frame per mbuf", test_pool_create },
	{ "port counters, total and per queue", test_port_stats },
	{ "steering: flow rules, all or none, and the fallback", test_steering },
};

int
main(int argc, char **argv)
{
	static char prefix[64];
	static char *eal_args[] = {
		"test_port", "--no-huge",     "--no-pci",      "-m",
		"256",       "--file-prefix", prefix,          "-l",
		"0",         "--log-level",   "lib.eal:error", "--no-telemetry",
	};
	int rc;

	(void)argc;
	(void)argv;
	/* Per process: builds running their tests at once must not share an EAL runtime. */
	snprintf(prefix, sizeof(prefix), "xf-eal-port-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])), eal_args) < 0) {
		fprintf(stderr, "test_port: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rc = xf_test_main("eal-port", suite_init, suite_clean, XF_TESTS(tests));
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
