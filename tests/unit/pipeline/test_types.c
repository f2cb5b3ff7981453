/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Type changes against the real pipeline (xf_hostile.h, docs/PIPELINE.md "Type
 * changes"): a directory replaced by a file or a symlink, a file or a symlink replaced by
 * a directory, a file by a symlink and the reverse; with staged directories and without,
 * one worker and two, with and without --delete, for real and dry. Each case ends as
 * the hostile cases do: no temp left, nothing outside the volume, no fd left open.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "xf_hostile.h"
#include "xf_pipeline_priv.h"
#include "xf_pipeline_test.h"

static char base_dir[96];
static const char data[] = "twelve bytes";

struct tcase {
	struct xh h;
	int fds;
};

static void
case_begin(struct tcase *c, const char *tag, unsigned int workers, bool no_staged)
{
	char dir[200];

	c->fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/%s", base_dir, tag);
	CU_ASSERT_FATAL(xh_open_opts(&c->h, dir, 32, 0, xf_test_io(), workers, no_staged) == 0);
}

static bool
tmp_empty(void *arg)
{
	return xh_tmp_left(arg) == 0;
}

static void
case_end(struct tcase *c, struct xh_peer *pe)
{
	CU_ASSERT(pe == NULL || xh_peer_end(pe, 20000));
	/* A replaced tree still being removed goes on after its session. */
	CU_ASSERT(xh_until(&c->h, tmp_empty, &c->h, 20000));
	CU_ASSERT(xh_outside_intact(&c->h));
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0001, 20000));
	CU_ASSERT_EQUAL(c->h.p->rx[0].stats.stale_done, 0);
	xh_close(&c->h);
	CU_ASSERT_EQUAL(c->h.frames_live, 0);
	CU_ASSERT_EQUAL(xh_fds(), c->fds);
	CU_ASSERT(xh_outside_intact(&c->h));
}

static void
at(const struct tcase *c, const char *rel, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", c->h.vol, rel);
}

static void
put(const struct tcase *c, const char *rel, const char *bytes)
{
	struct timespec ts[2] = { { .tv_sec = 1500000000 }, { .tv_sec = 1500000000 } };
	char p[512];
	int fd;

	at(c, rel, p, sizeof(p));
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	CU_ASSERT_EQUAL(fchmod(fd, 0644), 0);
	CU_ASSERT_EQUAL(futimens(fd, ts), 0);
	close(fd);
}

static void
mk(const struct tcase *c, const char *rel)
{
	char p[512];

	at(c, rel, p, sizeof(p));
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
}

static void
ln(const struct tcase *c, const char *target, const char *rel)
{
	char p[512];

	at(c, rel, p, sizeof(p));
	CU_ASSERT_FATAL(symlink(target, p) == 0);
}

/* S_IFREG, S_IFDIR or S_IFLNK of rel (0 if missing). */
static mode_t
kind_at(const struct tcase *c, const char *rel)
{
	struct stat sb;
	char p[512];

	at(c, rel, p, sizeof(p));
	return lstat(p, &sb) == 0 ? sb.st_mode & S_IFMT : 0;
}

static bool
holds(const struct tcase *c, const char *rel, const char *bytes)
{
	char p[512], got[64] = { 0 };
	int fd;
	ssize_t n;

	at(c, rel, p, sizeof(p));
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	return n == (ssize_t)strlen(bytes) && memcmp(got, bytes, (size_t)n) == 0;
}

static bool
link_is(const struct tcase *c, const char *rel, const char *target)
{
	char p[512], got[64] = { 0 };
	ssize_t n;

	at(c, rel, p, sizeof(p));
	n = readlink(p, got, sizeof(got) - 1);
	return n == (ssize_t)strlen(target) && memcmp(got, target, (size_t)n) == 0;
}

/*
 * The old tree, under d/: each name holds the other kind of what the list has there.
 * d2f and d2l are directories with entries (5 in all), d2f_e and d2l_e empty ones; l2d
 * names d/real, whose "in" is the very file the list has at d/l2d/in (a lookup through
 * the symlink would find it up to date); l2o names a directory outside the volume.
 */
