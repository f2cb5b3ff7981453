/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the neighbour table: static entries, eviction, the reachability state
 * machine (NUD) driven by an injected clock, and the next hop choice.
 */
#include "net_test.h"

void
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

void
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

void
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

void
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

void
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

void
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

void
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

void
test_nud_no_ageing(void)
{
	nud_reachable_peer();
	net.conf.reachable_time = 0; /* confirmations hold for ever */
	CU_ASSERT_EQUAL(use(peer_ip, UINT64_MAX / 2), 0);
	CU_ASSERT_EQUAL(state_of(peer_ip), XF_NET_NEIGH_REACHABLE);
	CU_ASSERT_EQUAL(arp_len, 0);
}

void
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
