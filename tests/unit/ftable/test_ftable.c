/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_ftable.h"

static struct xf_flist_entry
mk(uint8_t kind, const char *path, const char *target)
{
	struct xf_flist_entry e = {
		.kind = kind,
		.mode = 0644,
		.size = 12,
		.mtime_ns = 1700000000123456789ll,
		.path = path,
		.path_len = (uint16_t)strlen(path),
		.target = target,
		.target_len = target != NULL ? (uint16_t)strlen(target) : 0,
	};
	return e;
}

static void
test_split_and_dups(void)
{
	struct xf_ftable ft;
	struct xf_flist_entry e = mk(XF_FILE_REG, "a/b c/-d", NULL);
	struct xf_flist_entry top = mk(XF_FILE_SYMLINK, "link", "../x/y");
	struct xf_flist_entry other = mk(XF_FILE_REG, "a/b c/-e", NULL);
	struct xf_fentry *fe;

	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 1u << 20, 1u << 14), 0);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 5, &e, 10), 0);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 9, &top, 10), 0);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 10, &top, 10), -ERANGE);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 5, &e, 10), -EALREADY);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 5, &other, 10), -EEXIST);
	e.mode = 0600;
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 5, &e, 10), -EEXIST);
	CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 4));
	CU_ASSERT_PTR_NULL(xf_ftable_get(&ft, 100000));
	fe = xf_ftable_get(&ft, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fe);
	CU_ASSERT_STRING_EQUAL(xf_fentry_dir(fe), "a/b c");
	CU_ASSERT_STRING_EQUAL(xf_fentry_base(fe), "-d");
	CU_ASSERT_STRING_EQUAL(xf_fentry_target(fe), "");
	CU_ASSERT_EQUAL(fe->mode, 0644);
	fe = xf_ftable_get(&ft, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fe);
	CU_ASSERT_STRING_EQUAL(xf_fentry_dir(fe), "");
	CU_ASSERT_STRING_EQUAL(xf_fentry_base(fe), "link");
	CU_ASSERT_STRING_EQUAL(xf_fentry_target(fe), "../x/y");
	CU_ASSERT_EQUAL(ft.count, 2u);
	xf_ftable_release(&ft);
}

/*
 * Attribute sets (docs/PROTOCOL.md 6.20): stored after the name, found by lengths and by
 * the NULs alike; part of the entry, so the same entry sent again with another set is
 * a conflict; a kept directory keeps its set, so the same entry sent after it settled
 * is a duplicate, not a conflict.
 */
static void
test_xattr_sets(void)
{
	static const uint8_t set[] = "0123456789-set", other[] = "0123456789-SET";
	struct xf_ftable ft;
	struct xf_flist_entry d = mk(XF_FILE_DIR, "top/dir", NULL);
	struct xf_flist_entry f = mk(XF_FILE_REG, "file", NULL);
	struct xf_fentry *fe;
	const uint8_t *x;
	uint16_t len;

	d.size = 0;
	d.xattr = set;
	d.xattr_len = sizeof(set) - 1;
	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 1u << 20, 1u << 14), 0);
	CU_ASSERT_EQUAL_FATAL(xf_ftable_add(&ft, 0, &d, 10), 0);
	CU_ASSERT_EQUAL_FATAL(xf_ftable_add(&ft, 1, &f, 10), 0);
	fe = xf_ftable_get(&ft, 0);
	x = xf_fentry_xattr(fe, &len);
	CU_ASSERT_EQUAL(len, sizeof(set) - 1);
	CU_ASSERT_EQUAL(memcmp(x, set, len), 0);
	CU_ASSERT_PTR_EQUAL(xf_fname_xattr(fe->name, &len), x);
	xf_fentry_xattr(xf_ftable_get(&ft, 1), &len);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 0, &d, 10), -EALREADY);
	d.xattr = other;
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 0, &d, 10), -EEXIST);
	d.xattr_len = 0;
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 0, &d, 10), -EEXIST);
	/* Settled and kept (a directory whose mtime is set at the end). */
	xf_ftable_settled(&ft, 0, true);
	fe = xf_ftable_get(&ft, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fe->name);
	x = xf_fentry_xattr(fe, &len);
	CU_ASSERT_EQUAL(len, sizeof(set) - 1);
	CU_ASSERT_EQUAL(memcmp(x, set, len), 0);
	d.xattr = set;
	d.xattr_len = sizeof(set) - 1;
	CU_ASSERT_EQUAL(xf_ftable_add(&ft, 0, &d, 10), -EALREADY);
	xf_ftable_release(&ft);
}

