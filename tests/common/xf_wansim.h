/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulated-time WAN scenarios (docs/RELIABILITY.md, Link model): a sender and a receiver,
 * each with a real xf_reliab engine, joined by two xf_linksim links (data forward, ACKs
 * back), driven by an event loop on virtual time. The sender pushes a bulk stream of
 * equal frames, re-sends what loss detection declares lost, and paces at a fixed rate
 * or as its congestion controller says (xf_cc.h). Deterministic: the same configuration and seeds
 * give the same result, field for field.
 */
#ifndef XF_WANSIM_H
#define XF_WANSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_cc.h"
#include "xf_linksim.h"

/** Width of a bucket of the time series (goodput and queue delay over time). */
#define XF_WANSIM_BUCKET_NS 100000000ull
/** Buckets kept: 120 s of virtual time. */
#define XF_WANSIM_BUCKETS 1200u

/** Flows a scenario can run at once over the forward link. */
#define XF_WANSIM_MAX_FLOWS 4u
/** congestion value of a flow the harness drives as TCP Reno (RFC 5681): window-based,
 *  halved once per RTT on loss, sent at pace_bps (the NIC) with no other pacing. */
#define XF_WANSIM_RENO 0xffu

/** A flow beside the first one (S4, S5). */
struct xf_wansim_flow_cfg {
	uint64_t start_ns;      /**< when it starts sending */
	uint64_t bytes;         /**< its transfer (0: the scenario's bytes) */
	uint64_t back_delay_ns; /**< one-way delay of its ACK path (0: the scenario's) */
	uint8_t congestion;     /**< enum xf_cc_algo, or XF_WANSIM_RENO */
	uint64_t cc_seed;       /**< seed of its controller */
};

/** A scenario. */
struct xf_wansim_cfg {
	struct xf_linksim_cfg fwd;  /**< sender -> receiver (data) */
	struct xf_linksim_cfg back; /**< receiver -> sender (ACKs) */
	uint64_t bytes;             /**< transfer size (whole frames of frame_bytes) */
	uint32_t frame_bytes;       /**< bytes of a data frame on the wire (9000) */
	uint32_t ack_bytes;         /**< bytes of an ACK frame with one range (64); each more
	                                 range adds 16 */
	uint64_t pace_bps;          /**< sender pacing, bits/s: the NIC's rate when the session
	                                 has no rate_mbit (required); with a congestion
	                                 controller, its ceiling */
	uint8_t congestion;         /**< enum xf_cc_algo; XF_CC_FIXED paces at pace_bps */
	uint64_t cc_seed;           /**< seed of the controller (its probing) */
	uint32_t tx_slots;          /**< xf_reliab sent-frame table at the start (4096) */
	uint32_t tx_slots_max;      /**< the table grows to 2 x BDP up to this (0: no growth) */
	uint32_t rx_window;         /**< receiver's pn window (xf_reliab's default) */
	uint64_t time_limit_ns;     /**< give up after this much virtual time (600 s) */
	uint64_t qwin_from_ns;      /**< queue-delay percentiles of a window too: frames */
	uint64_t qwin_to_ns;        /**< dequeued in [from, to) (to 0 = the end) */
	unsigned int nb_flows;      /**< flows beside the first, 0..XF_WANSIM_MAX_FLOWS - 1;
	                                 each has its own ACK link (back's, its delay) */
	struct xf_wansim_flow_cfg flows[XF_WANSIM_MAX_FLOWS - 1];
};

/** One flow's figures (every flow, the first included, in xf_wansim_result.flow). */
struct xf_wansim_flow_result {
	bool completed;  /**< every frame acknowledged */
	uint64_t frames; /**< frames of its transfer */
	uint64_t retransmitted;
	uint64_t first_ns;    /**< its first new frame delivered */
	uint64_t elapsed_ns;  /**< its last new frame delivered */
	struct xf_cc_info cc; /**< its controller at the end (Reno: algo XF_CC_FIXED) */
	/** distinct frame bytes first delivered in each XF_WANSIM_BUCKET_NS */
	uint64_t delivered_bytes[XF_WANSIM_BUCKETS];
};

/** Queue-delay histogram of the window: 100 us bins, the last one open-ended. */
#define XF_WANSIM_QHIST_BINS 2048u
#define XF_WANSIM_QHIST_NS   100000ull

