/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK port bring-up: the only user of rte_ethdev. A port is named by a PCI address
 * ("0000:01:00.0") or by vdev arguments ("net_memif0,role=server,socket=/tmp/x.sock",
 * "net_af_packet0,iface=veth0", "net_ring0", "net_tap0", "net_null0"); vdevs not given
 * to EAL with --vdev are hot-plugged. One RX/TX queue pair per RX core; RSS over IPv4
 * and UDP when there is more than one queue; IPv4/UDP checksum offloads where the device
 * has them (the flags below say which, the rest is done in software by xf_net).
 */
#ifndef XF_PORT_H
#define XF_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "xf_fault.h"

/** Largest device string (PCI address or vdev name plus arguments). */
#define XF_PORT_DEVICE_MAX 256u
/** Descriptors per queue when the config says 0. */
#define XF_PORT_DEFAULT_DESC 1024u

/** How to bring a port up. */
struct xf_port_conf {
	const char *device;         /**< PCI address or vdev arguments (see above). */
	uint16_t nb_queues;         /**< RX/TX queue pairs: one per RX core, >= 1. */
	uint16_t nb_rxd;            /**< RX descriptors per queue; 0 = XF_PORT_DEFAULT_DESC. */
	uint16_t nb_txd;            /**< TX descriptors per queue; 0 = XF_PORT_DEFAULT_DESC. */
	uint16_t mtu;               /**< IP MTU wanted: 1500 or 9000 (clamped to the device). */
	struct rte_mempool *mp;     /**< Pool the RX queues fill mbufs from. */
	struct xf_fault_conf fault; /**< Fault stage on every TX queue (an emulated link, then
	                                 reordering); all zero = off. max_frame is set from
	                                 the MTU, the seed of queue q is fault.seed + q. */
};

/** A TX queue's fault stage and what it could not send. */
struct xf_port_fault {
	struct xf_fault stage; /**< The stage. */
	uint64_t refused;      /**< Frames the device refused after the stage (freed). */
};

/** Counters of the fault stages of a port, summed over its TX queues. */
struct xf_port_fault_stats {
	struct xf_fault_stats st; /**< The stages' counters. */
	uint64_t refused;         /**< Frames the device refused after the stage. */
};

/** How a port puts each lane's frames on its RX queue (docs/ENGINE.md, "Steering"). */
enum xf_port_steering {
	XF_PORT_STEER_NONE = 0, /**< One queue, or several and nothing spreads frames. */
	XF_PORT_STEER_SENDER,   /**< net_memif: the sender picks the queue. */
	XF_PORT_STEER_RSS,      /**< A hash over the 5-tuple, queue not known in advance
	                             (the device's RSS, or the kernel's flow hash under
	                             net_af_packet and net_tap). */
	XF_PORT_STEER_FLOW,     /**< rte_flow rules on the UDP ports, all installed. */
};

/** One steering rule: IPv4/UDP with these ports to an RX queue. */
struct xf_port_rule {
	uint16_t src_port; /**< UDP source port, host order; 0: any. */
	uint16_t dst_port; /**< UDP destination port, host order. */
	uint16_t queue;    /**< RX queue. */
};

/** Largest RSS key and redirection table read back (ice: 52 bytes, 2,048 entries). */
#define XF_PORT_RSS_KEY_MAX 64u
#define XF_PORT_RETA_MAX    2048u

/** A port brought up by xf_port_open. Fields are read-only for users. */
struct xf_port {
	uint16_t port_id;   /**< ethdev port id. */
	uint16_t nb_queues; /**< RX/TX queue pairs. */
	uint16_t nb_rxd;    /**< RX descriptors per queue, as adjusted. */
	uint16_t nb_txd;    /**< TX descriptors per queue, as adjusted. */
	uint16_t mtu;       /**< MTU in effect. */
	uint64_t rss_hf;    /**< RSS hash functions in use; 0 = no RSS. */
	bool rx_ip_cksum;   /**< NIC verifies IPv4 header checksums. */
	bool rx_udp_cksum;  /**< NIC verifies UDP checksums. */
	bool tx_ip_cksum;   /**< NIC computes IPv4 header checksums. */
	bool tx_udp_cksum;  /**< NIC computes UDP checksums. */
	bool memory_link;   /**< net_memif: the "wire" is memory shared with the peer process */
	bool kernel_hash;   /**< net_af_packet, net_tap: the kernel spreads frames over the
	                         queues by its flow hash (PACKET_FANOUT_HASH; tun's queue
	                         selection), whatever rss_hf says. */
	enum xf_port_steering steering;  /**< Set by xf_port_steer(). */
	uint32_t rules_installed;        /**< Flow rules in place. */
	uint32_t rules_refused;          /**< Flow rules the device refused (validate or
	                                      create); then none stays in place. */
	struct rte_flow **flows;         /**< The rules in place (rules_installed of them). */
	bool hotplugged;                 /**< We probed it, so close removes it. */
	bool started;                    /**< Between start and stop. */
	struct rte_ether_addr mac;       /**< The port's MAC address. */
	char name[RTE_ETH_NAME_MAX_LEN]; /**< ethdev name. */
	struct rte_device *dev;          /**< Underlying device (for removal). */
	struct xf_port_fault *fault;     /**< Per TX queue fault stages, NULL when off. */
	/** A NIC's RSS as read back after start (not a kernel hash's, not memif): its key
	 *  and redirection table, so that a push can pick the source ports whose answers
	 *  land on its lanes' queues (docs/ENGINE.md, "Steering"). rss_key_len 0: not
	 *  known (a device that does not say). */
	uint8_t rss_key[XF_PORT_RSS_KEY_MAX];
	uint8_t rss_key_len;
	uint16_t reta_size;              /**< entries of reta */
	uint16_t reta[XF_PORT_RETA_MAX]; /**< RX queue of each hash % reta_size */
};

