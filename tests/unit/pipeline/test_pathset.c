/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The path sets of a session (xf_pathset.h): membership for 2 x 10^5 paths and across
 * thousands of leaf splits, the collision rule (a shared hash answers "present": it can
 * only spare an entry), the bound (at it, and hashes no split can separate: -ENOSPC, the
 * set unchanged, never a crash), that nothing is allocated after the reservation (the
 * program's malloc, calloc, realloc and mmap are counted through -Wl,--wrap, and the
 * set's pointers never move), and, on the real pipeline (xf_hostile.h), that a session
 * whose --delete or -H list goes past xf_pipeline_conf.max_paths is aborted BUSY and
 * counted (entries_over: the file table shares the bound and refuses it first), deletes
 * and links nothing, and leaves its slot usable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xf_alloc_count.h"
#include "xf_attr_case.h"
#include "xf_pathset.h"

static char base_dir[96];

#define MANY 200000u

enum { LISTED, OTHER, SHORT };

/* Path i of a kind into p: listed and other ones in directories of 64, short ones. */
static size_t
path_of(char *p, size_t n, int kind, unsigned int i)
{
	return (size_t)(kind == SHORT
	                        ? snprintf(p, n, "%u/%u", i, i)
	                        : snprintf(p, n, kind == LISTED ? "d%u/file-%u" : "d%u/other-%u",
	                                   i / 64u, i));
}

/* 2 x 10^5 paths in a set reserved for them: every one present once added, duplicates
 * stored once, none of 2 x 10^5 other paths present; again after a reset (the pages of
 * the first fill reused), and without the reservation's pointers moving or an allocation. */
static void
test_membership(void)
{
	struct xf_pathset ps;
	void *base;
	uint32_t *dir;
	uint64_t *leaf;
	uint64_t before;
	unsigned int miss = 0, fp = 0, bad = 0;
	char p[64];

	before = xf_allocs;
	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&ps, MANY), 0);
	CU_ASSERT_EQUAL(xf_allocs, before + 1); /* the reservation's mmap: the count sees it */
	base = ps.base;
	dir = ps.dir;
	leaf = ps.leaf;
	CU_ASSERT_FALSE(xf_pathset_has(&ps, "a", 1));
	for (int round = 0; round < 2; round++) {
		xf_pathset_reset(&ps);
		before = xf_allocs;
		for (unsigned int i = 0; i < MANY; i++) {
			size_t n = path_of(p, sizeof(p), LISTED, i);

			bad += xf_pathset_add(&ps, p, n) != 0;
			/* Every other path again, at once: stored once. */
			if (i % 2 == 0) {
				bad += xf_pathset_add(&ps, p, n) != 0;
			}
		}
		for (unsigned int i = 0; i < MANY; i++) {
			miss += !xf_pathset_has(&ps, p, path_of(p, sizeof(p), LISTED, i));
			fp += xf_pathset_has(&ps, p, path_of(p, sizeof(p), OTHER, i));
		}
		CU_ASSERT_EQUAL(xf_allocs, before); /* asserts allocate: after the counted part */
		CU_ASSERT_EQUAL(bad, 0);
		CU_ASSERT_EQUAL(miss, 0);
		CU_ASSERT_EQUAL(fp, 0);
		CU_ASSERT_EQUAL(xf_pathset_count(&ps), MANY);
		/* Thousands of splits, the directory doubled many times, all in place. */
		CU_ASSERT(ps.nleaves > MANY / XF_PATHSET_LEAF_FILL);
		CU_ASSERT(ps.g >= 9);
		CU_ASSERT_PTR_EQUAL(ps.base, base);
		CU_ASSERT_PTR_EQUAL(ps.dir, dir);
		CU_ASSERT_PTR_EQUAL(ps.leaf, leaf);
		/* Resident: whole leaves, at most 8 / (3/8) bytes of leaf a path, plus the
		 * directory and counts. */
		CU_ASSERT(xf_pathset_mem(&ps) < (size_t)MANY * 24u);
	}
	CU_ASSERT_FALSE(xf_pathset_has(&ps, "", 0));
	CU_ASSERT_NOT_EQUAL(xf_pathset_hash("", 0), 0);
	xf_pathset_release(&ps);
	CU_ASSERT_PTR_NULL(ps.base);
	CU_ASSERT_FALSE(xf_pathset_has(&ps, "d0/file-0", 9)); /* released: holds nothing */
	CU_ASSERT_EQUAL(xf_pathset_add(&ps, "x", 1), -ENOSPC);
}

