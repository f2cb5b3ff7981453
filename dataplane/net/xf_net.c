/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * L2/L3 edge of the appliance: ARP, ICMP echo, IPv4/UDP validation and framing.
 * Works on byte buffers with DPDK's header structs and inline checksum helpers only,
 * so it runs without EAL. Per-frame problems are counted, never logged.
 */
#include "xf_net.h"

#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "xf_base.h"

#define ETH_LEN           ((uint16_t)sizeof(struct rte_ether_hdr))
#define IP_LEN            ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define UDP_LEN           ((uint16_t)sizeof(struct rte_udp_hdr))
#define ICMP_LEN          ((uint16_t)sizeof(struct rte_icmp_hdr))
#define ARP_LEN           ((uint16_t)sizeof(struct rte_arp_hdr))
#define TTL               64
#define ICMP_ECHO_REQUEST 8
#define ICMP_ECHO_REPLY   0

static const char *const drop_names[XF_NET_DROP_MAX] = {
	[XF_NET_DROP_SHORT] = "short",
	[XF_NET_DROP_DST_MAC] = "dst_mac",
	[XF_NET_DROP_MULTICAST] = "multicast",
	[XF_NET_DROP_CHAINED] = "chained",
	[XF_NET_DROP_VLAN] = "vlan",
	[XF_NET_DROP_ETHERTYPE] = "ethertype",
	[XF_NET_DROP_ARP_MALFORMED] = "arp_malformed",
	[XF_NET_DROP_ARP_NOT_US] = "arp_not_us",
	[XF_NET_DROP_ARP_OP] = "arp_op",
	[XF_NET_DROP_IP_SHORT] = "ip_short",
	[XF_NET_DROP_IP_VERSION] = "ip_version",
	[XF_NET_DROP_IP_IHL] = "ip_ihl",
	[XF_NET_DROP_IP_TOTAL_LEN] = "ip_total_len",
	[XF_NET_DROP_IP_CKSUM] = "ip_cksum",
	[XF_NET_DROP_IP_FRAGMENT] = "ip_fragment",
	[XF_NET_DROP_IP_DST] = "ip_dst",
	[XF_NET_DROP_IP_SRC] = "ip_src",
	[XF_NET_DROP_IP_PROTO] = "ip_proto",
	[XF_NET_DROP_ICMP_SHORT] = "icmp_short",
	[XF_NET_DROP_ICMP_CKSUM] = "icmp_cksum",
	[XF_NET_DROP_ICMP_TYPE] = "icmp_type",
	[XF_NET_DROP_UDP_SHORT] = "udp_short",
	[XF_NET_DROP_UDP_LEN] = "udp_len",
	[XF_NET_DROP_UDP_CKSUM] = "udp_cksum",
	[XF_NET_DROP_UDP_PORT] = "udp_port",
};

const char *
xf_net_drop_name(enum xf_net_drop reason)
{
	if ((unsigned int)reason >= XF_NET_DROP_MAX) {
		return "unknown";
	}
	return drop_names[reason];
}

/* A source or neighbour address we can talk to: not 0/8, loopback, multicast, class E. */
static bool
ip_is_unicast(uint32_t ip_be)
{
	uint32_t ip = rte_be_to_cpu_32(ip_be);
	uint8_t first = (uint8_t)(ip >> 24);

	return first != 0 && first != 127 && first < 224;
}

int
xf_net_init(struct xf_net *net, const struct xf_net_conf *conf)
{
	if (net == NULL || conf == NULL || !ip_is_unicast(conf->ip) || conf->prefix_len > 32 ||
	    conf->mtu < 576 || conf->mtu > 9000 || !rte_is_unicast_ether_addr(&conf->mac) ||
	    rte_is_zero_ether_addr(&conf->mac) ||
	    (uint32_t)conf->udp_port + XF_MAX(conf->udp_ports, 1) - 1 > UINT16_MAX) {
		return -EINVAL;
	}
	memset(net, 0, sizeof(*net));
	net->conf = *conf;
	net->netmask =
	        conf->prefix_len == 0 ? 0 : rte_cpu_to_be_32(UINT32_MAX << (32 - conf->prefix_len));
	net->timer_at = UINT64_MAX;
	return 0;
}

