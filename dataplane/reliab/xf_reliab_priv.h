/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * struct xf_reliab, shared by the sending side (xf_reliab.c: cfg, the tx_* table, lost
 * ring, RTT, probe timer, pacer, cc) and the receiving side (xf_reliab_rx.c: the rx_*
 * window and the ACK state). Not exported: users see xf_reliab.h only.
 */
#ifndef XF_RELIAB_PRIV_H
#define XF_RELIAB_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_cc.h"
#include "xf_reliab.h"

#define NS_PER_S 1000000000ull

enum slot_state {
	SLOT_FREE = 0, /* never used, or the pn was not tracked */
	SLOT_INFLIGHT,
	SLOT_ACKED,
	SLOT_LOST,
	SLOT_SPURIOUS, /* lost, then acknowledged */
};

struct xf_reliab {
	/* configuration */
	struct xf_reliab_cfg cfg;
	uint64_t tx_mask;  /* tx_slots_max - 1: the records allocated */
	uint64_t tx_limit; /* table in use, tx_slots .. tx_slots_max (grow_window()) */
	uint64_t rx_bits;  /* rx_window */

	/* sender */
	struct xf_reliab_sent *slots;
	uint64_t next_pn;
	uint64_t tx_base; /* lowest pn that may still be in flight */
	uint64_t largest_acked;
	bool any_acked;
	uint64_t loss_time; /* 0 = no time-threshold timer */
	uint64_t last_eliciting_sent;
	uint32_t pto_backoff;
	uint32_t probes_due; /* probes asked for by the last probe timeout, not yet sent */
	uint64_t probe_pn;   /* number of the last probe sent */
	bool probe_unacked;  /* probe_pn sent and not acknowledged yet */
	uint64_t *lost_pn;   /* ascending ring of tx_slots numbers */
	uint64_t lost_head;
	uint64_t lost_n;

	/* RTT (RFC 9002 section 5) */
	bool rtt_sampled;
	uint64_t latest_rtt;
	uint64_t min_rtt;
	uint64_t srtt;
	uint64_t rttvar;

	/* receiver */
	uint64_t *rx_map; /* rx_bits / 64 words, bit (pn & (rx_bits - 1)) */
	uint64_t rx_base; /* all pns below are treated as seen */
	uint64_t rx_largest;
	uint64_t rx_largest_time;
	bool rx_any;
	uint32_t rx_unacked; /* ack-eliciting accepted since the last ACK */
	uint64_t rx_first_unacked_time;
	bool ack_now;

	/* pacer: credit in nanoseconds of sending at the rate */
	uint64_t pace_rate;
	int64_t pace_credit;
	int64_t pace_cap;
	uint64_t pace_last;
	uint64_t pace_burst_bytes;

	/* session timers */
	uint64_t last_sent;
	uint64_t last_recv;

	/* congestion control (xf_cc.h): one sampler record per table slot */
	struct xf_cc cc;
	struct xf_cc_pkt *cc_pkt;
	uint32_t pace_burst;
	uint32_t pace_frame_bytes;

	struct xf_reliab_stats st;
};

#endif /* XF_RELIAB_PRIV_H */