static void
old_tree(const struct tcase *c)
{
	mk(c, "d");
	mk(c, "d/d2f");
	mk(c, "d/d2f/sub");
	put(c, "d/d2f/sub/y", "y");
	put(c, "d/d2f/z", "z");
	mk(c, "d/d2f_e");
	mk(c, "d/d2l");
	mk(c, "d/d2l/q");
	put(c, "d/d2l/q/w", "w");
	mk(c, "d/d2l_e");
	put(c, "d/f2d", "was a file");
	ln(c, "real", "d/l2d");
	ln(c, "../..", "d/l2o");
	ln(c, "x", "d/l2r");
	put(c, "d/r2l", "was a file");
	mk(c, "d/real");
	put(c, "d/real/in", data);
}

#define NE 15u
enum { D, D2F, D2F_E, D2L, D2L_E, F2D, F2D_IN, L2D, L2D_IN, L2O, L2O_IN, L2R, R2L, REAL, REAL_IN };

static void
new_list(struct xf_flist_entry *e)
{
	e[D] = xh_dir("d", 0755);
	e[D2F] = xh_reg("d/d2f", 12);
	e[D2F_E] = xh_reg("d/d2f_e", 12);
	e[D2L] = xh_symlink("d/d2l", "t2");
	e[D2L_E] = xh_symlink("d/d2l_e", "t1");
	e[F2D] = xh_dir("d/f2d", 0750);
	e[F2D_IN] = xh_reg("d/f2d/in", 12);
	e[L2D] = xh_dir("d/l2d", 0755);
	e[L2D_IN] = xh_reg("d/l2d/in", 12);
	e[L2O] = xh_dir("d/l2o", 0755);
	e[L2O_IN] = xh_reg("d/l2o/in", 12);
	e[L2R] = xh_reg("d/l2r", 12);
	e[R2L] = xh_symlink("d/r2l", "t3");
	e[REAL] = xh_dir("d/real", 0755);
	e[REAL_IN] = xh_reg("d/real/in", 12);
}

static bool
decided(void *arg)
{
	struct xh_peer *pe = arg;

	for (unsigned int i = 0; i < NE; i++) {
		if (pe->dec[i] == 0) {
			return pe->aborted;
		}
	}
	return true;
}

/* The list, then DATA and FILE_END for every file decided WHOLE, then the end. */
static void
push(struct tcase *c, struct xh_peer *pe)
{
	struct xf_flist_entry e[NE];

	new_list(e);
	CU_ASSERT_EQUAL(xh_flist(pe, 0, e, NE, false), 0);
	CU_ASSERT_FATAL(xh_until(&c->h, decided, pe, 20000));
	for (uint32_t i = 0; i < NE; i++) {
		if (e[i].kind == XF_FILE_REG && pe->dec[i] == XF_DEC_WHOLE) {
			CU_ASSERT_EQUAL(xh_data(pe, i, 0, data, 12), 0);
			CU_ASSERT_EQUAL(xh_file_end(pe, i, 12, xf_csum_crc64(0, data, 12)), 0);
		}
	}
	CU_ASSERT_EQUAL(xh_flist(pe, NE, NULL, 0, true), 0);
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, pe, 20000));
	CU_ASSERT_TRUE(pe->done);
}

