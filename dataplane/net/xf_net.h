/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's network edge, on plain byte buffers: classify a received Ethernet
 * frame (answer ARP and ICMP echo in place, learn neighbours, validate IPv4/UDP and hand
 * back the payload), build the UDP/IPv4/Ethernet header of an outgoing frame, and keep a
 * small neighbour table. No EAL: only DPDK's header-only structs and checksum helpers.
 *
 * Neighbours follow Linux's NUD states (reachable, stale, delay, probe, failed) on the
 * caller's clock: xf_net_neigh_confirm when the peer acknowledges our traffic,
 * xf_net_neigh_probe when a session finds it silent, xf_net_neigh_poll for the timers.
 * docs/ENGINE.md, "Neighbours", gives the states, the timers and why.
 *
 * Ownership: one struct xf_net (and its neighbour table and counters) belongs to one
 * core. Non-IP frames (ARP) land on RX queue 0 under RSS, so the core of queue 0 owns
 * the learned entries; other cores use static entries or their own instance.
 *
 * Byte order: IPv4 addresses are in network order (as on the wire, rte_be32_t); UDP
 * ports are in host order.
 */
#ifndef XF_NET_H
#define XF_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf_core.h>

/** Bytes of Ethernet + IPv4 (no options) + UDP header in front of every payload we send. */
#define XF_NET_HDR_LEN 42u
/** Length of an ARP frame we build (Ethernet + ARP, before the minimum-size padding). */
#define XF_NET_ARP_LEN 42u
/** Minimum Ethernet frame without FCS; frames we build are padded to it. */
#define XF_NET_MIN_FRAME 60u
/** Entries in a neighbour table; a peer list on an appliance is short. */
#define XF_NET_NEIGH_MAX 32u
/** Unicast requests to a neighbour's known MAC before probing it by broadcast (Linux's
 * ucast_probes). */
#define XF_NET_UCAST_PROBES 3u
/** Broadcast requests before a neighbour is given up as failed, both when resolving and
 * after the unicast probes (Linux's mcast_probes). */
#define XF_NET_MCAST_PROBES 3u

/** Why a received frame was dropped. Each has a name (xf_net_drop_name) and a counter. */
enum xf_net_drop {
	XF_NET_DROP_SHORT = 0,     /**< Shorter than an Ethernet header. */
	XF_NET_DROP_DST_MAC,       /**< Destination: another host's unicast MAC. */
	XF_NET_DROP_MULTICAST,     /**< Destination: a multicast MAC (we join no group). */
	XF_NET_DROP_CHAINED,       /**< Frame in several buffers (xf_net_rx_discard). */
	XF_NET_DROP_VLAN,          /**< 802.1Q/802.1ad tagged: the appliance runs untagged. */
	XF_NET_DROP_ETHERTYPE,     /**< Neither IPv4 nor ARP (IPv6, LLDP, ...). */
	XF_NET_DROP_ARP_MALFORMED, /**< ARP too short, or not Ethernet/IPv4 ARP. */
	XF_NET_DROP_ARP_NOT_US,    /**< ARP request for another address. */
	XF_NET_DROP_ARP_OP,        /**< ARP opcode neither request nor reply. */
	XF_NET_DROP_IP_SHORT,      /**< Shorter than a minimal IPv4 header. */
	XF_NET_DROP_IP_VERSION,    /**< IP version is not 4. */
	XF_NET_DROP_IP_IHL,        /**< Header length below 20 bytes or beyond the frame. */
	XF_NET_DROP_IP_TOTAL_LEN,  /**< Total length below the header or beyond the frame. */
	XF_NET_DROP_IP_CKSUM,      /**< IPv4 header checksum wrong (software or NIC). */
	XF_NET_DROP_IP_FRAGMENT,   /**< MF set or fragment offset nonzero: never reassembled. */
	XF_NET_DROP_IP_DST,        /**< Destination IP is not ours. */
	XF_NET_DROP_IP_SRC,        /**< Source IP is zero, broadcast or multicast. */
	XF_NET_DROP_IP_PROTO,      /**< Neither UDP nor ICMP. */
	XF_NET_DROP_ICMP_SHORT,    /**< ICMP message shorter than its header. */
	XF_NET_DROP_ICMP_CKSUM,    /**< ICMP checksum wrong. */
	XF_NET_DROP_ICMP_TYPE,     /**< ICMP other than echo request. */
	XF_NET_DROP_UDP_SHORT,     /**< IP payload shorter than a UDP header. */
	XF_NET_DROP_UDP_LEN,       /**< UDP length field disagrees with the IP total length. */
	XF_NET_DROP_UDP_CKSUM,     /**< UDP checksum nonzero and wrong (software or NIC). */
	XF_NET_DROP_UDP_PORT,      /**< UDP to a port other than ours (udp_port + udp_ports). */
	XF_NET_DROP_MAX,
};

