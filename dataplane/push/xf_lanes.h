/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lane split of a push's file list (docs/ENGINE.md, "Lanes"): which entries each of
 * a job's sessions carries. Pure: no EAL, no I/O.
 *
 * The rule:
 * - every directory goes to the directory pass (made before any lane's file and sent
 *   again after all of them, for its mtime), in list order, so a parent always comes
 *   before its children;
 * - the other entries are cut, in list order, into nlanes contiguous runs of about equal
 *   weight (bytes plus XF_LANE_ENTRY_COST per entry): a lane's entries are neighbours in
 *   the list, mostly whole directories, so its receiver's cached parent directory and
 *   quick-check lookups stay warm;
 * - a hard link goes to the lane of its leader (the receiver links a name only to a
 *   leader that the same session committed: docs/PROTOCOL.md 6.15).
 * Within the directory pass and within each lane the list order is kept.
 */
#ifndef XF_LANES_H
#define XF_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

/** Most lanes of one job (the most RX cores an engine has). */
#define XF_LANES_MAX 16u

/** What an entry weighs beyond its bytes: each costs a create and a commit, so a lane of
 *  many empty files is not counted as empty. */
#define XF_LANE_ENTRY_COST 4096u

/** Entry i of the list (the push's xf_push_io.entry: kind, size, path, target). */
typedef void (*xf_lanes_entry_fn)(void *arg, uint32_t i, struct xf_flist_entry *e);

/** A split list. */
struct xf_lanes {
	unsigned int nlanes; /**< lanes asked for (some may be empty) */
	uint32_t n;          /**< entries in the list */
	/** n list indices: the directory pass (order[0..ndirs)), then lane 0's entries,
	 *  lane 1's, and so on, each in list order */
	uint32_t *order;
	uint32_t ndirs;                   /**< directories (the directory pass) */
	uint32_t start[XF_LANES_MAX + 1]; /**< lane k: order[start[k] .. start[k + 1]) */
	uint64_t weight[XF_LANES_MAX];    /**< lane k's weight (saturates at UINT64_MAX) */
};

/**
 * Split a file list across lanes.
 *
 * @param n       entries in the list
 * @param nlanes  1..XF_LANES_MAX
 * @param entry   reads entry i (i < n); called twice per entry
 * @param arg     for entry
 * @return the split (xf_lanes_free() it), or NULL with errno: EINVAL (nlanes out of
 *         range), ENOENT (a hard link whose leader is no earlier regular file of the
 *         list), ENOMEM.
 */
struct xf_lanes *xf_lanes_split(uint32_t n, unsigned int nlanes, xf_lanes_entry_fn entry,
                                void *arg);

/** Entries of lane k (0 for a lane past nlanes). */
static inline uint32_t
xf_lanes_count(const struct xf_lanes *l, unsigned int k)
{
	return k < l->nlanes ? l->start[k + 1] - l->start[k] : 0;
}

/**
 * A job's itemized records from its sessions' (-i over lanes, docs/ENGINE.md "Lanes"):
 * each session wrote the records of its entries at their place in the split, so
 * split_items[k] is entry order[k]'s; each goes to its entry's index in the list.
 *
 * @param l            the split
 * @param split_items  l->n records, in l->order's order
 * @param items        receives them at list indices (l->n records)
 */
static inline void
xf_lanes_items_merge(const struct xf_lanes *l, const uint16_t *split_items, uint16_t *items)
{
	for (uint32_t k = 0; k < l->n; k++) {
		items[l->order[k]] = split_items[k];
	}
}

/** Free a split (NULL is fine). */
void xf_lanes_free(struct xf_lanes *l);

/** The RX queue (and core) of lane k on a port of nq queues, where steering places it. */
static inline uint16_t
xf_lanes_queue(unsigned int k, uint16_t nq)
{
	return nq == 0 ? 0 : (uint16_t)(k % nq);
}

/** One steering rule: IPv4/UDP frames with these ports go to this RX queue. */
struct xf_lanes_rule {
	uint16_t src_port; /**< UDP source port, host order; 0: any */
	uint16_t dst_port; /**< UDP destination port, host order */
	uint16_t queue;    /**< RX queue */
};

