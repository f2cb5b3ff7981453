/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Holes of a file being sent (xf_sparse.h): a cached SEEK_HOLE/SEEK_DATA walk that only
 * moves forward, as the reader delivers a file's frames in offset order, and that only
 * an all-zero frame starts.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "xf_sparse.h"

bool
xf_sparse_all_zero(const uint8_t *data, size_t len)
{
	static const uint8_t zeros[256];

	while (len > 0) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		if (memcmp(data, zeros, n) != 0) {
			return false;
		}
		data += n;
		len -= n;
	}
	return true;
}

/* Find the hole at or after off: [start, end); no hole (or an error) leaves none. */
static void
walk(int fd, struct xf_sparse_hole *h, uint64_t off)
{
	off_t hs = lseek(fd, (off_t)off, SEEK_HOLE);
	off_t hd;

	if (hs < 0) {
		/* ENXIO: off is at or past the end; anything else: no holes known. Either
		 * way nothing at or after off is a hole. */
		*h = (struct xf_sparse_hole){ UINT64_MAX, UINT64_MAX };
		return;
	}
	hd = lseek(fd, hs, SEEK_DATA);
	if (hd < 0 && errno != ENXIO) {
		*h = (struct xf_sparse_hole){ UINT64_MAX, UINT64_MAX };
		return;
	}
	/* ENXIO: no data after the hole, the file ends in it (the implicit hole at the end
	 * of every file starts at its size and covers nothing that can be read). */
	h->start = (uint64_t)hs;
	h->end = hd < 0 ? UINT64_MAX : (uint64_t)hd;
}

bool
xf_sparse_in_hole(int fd, struct xf_sparse_hole *h, uint64_t off, const uint8_t *data, uint32_t len)
{
	/* The bytes first: a frame with data is never in a hole whatever the file says, and
	 * its first bytes are seldom zeros, so a file without runs of zeros (any dense file
	 * of code, text or compressed data) is never asked at all. The file is asked only
	 * for an all-zero frame past the cached hole: the walk still moves forward only. */
	if (len == 0 || !xf_sparse_all_zero(data, len)) {
		return false;
	}
	if (off >= h->end) {
		walk(fd, h, off);
	}
	return off >= h->start && off + len <= h->end;
}