void
xf_net_rx_discard(struct xf_net *net, enum xf_net_drop reason)
{
	net->ctr.rx_frames++;
	net->ctr.drop[(unsigned int)reason < XF_NET_DROP_MAX ? reason : XF_NET_DROP_SHORT]++;
}

static enum xf_net_verdict
drop(struct xf_net *net, struct xf_net_rx_result *res, enum xf_net_drop reason)
{
	net->ctr.drop[reason]++;
	res->verdict = XF_NET_DROP;
	res->drop = reason;
	return XF_NET_DROP;
}

/* Pad a reply to the Ethernet minimum with zeros, when the buffer allows. */
static uint16_t
pad_reply(uint8_t *frame, uint16_t len, uint16_t buf_len)
{
	if (len < XF_NET_MIN_FRAME && buf_len >= XF_NET_MIN_FRAME) {
		memset(frame + len, 0, XF_NET_MIN_FRAME - len);
		return XF_NET_MIN_FRAME;
	}
	return len;
}

/* Fold a 32-bit one's-complement sum to 16 bits. */
static uint16_t
fold(uint32_t sum)
{
	sum = (sum >> 16) + (sum & 0xffff);
	sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

/* ---- neighbour table ---- */

static struct xf_net_neigh *
neigh_find(struct xf_net *net, uint32_t ip)
{
	for (unsigned int i = 0; i < XF_NET_NEIGH_MAX; i++) {
		if (net->neigh[i].state != XF_NET_NEIGH_FREE && net->neigh[i].ip == ip) {
			return &net->neigh[i];
		}
	}
	return NULL;
}

/* A free slot, else the least recently updated non-static one; NULL if all are static. */
static struct xf_net_neigh *
neigh_slot(struct xf_net *net)
{
	struct xf_net_neigh *victim = NULL;

	for (unsigned int i = 0; i < XF_NET_NEIGH_MAX; i++) {
		struct xf_net_neigh *n = &net->neigh[i];

		if (n->state == XF_NET_NEIGH_FREE) {
			return n;
		}
		if (n->state != XF_NET_NEIGH_STATIC &&
		    (victim == NULL || n->updated < victim->updated)) {
			victim = n;
		}
	}
	return victim;
}

/* A frame can go to the entry's MAC (PROBE still uses it, as Linux does). */
static bool
neigh_usable(const struct xf_net_neigh *n)
{
	return n->state == XF_NET_NEIGH_STATIC || n->state == XF_NET_NEIGH_REACHABLE ||
	       n->state == XF_NET_NEIGH_STALE || n->state == XF_NET_NEIGH_DELAY ||
	       n->state == XF_NET_NEIGH_PROBE;
}

/* Arm an entry's timer and keep net->timer_at the earliest. */
static void
neigh_arm(struct xf_net *net, struct xf_net_neigh *n, uint64_t at)
{
	n->timer = at;
	if (at < net->timer_at) {
		net->timer_at = at;
	}
}

static void
neigh_set(struct xf_net *net, struct xf_net_neigh *n, enum xf_net_neigh_state state, uint64_t now)
{
	n->state = (uint8_t)state;
	n->probes = 0;
	n->updated = now;
	if (state == XF_NET_NEIGH_REACHABLE) {
		n->confirmed = now;
	} else if (state == XF_NET_NEIGH_INCOMPLETE || state == XF_NET_NEIGH_PROBE) {
		neigh_arm(net, n, now); /* the first request goes at once */
	} else if (state == XF_NET_NEIGH_DELAY) {
		neigh_arm(net, n, now + net->conf.delay_time);
	}
}

int
xf_net_neigh_add_static(struct xf_net *net, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct xf_net_neigh *n;

	if (!ip_is_unicast(ip) || !rte_is_valid_assigned_ether_addr(mac)) {
		return -EINVAL;
	}
	n = neigh_find(net, ip);
	if (n == NULL) {
		n = neigh_slot(net);
	}
	if (n == NULL) {
		return -ENOSPC;
	}
	n->ip = ip;
	n->mac = *mac;
	n->state = XF_NET_NEIGH_STATIC;
	n->probes = 0;
	n->updated = 0;
	return 0;
}

/*
 * An ARP from ip says it is at mac (RFC 826 merge, with NUD's states). A known entry is
 * updated; a new one is created only when the ARP was aimed at us (create). A reply to
 * our request (solicited) confirms the entry; anything else (a request, an announcement)
 * only says where the host is now: a new MAC, or a failed entry, becomes STALE, and is
 * checked once used. Static entries are never changed, which also keeps a spoofed ARP
 * from redirecting a configured peer. @return whether ip has an entry now.
 */
static bool
neigh_learn(struct xf_net *net, uint32_t ip, const struct rte_ether_addr *mac, uint64_t now,
            bool create, bool solicited)
{
	struct xf_net_neigh *n;
	bool moved;

	if (!ip_is_unicast(ip) || ip == net->conf.ip || !rte_is_valid_assigned_ether_addr(mac)) {
		return false;
	}
	n = neigh_find(net, ip);
	if (n != NULL && n->state == XF_NET_NEIGH_STATIC) {
		return true;
	}
	if (n == NULL) {
		if (!create || (n = neigh_slot(net)) == NULL) {
			return false;
		}
		memset(n, 0, sizeof(*n));
		n->ip = ip;
		n->state = XF_NET_NEIGH_INCOMPLETE;
	}
	moved = !rte_is_same_ether_addr(&n->mac, mac);
	if (moved && !rte_is_zero_ether_addr(&n->mac)) {
		net->ctr.neigh_changed++; /* restarted with another NIC, failed over, replaced */
	}
	if (!solicited && !moved && n->state != XF_NET_NEIGH_INCOMPLETE &&
	    n->state != XF_NET_NEIGH_FAILED) {
		return true; /* the same news: the entry's checks go on */
	}
	n->mac = *mac;
	neigh_set(net, n, solicited ? XF_NET_NEIGH_REACHABLE : XF_NET_NEIGH_STALE, now);
	net->ctr.arp_learned++;
	return true;
}

uint32_t
xf_net_next_hop(const struct xf_net *net, uint32_t dst)
{
	if (((dst ^ net->conf.ip) & net->netmask) == 0) {
		return dst;
	}
	return net->conf.gateway;
}

/* An ARP request for target: broadcast, or a unicast probe to dst when given. */
static uint16_t
build_arp_request(struct xf_net *net, uint8_t *frame, uint32_t target,
                  const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(frame + ETH_LEN);

	if (dst != NULL) {
		eth->dst_addr = *dst;
	} else {
		memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	}
	eth->src_addr = net->conf.mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = net->conf.mac;
	arp->arp_data.arp_sip = net->conf.ip;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = target;
	return pad_reply(frame, ETH_LEN + ARP_LEN, XF_NET_MIN_FRAME);
}

uint16_t
xf_net_announce(struct xf_net *net, uint8_t *frame)
{
	net->ctr.arp_announced++;
	return build_arp_request(net, frame, net->conf.ip, NULL);
}

/* A REACHABLE entry whose confirmation is older than reachable_time is STALE (no timer:
 * that matters only when it is next used). */
static void
neigh_age(const struct xf_net *net, struct xf_net_neigh *n, uint64_t now)
{
	if (n->state == XF_NET_NEIGH_REACHABLE && net->conf.reachable_time != 0 &&
	    now - n->confirmed >= net->conf.reachable_time) {
		n->state = XF_NET_NEIGH_STALE;
	}
}

/*
 * Run an entry's timer if it is due: a DELAY entry left unconfirmed is probed; an
 * INCOMPLETE or PROBE entry sends its next request (PROBE: XF_NET_UCAST_PROBES unicast
 * to the MAC it has, then broadcast), or fails once they all went unanswered.
 * @return the length of a request built at frame, or 0.
 */
static uint16_t
neigh_step(struct xf_net *net, struct xf_net_neigh *n, uint64_t now, uint8_t *frame)
{
	unsigned int budget;
	bool unicast;

	neigh_age(net, n, now);
	if (n->state == XF_NET_NEIGH_DELAY && now >= n->timer) {
		neigh_set(net, n, XF_NET_NEIGH_PROBE, now);
	}
	if ((n->state != XF_NET_NEIGH_INCOMPLETE && n->state != XF_NET_NEIGH_PROBE) ||
	    now < n->timer) {
		return 0;
	}
	budget = XF_NET_MCAST_PROBES + (n->state == XF_NET_NEIGH_PROBE ? XF_NET_UCAST_PROBES : 0);
	if (n->probes >= budget) {
		n->state = XF_NET_NEIGH_FAILED;
		n->updated = now;
		net->ctr.neigh_failed++;
		return 0;
	}
	unicast = n->state == XF_NET_NEIGH_PROBE && n->probes < XF_NET_UCAST_PROBES;
	n->probes++;
	neigh_arm(net, n, now + net->conf.arp_interval);
	if (unicast) {
		net->ctr.arp_probes++;
	} else {
		net->ctr.arp_requests++;
	}
	return build_arp_request(net, frame, n->ip, unicast ? &n->mac : NULL);
}

int
xf_net_neigh_resolve(struct xf_net *net, uint32_t ip, uint64_t now, struct rte_ether_addr *mac,
                     uint8_t *arp_frame, uint16_t *arp_len)
{
	struct xf_net_neigh *n;

	*arp_len = 0;
	if (!ip_is_unicast(ip)) {
		return -EINVAL;
	}
	n = neigh_find(net, ip);
	if (n == NULL) {
		n = neigh_slot(net);
		if (n == NULL) {
			return -ENOSPC;
		}
		memset(n, 0, sizeof(*n));
		n->ip = ip;
	}
	if (n->state == XF_NET_NEIGH_FREE || n->state == XF_NET_NEIGH_FAILED) {
		/* Resolved again before the frame goes out (the first request now); the
		 * old MAC stays, to tell a change from a return. */
		neigh_set(net, n, XF_NET_NEIGH_INCOMPLETE, now);
		*arp_len = neigh_step(net, n, now, arp_frame);
	}
	neigh_age(net, n, now);
	if (n->state == XF_NET_NEIGH_STALE) {
		neigh_set(net, n, XF_NET_NEIGH_DELAY, now);
	}
	if (n->state == XF_NET_NEIGH_INCOMPLETE) {
		return -EAGAIN;
	}
	*mac = n->mac;
	return 0;
}

int
xf_net_neigh_lookup(const struct xf_net *net, uint32_t ip, struct rte_ether_addr *mac)
{
	for (unsigned int i = 0; i < XF_NET_NEIGH_MAX; i++) {
		const struct xf_net_neigh *n = &net->neigh[i];

		if (n->state == XF_NET_NEIGH_FREE || n->ip != ip) {
			continue;
		}
		if (n->state == XF_NET_NEIGH_INCOMPLETE) {
			return -EAGAIN;
		}
		if (!neigh_usable(n)) {
			return -EHOSTUNREACH;
		}
		*mac = n->mac;
		return 0;
	}
	return -EHOSTUNREACH;
}

uint16_t
xf_net_neigh_poll(struct xf_net *net, uint64_t now, uint8_t *arp_frame)
{
	uint64_t next = UINT64_MAX;
	uint16_t len = 0;

	if (now < net->timer_at) {
		return 0;
	}
	for (unsigned int i = 0; i < XF_NET_NEIGH_MAX; i++) {
		struct xf_net_neigh *n = &net->neigh[i];

		if (len == 0) {
			len = neigh_step(net, n, now, arp_frame);
		}
		if ((n->state == XF_NET_NEIGH_INCOMPLETE || n->state == XF_NET_NEIGH_DELAY ||
		     n->state == XF_NET_NEIGH_PROBE) &&
		    n->timer < next) {
			next = n->timer;
		}
	}
	net->timer_at = next;
	return len;
}

void
xf_net_neigh_confirm(struct xf_net *net, uint32_t ip, uint64_t now)
{
	struct xf_net_neigh *n = neigh_find(net, xf_net_next_hop(net, ip));

	if (n == NULL || n->state == XF_NET_NEIGH_STATIC || !neigh_usable(n)) {
		return;
	}
	if (n->state == XF_NET_NEIGH_REACHABLE) {
		n->confirmed = now; /* the common case, once per acknowledgement: no more */
		n->updated = now;
		return;
	}
	neigh_set(net, n, XF_NET_NEIGH_REACHABLE, now);
}

bool
xf_net_neigh_heard(struct xf_net *net, uint32_t ip, const struct rte_ether_addr *mac, uint64_t now,
                   bool create)
{
	struct xf_net_neigh *n = neigh_find(net, ip);

	if ((n == NULL && !create) || xf_net_next_hop(net, ip) != ip ||
	    (n != NULL && n->state != XF_NET_NEIGH_INCOMPLETE && n->state != XF_NET_NEIGH_FAILED)) {
		return false;
	}
	return neigh_learn(net, ip, mac, now, create, false);
}

int
xf_net_neigh_probe(struct xf_net *net, uint32_t ip, uint64_t now)
{
	struct xf_net_neigh *n = neigh_find(net, xf_net_next_hop(net, ip));

	if (n == NULL || n->state == XF_NET_NEIGH_STATIC) {
		return -ENOENT;
	}
	if (n->state != XF_NET_NEIGH_REACHABLE && n->state != XF_NET_NEIGH_STALE &&
	    n->state != XF_NET_NEIGH_DELAY) {
		return -EALREADY;
	}
	neigh_set(net, n, XF_NET_NEIGH_PROBE, now);
	return 0;
}

/* ---- receive ---- */

/* The frame, rewritten in place, goes back out: padded to the Ethernet minimum. */
static enum xf_net_verdict
reply(struct xf_net_rx_result *res, uint8_t *frame, uint16_t len, uint16_t buf_len)
{
	res->verdict = XF_NET_REPLY;
	res->reply_len = pad_reply(frame, len, buf_len);
	return XF_NET_REPLY;
}

static enum xf_net_verdict
rx_arp(struct xf_net *net, uint8_t *frame, uint16_t len, uint16_t buf_len, uint64_t now,
       struct xf_net_rx_result *res)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(frame + ETH_LEN);
	struct rte_arp_ipv4 *d = &arp->arp_data;
	bool for_us, known;

	if (len < ETH_LEN + ARP_LEN || arp->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
		return drop(net, res, XF_NET_DROP_ARP_MALFORMED);
	}
	/* A gratuitous ARP (sender = target address) announces the sender, whoever it asks. */
	for_us = d->arp_tip == net->conf.ip && d->arp_sip != d->arp_tip;
	switch (rte_be_to_cpu_16(arp->arp_opcode)) {
	case RTE_ARP_OP_REQUEST:
		known = neigh_learn(net, d->arp_sip, &d->arp_sha, now, for_us, false);
		if (!for_us) {
			if (known && d->arp_sip == d->arp_tip) {
				net->ctr.arp_consumed++;
				res->verdict = XF_NET_CONSUMED;
				return XF_NET_CONSUMED;
			}
			return drop(net, res, XF_NET_DROP_ARP_NOT_US);
		}
		/* Answer the requester directly, whatever MAC it used to reach us. */
		arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
		d->arp_tha = d->arp_sha;
		d->arp_tip = d->arp_sip;
		d->arp_sha = net->conf.mac;
		d->arp_sip = net->conf.ip;
		eth->dst_addr = d->arp_tha;
		eth->src_addr = net->conf.mac;
		net->ctr.arp_replied++;
		return reply(res, frame, ETH_LEN + ARP_LEN, buf_len);
	case RTE_ARP_OP_REPLY:
		/* A reply sent to our MAC answers our request: it confirms the entry. */
		known = neigh_learn(net, d->arp_sip, &d->arp_sha, now, for_us,
		                    for_us &&
		                            rte_is_same_ether_addr(&eth->dst_addr, &net->conf.mac));
		if (!known) {
			return drop(net, res, XF_NET_DROP_ARP_NOT_US);
		}
		net->ctr.arp_consumed++;
		res->verdict = XF_NET_CONSUMED;
		return XF_NET_CONSUMED;
	default:
		return drop(net, res, XF_NET_DROP_ARP_OP);
	}
}

