/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control of one session (docs/RELIABILITY.md, "Congestion control"): a
 * delivery-rate sampler (xf_cc_rate.c) feeding BBRv3 (xf_cc_bbr.c, draft-ietf-ccwg-bbr)
 * or a LEDBAT-style scavenger (xf_cc_scavenger.c, RFC 6817). xf_reliab owns one, embedded
 * (no allocation), and calls it as frames are sent, acknowledged and declared lost; it
 * asks it for the pacing rate and the congestion window.
 *
 * Units: bytes, nanoseconds, bytes per second. Gains are in thousandths (XF_CC_UNIT), so
 * that every figure of the draft is written as it is there (2.77 is 2770). Pure integer
 * arithmetic, deterministic: the same inputs give the same outputs on every machine.
 */
#ifndef XF_CC_H
#define XF_CC_H

#include <stdbool.h>
#include <stdint.h>

/** Fixed point of gains: 1000 = 1.0. */
#define XF_CC_UNIT 1000u
/** "No bound" for inflight_hi, inflight_lo, bw_lo. */
#define XF_CC_INF UINT64_MAX

/** Congestion controller of a session (config session.congestion). */
enum xf_cc_algo {
	XF_CC_FIXED = 0,     /**< none: the pacer runs at the ceiling, the window is the table */
	XF_CC_BBR = 1,       /**< BBRv3 */
	XF_CC_SCAVENGER = 2, /**< LEDBAT-style: yields to any other traffic */
};

/** BBR states (draft-ietf-ccwg-bbr 4.3). */
enum xf_cc_state {
	XF_CC_ST_NONE = 0, /**< fixed rate, or scavenger */
	XF_CC_ST_STARTUP,
	XF_CC_ST_DRAIN,
	XF_CC_ST_PROBE_BW_DOWN,
	XF_CC_ST_PROBE_BW_CRUISE,
	XF_CC_ST_PROBE_BW_REFILL,
	XF_CC_ST_PROBE_BW_UP,
	XF_CC_ST_PROBE_RTT,
};

/** What the sampler records of each tracked frame when it is sent. */
struct xf_cc_pkt {
	uint64_t delivered;       /**< C.delivered when sent */
	uint64_t delivered_time;  /**< C.delivered_time when sent */
	uint64_t first_sent_time; /**< send time of the first frame of the flight */
	uint64_t lost;            /**< C.lost when sent */
	uint64_t tx_in_flight;    /**< bytes in flight just after it was sent */
	uint64_t time_sent;       /**< ns */
	uint32_t bytes;           /**< on the wire */
	bool app_limited;         /**< sent while the sender had less to send than allowed */
};

/** A rate sample: what one ACK says of the path (draft-ietf-ccwg-bbr 4.5.2). */
struct xf_cc_rs {
	uint64_t delivery_rate;   /**< bytes/s; 0 when the sample is not valid */
	uint64_t delivered;       /**< bytes delivered over the interval */
	uint64_t interval_ns;     /**< max(send elapsed, ack elapsed) */
	uint64_t prior_delivered; /**< C.delivered when the newest acknowledged frame was sent */
	uint64_t prior_time;      /**< C.delivered_time then */
	uint64_t send_elapsed;
	uint64_t ack_elapsed;
	uint64_t tx_in_flight; /**< bytes in flight when that frame was sent */
	uint64_t lost;         /**< bytes declared lost since it was sent */
	uint64_t newly_acked;  /**< bytes this ACK acknowledged */
	uint64_t newly_lost;   /**< bytes this ACK made declared lost */
	uint64_t rtt_ns;       /**< RTT sample of this ACK, 0 if none */
	bool is_app_limited;
	bool has_sample; /**< at least one frame acknowledged */
};

/** Connection state of the sampler (draft-ietf-ccwg-bbr 4.5.2, ngtcp2's rst). */
struct xf_cc_rate {
	uint64_t delivered;      /**< C.delivered: bytes acknowledged ever */
	uint64_t delivered_time; /**< when delivered last grew */
	uint64_t first_sent_time;
	uint64_t lost;        /**< C.lost: bytes declared lost ever */
	uint64_t app_limited; /**< C.app_limited: delivered mark ending the app-limited phase,
	                           0 when not app-limited */
	struct xf_cc_rs rs;   /**< sample being built by the current ACK */
};