/** What a scenario measured. */
struct xf_wansim_result {
	bool completed;               /**< every frame of every flow acknowledged in time; the
	                                   figures below to events are the first flow's */
	uint64_t elapsed_ns;          /**< virtual time to the last frame's first delivery */
	uint64_t frames;              /**< frames of the transfer */
	uint64_t goodput_bps;         /**< distinct frame bits delivered / elapsed */
	uint32_t goodput_pm;          /**< goodput in per mille of the forward rate at the start */
	uint64_t sent;                /**< data frames sent, retransmissions included */
	uint64_t retransmitted;       /**< data frames sent again after a loss declaration */
	uint32_t retransmit_pm;       /**< retransmitted per mille of frames */
	uint64_t spurious;            /**< frames acknowledged after being declared lost */
	uint64_t pto;                 /**< probe timeouts */
	uint64_t probes;              /**< probe frames sent (PINGs a probe timeout asks for) */
	uint64_t probes_delivered;    /**< probe frames that reached the receiver */
	uint64_t probes_lost;         /**< probe frames the forward link dropped */
	uint64_t rx_duplicates;       /**< data frames the receiver had already */
	uint64_t rx_pn_ahead;         /**< data frames the receiver refused: numbered beyond its
	                                   window (xf_reliab_rx_filter() -ERANGE) */
	uint64_t acks;                /**< ACK frames sent */
	uint64_t queue_p50_ns;        /**< forward queue delay, median */
	uint64_t queue_p99_ns;        /**< forward queue delay, 99th percentile */
	uint64_t max_queue_bytes;     /**< forward queue, most bytes */
	struct xf_linksim_stats fwd;  /**< forward link counters */
	struct xf_linksim_stats back; /**< backward link counters */
	uint64_t events;              /**< event-loop iterations */
	uint64_t acked_bytes;         /**< frame bytes the sender saw acknowledged, distinct */
	struct xf_cc_info cc;         /**< sender's controller at the end */
	uint64_t max_cwnd;            /**< largest congestion window seen, bytes */
	uint32_t tx_window;           /**< sender's table in use at the end (slots) */
	/** distinct frame bytes first delivered in each XF_WANSIM_BUCKET_NS, all flows */
	uint64_t delivered_bytes[XF_WANSIM_BUCKETS];
	/** largest forward queue delay of a frame dequeued in each bucket, ns */
	uint64_t queue_max_ns[XF_WANSIM_BUCKETS];
	uint32_t nb_buckets;  /**< buckets up to elapsed_ns */
	uint64_t qwin_p50_ns; /**< forward queue delay in the window, median */
	uint64_t qwin_p99_ns; /**< forward queue delay in the window, 99th percentile
	                           (100 us resolution, rounded up) */
	uint32_t qwin_hist[XF_WANSIM_QHIST_BINS]; /**< frames per 100 us of queue delay */
	unsigned int nb_flows;                    /**< 1 + cfg.nb_flows */
	struct xf_wansim_flow_result flow[XF_WANSIM_MAX_FLOWS];
};

/**
 * @return Goodput in bits/s over the buckets [from_ns, to_ns) of res (bucket aligned).
 */
uint64_t xf_wansim_goodput_between(const struct xf_wansim_result *res, uint64_t from_ns,
                                   uint64_t to_ns);

/**
 * @return Goodput in bits/s of one flow over the buckets [from_ns, to_ns).
 */
uint64_t xf_wansim_flow_goodput_between(const struct xf_wansim_result *res, unsigned int flow,
                                        uint64_t from_ns, uint64_t to_ns);

/**
 * @return Jain's fairness index, (sum x)^2 / (n sum x^2), of the flows' goodputs over
 *         [from_ns, to_ns): 1 when equal, 1/n when one flow has it all.
 */
double xf_wansim_jain(const struct xf_wansim_result *res, uint64_t from_ns, uint64_t to_ns);

/**
 * Run a scenario to completion or to its time limit.
 *
 * @param cfg Scenario.
 * @param res Filled (zeroed first, so results compare with memcmp).
 * @return 0 (see res->completed); -EINVAL for a bad configuration; -ENOMEM.
 */
int xf_wansim_run(const struct xf_wansim_cfg *cfg, struct xf_wansim_result *res);

/** @return CPU time of the process in seconds (what a scenario costs). */
double xf_wansim_cpu_now(void);

/** Print res as one line after a label, for the baseline tables. */
void xf_wansim_print(const char *label, const struct xf_wansim_result *res);

#endif /* XF_WANSIM_H */