/** Queues xf_port_stats reports counters of (DPDK's per-queue counter limit). */
#define XF_PORT_STATS_QUEUES RTE_ETHDEV_QUEUE_STAT_CNTRS

/** Counters of one port, as the device keeps them. */
struct xf_port_stats {
	uint64_t rx_packets; /**< Frames received. */
	uint64_t tx_packets; /**< Frames sent. */
	uint64_t rx_bytes;   /**< Bytes received. */
	uint64_t tx_bytes;   /**< Bytes sent. */
	uint64_t rx_missed;  /**< Frames the device dropped for want of RX descriptors. */
	uint64_t tx_errors;  /**< Frames the device failed to send. */
	struct {
		uint64_t rx_packets; /**< Frames received on the queue. */
		uint64_t tx_packets; /**< Frames sent on the queue. */
		uint64_t rx_bytes;   /**< Bytes received on the queue. */
		uint64_t tx_bytes;   /**< Bytes sent on the queue. */
	} q[XF_PORT_STATS_QUEUES];   /**< Per queue, the first XF_PORT_STATS_QUEUES. */
};

/** Receives one extended statistic from xf_port_xstats. */
typedef void (*xf_port_xstat_fn)(void *arg, const char *name, uint64_t value);

/**
 * Probe (if needed), configure and set up a port's queues; it is left stopped.
 *
 * @param port  Filled in.
 * @param conf  Configuration.
 * @return 0; -EINVAL for a bad configuration (no device, no pool, zero or too many
 *         queues); -ENAMETOOLONG for a device string too long; -ENODEV when the device
 *         cannot be found or probed; -ENOMEM; or the -errno of the failing ethdev call
 *         (each failure is logged with the call's name).
 */
int xf_port_open(struct xf_port *port, const struct xf_port_conf *conf);

/**
 * Start the port and turn promiscuous mode off.
 *
 * @param port  An opened port.
 * @return 0, or the -errno of rte_eth_dev_start.
 */
int xf_port_start(struct xf_port *port);

/**
 * Steer frames to RX queues by flow rules (ETH / IPV4 / UDP ports -> QUEUE), all or
 * none: each rule is validated and created; if the device refuses one (rte_flow_validate
 * or rte_flow_create fails: no rte_flow, no UDP port match, no room), the ones made are
 * destroyed and the port falls back to a hash over the 5-tuple (XF_PORT_STEER_RSS) when
 * it has one, XF_PORT_STEER_NONE otherwise. One queue: NONE, nothing tried; net_memif:
 * SENDER, nothing tried. Control path, on a started port; call it once.
 *
 * @param port   A started port.
 * @param rules  The rules (queues below port->nb_queues).
 * @param n      Number of rules.
 * @return The steering now in effect (also in port->steering); rules_installed and
 *         rules_refused count the rules.
 */
enum xf_port_steering xf_port_steer(struct xf_port *port, const struct xf_port_rule *rules,
                                    unsigned int n);

/**
 * Name of a steering: "none", "sender", "rss", "flow".
 *
 * @param s  A steering.
 * @return A static string.
 */
const char *xf_port_steering_name(enum xf_port_steering s);

/**
 * Destroy the port's flow rules (idempotent). xf_port_stop() calls it.
 *
 * @param port  A port.
 */
void xf_port_unsteer(struct xf_port *port);

/**
 * Read the link status without waiting.
 *
 * @param port  A port.
 * @param link  Filled with the status.
 * @return 0, or -ENOTSUP/-ENODEV from rte_eth_link_get_nowait.
 */
