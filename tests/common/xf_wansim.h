/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Simulated-time WAN scenarios (docs/RELIABILITY.md, Link model): a sender and a receiver,
 * each with a real xf_reliab engine, joined by two xf_linksim links (data forward, ACKs
 * back), driven by an event loop on virtual time. The sender pushes a bulk stream of
 * equal frames, re-sends what loss detection declares lost, and paces at a fixed rate
 * (there is no congestion control yet). Deterministic: the same configuration and seeds
 * give the same result, field for field.
 */
#ifndef XF_WANSIM_H
#define XF_WANSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_linksim.h"

/** A scenario. */
struct xf_wansim_cfg {
	struct xf_linksim_cfg fwd;  /**< sender -> receiver (data) */
	struct xf_linksim_cfg back; /**< receiver -> sender (ACKs) */
	uint64_t bytes;             /**< transfer size (whole frames of frame_bytes) */
	uint32_t frame_bytes;       /**< bytes of a data frame on the wire (9000) */
	uint32_t ack_bytes;         /**< bytes of an ACK frame with one range (64); each more
	                                 range adds 16 */
	uint64_t pace_bps;          /**< sender pacing, bits/s: the NIC's rate when the session
	                                 has no rate_mbit (required) */
	uint32_t tx_slots;          /**< xf_reliab sent-frame table (4096) */
	uint32_t rx_window;         /**< receiver's pn window (XF_RELIAB_DEFAULT_WINDOW) */
	uint64_t time_limit_ns;     /**< give up after this much virtual time (600 s) */
};

/** What a scenario measured. */
struct xf_wansim_result {
	bool completed;               /**< every frame acknowledged within the time limit */
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
};

/**
 * Run a scenario to completion or to its time limit.
 *
 * @param cfg Scenario.
 * @param res Filled (zeroed first, so results compare with memcmp).
 * @return 0 (see res->completed); -EINVAL for a bad configuration; -ENOMEM.
 */
int xf_wansim_run(const struct xf_wansim_cfg *cfg, struct xf_wansim_result *res);

/** Print res as one line after a label, for the baseline tables. */
void xf_wansim_print(const char *label, const struct xf_wansim_result *res);

#endif /* XF_WANSIM_H */