/** What the caller does with a classified frame. */
enum xf_net_verdict {
	XF_NET_DROP = 0, /**< Free it; the reason is counted and in the result. */
	XF_NET_REPLY,    /**< Rewritten in place as a reply: send it out the same port. */
	XF_NET_CONSUMED, /**< Used (ARP reply learned): free it. */
	XF_NET_PAYLOAD,  /**< UDP datagram for us: payload at payload_off, payload_len. */
};

/* RX offload results the caller got from the NIC (see xf_net_rx_flags_from_mbuf). */
#define XF_NET_RX_IP_CKSUM_GOOD (1u << 0) /**< NIC verified the IPv4 header checksum. */
#define XF_NET_RX_IP_CKSUM_BAD  (1u << 1) /**< NIC found the IPv4 header checksum wrong. */
#define XF_NET_RX_L4_CKSUM_GOOD (1u << 2) /**< NIC verified the UDP checksum. */
#define XF_NET_RX_L4_CKSUM_BAD  (1u << 3) /**< NIC found the UDP checksum wrong. */

/* TX offloads: what xf_net_tx_build leaves to the NIC. */
#define XF_NET_TX_IP_CKSUM  (1u << 0) /**< NIC computes the IPv4 header checksum. */
#define XF_NET_TX_UDP_CKSUM (1u << 1) /**< NIC computes the UDP checksum. */
#define XF_NET_TX_UDP_NONE  (1u << 2) /**< No UDP checksum: the field is 0 (RFC 768). */

/** Counters of one struct xf_net; read by the control thread, written by the owner. */
struct xf_net_counters {
	uint64_t rx_frames;             /**< Frames given to xf_net_rx. */
	uint64_t arp_replied;           /**< ARP requests for us answered. */
	uint64_t arp_learned;           /**< Neighbour entries created or updated by ARP. */
	uint64_t arp_consumed;          /**< ARP replies and announcements taken in. */
	uint64_t arp_requests;          /**< Broadcast ARP requests built (resolve, probe). */
	uint64_t arp_probes;            /**< Unicast ARP requests built (probe). */
	uint64_t arp_announced;         /**< Gratuitous ARPs built (xf_net_announce). */
	uint64_t neigh_changed;         /**< Neighbours whose MAC changed (ARP said so). */
	uint64_t neigh_failed;          /**< Neighbours given up after unanswered requests. */
	uint64_t icmp_echo_replied;     /**< ICMP echo requests answered. */
	uint64_t udp_payload;           /**< UDP datagrams handed back as payload. */
	uint64_t tx_built;              /**< Headers built by xf_net_tx_build. */
	uint64_t drop[XF_NET_DROP_MAX]; /**< Dropped frames by reason. */
};

/** Neighbour entry states, after Linux's NUD. Frames go out in STATIC, REACHABLE,
 * STALE, DELAY and PROBE; they wait in INCOMPLETE; FAILED is resolved again first. */
enum xf_net_neigh_state {
	XF_NET_NEIGH_FREE = 0,   /**< Slot unused. */
	XF_NET_NEIGH_STATIC,     /**< From config: never changed by ARP, never probed. */
	XF_NET_NEIGH_INCOMPLETE, /**< Being resolved: broadcast requests, no MAC yet. */
	XF_NET_NEIGH_REACHABLE,  /**< Confirmed less than conf.reachable_time ago. */
	XF_NET_NEIGH_STALE,      /**< Not confirmed lately (or announced): checked at next use. */
	XF_NET_NEIGH_DELAY,      /**< Used while stale: a confirmation is due by `timer`. */
	XF_NET_NEIGH_PROBE,      /**< Unconfirmed: unicast, then broadcast requests. */
	XF_NET_NEIGH_FAILED,     /**< Requests unanswered: resolved again before it is used. */
};

/** One neighbour. */
struct xf_net_neigh {
	uint32_t ip;               /**< IPv4 address, network order. */
	struct rte_ether_addr mac; /**< Its MAC; zero until first learned; kept when it
	                                fails, to tell a new MAC from a return. */
	uint8_t state;             /**< enum xf_net_neigh_state. */
	uint8_t probes;            /**< Requests sent in INCOMPLETE or PROBE. */
	uint64_t confirmed;        /**< Last confirmation (REACHABLE until + reachable_time). */
	uint64_t timer;            /**< INCOMPLETE, DELAY, PROBE: when the next step is due. */
	uint64_t updated;          /**< Last learned, confirmed or asked for (eviction order). */
};