static enum xf_net_verdict
rx_icmp(struct xf_net *net, uint8_t *frame, uint16_t buf_len, struct rte_ipv4_hdr *ip,
        uint16_t ihl_len, uint16_t total, struct xf_net_rx_result *res)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl_len);
	uint16_t l4_len = total - ihl_len;
	uint32_t tmp;

	if (l4_len < ICMP_LEN) {
		return drop(net, res, XF_NET_DROP_ICMP_SHORT);
	}
	if (rte_raw_cksum(icmp, l4_len) != 0xffff) {
		return drop(net, res, XF_NET_DROP_ICMP_CKSUM);
	}
	if (icmp->icmp_type != ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		return drop(net, res, XF_NET_DROP_ICMP_TYPE);
	}
	icmp->icmp_type = ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, l4_len);
	tmp = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = tmp;
	ip->time_to_live = TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	eth->dst_addr = eth->src_addr;
	eth->src_addr = net->conf.mac;
	net->ctr.icmp_echo_replied++;
	return reply(res, frame, ETH_LEN + total, buf_len);
}

/* UDP checksum over pseudo-header, header and data; 0xffff when correct. */
static uint16_t
udp_sum(const struct rte_ipv4_hdr *ip, const void *udp, uint16_t l4_len)
{
	return fold((uint32_t)rte_raw_cksum(udp, l4_len) + rte_ipv4_phdr_cksum(ip, 0));
}

