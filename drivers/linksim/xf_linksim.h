/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A seeded, deterministic model of one direction of a WAN path (docs/RELIABILITY.md, Link
 * model): a bottleneck of a given rate with a drop-tail queue in bytes, a one-way delay,
 * random and bursty (Gilbert-Elliott) loss, duplication, reordering, and a schedule of rate
 * and delay changes and blackholes.
 *
 * Pure C on opaque pointers: no EAL, no clock of its own (time is passed in, nanoseconds on
 * any monotonic clock), no allocation after xf_linksim_create(), no locks. The same seed and
 * the same calls give the same deliveries, so the simulated-time test harness and a port's
 * fault stage (real time) share this one implementation. One link is owned by one thread.
 */
#ifndef XF_LINKSIM_H
#define XF_LINKSIM_H

#include <stdbool.h>
#include <stdint.h>

/** Largest packet the model takes (bytes), so that bytes x 8e9 fits 64 bits. */
#define XF_LINKSIM_MAX_BYTES 65536u
/** Entries of a schedule. */
#define XF_LINKSIM_MAX_EVENTS 32u
/** Default packets a link holds at once (queued plus propagating). */
#define XF_LINKSIM_DEFAULT_SLOTS 65536u
/** Queue-delay histogram: sub-buckets per power of two (relative error <= 1/16). */
#define XF_LINKSIM_HIST_SUB 16u
/** Queue-delay histogram: powers of two covered (up to 2^44 ns, about 4.9 hours). */
#define XF_LINKSIM_HIST_POW 41u
/** Time value meaning "never". */
#define XF_LINKSIM_NEVER UINT64_MAX

/** What a schedule entry changes at its time. */
enum xf_linksim_event_kind {
	XF_LINKSIM_EV_RATE = 1,  /**< value: new rate, bits/s (0 = unlimited) */
	XF_LINKSIM_EV_DELAY,     /**< value: new one-way delay, ns */
	XF_LINKSIM_EV_BLACKHOLE, /**< value: duration, ns: nothing gets through meanwhile */
};

/** One change of a link at a given time. */
struct xf_linksim_event {
	uint64_t at_ns;                  /**< when it takes effect */
	enum xf_linksim_event_kind kind; /**< what changes */
	uint64_t value;                  /**< see enum xf_linksim_event_kind */
};

/** Gilbert-Elliott two-state loss (per packet transitions). All zero = off. */
struct xf_linksim_ge {
	double p_good_bad; /**< probability of moving from good to bad, per packet */
	double p_bad_good; /**< probability of moving from bad to good, per packet */
	double loss_good;  /**< loss probability in the good state */
	double loss_bad;   /**< loss probability in the bad state */
};

/** Link configuration; zero fields take the default named beside them. */
struct xf_linksim_cfg {
	uint64_t rate_bps;       /**< bottleneck rate in bits/s; 0 = unlimited (no queue) */
	uint64_t delay_ns;       /**< one-way propagation delay */
	uint64_t queue_bytes;    /**< drop-tail limit of bytes not yet serialised (the packet in
	                              service included); 0 = limited only by slots */
	uint32_t slots;          /**< packets held at once (XF_LINKSIM_DEFAULT_SLOTS) */
	uint64_t seed;           /**< PRNG seed; the same seed gives the same faults */
	double loss;             /**< independent random loss probability, 0..1 */
	struct xf_linksim_ge ge; /**< bursty loss, applied as well as loss */
	double dup;              /**< probability that a packet is delivered twice, 0..1 */
	double reorder;          /**< probability that a packet is held back, 0..1 */
	uint64_t reorder_ns;     /**< extra delay of a held-back packet (> 0 if reorder > 0) */
	const struct xf_linksim_event *events; /**< schedule, ascending at_ns; copied */
	unsigned int nb_events;                /**< 0..XF_LINKSIM_MAX_EVENTS */
};

/** What became of an offered packet (xf_linksim_enqueue()). */
enum xf_linksim_verdict {
	XF_LINKSIM_ACCEPTED = 0,   /**< it will come out once */
	XF_LINKSIM_DUPLICATED,     /**< it will come out twice (the second with dup set) */
	XF_LINKSIM_DROP_QUEUE,     /**< the queue had no room for it (drop-tail) */
	XF_LINKSIM_DROP_LOSS,      /**< random loss (cfg.loss); it still took the bottleneck */
	XF_LINKSIM_DROP_BLACKHOLE, /**< offered during a blackhole */
	XF_LINKSIM_DROP_SLOTS,     /**< the link already holds cfg.slots packets */
	XF_LINKSIM_DROP_BURST,     /**< bursty loss (cfg.ge) and not random loss as well; it
	                                still took the bottleneck */
	XF_LINKSIM_VERDICTS,       /**< number of verdicts */
};

