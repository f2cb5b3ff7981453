/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The file table in its reservation (xf_ftable.h): after xf_ftable_reserve() nothing is
 * allocated (the program's malloc, calloc, realloc and mmap are counted through
 * -Wl,--wrap) while 2 x 10^5 entries are added and settled a window behind, through
 * thousands of chunk reuses; every entry and every unsettled path reads back right; the
 * chunks ever touched stay at what was live at once, for a second session too; an earlier
 * session's entries are not seen by the next; the bound on entries and on live chunks is
 * refused -ENOSPC with the table unchanged. The session's abort at the bound is in
 * unit-pipeline-pathset (entries_over).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_alloc_count.h"

#include "xf_ftable.h"

#define WINDOW 1024u
#define MANY   (196u * WINDOW) /* 200704 */

static struct xf_flist_entry
entry(uint32_t i, char *buf, size_t cap)
{
	struct xf_flist_entry e = {
		.kind = XF_FILE_REG,
		.mode = 0644,
		.size = (uint64_t)i * 3u + 1u,
		.mtime_ns = 1700000000000000000ll + i,
		.path = buf,
		.uid = XF_ID_NONE,
		.gid = XF_ID_NONE,
	};

	e.path_len = (uint16_t)snprintf(buf, cap, "dir-%03u/sub %02u/file-%07u.dat", i % 997u,
	                                i % 13u, i);
	return e;
}

/* Whether entry i reads back as entry() made it (its path too, if it is still held). */
static bool
reads_back(struct xf_ftable *ft, uint32_t i)
{
	char want[128], got[160];
	struct xf_flist_entry e = entry(i, want, sizeof(want));
	const struct xf_fentry *fe = xf_ftable_get(ft, i);

	if (fe == NULL || fe->size != e.size || fe->mtime_ns != e.mtime_ns ||
	    fe->path_len != e.path_len || fe->kind != XF_FILE_REG) {
		return false;
	}
	if (fe->name == NULL) {
		return true;
	}
	snprintf(got, sizeof(got), "%s/%s", xf_fentry_dir(fe), xf_fentry_base(fe));
	return strcmp(got, want) == 0;
}

/* Pages of [p, p + n) resident. */
static size_t
resident(const void *p, size_t n)
{
	size_t pages = n / 4096u, r = 0;
	unsigned char v[256];

	for (size_t off = 0; off < pages; off += sizeof(v)) {
		size_t k = pages - off < sizeof(v) ? pages - off : sizeof(v);

		CU_ASSERT_FATAL(mincore((char *)p + off * 4096u, k * 4096u, v) == 0);
		for (size_t j = 0; j < k; j++) {
			r += v[j] & 1u;
		}
	}
	return r;
}

/* One session: MANY entries in windows added in reverse order, settled a window behind;
 * every held entry checked as it goes. @return adds that failed or read back wrong. */
static unsigned int
session(struct xf_ftable *ft)
{
	unsigned int bad = 0;

	xf_ftable_reset(ft);
	for (uint32_t w = 0; w < MANY; w += WINDOW) {
		for (uint32_t k = WINDOW; k-- > 0;) {
			char buf[128];
			struct xf_flist_entry e = entry(w + k, buf, sizeof(buf));

			bad += xf_ftable_add(ft, w + k, &e, w + WINDOW) != 0;
		}
		for (uint32_t k = 0; k < WINDOW; k++) {
			bad += !reads_back(ft, w + k);
		}
		if (w >= WINDOW) {
			for (uint32_t k = 0; k < WINDOW; k++) {
				xf_ftable_settled(ft, w - WINDOW + k, false);
			}
		}
	}
	return bad;
}