/* A hash shared by two paths answers "present" for both: the delete walk keeps what the
 * list did not name, never the reverse. Hash 0 is taken as 1, as the hash function's. */
static void
test_collision(void)
{
	struct xf_pathset ps;

	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&ps, 64), 0);
	CU_ASSERT_EQUAL(xf_pathset_add_hash(&ps, xf_pathset_hash("listed/elsewhere", 16)), 0);
	/* A path whose hash equals that of one added ("listed/elsewhere" itself here) is
	 * present though never added by that name; a path with another hash is not. */
	CU_ASSERT_TRUE(xf_pathset_has(&ps, "listed/elsewhere", 16));
	CU_ASSERT_FALSE(xf_pathset_has(&ps, "listed/elsewher", 15));
	CU_ASSERT_EQUAL(xf_pathset_add_hash(&ps, 0), 0);
	CU_ASSERT_TRUE(xf_pathset_has_hash(&ps, 1));
	CU_ASSERT_TRUE(xf_pathset_has_hash(&ps, 0));
	CU_ASSERT_EQUAL(xf_pathset_count(&ps), 2);
	xf_pathset_release(&ps);
}

/* Hash i of test_alike_hashes: the top 2 bits the same (the first splits move every hash
 * one way), i in the 15 bits below them, and the low 9 (the slot in a leaf) the same for
 * runs of 64. */
static uint64_t
alike(unsigned int i)
{
	return (0x2ull << 62) | ((uint64_t)i << 47) | ((i / 64u) & 511u);
}

/* Hashes alike in their top bits (leaves split deep) and in their low bits (long probes
 * in a leaf): never a false "absent". */
static void
test_alike_hashes(void)
{
	struct xf_pathset ps;
	unsigned int miss = 0, bad = 0;
	const unsigned int n = 20000;

	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&ps, 4u * n), 0);
	for (unsigned int i = 0; i < n; i++) {
		bad += xf_pathset_add_hash(&ps, alike(i)) != 0;
	}
	for (unsigned int i = 0; i < n; i++) {
		miss += !xf_pathset_has_hash(&ps, alike(i));
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(miss, 0);
	CU_ASSERT_EQUAL(xf_pathset_count(&ps), n);
	CU_ASSERT(ps.g >= 8);
	xf_pathset_release(&ps);
}

/* At the bound: the next new path is refused, the set unchanged (a path already in still
 * adds). Hashes that share more top bits than the directory can ever use fill one leaf
 * that no split can divide: refused there, everything before still present. */
