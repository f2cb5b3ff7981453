/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sender's hole walk (xf_sparse.c) over real files in TMPDIR: frames wholly inside a
 * hole are found, no frame with data ever is, written zeros are data, the file is asked
 * a bounded number of times and a file without all-zero frames not at all (lseek
 * counted through -Wl,--wrap=lseek64: with _FILE_OFFSET_BITS=64 glibc's lseek is that
 * symbol), and a cached hole
 * that was written meanwhile is still sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xf_sparse.h"
#include "xf_test.h"

#define DL  8932u /* a jumbo frame's DATA bytes: frames straddle the file's blocks */
#define MIB (1ull << 20)
#define GAP (64u * 1024u) /* margin around data: a hole is at most this much smaller */

off_t __real_lseek64(int fd, off_t off, int whence);
off_t __wrap_lseek64(int fd, off_t off, int whence);

static unsigned int lseeks;

off_t
__wrap_lseek64(int fd, off_t off, int whence)
{
	lseeks++;
	return __real_lseek64(fd, off, whence);
}

static int
tmp_file(void)
{
	const char *dir = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/xf-sparse-XXXXXX", dir);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	unlink(path);
	return fd;
}

static void
put(int fd, uint64_t off, size_t len, uint8_t seed)
{
	uint8_t *b = malloc(len);

	CU_ASSERT_FATAL(b != NULL);
	for (size_t i = 0; i < len; i++) {
		b[i] = (uint8_t)(seed + i * 7 + 1) | 1; /* never zero */
	}
	CU_ASSERT_FATAL(pwrite(fd, b, len, (off_t)off) == (ssize_t)len);
	free(b);
}

static bool
sparse_fs(int fd)
{
	struct stat st;

	CU_ASSERT_FATAL(fstat(fd, &st) == 0);
	return (uint64_t)st.st_blocks * 512 < (uint64_t)st.st_size / 2;
}

/* Whether off lies in a hole of the file (TMPDIR may make none). */
static bool
sparse_fs_hole(int fd, uint64_t off)
{
	off_t d = __real_lseek64(fd, (off_t)off, SEEK_DATA);

	return d < 0 || (uint64_t)d > off;
}

struct range {
	uint64_t a, b;
};

/* Walk a file frame by frame as the reader does; check each answer against its data. */
static uint64_t
walk(int fd, uint64_t size, const struct range *data, unsigned int n, bool holes)
{
	static uint8_t buf[DL];
	struct xf_sparse_hole h = XF_SPARSE_HOLE_INIT;
	uint64_t skipped = 0;

	for (uint64_t off = 0; off < size; off += DL) {
		uint32_t len = (uint32_t)(size - off < DL ? size - off : DL);
		bool near = false, in_data = false;
		bool r;

		CU_ASSERT_FATAL(pread(fd, buf, len, (off_t)off) == (ssize_t)len);
		r = xf_sparse_in_hole(fd, &h, off, buf, len);
		for (unsigned int k = 0; k < n; k++) {
			in_data |= off < data[k].b && off + len > data[k].a;
			near |= off < data[k].b + GAP && off + len + GAP > data[k].a;
		}
		if (in_data) {
			CU_ASSERT_FALSE(r); /* never a frame that holds data */
		}
		if (!near && holes) {
			CU_ASSERT_TRUE(r); /* far from data: in a hole */
		}
		if (!holes) {
			CU_ASSERT_FALSE(r);
		}
		skipped += r ? len : 0;
	}
	return skipped;
}

static void
test_holes(void)
{
	/* Ends in a hole, then ends in data. */
	for (int end_data = 0; end_data < 2; end_data++) {
		const uint64_t size = 4 * MIB;
		struct range d[2] = { { MIB + 100, MIB + 10100 }, { 3 * MIB, 3 * MIB + 5000 } };
		int fd = tmp_file();
		uint64_t skipped;
		bool holes;

		if (end_data) {
			d[1] = (struct range){ size - 5000, size };
		}
		CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
		put(fd, d[0].a, d[0].b - d[0].a, 1);
		put(fd, d[1].a, d[1].b - d[1].a, 2);
		holes = sparse_fs(fd);
		lseeks = 0;
		skipped = walk(fd, size, d, 2, holes);
		/* Two calls per hole and one more to find there is none (or the end). */
		CU_ASSERT(lseeks <= 2 * 3 + 1);
		CU_ASSERT(!holes || lseeks >= 2);
		if (holes) {
			CU_ASSERT(skipped >= size - 15000 - 4 * (GAP + DL));
		} else {
			fprintf(stderr, "TMPDIR makes no holes: checked that none is reported\n");
		}
		close(fd);
	}
}