/** Most rules xf_lanes_rules() makes: our lanes' answers, and 16 per peer port. */
#define XF_LANES_RULES_MAX(npeer_ports) ((XF_LANES_MAX - 1u) + XF_LANES_MAX * (npeer_ports))

/**
 * The flow rules that put every lane on its queue on both sides (docs/ENGINE.md,
 * "Steering"). Lane k of a push sends from our udp_port + k to the peer's udp_port, and
 * the peer answers from there:
 * - the answers to our lane k >= 1 (destination udp_port + k, any source) go to queue
 *   xf_lanes_queue(k);
 * - the frames of a peer's lane k, and for k = 0 the peer's answers to our sessions on
 *   udp_port (source peer port + k, destination udp_port) go to xf_lanes_queue(k).
 * Their matches never overlap. Ports past 65535 get no rule; a peer port listed twice
 * gets one set.
 *
 * @param udp_port    our port (host order), > 0
 * @param peer_ports  the peers' ports (host order; 0 entries are skipped)
 * @param npeer       entries in peer_ports
 * @param nq          RX queues, >= 1
 * @param out         receives the rules
 * @param max         room in out
 * @return rules written; -ENOSPC when out is too small (nothing useful written),
 *         -EINVAL for udp_port 0 or nq 0.
 */
int xf_lanes_rules(uint16_t udp_port, const uint16_t *peer_ports, unsigned int npeer, uint16_t nq,
                   struct xf_lanes_rule *out, unsigned int max);

/** A NIC's RSS as it spreads IPv4/UDP frames: a Toeplitz hash over the addresses and
 *  ports, then its redirection table (docs/ENGINE.md, "Steering"). */
struct xf_lanes_rss {
	const uint8_t *key;   /**< the hash key */
	size_t key_len;       /**< its bytes, >= 16 (12 bytes of input and 4) */
	const uint16_t *reta; /**< queue of each hash % reta_size */
	uint32_t reta_size;   /**< entries of reta, > 0 */
};

/**
 * The Toeplitz hash of RSS (Microsoft's "RSS hashing" definition, as NICs compute it).
 *
 * @param key      the hash key
 * @param key_len  its bytes, >= len + 4
 * @param in       the input: for IPv4/UDP the source address, destination address,
 *                 source port and destination port, in network order (12 bytes)
 * @param len      bytes of in
 * @return the hash; 0 when the key is too short for the input.
 */
uint32_t xf_lanes_toeplitz(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len);

/** The RX queue RSS gives an IPv4/UDP frame (addresses and ports in host order). */
uint16_t xf_lanes_rss_queue(const struct xf_lanes_rss *rss, uint32_t src_ip, uint32_t dst_ip,
                            uint16_t src_port, uint16_t dst_port);

/**
 * Our source ports for a push's lanes under RSS, so that each lane's answers land on the
 * queue of the RX core that runs it: lane k takes a port of udp_port .. udp_port + 15
 * (below 65536; one port per lane) whose answers, from peer_ip:peer_port to
 * our_ip:port, hash to queue k % nq; where none of those is left, the free port whose
 * queue holds the fewest lanes so far.
 *
 * @param rss        the port's RSS
 * @param our_ip     our address (host order)
 * @param peer_ip    the peer's (host order)
 * @param peer_port  the peer's UDP port
 * @param udp_port   ours, > 0
 * @param nq         RX queues, 1..XF_LANES_MAX, each polled by its RX core
 * @param nlanes     1 .. the ports there are
 * @param port       receives lane k's source port (nlanes of them)
 * @param queue      receives the queue its answers land on
 * @return 0; -EINVAL for an argument out of range or a table naming a queue >= nq.
 */
int xf_lanes_rss_ports(const struct xf_lanes_rss *rss, uint32_t our_ip, uint32_t peer_ip,
                       uint16_t peer_port, uint16_t udp_port, uint16_t nq, unsigned int nlanes,
                       uint16_t *port, uint16_t *queue);

#endif