/** BBRv3 state (draft-ietf-ccwg-bbr 4.2 names, lower case). */
struct xf_cc_bbr {
	enum xf_cc_state state;
	uint32_t pacing_gain; /**< XF_CC_UNIT */
	uint32_t cwnd_gain;   /**< XF_CC_UNIT */
	uint64_t bw;          /**< min(max_bw, bw_lo) */
	uint64_t max_bw;
	uint64_t max_bw_filter[2]; /**< this and the previous ProbeBW cycle */
	uint64_t cycle_count;
	uint64_t bw_lo, bw_latest;
	uint64_t inflight_hi, inflight_lo, inflight_latest;
	uint64_t min_rtt, min_rtt_stamp;
	uint64_t probe_rtt_min_delay, probe_rtt_min_stamp;
	bool probe_rtt_expired;
	uint64_t probe_rtt_done_stamp;
	bool probe_rtt_round_done;
	uint64_t prior_cwnd;
	bool idle_restart;
	/* rounds */
	uint64_t round_count, next_round_delivered;
	bool round_start;
	bool prev_round_cwnd_limited; /**< the window held the flight last round */
	uint64_t rounds_since_bw_probe;
	/* loss rounds */
	uint64_t loss_round_delivered;
	bool loss_round_start, loss_in_round;
	uint32_t loss_events_in_round;
	uint64_t round_lost, round_acked; /**< bytes settled in this loss round */
	uint64_t loss_pm_avg;             /**< loss per mille x 1000, moving average */
	uint64_t rtt_round_max;           /**< largest RTT sample of this loss round */
	uint64_t rtt_prev_round_max;      /**< and of the one before (queue evidence) */
	uint64_t rtt_round_min;           /**< smallest RTT sample of this loss round */
	uint64_t rtt_prev_round_min;      /**< and of the one before (standing queue) */
	/* startup */
	uint64_t full_bw;
	uint32_t full_bw_count;
	bool full_bw_now, full_bw_reached;
	/* ProbeBW */
	uint64_t cycle_stamp;
	bool cruise_drain; /**< Cruise drains the queue of a congestion cut */
	bool cut_drained;  /**< and did in this cycle: Refill forgets the older max_bw */
	bool cut_advanced; /**< max_bw's filter advanced on a cut in this cycle */
	bool lower_cut;    /**< the lower bounds were cut on this ACK */
	uint64_t bw_probe_wait_ns;
	uint32_t ack_phase;
	uint32_t bw_probe_samples;
	uint32_t bw_probe_up_rounds;
	uint64_t bw_probe_up_acks, probe_up_cnt;
	bool hi_raised;        /**< inflight_hi grew on this ACK (ProbeBW_UP) */
	uint64_t up_rtt_max;   /**< largest RTT sample since ProbeBW_UP started */
	uint64_t cruise_bound; /**< Cruise's window bound from the last probe's early end */
	/* ACK aggregation */
	uint64_t extra_acked[2];
	uint32_t extra_acked_idx;
	uint64_t extra_acked_round;
	uint64_t extra_acked_start, extra_acked_delivered;
	uint64_t rng; /**< xorshift64 state: the probe wait */
	/* competing with a standing queue (xf_cc_bbr.c, update_compete()) */
	uint64_t cycle_rtt_min;   /**< least RTT sample since the cycle's ProbeBW_DOWN */
	uint32_t standing_cycles; /**< cycles in a row whose RTT stayed far above min RTT */
	bool cycle_armed;         /**< a ProbeBW_DOWN started the cycle being watched */
	bool compete;             /**< another flow keeps a standing queue: AIMD window */
	uint64_t compete_cwnd;    /**< the window while competing, bytes */
	uint64_t compete_recover; /**< C.delivered at the last cut: older losses are that one's */
	uint32_t compete_entries; /**< times the mode was entered */
};

/** LEDBAT-style scavenger state (RFC 6817). */
struct xf_cc_scav {
	uint64_t base_delay[10]; /**< minimum one-way-delay proxy (RTT) per minute */
	uint64_t base_minute;    /**< minute of base_delay[0] */
	uint64_t last_cut;       /**< time of the last multiplicative decrease */
	uint64_t cwnd_frac;      /**< sub-byte growth, in XF_CC_UNIT of a byte */
	bool slow_start;         /**< until the delay nears the target or a loss */
};

/** A session's congestion controller, embedded in its xf_reliab. */
struct xf_cc {
	enum xf_cc_algo algo;
	uint32_t smss;         /**< full frame bytes */
	uint64_t ceiling;      /**< bytes/s the pacer never exceeds; 0 = none */
	uint64_t initial_rtt;  /**< ns, before any sample */
	uint64_t cwnd;         /**< bytes */
	uint64_t pacing_rate;  /**< bytes/s, before the ceiling */
	uint64_t srtt;         /**< ns, from xf_reliab; 0 before a sample */
	uint64_t latest_rtt;   /**< ns */
	uint64_t inflight;     /**< C.inflight: bytes in flight after the last event */
	bool cwnd_limited;     /**< a frame was sent with the window full this round */
	uint64_t lost_frames;  /**< frames declared lost (telemetry: loss rate) */
	uint64_t acked_frames; /**< frames acknowledged */
	struct xf_cc_rate rate;
	struct xf_cc_bbr bbr;
	struct xf_cc_scav scav;
};

/** What a session's controller reports (xferctl sessions, telemetry). */
struct xf_cc_info {
	enum xf_cc_algo algo;
	enum xf_cc_state state;
	uint64_t bw;          /**< bandwidth estimate, bytes/s */
	uint64_t min_rtt_ns;  /**< 0 before a sample */
	uint64_t pacing_rate; /**< bytes/s after the ceiling; 0 = unpaced */
	uint64_t cwnd;        /**< bytes; UINT64_MAX for the fixed rate */
	uint64_t inflight;    /**< bytes */
	uint64_t inflight_hi; /**< XF_CC_INF when unset */
	uint64_t inflight_lo; /**< XF_CC_INF when unset */
	uint32_t loss_pm;     /**< frames declared lost per mille of frames settled */
	bool compete;         /**< BBR: competing with another flow's standing queue */
	uint32_t competed;    /**< BBR: times it entered that mode */
};

