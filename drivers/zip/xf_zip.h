/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-frame compression of DATA literals with ISA-L's igzip (docs/PROTOCOL.md 6.16):
 * one raw DEFLATE stream (no gzip or zlib wrapper) per frame, at igzip's level
 * XF_ZIP_LEVEL, and its strict inverse. One struct xf_zip per core holds everything both
 * need (the deflate and inflate states), allocated once: nothing is allocated per frame.
 */
#ifndef XF_ZIP_H
#define XF_ZIP_H

#include <stdint.h>

/** igzip's level the sender uses (0: fastest, the reason in xf_zip.c). */
#define XF_ZIP_LEVEL 0

/** A core's compression and inflation state. */
struct xf_zip;

/** Why an inflation failed (counted by the receiver). */
enum xf_zip_fail {
	XF_ZIP_BAD = 1, /**< not a valid raw DEFLATE stream (or bytes after its end) */
	XF_ZIP_LONG,    /**< it inflates past raw_len (a zip bomb stops here) */
	XF_ZIP_SHORT,   /**< it ends before raw_len bytes */
};

/** @return a new state, or NULL (out of memory, logged). */
struct xf_zip *xf_zip_create(void);

/** Free a state (NULL is allowed). */
void xf_zip_free(struct xf_zip *z);

/**
 * Compress len bytes of in into out, as one raw DEFLATE stream, only if it takes at most
 * cap bytes: the caller passes the most it will send (say len - len / 16), and a frame
 * that does not shrink that much costs the attempt and nothing else.
 * @param z   The core's state.
 * @param in  The bytes (1..XF_DATA_RAW_MAX of them in practice).
 * @param len Their number, >= 1.
 * @param out Room for cap bytes.
 * @param cap The most compressed bytes wanted.
 * @return the compressed length (1..cap), -ENOSPC when it would take more than cap,
 *         -EINVAL for a bad argument.
 */
int xf_zip_deflate(struct xf_zip *z, const void *in, uint32_t len, void *out, uint32_t cap);

/**
 * Inflate one raw DEFLATE stream of exactly len bytes into exactly raw_len bytes. The
 * output never exceeds raw_len bytes whatever the input claims, and the work is bounded
 * by len and raw_len.
 * @param z       The core's state.
 * @param in      The stream.
 * @param len     Its length, >= 1.
 * @param out     Room for raw_len bytes.
 * @param raw_len Bytes the stream must inflate to, >= 1.
 * @return 0, or -(enum xf_zip_fail): -XF_ZIP_BAD, -XF_ZIP_LONG, -XF_ZIP_SHORT.
 */
int xf_zip_inflate(struct xf_zip *z, const void *in, uint32_t len, void *out, uint32_t raw_len);

/** Name of an xf_zip_fail ("bad", "long", "short"), "?" for others. */
const char *xf_zip_fail_str(int fail);

#endif /* XF_ZIP_H */
