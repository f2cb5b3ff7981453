/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hard links (XF_FILE_HARDLINK, XF_HELLO_F_HARDLINKS) against the real pipeline
 * (xf_hostile.h), docs/PIPELINE.md "Hard links": a link is made to its leader once the
 * leader has committed, a name that already is that link stays, another file at the name
 * is replaced; and every link whose leader is not a regular file this session committed
 * before it is refused with XF_ST_LINK and counted (links_refused): a later index,
 * itself, a directory, a symlink, a path outside the list, a failed leader, a leader of
 * another session, a path that leaves the volume or names the staging directory, and
 * any link in a session that did not ask for them. Nothing is ever linked outside the
 * volume. Each case ends as test_hostile.c's do (no temp, nothing outside the volume,
 * every frame released, no fd left, the slots work again).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "xf_csum.h"
#include "xf_hostile.h"
#include "xf_pipeline_priv.h"
#include "xf_pipeline_test.h"

static char base_dir[96];

struct lcase {
	struct xh h;
	int fds;
};

static void
case_begin(struct lcase *c, const char *tag)
{
	char dir[200];

	c->fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/%s", base_dir, tag);
	CU_ASSERT_FATAL(xh_open(&c->h, dir, 64, 0, xf_test_io()) == 0);
}

static uint64_t
links_refused(struct lcase *c)
{
	return c->h.p->rx[0].stats.links_refused;
}

static void
case_end(struct lcase *c, struct xh_peer *a, struct xh_peer *b)
{
	CU_ASSERT(a == NULL || xh_peer_end(a, 20000));
	CU_ASSERT(b == NULL || xh_peer_end(b, 20000));
	CU_ASSERT_EQUAL(xh_tmp_left(&c->h), 0);
	CU_ASSERT(xh_outside_intact(&c->h));
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0001, 20000));
	CU_ASSERT_EQUAL(c->h.p->rx[0].stats.stale_done, 0);
	xh_close(&c->h);
	CU_ASSERT_EQUAL(c->h.frames_live, 0);
	CU_ASSERT_EQUAL(xh_fds(), c->fds);
	CU_ASSERT(xh_outside_intact(&c->h));
}

/* Send file f's five bytes and its FILE_END (crc_ok false: a wrong CRC). */
static void
send_five(struct xh_peer *pe, uint32_t f, const char *data, bool crc_ok)
{
	CU_ASSERT_EQUAL(xh_data(pe, f, 0, data, 5), 0);
	CU_ASSERT_EQUAL(xh_file_end(pe, f, 5, xf_csum_crc64(0, data, 5) ^ (crc_ok ? 0 : 1)), 0);
}

static ino_t
ino_of(struct lcase *c, const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, name);
	return lstat(path, &sb) == 0 ? sb.st_ino : 0;
}

static bool
exists(struct lcase *c, const char *name)
{
	return ino_of(c, name) != 0;
}

/* Until file f's DECISION arrived: DATA before it is dropped (data_dropped). */
static void
wait_decided(struct xh_peer *pe, uint32_t f)
{
	CU_ASSERT(xh_wait_decided(pe, f, 20000));
}

/* The list is sent whole (LAST), the data of the regular files listed in reg[] (n of
 * them), and the session run to its DONE. */
static void
run_list(struct lcase *c, struct xh_peer *pe, const struct xf_flist_entry *e, unsigned int n,
         const uint32_t *reg, unsigned int nreg, const char *data)
{
	CU_ASSERT_EQUAL_FATAL(xh_flist(pe, 0, e, n, true), 0);
	for (unsigned int i = 0; i < nreg; i++) {
		wait_decided(pe, reg[i]);
		send_five(pe, reg[i], data, true);
	}
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, pe, 20000));
	CU_ASSERT_TRUE(pe->done);
	CU_ASSERT_FALSE(pe->aborted);
}

/*
 * One list with a good group (a, b -> a, sub/c -> a across directories, created by the
 * commit) and every way a link may name a wrong leader. Only the good names are linked.
 */