int xf_port_link(const struct xf_port *port, struct rte_eth_link *link);

/**
 * Read the port's counters. Control path.
 *
 * @param port  An open port.
 * @param out   Filled with the counters (zeroed first).
 * @return 0, or -errno of rte_eth_stats_get (-ENODEV, -ENOTSUP).
 */
int xf_port_stats(const struct xf_port *port, struct xf_port_stats *out);

/**
 * Report every extended statistic (name and value) to fn. Control path: allocates.
 *
 * @param port  A port.
 * @param fn    Called once per statistic.
 * @param arg   Passed to fn.
 * @return Number of statistics reported; -ENOMEM; or the -errno of the xstats calls.
 */
int xf_port_xstats(const struct xf_port *port, xf_port_xstat_fn fn, void *arg);

/**
 * Send a burst on a TX queue, through the fault stage when configured. With the stage,
 * every frame is taken: it leaves now or later (xf_port_tx_poll()), or is dropped by the
 * stage's link (freed, counted by reason), or refused by the device after the stage
 * (freed, counted in fault[q].refused). Never blocks; allocates nothing.
 *
 * @param port  A started port.
 * @param q     TX queue, owned by the calling core.
 * @param pkts  Frames.
 * @param n     Number of frames.
 * @return Frames taken from pkts (the caller still owns pkts[ret..n-1]).
 */
uint16_t xf_port_tx_burst(struct xf_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n);

/**
 * Send what the fault stage's link releases by now, and, when idle, what its reordering
 * holds back; 0 without a stage. Call it on every round of the queue's core: a frame
 * leaves no earlier than its time, and as late as the core's next call.
 *
 * @param port  A started port.
 * @param q     TX queue, owned by the calling core.
 * @param idle  The core had nothing else to do this round.
 * @return Frames handed to the device.
 */
uint16_t xf_port_tx_poll(struct xf_port *port, uint16_t q, bool idle);

/**
 * Sum the counters of the port's fault stages. Control path: a racy read of counters
 * that only grow, as good as a moment ago.
 *
 * @param port  A port.
 * @param out   Filled (zeroed first).
 * @return true when the port has a fault stage.
 */
bool xf_port_fault_stats(const struct xf_port *port, struct xf_port_fault_stats *out);

/**
 * Receive a burst from an RX queue.
 *
 * @param port  A started port.
 * @param q     RX queue, owned by the calling core.
 * @param pkts  Receives the frames.
 * @param n     Room in pkts.
 * @return Frames received.
 */
static inline uint16_t
xf_port_rx_burst(const struct xf_port *port, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(port->port_id, q, pkts, n);
}

/**
 * Stop the port (idempotent). Frames held by a fault stage are freed.
 *
 * @param port  A port.
 */
void xf_port_stop(struct xf_port *port);

/**
 * Stop and close the port, and remove the device if xf_port_open probed it.
 * Safe on a port whose open failed (it is zeroed then).
 *
 * @param port  A port.
 */
void xf_port_close(struct xf_port *port);

/**
 * Give every page of a packet pool its memory now (madvise MADV_POPULATE_WRITE). Without
 * hugepages EAL's memory is a shared memory file whose pages are allocated at their first
 * write; for a pool of jumbo mbufs most pages are first written by the driver's copy of a
 * received frame, on the RX core (6% of the receiver's samples in the first small-file
 * push of the dev pair). Hugepage memory is populated already; the call is harmless there.
 * At start, before the pool is in use.
 *
 * @param mp  A pool.
 * @return Bytes populated (page-rounded), or -errno of the first chunk that failed.
 */
int64_t xf_port_pool_populate(struct rte_mempool *mp);

/**
 * Create the packet pool of a port: n mbufs of one whole Ethernet frame of the given IP
 * MTU each (at least 2048 bytes of data room, after the headroom), on the caller's NUMA
 * socket, with a per-core cache, and its pages populated (xf_port_pool_populate; a
 * failure there is logged, not fatal: the pages then come at first use). Control path.
 *
 * @param name  Pool name, unique in the process.
 * @param n     Number of mbufs, at least 384 (the per-core cache holds 256); 2^k - 1
 *              uses the ring best.
 * @param mtu   IP MTU the frames carry.
 * @return the pool, or NULL with errno set (rte_errno of the pool's creation).
 */
struct rte_mempool *xf_port_pool_create(const char *name, unsigned int n, uint16_t mtu);

/**
 * Free a pool from xf_port_pool_create; NULL is a no-op.
 *
 * @param mp  A pool whose mbufs have all been returned.
 */
void xf_port_pool_free(struct rte_mempool *mp);

#endif /* XF_PORT_H */
