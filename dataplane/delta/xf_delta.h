/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delta transfer, rsync's algorithm on our terms (docs/DELTA.md). Pure C, no EAL.
 *
 * The receiver cuts its basis file into blocks and sends one xf_sig_rec per block:
 * a rolling weak checksum and a CRC64. The sender rolls the weak checksum over its
 * new file one byte at a time, looks every value up in a hash table of the basis
 * blocks, confirms a hit with CRC64 and emits COPY for matched ranges and DATA for
 * the bytes in between. Both sides work on chunks so that a worker feeds them from
 * io_uring reads; neither ever holds a whole file.
 */
#ifndef XF_DELTA_H
#define XF_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_proto.h"

/** Smallest block size the block size rule picks (rsync's BLOCK_SIZE). */
#define XF_DELTA_BLOCK_MIN 700u
/** Default cap on one coalesced COPY: a bounded unit of work for the receiver's worker. */
#define XF_DELTA_COPY_MAX (1u << 20)
/**
 * Most blocks a matcher accepts: 2 TiB of basis at 128 KiB blocks, a lookup table of
 * at most 256 MiB. The count comes from the peer; a larger file goes WHOLE.
 */
#define XF_DELTA_BLOCKS_MAX (1u << 24)
/** Added to every byte by the weak checksum so that runs of zeros still move both sums. */
#define XF_DELTA_CHAR_OFFSET 31u

/**
 * Rolling weak checksum (rsync's, with a char offset): over a window x[0..n) with
 * y = x + XF_DELTA_CHAR_OFFSET, a = sum y[i], b = sum (n - i) y[i], both mod 2^16;
 * the digest is a | b << 16. Kept unmasked in 32 bits: 2^16 divides 2^32, so the
 * low 16 bits of the wrapping sums are exact.
 */
struct xf_delta_weak {
	uint32_t a;   /**< sum of bytes (plus offset) */
	uint32_t b;   /**< sum of the prefix sums */
	uint32_t len; /**< window length n */
};

/**
 * Start a checksum over buf[0..len): vectorised where the CPU allows (xf_delta_weak.c),
 * the same values as rolling in one byte at a time.
 */
void xf_delta_weak_init(struct xf_delta_weak *w, const uint8_t *buf, uint32_t len);

/** Slide the window by one byte in O(1): drop out (its first byte), append in. */
static inline void
xf_delta_weak_roll(struct xf_delta_weak *w, uint8_t out, uint8_t in)
{
	uint32_t yo = (uint32_t)out + XF_DELTA_CHAR_OFFSET;

	w->a += (uint32_t)in + XF_DELTA_CHAR_OFFSET - yo;
	w->b += w->a - w->len * yo;
}

/** The 32-bit value carried in xf_sig_rec.weak. */
static inline uint32_t
xf_delta_weak_digest(const struct xf_delta_weak *w)
{
	return (w->a & 0xffffu) | (w->b << 16);
}

/** Weak checksum of buf[0..len), computed afresh. */
uint32_t xf_delta_weak_sum(const void *buf, size_t len);

/**
 * Block size for a basis of size bytes: sqrt(size) rounded down to a multiple of 8,
 * clamped to [XF_DELTA_BLOCK_MIN, XF_BLOCK_MAX].
 */
uint32_t xf_delta_block_size(uint64_t size);

/**
 * xf_delta_block_size() rounded to the nearest multiple of align (not below
 * XF_DELTA_BLOCK_MIN), where it is at least align: on a volume that clones, matched
 * runs then start and end on the file system's blocks and are cloned whole
 * (docs/DELTA.md, "Block size rule"). Smaller blocks are left as they are.
 * @param size Basis size in bytes.
 * @param align File system block size: a power of two, 8..XF_BLOCK_MAX (else ignored).
 * @return The block size, a multiple of 8 in [XF_DELTA_BLOCK_MIN, XF_BLOCK_MAX].
 */
uint32_t xf_delta_block_size_aligned(uint64_t size, uint32_t align);

/** Number of blocks, ceil(size / block_size), the last one possibly short. */
uint64_t xf_delta_block_count(uint64_t size, uint32_t block_size);

/**
 * Signature generator for one basis file, fed in chunks in offset order. Plain state,
 * no allocation: embed it anywhere.
 */
struct xf_delta_sig {
	uint32_t block_size; /**< bytes per block */
	uint32_t part;       /**< bytes of the current, incomplete block */
	uint32_t a, b;       /**< weak sums of the current block so far */
	uint32_t crc;        /**< CRC-32C of the current block so far */
	uint64_t blocks;     /**< records produced so far */
};

/**
 * @param block_size 1..XF_BLOCK_MAX.
 * @return 0, or -EINVAL for a block size out of range.
 */
int xf_delta_sig_begin(struct xf_delta_sig *g, uint32_t block_size);

/** Most records one xf_delta_sig_update() of len bytes can produce. */
static inline size_t
xf_delta_sig_max_records(const struct xf_delta_sig *g, size_t len)
{
	return ((size_t)g->part + len) / g->block_size;
}

