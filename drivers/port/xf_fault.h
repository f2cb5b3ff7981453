/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A port's seeded fault stage, for tests and an emulated WAN (docs/RELIABILITY.md, "The
 * port's fault stage"). Two parts, in this order:
 *  - a link: a bottleneck rate with a drop-tail queue in bytes, a one-way delay, random
 *    and bursty (Gilbert-Elliott) loss. It is the link model of drivers/linksim, the one
 *    the simulated-time tests run, here in real time: the caller passes the time;
 *  - reordering: a frame is, with probability p, held back and released after the next k
 *    frames have come out of the link.
 * Deterministic for a seed and a sequence of (time, frame) offers. Pure C on opaque
 * pointers (mbufs on a port's TX queue), no EAL; one instance per queue, owned by that
 * queue's core. Memory is allocated by xf_fault_init() only, sized from the configured
 * maximum (xf_fault_link_slots()); nothing after.
 */
#ifndef XF_FAULT_H
#define XF_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "xf_linksim.h"

/** Frames a stage can hold back for reordering; beyond it frames pass straight through. */
#define XF_FAULT_MAX_HELD 64u
/** Largest k: a frame is never held back further than this many arrivals. */
#define XF_FAULT_MAX_DEPTH 1024u
/** Most frames offered to xf_fault_apply() at once, and taken from the link per call. */
#define XF_FAULT_BURST 32u
/** Room xf_fault_apply() needs in out. */
#define XF_FAULT_OUT_MAX (2u * XF_FAULT_BURST + XF_FAULT_MAX_HELD)
/** Room xf_fault_apply() needs in drop. */
#define XF_FAULT_DROP_MAX (2u * XF_FAULT_BURST)
/** Bytes a frame takes on the link at least: Ethernet's minimum frame (no FCS). */
#define XF_FAULT_MIN_FRAME 60u
/** Most frames a link is sized for (xf_fault_link_slots()): about 20 MiB of state. */
#define XF_FAULT_MAX_SLOTS (1u << 18)
/** Full-size frames the links of all of a port's queues may hold at once: half the mbuf
 *  pool of 16,383 the engine gives a port, which also fills the RX rings. */
#define XF_FAULT_MAX_FRAMES 8191u
/** Smallest default queue (xf_fault_queue_bytes()). */
#define XF_FAULT_MIN_QUEUE (64u * 1024u)

/** Configuration of a fault stage; all zero means off. */
struct xf_fault_conf {
	uint64_t seed;           /**< PRNG seed: the same seed gives the same faults. */
	double reorder_p;        /**< Probability that a frame is held back, 0..1. */
	uint16_t reorder_k;      /**< Arrivals a held frame waits for, 1..XF_FAULT_MAX_DEPTH. */
	uint64_t rate_bps;       /**< Link rate, bits/s of Ethernet frame bytes; 0 = no limit. */
	uint64_t delay_ns;       /**< One-way delay; needs rate_bps (else nothing bounds what
	                              the link holds). */
	uint64_t queue_bytes;    /**< Drop-tail limit; needs rate_bps; 0 = one BDP of rate x
	                              2 x delay, at least XF_FAULT_MIN_QUEUE. */
	double loss;             /**< Random loss probability, 0..1. */
	struct xf_linksim_ge ge; /**< Bursty loss (Gilbert-Elliott), as well as loss. */
	uint32_t max_frame;      /**< Largest frame offered, bytes (the slot bound); 0 means
	                              XF_LINKSIM_MAX_BYTES. */
};

/** Counters of a stage; every frame offered ends in exactly one of the last six. */
struct xf_fault_stats {
	uint64_t frames;      /**< Frames offered. */
	uint64_t delivered;   /**< Frames that came out (to the device). */
	uint64_t drop_queue;  /**< Dropped: the link's drop-tail queue was full. */
	uint64_t drop_random; /**< Dropped: random loss. */
	uint64_t drop_burst;  /**< Dropped: bursty loss (and not random loss as well). */
	uint64_t drop_slots;  /**< Dropped: the link held as many frames as it was sized for
	                           (0 while its owner takes the frames that are due). */
	uint64_t reordered;   /**< Frames held back by the reordering (they still come out). */
};

/** A frame held back, and how many more arrivals it waits for. */
struct xf_fault_held {
	void *item;    /**< The frame. */
	uint32_t left; /**< Arrivals until release. */
};

/** State of one fault stage. */
struct xf_fault {
	uint64_t rng;                                 /**< Reordering PRNG state. */
	uint64_t threshold;                           /**< Hold when a 32-bit draw is below it. */
	uint16_t k;                                   /**< Arrivals a held frame waits for. */
	uint16_t nb_held;                             /**< Frames held now. */
	struct xf_fault_held held[XF_FAULT_MAX_HELD]; /**< Held frames, oldest first. */
	struct xf_linksim *link;                      /**< The link; NULL when it is off. */
	struct xf_fault_stats st;                     /**< Counters. */
};

/* x >= 0 rounded up, saturating at 2^62 (no libm for the callers of these bounds). */
static inline double
xf_fault_ceil_(double x)
{
	double t;

	if (!(x < 4611686018427387904.0)) {
		return 4611686018427387904.0;
	}
	t = (double)(uint64_t)x;
	return t < x ? t + 1.0 : t;
}

/**
 * Bytes the link's drop-tail queue holds: conf->queue_bytes, or its default.
 *
 * @param conf  Configuration.
 * @return Bytes; 0 when there is no rate (and so no queue).
 */
static inline uint64_t
xf_fault_queue_bytes(const struct xf_fault_conf *conf)
{
	double bdp;

	if (conf->rate_bps == 0) {
		return 0;
	}
	if (conf->queue_bytes != 0) {
		return conf->queue_bytes;
	}
	/* A bound, not a count: double keeps it exact to 2^-53, and it is rounded up. */
	bdp = xf_fault_ceil_((double)conf->rate_bps * 2.0 * (double)conf->delay_ns / 8e9);
	return bdp > XF_FAULT_MIN_QUEUE ? (uint64_t)bdp : XF_FAULT_MIN_QUEUE;
}

/**
 * Every byte the link can hold at once: the queue, what the rate puts in flight during
 * the delay, and the frame in service.
 *
 * @param conf  Configuration.
 * @return Bytes (saturating at 2^62).
 */
static inline double
xf_fault_link_bytes(const struct xf_fault_conf *conf)
{
	double frame = conf->max_frame != 0 ? conf->max_frame : XF_LINKSIM_MAX_BYTES;
	double flight = xf_fault_ceil_((double)conf->rate_bps * (double)conf->delay_ns / 8e9);

	return flight + (double)xf_fault_queue_bytes(conf) + frame;
}

/**
 * Frames the link must be able to hold: xf_fault_link_bytes() over the smallest frame,
 * plus what one call takes. The stage preallocates this many slots.
 *
 * @param conf  Configuration (rate_bps 0: the link holds only what one call offers).
 * @return Slots; compare with XF_FAULT_MAX_SLOTS.
 */
static inline uint64_t
xf_fault_link_slots(const struct xf_fault_conf *conf)
{
	double slots = xf_fault_ceil_(xf_fault_link_bytes(conf) / XF_FAULT_MIN_FRAME) +
	               2.0 * XF_FAULT_BURST;

	return slots > (double)UINT32_MAX ? UINT32_MAX : (uint64_t)slots;
}

/**
 * Full-size frames (max_frame bytes) the link can hold: mbufs it keeps from the pool.
 *
 * @param conf  Configuration.
 * @return Frames, rounded up; compare their sum over a port's queues with
 *         XF_FAULT_MAX_FRAMES.
 */
static inline uint64_t
xf_fault_link_frames(const struct xf_fault_conf *conf)
{
	double frame = conf->max_frame != 0 ? conf->max_frame : XF_LINKSIM_MAX_BYTES;
	double n = xf_fault_ceil_(xf_fault_link_bytes(conf) / frame);

	return n > (double)UINT32_MAX ? UINT32_MAX : (uint64_t)n;
}

/**
 * Check a configuration without building anything.
 *
 * @param conf  Configuration.
 * @return 0; -EINVAL for a probability outside 0..1 (or NaN), reorder_k 0 or above
 *         XF_FAULT_MAX_DEPTH with reorder_p > 0, a delay or a queue without a rate, a rate
 *         above 1 Pbit/s or max_frame above XF_LINKSIM_MAX_BYTES; -E2BIG when the link
 *         would need more than XF_FAULT_MAX_SLOTS slots (rate x delay plus the queue too big).
 */
int xf_fault_check(const struct xf_fault_conf *conf);

/**
 * Whether a configuration turns the stage on.
 *
 * @param conf  Configuration.
 * @return true when it has a link (rate, delay, queue, loss or bursty loss) or reordering.
 */
bool xf_fault_conf_on(const struct xf_fault_conf *conf);

/**
 * Initialise a fault stage; allocates the link's slots when the link is on (any of rate,
 * delay, loss, bursty loss). Release it with xf_fault_fini().
 *
 * @param f     Stage.
 * @param conf  Configuration; all zero gives a stage that passes frames through.
 * @param now   Start time, ns, on the clock later calls use.
 * @return 0, an error of xf_fault_check(), or -ENOMEM.
 */
int xf_fault_init(struct xf_fault *f, const struct xf_fault_conf *conf, uint64_t now);

/**
 * Free what xf_fault_init() allocated; the frames still in the stage are forgotten (take
 * them with xf_fault_drain() first). Safe on a zeroed or finished stage.
 *
 * @param f  Stage.
 */
void xf_fault_fini(struct xf_fault *f);

/**
 * Whether the stage changes anything.
 *
 * @param f  Stage.
 * @return true when the link is on or frames may be held back.
 */
bool xf_fault_enabled(const struct xf_fault *f);

/**
 * Offer a burst to the stage at time now, and take what comes out by now. Every frame
 * offered leaves exactly once: in out (now or from a later call), in drop, or from
 * xf_fault_flush() / xf_fault_drain().
 *
 * @param f        Stage.
 * @param now      Time, ns (not before an earlier call's; an earlier one counts as it).
 * @param in       Frames in order; may be NULL with n = 0 (only take what is due).
 * @param bytes    Their sizes (Ethernet frame bytes); NULL when n = 0. A frame counts for
 *                 at least XF_FAULT_MIN_FRAME bytes on the link.
 * @param n        Frames offered, 0..XF_FAULT_BURST.
 * @param out      Receives the frames to send now, in order; room for XF_FAULT_OUT_MAX.
 * @param drop     Receives the frames dropped (the caller frees them); room for
 *                 XF_FAULT_DROP_MAX.
 * @param nb_drop  Set to the number written to drop.
 * @return Number of frames written to out. At most XF_FAULT_BURST frames are taken from
 *         the link per call: while xf_fault_due() says more are due, call again with n = 0.
 */
uint16_t xf_fault_apply(struct xf_fault *f, uint64_t now, void *const *in, const uint32_t *bytes,
                        uint16_t n, void **out, void **drop, uint16_t *nb_drop);

/**
 * Whether the link holds frames due by now.
 *
 * @param f    Stage.
 * @param now  Time, ns.
 * @return true when xf_fault_apply() would take at least one frame from the link.
 */
bool xf_fault_due(struct xf_fault *f, uint64_t now);

/**
 * Time of the next frame the link releases.
 *
 * @param f  Stage.
 * @return ns, or XF_LINKSIM_NEVER when the link is empty or off.
 */
uint64_t xf_fault_next_time(struct xf_fault *f);

/**
 * Release every frame the reordering holds (on idle), oldest first. The link keeps its
 * frames until they are due.
 *
 * @param f    Stage.
 * @param out  Receives the frames; room for XF_FAULT_MAX_HELD.
 * @return Number of frames written to out.
 */
uint16_t xf_fault_flush(struct xf_fault *f, void **out);

/**
 * Take every frame still in the stage, due or not (before shutdown): the link's in order
 * of arrival, then the reordering's. Not counted as delivered.
 *
 * @param f    Stage.
 * @param out  Receives the frames.
 * @param max  Room in out.
 * @return Number of frames written; call again while it returns max.
 */
unsigned int xf_fault_drain(struct xf_fault *f, void **out, unsigned int max);

#endif /* XF_FAULT_H */