/** Addresses and settings of one interface, as the config gives them. */
struct xf_net_conf {
	struct rte_ether_addr mac; /**< Our MAC (from the port). */
	uint32_t ip;               /**< Our IPv4 address, network order. */
	uint8_t prefix_len;        /**< Subnet prefix length, 0..32. */
	uint32_t gateway;          /**< Next hop off-subnet, network order; 0 if none. */
	uint16_t udp_port;         /**< Our UDP port, host order. */
	/** Ports taken from udp_port on (0 counts as 1): udp_port + k is the source port of
	 *  a push's lane k, to which the peer answers (docs/ENGINE.md, "Lanes"). */
	uint16_t udp_ports;
	uint16_t mtu;            /**< IP MTU (1500 or 9000): largest IPv4 total length sent. */
	uint64_t arp_interval;   /**< Time between two ARP requests for one address, in
	                              the caller's time unit (the `now` arguments). */
	uint64_t reachable_time; /**< How long a confirmation holds; 0: for ever. */
	uint64_t delay_time;     /**< How long a stale entry in use waits for a
	                              confirmation before it is probed. */
};

/** One interface's state on one core. Initialise with xf_net_init; no allocation. */
struct xf_net {
	struct xf_net_conf conf; /**< Copy of the configuration. */
	uint32_t netmask;        /**< From prefix_len, network order. */
	uint16_t ip_id;          /**< Next IPv4 identification. */
	uint64_t timer_at;       /**< Earliest neighbour timer (xf_net_neigh_poll has work then). */
	struct xf_net_neigh neigh[XF_NET_NEIGH_MAX]; /**< Neighbour table. */
	struct xf_net_counters ctr;                  /**< Counters. */
};

/** Result of xf_net_rx. */
struct xf_net_rx_result {
	enum xf_net_verdict verdict; /**< What to do with the frame. */
	enum xf_net_drop drop;       /**< Reason, when verdict is XF_NET_DROP. */
	uint16_t reply_len;          /**< Frame length to send, when XF_NET_REPLY. */
	uint16_t payload_off;        /**< Offset of the UDP payload, when XF_NET_PAYLOAD. */
	uint16_t payload_len;        /**< Length of the UDP payload, when XF_NET_PAYLOAD. */
	uint32_t src_ip;             /**< Sender's IPv4 address (network order), when PAYLOAD. */
	uint16_t src_port;           /**< Sender's UDP port (host order), when PAYLOAD. */
	uint16_t dst_port;           /**< Our UDP port it went to (host order), when PAYLOAD. */
};

/** Where and how to send one datagram. */
struct xf_net_flow {
	struct rte_ether_addr dst_mac; /**< Next hop's MAC (xf_net_neigh_resolve). */
	uint32_t dst_ip;               /**< Peer IPv4 address, network order. */
	uint16_t dst_port;             /**< Peer UDP port, host order. */
	uint16_t src_port;             /**< Our UDP port, host order (0 = conf.udp_port). */
};

/**
 * Initialise an interface's state: copy the config, clear the table and the counters.
 *
 * @param net   State to initialise.
 * @param conf  Configuration; ip must be a unicast address, prefix_len <= 32,
 *              mtu between 576 and 9000.
 * @return 0, or -EINVAL for a bad configuration.
 */
int xf_net_init(struct xf_net *net, const struct xf_net_conf *conf);

/**
 * Classify a received frame and act on it. ARP requests for our address and ICMP echo
 * requests to it are rewritten in place into replies (the buffer must hold
 * XF_NET_MIN_FRAME bytes for an ARP reply to be padded); ARP learns the sender; a valid
 * UDP datagram to our address and port is handed back; everything else is counted by
 * reason and dropped. Checksums the NIC already verified (rx_flags) are not recomputed.
 *
 * @param net       Interface state (counters and neighbour table are updated).
 * @param frame     Frame bytes, starting at the Ethernet header.
 * @param len       Frame length (without FCS).
 * @param buf_len   Bytes writable at frame (>= len), for padding a reply.
 * @param rx_flags  XF_NET_RX_* flags from the NIC, 0 if none.
 * @param now       Current time in the caller's unit (for the neighbour table).
 * @param res       Filled with the verdict and its details.
 * @return res->verdict.
 */