static void
test_groups_and_refusals(void)
{
	struct lcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		xh_reg("a", 5),                     /* 0 */
		xh_hardlink("b", "a"),              /* 1 OK */
		xh_hardlink("early", "late"),       /* 2 a later index */
		xh_hardlink("self", "self"),        /* 3 itself */
		xh_dir("sub", 0755),                /* 4 */
		xh_hardlink("todir", "sub"),        /* 5 a directory */
		xh_symlink("sym", "a"),             /* 6 */
		xh_hardlink("tosym", "sym"),        /* 7 a symlink */
		xh_hardlink("nolist", "elsewhere"), /* 8 not in the list */
		xh_hardlink("out", "../outside"),   /* 9 leaves the volume */
		xh_hardlink("stg", ".xferd/tmp/x"), /* 10 the staging directory */
		xh_reg("late", 5),                  /* 11 */
		xh_hardlink("sub/c", "a"),          /* 12 OK, in another directory */
		xh_hardlink("abs", "/etc/passwd"),  /* 13 absolute */
	};
	const uint32_t reg[] = { 0, 11 };
	const uint8_t want[] = {
		XF_ST_OK,   XF_ST_OK,   XF_ST_LINK, XF_ST_LINK, XF_ST_OK, XF_ST_LINK, XF_ST_OK,
		XF_ST_LINK, XF_ST_LINK, XF_ST_LINK, XF_ST_LINK, XF_ST_OK, XF_ST_OK,   XF_ST_LINK,
	};
	char path[512];
	struct stat sb;

	case_begin(&c, "groups");
	/* A regular file on the volume that the list does not name: not a leader. */
	snprintf(path, sizeof(path), "%s/elsewhere", c.h.vol);
	CU_ASSERT_FATAL(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1a, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	run_list(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg), "fives");
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(e); i++) {
		CU_ASSERT_EQUAL(pe.st[i], want[i]);
		if (pe.st[i] != want[i]) {
			fprintf(stderr, "entry %u (%s): status %u, expected %u\n", i, e[i].path,
			        pe.st[i], want[i]);
		}
	}
	CU_ASSERT_NOT_EQUAL(ino_of(&c, "a"), 0);
	CU_ASSERT_EQUAL(ino_of(&c, "b"), ino_of(&c, "a"));
	CU_ASSERT_EQUAL(ino_of(&c, "sub/c"), ino_of(&c, "a"));
	snprintf(path, sizeof(path), "%s/a", c.h.vol);
	CU_ASSERT(stat(path, &sb) == 0 && sb.st_nlink == 3);
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(e); i++) {
		if (want[i] == XF_ST_LINK) {
			CU_ASSERT_FALSE(exists(&c, e[i].path));
		}
	}
	CU_ASSERT_EQUAL(links_refused(&c), 8);
	case_end(&c, &pe, NULL);
}

/* A session without XF_HELLO_F_HARDLINKS refuses every link; so does one whose leader
 * failed (wrong CRC), and one whose leader another session committed. */
static void
test_flag_failed_leader_other_session(void)
{
	struct lcase c;
	struct xh_peer pe, pe2;
	struct xf_flist_entry e[] = { xh_reg("a", 5), xh_hardlink("b", "a") };
	struct xf_flist_entry other[] = { xh_hardlink("c", "a") };
	const uint32_t reg[] = { 0 };

	case_begin(&c, "flag");
	/* No flag: refused at once, as listed. */
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x2a, 0, "", 0) == 0);
	run_list(&c, &pe, e, 2, reg, 1, "first");
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.dec[1], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_LINK);
	CU_ASSERT_FALSE(exists(&c, "b"));
	CU_ASSERT_EQUAL(links_refused(&c), 1);
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* The leader fails its CRC: the old "a" stays, and "b" is not linked to it. */
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x2b, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	e[0].mtime_ns++; /* not up to date: sent again */
	CU_ASSERT_EQUAL_FATAL(xh_flist(&pe, 0, e, 2, true), 0);
	wait_decided(&pe, 0);
	send_five(&pe, 0, "wrong", false);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_LINK);
	CU_ASSERT_FALSE(exists(&c, "b"));
	CU_ASSERT_EQUAL(links_refused(&c), 2);

	/* "a" is on the volume (the first session's), but not this session's. */
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe2, 1, 2, 0x2c, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	run_list(&c, &pe2, other, 1, NULL, 0, NULL);
	CU_ASSERT_EQUAL(pe2.st[0], XF_ST_LINK);
	CU_ASSERT_FALSE(exists(&c, "c"));
	CU_ASSERT_EQUAL(links_refused(&c), 3);
	case_end(&c, &pe, &pe2);
}

/*
 * A second push: the name that already is the leader's link stays (same inode, nothing
 * written); another file at a member's name is replaced by the link; a leader rewritten
 * (a new inode) takes its members along; a directory at a member's name is a CONFLICT.
 */