static enum xf_net_verdict
rx_udp(struct xf_net *net, uint8_t *frame, struct rte_ipv4_hdr *ip, uint16_t ihl_len,
       uint16_t total, uint32_t rx_flags, struct xf_net_rx_result *res)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + ihl_len);
	uint16_t l4_len = total - ihl_len;

	if (l4_len < UDP_LEN) {
		return drop(net, res, XF_NET_DROP_UDP_SHORT);
	}
	/* Strict: our peers never put bytes after the datagram inside the IP packet. */
	if (rte_be_to_cpu_16(udp->dgram_len) != l4_len) {
		return drop(net, res, XF_NET_DROP_UDP_LEN);
	}
	if ((uint16_t)(rte_be_to_cpu_16(udp->dst_port) - net->conf.udp_port) >=
	    XF_MAX(net->conf.udp_ports, 1)) {
		return drop(net, res, XF_NET_DROP_UDP_PORT);
	}
	if (rx_flags & XF_NET_RX_L4_CKSUM_BAD) {
		return drop(net, res, XF_NET_DROP_UDP_CKSUM);
	}
	if (!(rx_flags & XF_NET_RX_L4_CKSUM_GOOD) && udp->dgram_cksum != 0 &&
	    udp_sum(ip, udp, l4_len) != 0xffff) {
		return drop(net, res, XF_NET_DROP_UDP_CKSUM);
	}
	net->ctr.udp_payload++;
	res->verdict = XF_NET_PAYLOAD;
	res->payload_off = (uint16_t)((uint8_t *)udp - frame) + UDP_LEN;
	res->payload_len = l4_len - UDP_LEN;
	res->src_ip = ip->src_addr;
	res->src_port = rte_be_to_cpu_16(udp->src_port);
	res->dst_port = rte_be_to_cpu_16(udp->dst_port);
	return XF_NET_PAYLOAD;
}