static void
test_bound(void)
{
	struct xf_pathset ps;
	unsigned int miss = 0, n_ok = 0;
	uint64_t before;
	char p[32];
	int rc = 0;

	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&ps, 1000), 0);
	for (unsigned int i = 0; i < 1000; i++) {
		CU_ASSERT_EQUAL_FATAL(xf_pathset_add(&ps, p, path_of(p, sizeof(p), SHORT, i)), 0);
	}
	CU_ASSERT_EQUAL(xf_pathset_add(&ps, "one-more", 8), -ENOSPC);
	CU_ASSERT_FALSE(xf_pathset_has(&ps, "one-more", 8));
	CU_ASSERT_EQUAL(xf_pathset_count(&ps), 1000);
	CU_ASSERT_EQUAL(xf_pathset_add(&ps, p, path_of(p, sizeof(p), SHORT, 7)), 0);
	for (unsigned int i = 0; i < 1000; i++) {
		miss += !xf_pathset_has(&ps, p, path_of(p, sizeof(p), SHORT, i));
	}
	CU_ASSERT_EQUAL(miss, 0);
	xf_pathset_release(&ps);

	/* Made to collide in their top 40 bits. */
	CU_ASSERT_EQUAL_FATAL(xf_pathset_reserve(&ps, 100000), 0);
	before = xf_allocs;
	for (unsigned int i = 0; i < 1000 && rc == 0; i++) {
		rc = xf_pathset_add_hash(&ps, (0x5a5a5a5a5aull << 24) | (i + 1u));
		n_ok += rc == 0;
	}
	CU_ASSERT_EQUAL(xf_allocs, before);
	CU_ASSERT_EQUAL(rc, -ENOSPC);
	CU_ASSERT_EQUAL(n_ok, XF_PATHSET_LEAF_FILL);
	CU_ASSERT_EQUAL(xf_pathset_count(&ps), XF_PATHSET_LEAF_FILL);
	CU_ASSERT_EQUAL(ps.g, ps.gmax);
	/* Each split that divided nothing took one leaf, the directory no deeper than it may. */
	CU_ASSERT(ps.nleaves <= (uint32_t)ps.gmax + 1u);
	miss = 0;
	for (unsigned int i = 0; i < n_ok; i++) {
		miss += !xf_pathset_has_hash(&ps, (0x5a5a5a5a5aull << 24) | (i + 1u));
	}
	CU_ASSERT_EQUAL(miss, 0);
	CU_ASSERT_FALSE(xf_pathset_has_hash(&ps, (0x5a5a5a5a5aull << 24) | (n_ok + 1u)));
	/* Other hashes still go in, to the leaves the splits made. */
	CU_ASSERT_EQUAL(xf_pathset_add(&ps, "elsewhere", 9), 0);
	CU_ASSERT_TRUE(xf_pathset_has(&ps, "elsewhere", 9));
	xf_pathset_release(&ps);
	CU_ASSERT_EQUAL(xf_pathset_reserve(&ps, 0), -EINVAL);
}

static bool
present(struct xf_acase *c, const char *rel)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, rel);
	return lstat(path, &sb) == 0;
}

static void
touch(struct xf_acase *c, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, rel);
	CU_ASSERT_FATAL(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
}

/* A --delete session of id beneath "d" with the n entries of e, run to its end. */
static void
delete_list(struct xf_acase *c, struct xh_peer *pe, uint32_t id, const struct xf_flist_entry *e,
            unsigned int n)
{
	CU_ASSERT_FATAL(xh_peer_open_flags(&c->h, pe, 1, 1, id, XF_HELLO_F_DELETE, "d",
	                                   XF_DELETE_UNLIMITED) == 0);
	CU_ASSERT_EQUAL(xh_flist(pe, 0, e, n, true), 0);
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, pe, 20000));
}

/* --delete with a list longer than the bound (8): aborted BUSY at the 9th entry, counted
 * (the file table shares the bound and refuses it first: entries_over), nothing deleted. The same
 * slot then takes a list of 8 and deletes what it lacks. */
static void
test_delete_over(void)
{
	struct xf_flist_entry e[12];
	char names[12][16];
	struct xh_peer pe;
	struct xf_acase c;

	xf_acase_begin_paths(&c, base_dir, "delete", 8);
	CU_ASSERT_FATAL(mkdirat(c.h.root, "d", 0755) == 0);
	touch(&c, "d/extra");
	for (unsigned int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), i == 0 ? "d" : "d/s%u", i);
		e[i] = xh_dir(names[i], 0755);
	}
	delete_list(&c, &pe, 0x0e1, e, 12);
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_FALSE(pe.done);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_BUSY);
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.entries_over, 1);
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.paths_over, 0);
	CU_ASSERT_EQUAL(xf_pathset_count(&pe.s->keep), 8);
	CU_ASSERT(present(&c, "d/extra"));
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* A list within the bound, in the same slot: the set was emptied for it. */
	delete_list(&c, &pe, 0x0e2, e, 8);
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_TRUE(pe.done_delete);
	CU_ASSERT_EQUAL(pe.del_status, XF_DEL_OK);
	CU_ASSERT(!present(&c, "d/extra"));
	CU_ASSERT(present(&c, "d/s7"));
	CU_ASSERT(!present(&c, "d/s8")); /* made by the aborted list, not in this one */
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.entries_over, 1);
	xf_acase_end(&c, &pe);
}