/* What every case expects of the entries that change whatever the options. */
static void
check_changed(const struct tcase *c, const struct xh_peer *pe)
{
	static const unsigned int ok[] = { D2F_E, D2L_E,  F2D, F2D_IN, L2D,  L2D_IN,
		                           L2O,   L2O_IN, L2R, R2L,    REAL, REAL_IN };
	struct stat sb;
	char p[512];

	for (unsigned int k = 0; k < XF_ARRAY_SIZE(ok); k++) {
		CU_ASSERT_EQUAL(pe->st[ok[k]], XF_ST_OK);
	}
	for (unsigned int i = D2F_E; i <= R2L; i++) {
		/* Something of another kind at the path: new, as rsync itemizes it. */
		CU_ASSERT(i == D2F || i == D2L || pe->items[i] == XF_ITEM_NEW);
	}
	/* Never through the symlink: not up to date, although d/real/in is. */
	CU_ASSERT_EQUAL(pe->dec[L2D_IN], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pe->dec[REAL_IN], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(kind_at(c, "d/d2f_e"), S_IFREG);
	CU_ASSERT(holds(c, "d/d2f_e", data));
	CU_ASSERT_EQUAL(kind_at(c, "d/d2l_e"), S_IFLNK);
	CU_ASSERT(link_is(c, "d/d2l_e", "t1"));
	CU_ASSERT_EQUAL(kind_at(c, "d/f2d"), S_IFDIR);
	at(c, "d/f2d", p, sizeof(p));
	CU_ASSERT(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0750);
	CU_ASSERT(holds(c, "d/f2d/in", data));
	CU_ASSERT_EQUAL(kind_at(c, "d/l2d"), S_IFDIR);
	CU_ASSERT(holds(c, "d/l2d/in", data));
	CU_ASSERT_EQUAL(kind_at(c, "d/l2o"), S_IFDIR);
	CU_ASSERT(holds(c, "d/l2o/in", data));
	CU_ASSERT_EQUAL(kind_at(c, "d/l2r"), S_IFREG);
	CU_ASSERT(holds(c, "d/l2r", data));
	CU_ASSERT_EQUAL(kind_at(c, "d/r2l"), S_IFLNK);
	CU_ASSERT(link_is(c, "d/r2l", "t3"));
	at(c, "d/real", p, sizeof(p));
	CU_ASSERT_EQUAL(xh_count_entries(p), 1);
	CU_ASSERT(holds(c, "d/real/in", data));
}

/*
 * Without --delete: every type change is made, each by an exchange where a rename
 * cannot (5: two empty directories, a file and two symlinks replaced by directories),
 * except over the two directories with entries, which are refused at their decision
 * (CONFLICT, nothing sent), as rsync refuses them, and stay whole.
 */
static void
plain_case(const char *tag, unsigned int workers, bool no_staged)
{
	struct tcase c;
	struct xh_peer pe;
	struct xf_pipeline_times t;
	char p[512];

	case_begin(&c, tag, workers, no_staged);
	old_tree(&c);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x7e01, XF_HELLO_F_ITEMIZE, "", 0) ==
	                0);
	push(&c, &pe);
	check_changed(&c, &pe);
	CU_ASSERT_EQUAL(pe.dec[D2F], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[D2F], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(pe.items[D2F], 0);
	CU_ASSERT_EQUAL(pe.dec[D2L], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[D2L], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(kind_at(&c, "d/d2f"), S_IFDIR);
	CU_ASSERT(holds(&c, "d/d2f/sub/y", "y"));
	CU_ASSERT(holds(&c, "d/d2f/z", "z"));
	CU_ASSERT(holds(&c, "d/d2l/q/w", "w"));
	at(&c, "d/d2l", p, sizeof(p));
	CU_ASSERT_EQUAL(xh_count_entries(p), 1);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.type_changes, 5);
	CU_ASSERT_EQUAL(t.trees_replaced, 0);
	CU_ASSERT_EQUAL(t.staged_dirs, no_staged ? 0 : 3); /* f2d, l2d, l2o */
	case_end(&c, &pe);
}

/*
 * With --delete (no limit): the directories with entries go too, step by step after
 * their exchange; what they held counts as deleted and is listed, under the paths it
 * had, as rsync lists it ("*deleting d2f/sub/y" ...).
 */