enum xf_net_verdict xf_net_rx(struct xf_net *net, uint8_t *frame, uint16_t len, uint16_t buf_len,
                              uint32_t rx_flags, uint64_t now, struct xf_net_rx_result *res);

/**
 * Build the Ethernet, IPv4 and UDP headers in the XF_NET_HDR_LEN bytes at frame, in
 * front of a payload already at frame + XF_NET_HDR_LEN. Checksums not offloaded are
 * computed in software; for XF_NET_TX_UDP_CKSUM the UDP checksum field holds the
 * pseudo-header sum, as DPDK's TX offload expects (the caller sets the mbuf's ol_flags,
 * see xf_net_tx_ol_flags). The IPv4 header has DF set: we never fragment.
 *
 * @param net          Interface state (source addresses, IP id, counters).
 * @param flow         Destination.
 * @param frame        Start of the frame; the payload follows the header.
 * @param payload_len  Payload bytes.
 * @param tx_flags     XF_NET_TX_* offloads.
 * @return Frame length (header + payload), or -EMSGSIZE if the datagram would exceed
 *         the MTU, or -EINVAL for a bad flow (zero port or address).
 */
int xf_net_tx_build(struct xf_net *net, const struct xf_net_flow *flow, uint8_t *frame,
                    uint16_t payload_len, uint32_t tx_flags);

/**
 * Add or replace a static neighbour (from config). Static entries win over ARP.
 *
 * @param net  Interface state.
 * @param ip   Neighbour address, network order.
 * @param mac  Its MAC.
 * @return 0, -EINVAL for a zero/broadcast/multicast address or MAC, -ENOSPC when every
 *         slot holds a static entry.
 */
int xf_net_neigh_add_static(struct xf_net *net, uint32_t ip, const struct rte_ether_addr *mac);

/**
 * Find the next hop of a destination: itself when on our subnet, else the gateway.
 *
 * @param net  Interface state.
 * @param dst  Destination, network order.
 * @return The next hop, network order; 0 if off-subnet and no gateway is configured.
 */
uint32_t xf_net_next_hop(const struct xf_net *net, uint32_t dst);

/**
 * Resolve a next hop's MAC before sending a frame to it. An entry in use is checked as
 * NUD does: a stale one moves to DELAY (a confirmation is expected soon, else it is
 * probed). An unknown or failed one is resolved: a broadcast ARP request is built at
 * arp_frame and *arp_len says its length; the caller sends it and holds the frame. The
 * requests after it, probes and failures run on xf_net_neigh_poll's timers only: a
 * caller that cannot see answers for a while (it leaves its receive queue unread) stops
 * polling, and its neighbours are not judged meanwhile.
 *
 * @param net        Interface state.
 * @param ip         Next hop, network order.
 * @param now        Current time in the caller's unit.
 * @param mac        Filled when resolved.
 * @param arp_frame  Buffer of at least XF_NET_MIN_FRAME bytes for an ARP request.
 * @param arp_len    Set to the ARP frame's length to send, or 0 if none is due.
 * @return 0 when the frame can go to *mac; -EAGAIN while resolving (hold the frame);
 *         -EINVAL for a zero or broadcast address; -ENOSPC when no slot can be used for
 *         the entry.
 */
int xf_net_neigh_resolve(struct xf_net *net, uint32_t ip, uint64_t now, struct rte_ether_addr *mac,
                         uint8_t *arp_frame, uint16_t *arp_len);

/**
 * Look a next hop up without changing anything (for frames held while it resolves).
 *
 * @param net  Interface state.
 * @param ip   Next hop, network order.
 * @param mac  Filled when usable.
 * @return 0 when usable; -EAGAIN while it resolves; -EHOSTUNREACH when it failed or has
 *         no entry.
 */
int xf_net_neigh_lookup(const struct xf_net *net, uint32_t ip, struct rte_ether_addr *mac);

/**
 * Run the neighbour timers: requests of entries being resolved or probed, DELAY entries
 * whose confirmation did not come, entries given up. Builds at most one ARP request per
 * call: call again while it returns a frame. Cheap when nothing is due.
 *
 * @param net        Interface state.
 * @param now        Current time in the caller's unit.
 * @param arp_frame  Buffer of at least XF_NET_MIN_FRAME bytes.
 * @return Length of the ARP frame built at arp_frame to send, or 0.
 */
uint16_t xf_net_neigh_poll(struct xf_net *net, uint64_t now, uint8_t *arp_frame);

/**
 * The peer acknowledged our traffic: its next hop's entry is reachable (NUD's upper-layer
 * confirmation). Static, incomplete and failed entries are left as they are.
 *
 * @param net  Interface state.
 * @param ip   The peer (not the next hop), network order.
 * @param now  Current time in the caller's unit.
 */