static enum xf_net_verdict
rx_ipv4(struct xf_net *net, uint8_t *frame, uint16_t len, uint16_t buf_len, uint32_t rx_flags,
        struct xf_net_rx_result *res)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + ETH_LEN);
	uint16_t room = len - ETH_LEN;
	uint16_t ihl_len, total;

	if (room < IP_LEN) {
		return drop(net, res, XF_NET_DROP_IP_SHORT);
	}
	if ((ip->version_ihl >> 4) != 4) {
		return drop(net, res, XF_NET_DROP_IP_VERSION);
	}
	ihl_len = (uint16_t)((ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4);
	if (ihl_len < IP_LEN || ihl_len > room) {
		return drop(net, res, XF_NET_DROP_IP_IHL);
	}
	/* Shorter than the frame is fine: Ethernet pads small frames to 60 bytes. */
	total = rte_be_to_cpu_16(ip->total_length);
	if (total < ihl_len || total > room) {
		return drop(net, res, XF_NET_DROP_IP_TOTAL_LEN);
	}
	if ((rx_flags & XF_NET_RX_IP_CKSUM_BAD) ||
	    (!(rx_flags & XF_NET_RX_IP_CKSUM_GOOD) && rte_raw_cksum(ip, ihl_len) != 0xffff)) {
		return drop(net, res, XF_NET_DROP_IP_CKSUM);
	}
	if (ip->fragment_offset &
	    rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		return drop(net, res, XF_NET_DROP_IP_FRAGMENT);
	}
	if (ip->dst_addr != net->conf.ip) {
		return drop(net, res, XF_NET_DROP_IP_DST);
	}
	if (!ip_is_unicast(ip->src_addr) || ip->src_addr == net->conf.ip) {
		return drop(net, res, XF_NET_DROP_IP_SRC);
	}
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		return rx_udp(net, frame, ip, ihl_len, total, rx_flags, res);
	case IPPROTO_ICMP:
		return rx_icmp(net, frame, buf_len, ip, ihl_len, total, res);
	default:
		return drop(net, res, XF_NET_DROP_IP_PROTO);
	}
}