static void
delete_case(const char *tag, unsigned int workers, bool no_staged)
{
	struct tcase c;
	struct xh_peer pe;
	struct xf_pipeline_times t;

	case_begin(&c, tag, workers, no_staged);
	old_tree(&c);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x7e02,
	                                   XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE, "d",
	                                   XF_DELETE_UNLIMITED) == 0);
	push(&c, &pe);
	check_changed(&c, &pe);
	CU_ASSERT_EQUAL(pe.st[D2F], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.items[D2F], XF_ITEM_NEW);
	CU_ASSERT_EQUAL(pe.st[D2L], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.items[D2L], XF_ITEM_NEW);
	CU_ASSERT_EQUAL(kind_at(&c, "d/d2f"), S_IFREG);
	CU_ASSERT(holds(&c, "d/d2f", data));
	CU_ASSERT_EQUAL(kind_at(&c, "d/d2l"), S_IFLNK);
	CU_ASSERT(link_is(&c, "d/d2l", "t2"));
	CU_ASSERT_TRUE(pe.done_delete);
	CU_ASSERT_EQUAL(pe.del_status, XF_DEL_OK);
	CU_ASSERT_EQUAL(pe.deleted, 5); /* d2f/sub/y, d2f/sub, d2f/z, d2l/q/w, d2l/q */
	CU_ASSERT_EQUAL(pe.kept, 0);
	CU_ASSERT_EQUAL(pe.del_listed, 5);
	CU_ASSERT_TRUE(pe.del_last_before_done);
	CU_ASSERT(strncmp(pe.del_first, "d2f/", 4) == 0);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.type_changes, 7);
	CU_ASSERT_EQUAL(t.trees_replaced, 2);
	case_end(&c, &pe);
}

/*
 * Dry runs write nothing and decide as the real run would: with --delete every change
 * is new and the walk counts (and lists) what the replaced directories hold; without it
 * the two directories with entries are refused.
 */
static void
test_dry(void)
{
	static char before[XH_SNAP], after[XH_SNAP];

	for (int del = 0; del < 2; del++) {
		struct tcase c;
		struct xh_peer pe;
		struct xf_flist_entry e[NE];

		case_begin(&c, del ? "dry-delete" : "dry", 1, false);
		old_tree(&c);
		CU_ASSERT_EQUAL(xh_snapshot(c.h.vol, before, sizeof(before)), 0);
		CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x7e03,
		                                   XF_HELLO_F_DRYRUN | XF_HELLO_F_ITEMIZE |
		                                           (del ? XF_HELLO_F_DELETE : 0),
		                                   "d", XF_DELETE_UNLIMITED) == 0);
		new_list(e);
		CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, NE, true), 0);
		CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
		CU_ASSERT_TRUE(pe.done);
		for (unsigned int i = D2F; i <= R2L; i++) {
			bool refused = !del && (i == D2F || i == D2L);

			CU_ASSERT_EQUAL(pe.dec[i], refused ? XF_DEC_REFUSED : XF_DEC_WHOLE);
			CU_ASSERT_EQUAL(pe.items[i], refused ? 0 : XF_ITEM_NEW);
		}
		CU_ASSERT_EQUAL(pe.dec[REAL_IN], XF_DEC_UPTODATE);
		if (del) {
			CU_ASSERT_EQUAL(pe.deleted, 5);
			CU_ASSERT_EQUAL(pe.del_listed, 5);
		}
		CU_ASSERT_EQUAL(xh_snapshot(c.h.vol, after, sizeof(after)), 0);
		CU_ASSERT_STRING_EQUAL(after, before);
		case_end(&c, &pe);
	}
}

static void
test_plain(void)
{
	plain_case("plain-1", 1, false);
	plain_case("plain-1-unstaged", 1, true);
	plain_case("plain-2", 2, false);
	plain_case("plain-2-unstaged", 2, true);
}

static void
test_delete(void)
{
	delete_case("delete-1", 1, false);
	delete_case("delete-1-unstaged", 1, true);
	delete_case("delete-2", 2, false);
}

static bool
decided_1(void *arg)
{
	struct xh_peer *pe = arg;

	return pe->dec[1] != 0 || pe->aborted;
}

static bool
is_file_now(void *arg)
{
	const struct tcase *c = arg;

	return kind_at(c, "d/big") == S_IFREG;
}

/*
 * A big directory (3,000 files) replaced by a file under --delete: the file is in place
 * at once, whole, while the old tree is still being removed from the staging directory
 * (a bounded step per poll: the commits go on meanwhile); then it is all gone and
 * counted. An abort while such a tree is removed stops the counting, not the removal.
 */