/**
 * Initialise a controller.
 *
 * @param cc          Controller.
 * @param algo        XF_CC_*.
 * @param smss        Bytes of a full frame.
 * @param ceiling     Bytes/s never exceeded (session.rate_mbit); 0 = none.
 * @param initial_rtt RTT assumed before the first sample (ns).
 * @param seed        Seed of the randomised ProbeBW wait (deterministic runs).
 * @param now         Current time (ns).
 */
void xf_cc_init(struct xf_cc *cc, enum xf_cc_algo algo, uint32_t smss, uint64_t ceiling,
                uint64_t initial_rtt, uint64_t seed, uint64_t now);

/**
 * A tracked frame was sent: fill its sampler record.
 *
 * @param cc           Controller.
 * @param pkt          The frame's record (written).
 * @param now          Send time.
 * @param bytes        Bytes on the wire.
 * @param inflight_pre Bytes in flight before this frame.
 */
void xf_cc_on_sent(struct xf_cc *cc, struct xf_cc_pkt *pkt, uint64_t now, uint32_t bytes,
                   uint64_t inflight_pre);

/** A tracked frame was acknowledged (during one ACK, before xf_cc_on_ack_end()). */
void xf_cc_on_acked(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now);

/** A tracked frame was declared lost; inflight is what is left in flight after it. */
void xf_cc_on_lost(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now, uint64_t inflight);

/**
 * The ACK is processed (acknowledgements, then losses): update the model, the window and
 * the pacing rate.
 *
 * @param cc       Controller.
 * @param now      Time.
 * @param rtt_ns   This ACK's RTT sample, 0 if none.
 * @param srtt_ns  Smoothed RTT.
 * @param inflight Bytes in flight now.
 */
void xf_cc_on_ack_end(struct xf_cc *cc, uint64_t now, uint64_t rtt_ns, uint64_t srtt_ns,
                      uint64_t inflight);

/** The sender had nothing to send while the window and pacer allowed it. */
void xf_cc_app_limited(struct xf_cc *cc, uint64_t inflight);

/** @return Pacing rate in bytes/s after the ceiling; 0 = unpaced. */
uint64_t xf_cc_pacing_rate(const struct xf_cc *cc);

/** @return Congestion window in bytes; UINT64_MAX when there is none. */
uint64_t xf_cc_cwnd(const struct xf_cc *cc);

/** Fill info. */
void xf_cc_info(const struct xf_cc *cc, struct xf_cc_info *info);

/** @return "none", "bbr" or "scavenger" (the names of session.congestion). */
const char *xf_cc_algo_str(enum xf_cc_algo algo);

/** @return the state's name as docs/RELIABILITY.md writes it ("ProbeBW_UP"), "-" for none. */
const char *xf_cc_state_str(enum xf_cc_state state);

/* --- Stages, for xf_cc.c and the tests ---------------------------------------- */

void xf_cc_rate_init(struct xf_cc_rate *rt);
void xf_cc_rate_on_sent(struct xf_cc_rate *rt, struct xf_cc_pkt *pkt, uint64_t now, uint32_t bytes,
                        uint64_t inflight_pre);
void xf_cc_rate_on_acked(struct xf_cc_rate *rt, const struct xf_cc_pkt *pkt, uint64_t now);
/** Finish the sample of one ACK; min_rtt (0 = unknown) rejects intervals shorter than it. */
void xf_cc_rate_on_ack_end(struct xf_cc_rate *rt, uint64_t min_rtt);
void xf_cc_rate_app_limited(struct xf_cc_rate *rt, uint64_t inflight);

void xf_cc_bbr_init(struct xf_cc *cc, uint64_t seed, uint64_t now);
void xf_cc_bbr_on_ack(struct xf_cc *cc, uint64_t now);
void xf_cc_bbr_on_lost(struct xf_cc *cc, const struct xf_cc_pkt *pkt, uint64_t now);
void xf_cc_bbr_info(const struct xf_cc *cc, struct xf_cc_info *info);

void xf_cc_scav_init(struct xf_cc *cc, uint64_t now);
void xf_cc_scav_on_ack(struct xf_cc *cc, uint64_t now);
void xf_cc_scav_on_lost(struct xf_cc *cc, uint64_t now);

/** @return a x b / c without overflow (c > 0), saturated to UINT64_MAX. */
static inline uint64_t
xf_cc_muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	/* __extension__: 128-bit products are a GCC/Clang extension, here on purpose */
	__extension__ unsigned __int128 p = (__extension__(unsigned __int128) a) * b / c;

	return p > UINT64_MAX ? UINT64_MAX : (uint64_t)p;
}

#endif /* XF_CC_H */