/* -H with more entries than the bound (2): the file table, which shares the bound,
 * refuses the third entry and the session aborts BUSY, counted (entries_over); the link
 * after it is never made. */
static void
test_links_over(void)
{
	static const char data[] = "fives";
	struct xf_flist_entry e[] = {
		xh_reg("a", 5),
		xh_reg("b", 5),
		xh_reg("c", 5),
		xh_hardlink("l", "a"),
	};
	struct xh_peer pe;
	struct xf_acase c;

	xf_acase_begin_paths(&c, base_dir, "links", 2);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x0e3, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, XF_ARRAY_SIZE(e), true), 0);
	for (uint32_t f = 0; f < 3 && !pe.aborted; f++) {
		CU_ASSERT(xh_wait_decided(&pe, f, 20000));
		CU_ASSERT_EQUAL(xh_data(&pe, f, 0, data, 5), 0);
		CU_ASSERT_EQUAL(xh_file_end(&pe, f, 5, xf_csum_crc64(0, data, 5)), 0);
	}
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_FALSE(pe.done);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_BUSY);
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.entries_over, 1);
	CU_ASSERT(xf_pathset_count(&pe.s->linkable) <= 2);
	CU_ASSERT(!present(&c, "l"));
	xf_acase_end(&c, &pe);
}

/* Where the address space is limited (RLIMIT_AS here; vm.overcommit_memory=2 alike), the
 * pipeline halves the bound until its slots' reservations fit, and says so in its conf;
 * in a child, whose limit goes with it. Not under AddressSanitizer, whose shadow memory
 * is address space no such limit leaves room for. */
static void
test_address_limit(void)
{
#if defined(__SANITIZE_ADDRESS__)
	printf("(skipped under AddressSanitizer) ");
#else
	pid_t pid = fork();
	int status = -1;

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		long pages = -1;
		FILE *f = fopen("/proc/self/statm", "r");
		struct xh h;
		struct rlimit rl;
		bool ok;

		if (f == NULL || fscanf(f, "%ld", &pages) != 1) {
			_exit(2);
		}
		fclose(f);
		/* What the process maps now and 1 GiB: room for two slots at 2^23, not 2^24
		 * (4 x 345.6 MiB). */
		rl.rlim_cur = rl.rlim_max =
		        (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (1ull << 30);
		if (setrlimit(RLIMIT_AS, &rl) != 0) {
			_exit(3);
		}
		char dir[200];

		snprintf(dir, sizeof(dir), "%s/aslimit", base_dir);
		ok = xh_open_paths(&h, dir, 64, 0, xf_test_io(), 1, false, 0) == 0 &&
		     h.p->conf.max_paths < XF_PIPELINE_MAX_PATHS &&
		     h.p->conf.max_paths >= XF_PIPELINE_MIN_PATHS &&
		     h.p->sessions[1].linkable.max == h.p->conf.max_paths;
		_exit(ok ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

static const struct xf_test tests[] = {
	{ "membership: 2 x 10^5 paths, twice, no allocation, pointers fixed", test_membership },
	{ "a shared hash answers present (only spares); hash 0 as 1", test_collision },
	{ "hashes alike in top and low bits: deep splits, long probes", test_alike_hashes },
	{ "bound: refused at max, and where no split can divide", test_bound },
	{ "--delete list over the bound: aborted BUSY, nothing deleted", test_delete_over },
	{ "-H leaders over the bound: aborted BUSY, no link", test_links_over },
	{ "address space limited: the bound halved until it fits", test_address_limit },
};

int
main(void)
{
	return xf_pt_main("pathset", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