static void
test_big_tree(void)
{
	for (int abort_it = 0; abort_it < 2; abort_it++) {
		struct tcase c;
		struct xh_peer pe;
		struct xf_flist_entry e[2] = { xh_dir("d", 0755), xh_reg("d/big", 12) };
		char p[512];

		case_begin(&c, abort_it ? "big-abort" : "big", 1, false);
		mk(&c, "d");
		mk(&c, "d/big");
		for (unsigned int i = 0; i < 3000; i++) {
			char rel[64];

			snprintf(rel, sizeof(rel), "d/big/f%u", i);
			put(&c, rel, "x");
		}
		CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x7e04, XF_HELLO_F_DELETE, "d",
		                                   XF_DELETE_UNLIMITED) == 0);
		CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 2, true), 0);
		CU_ASSERT_FATAL(xh_until(&c.h, decided_1, &pe, 20000));
		CU_ASSERT_EQUAL(pe.dec[1], XF_DEC_WHOLE);
		CU_ASSERT_EQUAL(xh_data(&pe, 1, 0, data, 12), 0);
		CU_ASSERT_EQUAL(xh_file_end(&pe, 1, 12, xf_csum_crc64(0, data, 12)), 0);
		CU_ASSERT_FATAL(xh_until(&c.h, is_file_now, &c, 20000));
		/* In place, whole, and the old tree still in the staging directory. */
		CU_ASSERT(holds(&c, "d/big", data));
		CU_ASSERT_EQUAL(xh_tmp_left(&c.h), 1);
		if (abort_it) {
			xf_session_abort(pe.s);
			CU_ASSERT(xh_until(&c.h, xh_session_done, &pe, 20000));
		} else {
			CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
			CU_ASSERT_TRUE(pe.done);
			CU_ASSERT_EQUAL(pe.st[1], XF_ST_OK);
			CU_ASSERT_EQUAL(pe.deleted, 3000);
			CU_ASSERT_EQUAL(pe.del_status, XF_DEL_OK);
			CU_ASSERT_EQUAL(xh_tmp_left(&c.h), 0);
		}
		at(&c, "d", p, sizeof(p));
		CU_ASSERT_EQUAL(xh_count_entries(p), 1);
		case_end(&c, &pe);
	}
}

/*
 * A crash while a replaced tree was being removed leaves it under its temp name in the
 * staging directory: the next start empties it, tree and all, never following a
 * symlink in it out of the volume.
 */
static void
test_leftover(void)
{
	struct tcase c;
	char dir[200], p[600];

	snprintf(dir, sizeof(dir), "%s/leftover", base_dir);
	case_begin(&c, "leftover", 1, false);
	xh_close(&c.h);
	snprintf(p, sizeof(p), "%s/vol/.xferd/tmp/x.old", dir);
	CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/vol/.xferd/tmp/x.old/sub", dir);
	CU_ASSERT_FATAL(mkdir(p, 0700) == 0);
	snprintf(p, sizeof(p), "%s/vol/.xferd/tmp/x.old/sub/out", dir);
	CU_ASSERT_FATAL(symlink("../../../../..", p) == 0);
	c.h.root = open(c.h.vol, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		struct xf_pipeline_conf pc = {
			.n_rx = 1,
			.n_workers = 1,
			.window = 32,
			.max_sessions = 2,
			.io = xf_test_io(),
			.ring_size = 256,
			.uring_depth = 64,
			.delta_cache_mb = -1,
			.source = { xh_source },
			.release = xh_release,
			.root_fd = c.h.root,
		};

		pc.source_arg[0] = &c.h;
		pc.release_arg = &c.h;
		c.h.p = xf_pipeline_create(&pc);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.h.p);
	CU_ASSERT_EQUAL(xh_tmp_left(&c.h), 0);
	CU_ASSERT(xh_outside_intact(&c.h));
	case_end(&c, NULL);
}

static const struct xf_test tests[] = {
	{ "type changes without --delete: exchanged, directories with entries refused",
	  test_plain },
	{ "type changes with --delete: replaced trees removed, counted, listed", test_delete },
	{ "type changes in a dry run: decided, nothing written", test_dry },
	{ "a big tree replaced: in place at once, removed in steps, abort", test_big_tree },
	{ "a replaced tree left by a crash: removed at start", test_leftover },
};

int
main(void)
{
	return xf_pt_main("types", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
