/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A seeded fault stage for tests of loss recovery and reordering: frames passing through
 * it are, with probability p, held back and released after the next k frames have
 * arrived. Deterministic for a seed. Pure C on opaque pointers (mbufs on a port's TX
 * queue), no EAL; one instance per queue, owned by that queue's core.
 */
#ifndef XF_FAULT_H
#define XF_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/** Frames a stage can hold at once; beyond it frames pass straight through. */
#define XF_FAULT_MAX_HELD 64u
/** Largest k: a frame is never held back further than this many arrivals. */
#define XF_FAULT_MAX_DEPTH 1024u

/** Configuration of a fault stage; all zero means off. */
struct xf_fault_conf {
	uint64_t seed;      /**< PRNG seed: the same seed gives the same faults. */
	double reorder_p;   /**< Probability that a frame is held back, 0..1. */
	uint16_t reorder_k; /**< Arrivals a held frame waits for, 1..XF_FAULT_MAX_DEPTH. */
};

/** A frame held back, and how many more arrivals it waits for. */
struct xf_fault_held {
	void *item;    /**< The frame. */
	uint32_t left; /**< Arrivals until release. */
};

/** State of one fault stage. */
struct xf_fault {
	uint64_t rng;                                 /**< PRNG state. */
	uint64_t threshold;                           /**< Hold when a 32-bit draw is below it. */
	uint16_t k;                                   /**< Arrivals a held frame waits for. */
	uint16_t nb_held;                             /**< Frames held now. */
	struct xf_fault_held held[XF_FAULT_MAX_HELD]; /**< Held frames, oldest first. */
	uint64_t frames;                              /**< Frames that entered the stage. */
	uint64_t reordered;                           /**< Frames held back. */
};

/**
 * Initialise a fault stage.
 *
 * @param f     Stage.
 * @param conf  Configuration; reorder_p = 0 gives a stage that passes frames through.
 * @return 0, or -EINVAL when reorder_p is outside 0..1 (or NaN), or when reorder_p > 0
 *         and reorder_k is 0 or above XF_FAULT_MAX_DEPTH.
 */
int xf_fault_init(struct xf_fault *f, const struct xf_fault_conf *conf);

/**
 * Whether the stage changes anything (reorder_p > 0).
 *
 * @param f  Stage.
 * @return true when frames may be held back.
 */
bool xf_fault_enabled(const struct xf_fault *f);

/**
 * Pass a burst through the stage. Every frame that enters leaves exactly once: now, or
 * from a later call, or from xf_fault_flush.
 *
 * @param f    Stage.
 * @param in   Frames in arrival order.
 * @param n    Number of frames in.
 * @param out  Receives the frames to send now, in order; room for n + XF_FAULT_MAX_HELD.
 * @return Number of frames written to out.
 */
uint16_t xf_fault_apply(struct xf_fault *f, void *const *in, uint16_t n, void **out);

/**
 * Release every held frame (on idle, or before shutdown), oldest first.
 *
 * @param f    Stage.
 * @param out  Receives the frames; room for XF_FAULT_MAX_HELD.
 * @return Number of frames written to out.
 */
uint16_t xf_fault_flush(struct xf_fault *f, void **out);

#endif /* XF_FAULT_H */