void xf_net_neigh_confirm(struct xf_net *net, uint32_t ip, uint64_t now);

/**
 * A frame of a session of ours came from ip through mac: a frame that decoded (with AEAD:
 * authenticated), or the HELLO of a session just accepted. An entry of ip being resolved
 * (INCOMPLETE) or FAILED takes that MAC; with create, a missing entry is made with it
 * too; either is STALE (NUD checks it once used, and the session's acknowledgements
 * confirm it). The ARP answers of a core whose queue they never reach (RSS puts non-IP
 * frames on queue 0; a kernel hash puts all ARP on one queue) would otherwise leave it
 * resolving the peer of the sessions it serves forever. A known entry, a static one, and
 * a source behind the gateway (the entry is the gateway's) are left as they are.
 *
 * @param net     Interface state.
 * @param ip      The frame's IPv4 source, network order.
 * @param mac     The frame's Ethernet source.
 * @param now     Current time in the caller's unit.
 * @param create  Make a missing entry (an accepted session's peer).
 * @return true when the entry took the MAC.
 */
bool xf_net_neigh_heard(struct xf_net *net, uint32_t ip, const struct rte_ether_addr *mac,
                        uint64_t now, bool create);

/**
 * The peer has gone silent: probe its next hop now (unicast requests, then broadcast),
 * however recently it was confirmed, so that a peer that came back with another MAC is
 * found before the session times out.
 *
 * @param net  Interface state.
 * @param ip   The peer (not the next hop), network order.
 * @param now  Current time in the caller's unit.
 * @return 0 when probing started; -EALREADY when the entry is being resolved or probed
 *         already, or failed; -ENOENT when there is no entry or it is static.
 */
int xf_net_neigh_probe(struct xf_net *net, uint32_t ip, uint64_t now);

/**
 * Build a gratuitous ARP (a broadcast request for our own address) announcing our MAC,
 * for start and link-up: neighbours that knew another MAC for our address update it.
 *
 * @param net    Interface state.
 * @param frame  Buffer of at least XF_NET_MIN_FRAME bytes.
 * @return The frame's length.
 */
uint16_t xf_net_announce(struct xf_net *net, uint8_t *frame);

/**
 * Count a received frame the caller drops before xf_net_rx can classify it.
 *
 * @param net     Interface state.
 * @param reason  Why (XF_NET_DROP_CHAINED, ...).
 */
void xf_net_rx_discard(struct xf_net *net, enum xf_net_drop reason);

/**
 * Name of a drop reason, for stats and telemetry ("ip_cksum", ...).
 *
 * @param reason  A drop reason.
 * @return A static string; "unknown" for a value out of range.
 */
const char *xf_net_drop_name(enum xf_net_drop reason);

/**
 * Translate an mbuf's RX offload results into XF_NET_RX_* flags.
 *
 * @param ol_flags  The mbuf's ol_flags.
 * @return XF_NET_RX_* flags.
 */
static inline uint32_t
xf_net_rx_flags_from_mbuf(uint64_t ol_flags)
{
	uint32_t f = 0;
	uint64_t ip = ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4 = ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD) {
		f |= XF_NET_RX_IP_CKSUM_GOOD;
	} else if (ip == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
		f |= XF_NET_RX_IP_CKSUM_BAD;
	}
	if (l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD) {
		f |= XF_NET_RX_L4_CKSUM_GOOD;
	} else if (l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
		f |= XF_NET_RX_L4_CKSUM_BAD;
	}
	return f;
}

/**
 * The mbuf ol_flags a frame built with xf_net_tx_build needs for its offloads (the
 * caller also sets l2_len = 14 and l3_len = 20).
 *
 * @param tx_flags  XF_NET_TX_* offloads used when building.
 * @return RTE_MBUF_F_TX_* flags; 0 without offloads.
 */
static inline uint64_t
xf_net_tx_ol_flags(uint32_t tx_flags)
{
	uint64_t f = 0;

	if (tx_flags & (XF_NET_TX_IP_CKSUM | XF_NET_TX_UDP_CKSUM)) {
		f |= RTE_MBUF_F_TX_IPV4;
	}
	if (tx_flags & XF_NET_TX_IP_CKSUM) {
		f |= RTE_MBUF_F_TX_IP_CKSUM;
	}
	if (tx_flags & XF_NET_TX_UDP_CKSUM) {
		f |= RTE_MBUF_F_TX_UDP_CKSUM;
	}
	return f;
}

#endif /* XF_NET_H */