static void
test_no_allocation(void)
{
	struct xf_ftable ft;
	uint64_t before;
	const struct xf_fentry *ent;
	const char *chunks;
	uint32_t fresh, bad = 0;
	size_t res;

	before = xf_allocs;
	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 1u << 20, WINDOW), 0);
	CU_ASSERT_EQUAL(xf_allocs, before + 1); /* the reservation's mmap: the count sees it */
	ent = ft.ent;
	chunks = ft.chunks;
	before = xf_allocs;
	CU_ASSERT_EQUAL(session(&ft), 0);
	CU_ASSERT_EQUAL(ft.count, MANY);
	for (uint32_t i = 0; i < MANY; i++) {
		bad += !reads_back(&ft, i);
	}
	CU_ASSERT_EQUAL(bad, 0);
	fresh = ft.fresh;
	/* About 60 bytes a path: 2 x 1024 of them in 2 or 3 chunks, whatever the list's
	 * length (about 190 chunks of paths went through them). */
	CU_ASSERT(fresh >= 2 && fresh <= 4);
	res = resident(ft.chunks, (size_t)ft.nchunks * XF_FTABLE_CHUNK);
	CU_ASSERT(res <= (size_t)fresh * (XF_FTABLE_CHUNK / 4096u));
	printf("\n  %u entries: %u chunks touched (%zu pages resident), %zu bytes in use\n", MANY,
	       fresh, res, xf_ftable_mem(&ft));

	/* The slot's next session: same chunks, no earlier entry seen before it is added. */
	xf_ftable_reset(&ft);
	CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 0));
	CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, MANY - 1));
	{
		char buf[128];
		struct xf_flist_entry e = entry(7, buf, sizeof(buf));

		CU_ASSERT_EQUAL(xf_ftable_add(&ft, 7, &e, WINDOW), 0);
		CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 6));
		CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 0));
		CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 8));
		/* Index 3 held an earlier session's entry: not a duplicate now. */
		e = entry(1003, buf, sizeof(buf));
		CU_ASSERT_EQUAL(xf_ftable_add(&ft, 3, &e, WINDOW), 0);
	}
	CU_ASSERT_EQUAL(session(&ft), 0);
	CU_ASSERT_EQUAL(ft.fresh, fresh);
	CU_ASSERT_EQUAL(xf_allocs, before);
	CU_ASSERT_PTR_EQUAL(ft.ent, ent);
	CU_ASSERT_PTR_EQUAL(ft.chunks, chunks);
	xf_ftable_release(&ft);
}

static void
test_bound(void)
{
	static char big[XF_PATH_MAX + 1];
	struct xf_ftable ft;
	char buf[128];
	struct xf_flist_entry e;
	uint32_t n = 0;
	uint64_t before;

	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 100, 1), 0);
	before = xf_allocs;
	e = entry(100, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 100, &e, UINT32_MAX), -ENOSPC);
	CU_ASSERT_EQUAL(ft.count, 0);
	CU_ASSERT_EQUAL(ft.nlive, 0);
	CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 100));
	e = entry(99, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 99, &e, UINT32_MAX), 0);

	/* A window of 1: XF_FTABLE_CHUNKS(1) = 3 chunks; paths of about 8 KiB unsettled
	 * fill them, then the next is refused, the table unchanged, until one settles. */
	CU_ASSERT_EQUAL(ft.nchunks, 3);
	memset(big, 'a', sizeof(big) - 1);
	for (uint32_t i = 0; i < 99; i++) {
		struct xf_flist_entry b = {
			.kind = XF_FILE_SYMLINK,
			.mode = 0777,
			.path = big,
			.path_len = XF_PATH_MAX,
			.target = big,
			.target_len = XF_PATH_MAX,
		};
		int rc = xf_ftable_add(&ft, i, &b, UINT32_MAX);

		if (rc == -ENOSPC) {
			uint32_t count = ft.count;

			CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, i));
			CU_ASSERT_EQUAL(ft.nlive, 3);
			xf_ftable_settled(&ft, i - 1, false);
			CU_ASSERT_EQUAL(ft.count, count);
			CU_ASSERT_EQUAL(xf_ftable_add(&ft, i, &b, UINT32_MAX), -ENOSPC);
			break;
		}
		CU_ASSERT_EQUAL_FATAL(rc, 0);
		n++;
	}
	/* 3 x 64 KiB of 8 KiB paths (with entry 99's in the first chunk). */
	CU_ASSERT(n >= 20 && n <= 24);
	CU_ASSERT_EQUAL(ft.fresh, 3);
	CU_ASSERT_EQUAL(xf_allocs, before);
	xf_ftable_release(&ft);
}

static const struct xf_test tests[] = {
	{ "2 x 10^5 entries twice: no allocation, read back, chunks reused", test_no_allocation },
	{ "bound: entries and live chunks refused, table unchanged", test_bound },
};

int
main(void)
{
	return xf_test_main("ftable-reserve", NULL, NULL, XF_TESTS(tests));
}
