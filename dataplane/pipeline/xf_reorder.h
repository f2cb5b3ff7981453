/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded reorder window for in-order commit, keyed by file index. Pure C, no EAL.
 *
 * Three cursors, base <= next <= base + window:
 *   [base, next)          popped in order, handed to the committer, not yet released;
 *   [next, base + window) results may be inserted in any order.
 * The window never grows: an index at or beyond base + window is refused. base moves
 * only when the committer reports "committed through N" (xf_reorder_release), which is
 * exactly when the sender gets new credits, so the window equals the credit window.
 */
#ifndef XF_REORDER_H
#define XF_REORDER_H

#include <stdbool.h>
#include <stdint.h>

struct xf_reorder {
	uint64_t *val;   /**< window slots, indexed by file index % window */
	uint8_t *full;   /**< slot holds an inserted, not yet popped value */
	uint32_t window; /**< slots; fixed at creation */
	uint32_t base;   /**< first index not yet released (committed through base) */
	uint32_t next;   /**< next index to pop */
	uint32_t held;   /**< inserted, not yet popped */
};

/**
 * Set up a window.
 * @param ro     The window.
 * @param window Slots (files in flight), >= 1.
 * @param first  The first file index (normally 0).
 * @return 0, -EINVAL (window 0), -ENOMEM.
 */
int xf_reorder_init(struct xf_reorder *ro, uint32_t window, uint32_t first);

/** Free the slots. */
void xf_reorder_fini(struct xf_reorder *ro);

/**
 * Set up an empty window in slots the caller allocated (a session slot's, made with the
 * pipeline), without allocating: the slots are cleared; xf_reorder_fini() must not be
 * called on it.
 * @param val    window values.
 * @param full   window flags.
 */
void xf_reorder_attach(struct xf_reorder *ro, uint64_t *val, uint8_t *full, uint32_t window,
                       uint32_t first);

/**
 * Insert the result of file idx.
 * @return 0 inserted; -EALREADY if idx was already inserted or popped (a duplicate,
 *         ignored); -ERANGE if idx >= base + window (beyond the window, refused).
 */
int xf_reorder_insert(struct xf_reorder *ro, uint32_t idx, uint64_t val);

/**
 * Pop the next result in file-index order if it is there.
 * @return true with *idx and *val set, false if the next index has no result yet.
 */
bool xf_reorder_pop(struct xf_reorder *ro, uint32_t *idx, uint64_t *val);

/**
 * Remove the result of idx if it is held (not popped), for tearing a session down.
 * @return true with *val set if it was held.
 */
bool xf_reorder_take(struct xf_reorder *ro, uint32_t idx, uint64_t *val);

/**
 * Release every popped index below upto (committed through upto): the window slides.
 * @return 0, or -EINVAL if upto is below base or beyond next.
 */
int xf_reorder_release(struct xf_reorder *ro, uint32_t upto);

/** Indices occupied in the window (popped-unreleased plus held). Never above window. */
static inline uint32_t
xf_reorder_used(const struct xf_reorder *ro)
{
	return (ro->next - ro->base) + ro->held;
}

/** One past the largest index that may be inserted: base + window (the credit). */
static inline uint32_t
xf_reorder_limit(const struct xf_reorder *ro)
{
	return ro->base + ro->window;
}

#endif /* XF_REORDER_H */