static void
test_all_hole_and_dense(void)
{
	int fd = tmp_file();
	uint8_t *z = calloc(1, MIB);
	struct xf_sparse_hole h = XF_SPARSE_HOLE_INIT;

	CU_ASSERT_FATAL(z != NULL);
	/* All hole: every frame. */
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)MIB) == 0);
	if (sparse_fs(fd)) {
		CU_ASSERT_EQUAL(walk(fd, MIB, NULL, 0, true), MIB);
	}
	/* Written zeros are data, not a hole: sent. Two calls for the whole file. */
	CU_ASSERT_FATAL(pwrite(fd, z, MIB, 0) == (ssize_t)MIB);
	CU_ASSERT_FATAL(fsync(fd) == 0);
	lseeks = 0;
	CU_ASSERT_EQUAL(walk(fd, MIB, NULL, 0, false), 0);
	CU_ASSERT(lseeks <= 2);
	/* A cached hole written meanwhile: its bytes are not zeros, so it is sent. */
	h = (struct xf_sparse_hole){ 0, UINT64_MAX };
	z[100] = 1;
	lseeks = 0;
	CU_ASSERT_FALSE(xf_sparse_in_hole(fd, &h, 0, z, DL));
	CU_ASSERT_EQUAL(lseeks, 0);
	z[100] = 0;
	CU_ASSERT_TRUE(xf_sparse_in_hole(fd, &h, 0, z, DL));
	CU_ASSERT_FALSE(xf_sparse_in_hole(fd, &h, DL, z, 0)); /* no bytes: nothing to skip */
	close(fd);
	/* No file (or a file system without SEEK_HOLE): no hole, sent whole. */
	h = XF_SPARSE_HOLE_INIT;
	CU_ASSERT_FALSE(xf_sparse_in_hole(-1, &h, 0, z, DL));
	CU_ASSERT_FALSE(xf_sparse_in_hole(-1, &h, DL, z, DL));
	free(z);
}

/*
 * A file without all-zero frames is never asked (no lseek at all), a dense file with one
 * zero frame is asked once for it (at most two calls), and a sparse file's holes are
 * still found though its data frames are not asked about.
 */
static void
test_dense_not_asked(void)
{
	const uint64_t size = 2 * MIB;
	struct range d[1] = { { 0, 2 * MIB } };
	uint8_t *z = calloc(1, DL);
	int fd = tmp_file();
	struct range e[2] = { { 0, MIB - 3 * DL }, { MIB + 3 * DL, 2 * MIB } };
	uint64_t skipped;

	CU_ASSERT_FATAL(z != NULL);
	put(fd, 0, size, 3);
	lseeks = 0;
	CU_ASSERT_EQUAL(walk(fd, size, d, 1, false), 0);
	CU_ASSERT_EQUAL(lseeks, 0);
	/* Two frames of written zeros: data all the same; asked at the first, not again. */
	CU_ASSERT_FATAL(pwrite(fd, z, DL, (off_t)(100 * DL)) == (ssize_t)DL);
	CU_ASSERT_FATAL(pwrite(fd, z, DL, (off_t)(102 * DL)) == (ssize_t)DL);
	CU_ASSERT_FATAL(fsync(fd) == 0);
	lseeks = 0;
	CU_ASSERT_EQUAL(walk(fd, size, d, 1, false), 0);
	CU_ASSERT(lseeks >= 1 && lseeks <= 2);
	close(fd);
	/* A hole in the middle of data: found, and only its zero frames asked about. */
	fd = tmp_file();
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)size) == 0);
	put(fd, e[0].a, e[0].b - e[0].a, 4);
	put(fd, e[1].a, e[1].b - e[1].a, 5);
	lseeks = 0;
	skipped = walk(fd, size, e, 2, sparse_fs_hole(fd, MIB));
	if (sparse_fs_hole(fd, MIB)) {
		CU_ASSERT(skipped >= DL);
		CU_ASSERT(lseeks >= 2 && lseeks <= 4);
	} else {
		CU_ASSERT_EQUAL(skipped, 0);
	}
	close(fd);
	free(z);
}

static void
test_all_zero(void)
{
	uint8_t b[700];

	memset(b, 0, sizeof(b));
	for (size_t len = 0; len <= sizeof(b); len++) {
		CU_ASSERT_TRUE(xf_sparse_all_zero(b, len));
		for (size_t i = 0; i < len; i++) {
			b[i] = 0x80;
			CU_ASSERT_FALSE(xf_sparse_all_zero(b, len));
			b[i] = 0;
		}
	}
}

static const struct xf_test tests[] = {
	{ "frames in holes, never frames with data", test_holes },
	{ "all hole, written zeros, a hole written meanwhile", test_all_hole_and_dense },
	{ "a dense file is not asked, a hole in data still found", test_dense_not_asked },
	{ "all zeros, every length and position", test_all_zero },
};

int
main(void)
{
	return xf_test_main("sparse", NULL, NULL, XF_TESTS(tests));
}