/**
 * Feed the next len bytes of the basis and write a record for every block they complete.
 *
 * @param out Room for cap records.
 * @param cap At least xf_delta_sig_max_records(g, len).
 * @return records written (0 or more); -ENOSPC if cap is too small (nothing consumed).
 */
int xf_delta_sig_update(struct xf_delta_sig *g, const void *buf, size_t len, struct xf_sig_rec *out,
                        size_t cap);

/**
 * End of the basis: write the record of the short last block, if there is one.
 * @return 1 if *out was written, 0 if the basis ended on a block boundary.
 */
int xf_delta_sig_finish(struct xf_delta_sig *g, struct xf_sig_rec *out);

/** Kinds of delta operations; the wire frames XF_MSG_DATA and XF_MSG_COPY. */
enum xf_delta_op_kind {
	XF_DELTA_OP_DATA = 1, /**< literal bytes */
	XF_DELTA_OP_COPY = 2, /**< a range of the basis */
};

/** One operation. Ops are emitted in increasing offset order and tile the new file. */
struct xf_delta_op {
	uint8_t kind;         /**< enum xf_delta_op_kind */
	uint32_t len;         /**< bytes, nonzero */
	uint64_t offset;      /**< destination offset in the new file */
	uint64_t src_offset;  /**< COPY: offset in the basis; DATA: 0 */
	const uint8_t *bytes; /**< DATA: the literal, valid only during the callback */
};

/**
 * Receives each operation. Return 0 to go on; a nonzero value stops the matcher and
 * is returned by the xf_delta_match_* call that emitted the op.
 */
typedef int (*xf_delta_emit_fn)(void *arg, const struct xf_delta_op *op);

/** What the matcher knows about the basis and how it cuts its output. */
struct xf_delta_params {
	uint32_t block_size;           /**< from DECISION; 1..XF_BLOCK_MAX (ignored if no blocks) */
	uint32_t block_count;          /**< from DECISION; 0 (empty basis)..XF_DELTA_BLOCKS_MAX */
	uint32_t tail_len;             /**< length of the last block if known, else 0 */
	uint32_t max_literal;          /**< DATA ops are at most this long (what fits a frame) */
	uint32_t max_copy;             /**< COPY ops at most this long; 0 for XF_DELTA_COPY_MAX */
	const struct xf_sig_rec *sigs; /**< block_count records; must outlive the matcher */
};

/** Counters of one matcher. */
struct xf_delta_stats {
	uint64_t literal_bytes; /**< bytes sent as DATA */
	uint64_t matched_bytes; /**< bytes sent as COPY */
	uint64_t data_ops;      /**< DATA ops emitted */
	uint64_t copy_ops;      /**< COPY ops emitted (after coalescing) */
	uint64_t weak_hits;     /**< positions whose weak sum was in the table */
	uint64_t false_alarms;  /**< weak hits that CRC64 rejected */
};

struct xf_delta_match;

/**
 * Build the matcher for one file: the hash table of the basis blocks and the window
 * buffer are allocated here, once; feeding never allocates.
 *
 * @param p    Parameters; p->sigs is kept by reference.
 * @param emit Called for each op, in offset order.
 * @return the matcher, or NULL with errno EINVAL (a parameter out of range) or ENOMEM.
 */
struct xf_delta_match *xf_delta_match_create(const struct xf_delta_params *p, xf_delta_emit_fn emit,
                                             void *arg);

/**
 * Make m a fresh matcher for another file, as xf_delta_match_create would, keeping its
 * buffers when they are large enough (else they grow: a core that reuses its matchers
 * allocates only until they reach the largest file's needs).
 * @return 0, -EINVAL (a parameter out of range: m is left as it was) or -ENOMEM (m
 *         cannot be used until a reset succeeds; free it as usual).
 */
int xf_delta_match_reset(struct xf_delta_match *m, const struct xf_delta_params *p,
                         xf_delta_emit_fn emit, void *arg);

/**
 * Feed the next len bytes of the new file.
 * @return 0; the callback's nonzero value if it stopped the matcher; -EINVAL after
 *         finish or after an earlier failure.
 */
int xf_delta_match_feed(struct xf_delta_match *m, const void *buf, size_t len);

/**
 * End of the new file: match the short tail block, flush the last ops.
 * @return 0, the callback's nonzero value, or -EINVAL if called twice.
 */
int xf_delta_match_finish(struct xf_delta_match *m);

/** Counters so far. Never NULL. */
const struct xf_delta_stats *xf_delta_match_stats(const struct xf_delta_match *m);

/** Free the matcher; NULL is allowed. */
void xf_delta_match_free(struct xf_delta_match *m);

/** Bytes of window buffer a matcher with these parameters allocates (the memory bound). */
size_t xf_delta_match_buffer_size(const struct xf_delta_params *p);

/**
 * Apply one op to an in-memory copy of the new file (tests; the receiver's worker does
 * the same through io_uring).
 *
 * @return 0; -EINVAL for an unknown kind or zero length; -ERANGE if the op reads past
 *         the basis or writes past out_len.
 */
int xf_delta_apply(const struct xf_delta_op *op, const void *basis, uint64_t basis_len, void *out,
                   uint64_t out_len);

#endif /* XF_DELTA_H */