/** A packet coming out of the link: delivered, or given back because it was lost. */
struct xf_linksim_pkt {
	void *opaque;            /**< as given to xf_linksim_enqueue() */
	bool lost;               /**< it left the bottleneck during a blackhole: the caller
	                              frees it instead of delivering it */
	uint64_t arrive_ns;      /**< when it arrived at the far end */
	uint64_t queue_delay_ns; /**< time it waited before its serialisation started */
	uint32_t bytes;          /**< as given */
	bool dup;                /**< the second copy of a duplicated packet */
};

/** Counters of one link. */
struct xf_linksim_stats {
	uint64_t offered;                      /**< packets offered */
	uint64_t offered_bytes;                /**< their bytes */
	uint64_t delivered;                    /**< packets delivered, copies included */
	uint64_t delivered_bytes;              /**< their bytes */
	uint64_t dropped[XF_LINKSIM_VERDICTS]; /**< by verdict (index >= XF_LINKSIM_DROP_QUEUE),
	                                           plus [XF_LINKSIM_DROP_BLACKHOLE] for packets in
	                                           the link when a blackhole swallowed them */
	uint64_t duplicated;                   /**< packets delivered twice */
	uint64_t reordered;                    /**< packets held back */
	uint64_t queued_bytes;                 /**< bytes not yet serialised, now */
	uint64_t max_queued_bytes;             /**< the most ever */
	uint32_t held;                         /**< packets in the link now */
};

struct xf_linksim;

/**
 * Create a link; the only allocation it makes.
 *
 * @param cfg Configuration; copied (the schedule too).
 * @param now Start time (ns); schedule times are absolute on the same clock.
 * @return The link, or NULL with errno EINVAL (a probability outside 0..1 or NaN, reorder
 *         without reorder_ns, too many events or events out of order, a blackhole of zero
 *         length, an unknown event kind) or ENOMEM.
 */
struct xf_linksim *xf_linksim_create(const struct xf_linksim_cfg *cfg, uint64_t now);

/** Free a link; packets still in it are forgotten (the caller owns them). NULL ok. */
void xf_linksim_destroy(struct xf_linksim *l);

/**
 * Offer a packet to the link at time now (not before any earlier call's time).
 *
 * @param l      Link.
 * @param now    Time (ns).
 * @param bytes  Size on the wire, 1..XF_LINKSIM_MAX_BYTES.
 * @param opaque Caller's packet, returned by xf_linksim_dequeue() (twice if duplicated).
 * @return An enum xf_linksim_verdict (the caller keeps the packet on a drop), or -EINVAL
 *         for a size out of bounds.
 */
int xf_linksim_enqueue(struct xf_linksim *l, uint64_t now, uint32_t bytes, void *opaque);

/**
 * @return The earliest time at which xf_linksim_dequeue() may return a packet or the link
 *         changes (a schedule entry is due): call it then. XF_LINKSIM_NEVER if neither.
 */
uint64_t xf_linksim_next_time(struct xf_linksim *l);

/**
 * Take the packets that arrived by now, in order of arrival (ties in order of offer), and
 * those a blackhole swallowed after they were accepted (lost set, at the time they would
 * have arrived), so that every accepted packet comes back to the caller exactly once per
 * copy.
 *
 * @param l   Link.
 * @param now Time (ns).
 * @param out Room for max packets.
 * @param max Size of out.
 * @return Packets written; call again while it returns max.
 */
unsigned int xf_linksim_dequeue(struct xf_linksim *l, uint64_t now, struct xf_linksim_pkt *out,
                                unsigned int max);

/** Fill stats with the link's counters. */
void xf_linksim_stats(const struct xf_linksim *l, struct xf_linksim_stats *stats);

/**
 * A percentile of the queue delay of every packet that left the queue so far (histogram
 * of XF_LINKSIM_HIST_SUB sub-buckets per power of two: an upper bound within 1/16).
 *
 * @param l   Link.
 * @param pct Percentile, 0..100.
 * @return Delay in ns; 0 when no packet left the queue yet.
 */
uint64_t xf_linksim_queue_delay_pct(const struct xf_linksim *l, double pct);

/**
 * The link's deterministic PRNG step (splitmix64), for a harness that needs random numbers
 * of its own reproducible from a seed.
 */
uint64_t xf_linksim_rand(uint64_t *state);

#endif /* XF_LINKSIM_H */