enum xf_net_verdict
xf_net_rx(struct xf_net *net, uint8_t *frame, uint16_t len, uint16_t buf_len, uint32_t rx_flags,
          uint64_t now, struct xf_net_rx_result *res)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)frame;
	uint16_t type;

	memset(res, 0, sizeof(*res));
	net->ctr.rx_frames++;
	if (len < ETH_LEN) {
		return drop(net, res, XF_NET_DROP_SHORT);
	}
	if (!rte_is_same_ether_addr(&eth->dst_addr, &net->conf.mac) &&
	    !rte_is_broadcast_ether_addr(&eth->dst_addr)) {
		/* Seen where the device does not filter (memif, af_packet, promiscuous): a
		 * peer still using our previous MAC lands here. */
		return drop(net, res,
		            rte_is_multicast_ether_addr(&eth->dst_addr) ? XF_NET_DROP_MULTICAST
		                                                        : XF_NET_DROP_DST_MAC);
	}
	type = rte_be_to_cpu_16(eth->ether_type);
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		return rx_ipv4(net, frame, len, buf_len, rx_flags, res);
	case RTE_ETHER_TYPE_ARP:
		return rx_arp(net, frame, len, buf_len, now, res);
	case RTE_ETHER_TYPE_VLAN:
	case RTE_ETHER_TYPE_QINQ:
		return drop(net, res, XF_NET_DROP_VLAN);
	default:
		return drop(net, res, XF_NET_DROP_ETHERTYPE);
	}
}