static void
test_existing_names(void)
{
	struct lcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		xh_reg("a", 5),          xh_hardlink("same", "a"), xh_hardlink("other", "a"),
		xh_hardlink("dir", "a"), xh_reg("n", 5),           xh_hardlink("follows", "n"),
	};
	const uint32_t reg[] = { 4 };
	char path[512];
	ino_t a, same, n_old;

	case_begin(&c, "existing");
	snprintf(path, sizeof(path), "%s/a", c.h.vol);
	/* "a" is up to date (size and mtime of the list): its inode stays. */
	{
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		struct timespec ts[2] = { { .tv_sec = 1500000000 }, { .tv_sec = 1500000000 } };

		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(write(fd, "fives", 5), 5);
		CU_ASSERT_EQUAL(futimens(fd, ts), 0);
		close(fd);
	}
	{
		char apath[512];

		snprintf(apath, sizeof(apath), "%s/a", c.h.vol);
		snprintf(path, sizeof(path), "%s/same", c.h.vol);
		CU_ASSERT_FATAL(link(apath, path) == 0);
	}
	snprintf(path, sizeof(path), "%s/other", c.h.vol);
	CU_ASSERT_FATAL(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
	snprintf(path, sizeof(path), "%s/dir", c.h.vol);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/n", c.h.vol);
	CU_ASSERT_FATAL(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
	{
		char fpath[512];

		snprintf(fpath, sizeof(fpath), "%s/follows", c.h.vol);
		CU_ASSERT_FATAL(link(path, fpath) == 0);
	}
	a = ino_of(&c, "a");
	same = ino_of(&c, "same");
	n_old = ino_of(&c, "n");
	CU_ASSERT_EQUAL(a, same);

	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x3a, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	/* Only "n" gets data: "a" is up to date. */
	run_list(&c, &pe, e, XF_ARRAY_SIZE(e), reg, 1, "fives");
	CU_ASSERT_EQUAL(pe.dec[0], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[3], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(pe.st[4], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[5], XF_ST_OK);
	CU_ASSERT_EQUAL(ino_of(&c, "a"), a);
	CU_ASSERT_EQUAL(ino_of(&c, "same"), a);
	CU_ASSERT_EQUAL(ino_of(&c, "other"), a);
	CU_ASSERT_NOT_EQUAL(ino_of(&c, "n"), n_old); /* rewritten: a new inode */
	CU_ASSERT_EQUAL(ino_of(&c, "follows"), ino_of(&c, "n"));
	snprintf(path, sizeof(path), "%s/dir", c.h.vol);
	CU_ASSERT_EQUAL(xh_count_entries(path), 0); /* the directory left as it was */
	CU_ASSERT_EQUAL(links_refused(&c), 0);
	case_end(&c, &pe, NULL);
}

/*
 * Symlinks on the receiver in a leader's path: one to a directory outside the volume (the
 * leader is decided new, since the quick check follows no symlink, but cannot be written
 * there: ESCAPE at its commit, so its link is refused), one to a directory in the volume
 * (the leader is written through it, but the link's lookup follows no symlink:
 * refused). Nothing is linked, nothing outside the volume changes.
 */
static void
test_symlinks_in_the_way(void)
{
	struct lcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		xh_reg("out/x", 5),
		xh_hardlink("y", "out/x"),
		xh_reg("in/x", 5),
		xh_hardlink("z", "in/x"),
	};
	const uint32_t reg[] = { 0, 2 };
	char path[512];

	case_begin(&c, "symlinks");
	snprintf(path, sizeof(path), "%s/out", c.h.vol);
	CU_ASSERT_FATAL(symlink(c.h.dir, path) == 0); /* the case's directory: CANARY beside */
	snprintf(path, sizeof(path), "%s/real", c.h.vol);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/in", c.h.vol);
	CU_ASSERT_FATAL(symlink("real", path) == 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x4a, XF_HELLO_F_HARDLINKS, "", 0) ==
	                0);
	run_list(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg), "fives");
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_ESCAPE);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_LINK);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_OK);
	CU_ASSERT_NOT_EQUAL(ino_of(&c, "real/x"), 0);
	CU_ASSERT_EQUAL(pe.st[3], XF_ST_LINK);
	CU_ASSERT_FALSE(exists(&c, "y"));
	CU_ASSERT_FALSE(exists(&c, "z"));
	/* y refused on the RX core (no committed leader), z by the commit worker's lookup. */
	CU_ASSERT_EQUAL(links_refused(&c), 2);
	case_end(&c, &pe, NULL);
}

static const struct xf_test tests[] = {
	{ "a group across directories; every wrong leader refused", test_groups_and_refusals },
	{ "no flag, a failed leader, a leader of another session",
	  test_flag_failed_leader_other_session },
	{ "names already linked, replaced, following a rewritten leader, a directory",
	  test_existing_names },
	{ "symlinks in a leader's path: out of the volume, in it", test_symlinks_in_the_way },
};

int
main(void)
{
	return xf_pt_main("hardlinks", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
