/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Holes of a file being sent: which frames of it lie in a hole (SEEK_HOLE/SEEK_DATA)
 * and so are not sent (docs/PROTOCOL.md, "Sparse files").
 */
#ifndef XF_SPARSE_H
#define XF_SPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The hole of a file at or after the last offset asked about: [start, end). */
struct xf_sparse_hole {
	uint64_t start; /**< first byte of the hole */
	uint64_t end;   /**< first byte of data after it (UINT64_MAX: the file ends in it) */
};

/** A cache that knows no hole yet: the first query asks the file. */
#define XF_SPARSE_HOLE_INIT ((struct xf_sparse_hole){ 0, 0 })

/**
 * Whether a frame read from a file lies in a hole of it, so it need not be sent. A frame
 * counts as a hole only if its bytes are all zeros AND it lies wholly inside one: a hole
 * written between the lseek and the read is sent as data, never lost. The bytes are
 * looked at first, and the file is asked (lseek SEEK_HOLE, then SEEK_DATA) only for an
 * all-zero frame whose @p off has passed the cached hole: a file with no zero frame
 * costs no call, one with zero frames at most two, and a sparse one two per hole.
 *
 * @param fd    the file, open for reading
 * @param h     the file's cache (XF_SPARSE_HOLE_INIT at open); offsets asked about must
 *              not decrease
 * @param off   file offset of the frame
 * @param data  the frame's bytes as read
 * @param len   their count (0: false)
 * @return true if the frame is in a hole and all zeros; false otherwise, and on any lseek
 *         error (a file system without SEEK_HOLE reports no holes: it is sent whole)
 */
bool xf_sparse_in_hole(int fd, struct xf_sparse_hole *h, uint64_t off, const uint8_t *data,
                       uint32_t len);

/**
 * @return true if the @p len bytes at @p data are all zeros (len 0: true)
 */
bool xf_sparse_all_zero(const uint8_t *data, size_t len);

#endif /* XF_SPARSE_H */