/* ---- transmit ---- */

int
xf_net_tx_build(struct xf_net *net, const struct xf_net_flow *flow, uint8_t *frame,
                uint16_t payload_len, uint32_t tx_flags)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + ETH_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(frame + ETH_LEN + IP_LEN);
	uint32_t total = (uint32_t)IP_LEN + UDP_LEN + payload_len;
	uint16_t src_port = flow->src_port != 0 ? flow->src_port : net->conf.udp_port;

	if (flow->dst_ip == 0 || flow->dst_port == 0 || src_port == 0) {
		return -EINVAL;
	}
	if (total > net->conf.mtu) {
		return -EMSGSIZE;
	}
	eth->dst_addr = flow->dst_mac;
	eth->src_addr = net->conf.mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);

	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->packet_id = rte_cpu_to_be_16(net->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = TTL;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = net->conf.ip;
	ip->dst_addr = flow->dst_ip;

	udp->src_port = rte_cpu_to_be_16(src_port);
	udp->dst_port = rte_cpu_to_be_16(flow->dst_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(total - IP_LEN));
	udp->dgram_cksum = 0;

	if (!(tx_flags & XF_NET_TX_IP_CKSUM)) {
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (tx_flags & XF_NET_TX_UDP_NONE) {
		/* Left 0: "no checksum" (RFC 768), for a link that cannot corrupt (memif). */
	} else if (tx_flags & XF_NET_TX_UDP_CKSUM) {
		udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, 0);
	} else {
		/* rte_ipv4_udptcp_cksum maps a zero result to 0xffff: 0 means "no checksum". */
		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	net->ctr.tx_built++;
	return (int)(total + ETH_LEN);
}