/* Paths stay where they were stored while the table grows (workers hold pointers). */
static void
test_paths_stable(void)
{
	struct xf_ftable ft;
	const char *first;
	char path[64];

	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 1u << 20, 1u << 14), 0);
	for (uint32_t i = 0; i < 50000; i++) {
		struct xf_flist_entry e;

		snprintf(path, sizeof(path), "dir%u/file%u", i % 97, i);
		e = mk(XF_FILE_REG, path, NULL);
		CU_ASSERT_EQUAL_FATAL(xf_ftable_add(&ft, 49999 - i, &e, 50000), 0);
		if (i == 0) {
			first = xf_ftable_get(&ft, 49999)->name;
		}
	}
	CU_ASSERT_PTR_EQUAL(xf_ftable_get(&ft, 49999)->name, first);
	CU_ASSERT_STRING_EQUAL(xf_fentry_base(xf_ftable_get(&ft, 49999)), "file0");
	/* Index 0 was added last, as i = 49999. */
	snprintf(path, sizeof(path), "dir%u", 49999u % 97u);
	CU_ASSERT_STRING_EQUAL(xf_fentry_dir(xf_ftable_get(&ft, 0)), path);
	xf_ftable_release(&ft);
}

/*
 * One million entries with realistic nested paths (about 60 bytes), added out of order:
 * resident bytes per entry, counted by the table and by the kernel (the reservation's
 * pages in core), stay <= 256.
 */
static void
test_bytes_per_entry(void)
{
	const uint32_t n = 1000000;
	struct xf_ftable ft;
	size_t res = 0, per_table, per_heap;
	unsigned char *v;
	char path[128];

	CU_ASSERT_EQUAL_FATAL(xf_ftable_reserve(&ft, 1u << 20, 1u << 14), 0);
	for (uint32_t k = 0; k < n; k++) {
		/* A permutation of 0..n-1 (n is not a multiple of 7919, which is prime). */
		uint32_t i = (uint32_t)(((uint64_t)k * 7919u) % n);
		struct xf_flist_entry e;

		snprintf(path, sizeof(path),
		         "project-%03u/src/module_%04u/subdir %02u/file-%07u.dat", i % 7, i % 1000,
		         i % 13, i);
		e = mk(XF_FILE_REG, path, NULL);
		CU_ASSERT_EQUAL_FATAL(xf_ftable_add(&ft, i, &e, n), 0);
	}
	v = malloc(ft.bytes / 4096u);
	CU_ASSERT_FATAL(v != NULL && mincore(ft.base, ft.bytes, v) == 0);
	for (size_t i = 0; i < ft.bytes / 4096u; i++) {
		res += v[i] & 1u;
	}
	free(v);
	per_table = xf_ftable_mem(&ft) / n;
	per_heap = res * 4096u / n;
	printf("\n  ftable: %u entries, %zu bytes/entry (table), %zu bytes/entry (resident)\n", n,
	       per_table, per_heap);
	CU_ASSERT(per_table <= 256);
	CU_ASSERT(per_heap <= 256);
	CU_ASSERT_EQUAL(ft.count, n);
	xf_ftable_release(&ft);
}

static const struct xf_test tests[] = {
	{ "split and duplicates", test_split_and_dups },
	{ "attribute sets", test_xattr_sets },
	{ "paths stable", test_paths_stable },
	{ "bytes per entry", test_bytes_per_entry },
};

int
main(void)
{
	return xf_test_main("ftable", NULL, NULL, XF_TESTS(tests));
}
