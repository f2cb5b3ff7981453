/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owners and groups (XF_HELLO_F_OWNER, XF_FLIST_F_OWNER, docs/PROTOCOL.md 6.17) against
 * the real pipeline (xf_hostile.h): on a volume that keeps them, every kind of entry gets
 * the uid and gid its entry carries (XF_ID_NONE leaves that one), a set-id mode survives
 * the chown, an up-to-date entry with another owner gets its owner back without data
 * and is itemized OWNER, GROUP; a volume that does not keep them sets none; an entry that
 * cannot have them (no CAP_CHOWN) fails with XF_ST_ATTR, is counted, and a file never
 * appears; FLIST frames whose layout disagrees with the HELLO abort the session. By name
 * (XF_HELLO_F_OWNER_NAMES, 6.21, the receiver's accounts injected): the ids the names
 * have here are set, an unknown name or an id without one keeps the number (counted),
 * a second push finds them up to date, the lookups are cached; a name table in a
 * session that did not ask for names, or a second name for an id, aborts it. Each case
 * ends as test_hostile.c's do.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "xf_attr_case.h"
#include "xf_csum.h"
#include "xf_worker_priv.h"

static char base_dir[96];

/* Owners the entries get: others than the test's own when it may give them (root). */
static uint32_t uid_a, gid_a, uid_b, gid_b;

static void
case_begin(struct xf_acase *c, const char *tag, bool keep)
{
	xf_acase_begin(c, base_dir, tag);
	c->h.p->conf.keep_owner = keep; /* volumes[].keep_owner */
}

/* lstat of name in the volume; st_ino 0 if it is not there. */
static struct stat
at(struct xf_acase *c, const char *name)
{
	char path[512];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, name);
	if (lstat(path, &sb) != 0) {
		memset(&sb, 0, sizeof(sb));
	}
	return sb;
}

static struct xf_flist_entry
owned(struct xf_flist_entry e, uint32_t uid, uint32_t gid)
{
	e.uid = uid;
	e.gid = gid;
	return e;
}

/* Drop (or take back) CAP_CHOWN from this thread's effective set: the workers run their
 * chown calls on it (xh_poll). */
static int
chown_cap(bool on)
{
	struct __user_cap_header_struct hd = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &hd, d) != 0) {
		return -1;
	}
	if (on) {
		d[0].effective |= 1u << CAP_CHOWN;
	} else {
		d[0].effective &= ~(1u << CAP_CHOWN);
	}
	return (int)syscall(SYS_capset, &hd, d);
}

/* Every kind gets what its entry carries; a set-id mode survives; an up-to-date entry
 * with another owner gets it back, itemized, without data. */
static void
test_kinds_and_uptodate(void)
{
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		owned(xh_reg("a", 5), uid_a, gid_a),            /* 0 */
		owned(xh_reg("g", 5), XF_ID_NONE, gid_b),       /* 1 group only (-g) */
		owned(xh_reg("s", 5), uid_b, gid_a),            /* 2 set-user-ID */
		owned(xh_dir("d", 0750), uid_b, gid_b),         /* 3 */
		owned(xh_symlink("d/l", "../a"), uid_a, gid_b), /* 4 */
		owned(xh_reg("d/f", 5), uid_b, XF_ID_NONE),     /* 5 owner only (-o) */
		owned(xh_reg("n", 5), XF_ID_NONE, XF_ID_NONE),  /* 6 neither */
	};
	const uint32_t reg[] = { 0, 1, 2, 5, 6 };
	struct stat sb;
	char path[512];

	e[2].mode = 04755;
	case_begin(&c, "kinds", true);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1a, XF_HELLO_F_OWNER, "", 0) == 0);
	pe.flist_flags = XF_FLIST_F_OWNER;
	xf_acase_run(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg));
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(e); i++) {
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
		sb = at(&c, e[i].path);
		CU_ASSERT_NOT_EQUAL(sb.st_ino, 0);
		CU_ASSERT_EQUAL(sb.st_uid, e[i].uid != XF_ID_NONE ? e[i].uid : getuid());
		CU_ASSERT_EQUAL(sb.st_gid, e[i].gid != XF_ID_NONE ? e[i].gid : getgid());
		if (e[i].kind != XF_FILE_SYMLINK) {
			CU_ASSERT_EQUAL(sb.st_mode & 07777, e[i].mode);
		}
	}
	CU_ASSERT_EQUAL(xf_acase_times(&c).owners_set, 6); /* all but "n" */
	CU_ASSERT_EQUAL(xf_acase_times(&c).owners_failed, 0);
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* Owners changed on the receiver, nothing else: up to date, owners set back. */
	snprintf(path, sizeof(path), "%s/a", c.h.vol);
	CU_ASSERT_FATAL(lchown(path, uid_b, gid_b) == 0);
	snprintf(path, sizeof(path), "%s/d/l", c.h.vol);
	CU_ASSERT_FATAL(lchown(path, uid_b, gid_a) == 0);
	snprintf(path, sizeof(path), "%s/s", c.h.vol);
	CU_ASSERT_FATAL(lchown(path, uid_a, gid_a) == 0 && chmod(path, 04755) == 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1b,
	                                   XF_HELLO_F_OWNER | XF_HELLO_F_ITEMIZE, "", 0) == 0);
	pe.flist_flags = XF_FLIST_F_OWNER;
	xf_acase_run(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg));
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(e); i++) {
		CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_UPTODATE);
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
		sb = at(&c, e[i].path);
		CU_ASSERT_EQUAL(sb.st_uid, e[i].uid != XF_ID_NONE ? e[i].uid : getuid());
		CU_ASSERT_EQUAL(sb.st_gid, e[i].gid != XF_ID_NONE ? e[i].gid : getgid());
	}
	/* The owner differed only where the test changed it (equal ids: no item). */
	CU_ASSERT_EQUAL(pe.items[0], (uid_a != uid_b ? XF_ITEM_OWNER : 0u) |
	                                     (gid_a != gid_b ? XF_ITEM_GROUP : 0u));
	CU_ASSERT_EQUAL(pe.items[4], (uid_a != uid_b ? XF_ITEM_OWNER : 0u) |
	                                     (gid_a != gid_b ? XF_ITEM_GROUP : 0u));
	CU_ASSERT_EQUAL(pe.items[2], uid_a != uid_b ? XF_ITEM_OWNER : 0u);
	CU_ASSERT_EQUAL(pe.items[1], 0);
	CU_ASSERT_EQUAL(pe.items[3], 0);
	/* The chown of "s" cleared its set-user-ID bit: the mode is set again. */
	CU_ASSERT_EQUAL(at(&c, "s").st_mode & 07777, 04755);
	xf_acase_end(&c, &pe);
}

/* A volume that does not keep owners sets none, whatever the list carries. */
static void
test_not_kept(void)
{
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = { owned(xh_reg("a", 5), uid_a, gid_a),
		                      owned(xh_dir("d", 0755), uid_b, gid_b) };
	const uint32_t reg[] = { 0 };

	case_begin(&c, "notkept", false);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x2a, XF_HELLO_F_OWNER, "", 0) == 0);
	pe.flist_flags = XF_FLIST_F_OWNER;
	xf_acase_run(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg));
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_OK);
	CU_ASSERT_EQUAL(at(&c, "a").st_uid, getuid());
	CU_ASSERT_EQUAL(at(&c, "d").st_gid, getgid());
	CU_ASSERT_EQUAL(xf_acase_times(&c).owners_set, 0);
	xf_acase_end(&c, &pe);
}

/*
 * Without CAP_CHOWN: a new file fails with XF_ST_ATTR and never appears (its temp file
 * goes), a file that was there keeps its old (empty) version; an up-to-date one with another
 * owner is refused ATTR; each is counted. Not root: a chown to another uid fails so too.
 */
static void
test_no_cap(void)
{
	struct xf_acase c;
	struct xh_peer pe;
	uint32_t other = getuid() + 4242u;
	struct xf_flist_entry e[] = {
		owned(xh_reg("new", 5), other, XF_ID_NONE),   /* 0 */
		owned(xh_reg("old", 5), other, XF_ID_NONE),   /* 1 there, empty (so WHOLE) */
		owned(xh_reg("same", 5), other, XF_ID_NONE),  /* 2 up to date */
		owned(xh_reg("mine", 5), getuid(), getgid()), /* 3 its own ids: no privilege */
	};
	const uint32_t reg[] = { 0, 1, 3 };
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT },
		                  { .tv_sec = 1500000000, .tv_nsec = 0 } };
	char path[512];
	int fd;

	case_begin(&c, "nocap", true);
	snprintf(path, sizeof(path), "%s/old", c.h.vol);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/same", c.h.vol);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0 && write(fd, "fives", 5) == 5 && futimens(fd, ts) == 0);
	close(fd);
	if (getuid() == 0) {
		CU_ASSERT_FATAL(chown_cap(false) == 0);
	}
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x3a, XF_HELLO_F_OWNER, "", 0) == 0);
	pe.flist_flags = XF_FLIST_F_OWNER;
	xf_acase_run(&c, &pe, e, XF_ARRAY_SIZE(e), reg, XF_ARRAY_SIZE(reg));
	if (getuid() == 0) {
		CU_ASSERT_FATAL(chown_cap(true) == 0);
	}
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_ATTR);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_ATTR);
	CU_ASSERT_EQUAL(pe.dec[2], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_ATTR);
	CU_ASSERT_EQUAL(pe.st[3], XF_ST_OK);
	CU_ASSERT_EQUAL(at(&c, "new").st_ino, 0);
	CU_ASSERT_NOT_EQUAL(at(&c, "old").st_ino, 0);
	CU_ASSERT_EQUAL(at(&c, "old").st_size, 0);
	CU_ASSERT_EQUAL(at(&c, "same").st_uid, getuid());
	CU_ASSERT_EQUAL(at(&c, "mine").st_size, 5);
	CU_ASSERT_EQUAL(xf_acase_times(&c).owners_failed, 3);
	CU_ASSERT_EQUAL(xf_acase_times(&c).owners_set, 1);
	xf_acase_end(&c, &pe);
}

/* A session with HELLO flags hello sends an FLIST with flist_flags: aborted (PROTOCOL,
 * the aborts counted so far now aborts), nothing written. */
static void
mismatch(struct xf_acase *c, uint32_t id, uint32_t hello, uint16_t flist_flags, uint64_t aborts)
{
	struct xh_peer pe;
	struct xf_flist_entry e = owned(xh_reg("a", 5), uid_a, gid_a);

	CU_ASSERT_FATAL(xh_peer_open_flags(&c->h, &pe, 1, (uint16_t)id, id, hello, "", 0) == 0);
	pe.flist_flags = flist_flags;
	CU_ASSERT_EQUAL_FATAL(xh_flist(&pe, 0, &e, 1, true), 0);
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_PROTOCOL);
	CU_ASSERT_EQUAL(c->h.p->rx[0].stats.proto_aborts, aborts);
	CU_ASSERT_EQUAL(at(c, "a").st_ino, 0);
	CU_ASSERT(xh_peer_end(&pe, 20000));
}

/* FLIST frames whose layout disagrees with the HELLO: owners in a session that did not
 * announce them, none in one that did. */
static void
test_layout_mismatch(void)
{
	struct xf_acase c;

	case_begin(&c, "mismatch", true);
	mismatch(&c, 0x4a, 0, XF_FLIST_F_OWNER, 1);
	mismatch(&c, 0x4b, XF_HELLO_F_OWNER, 0, 2);
	xf_acase_end(&c, NULL);
}

/* ---- By name (docs/PROTOCOL.md 6.21) ---- */

/* The receiver's accounts: users alpha (uid_a), beta (uid_b); groups ga (gid_a), gb
 * (gid_b); no other. */
static int
accounts(void *arg, enum xf_name_kind kind, const char *name, uint32_t *id)
{
	static const struct {
		uint8_t kind;
		const char *name;
		uint32_t *id;
	} acc[] = {
		{ XF_NAME_USER, "alpha", &uid_a },
		{ XF_NAME_USER, "beta", &uid_b },
		{ XF_NAME_GROUP, "ga", &gid_a },
		{ XF_NAME_GROUP, "gb", &gid_b },
	};

	(void)arg;
	for (size_t i = 0; i < XF_ARRAY_SIZE(acc); i++) {
		if (acc[i].kind == kind && strcmp(acc[i].name, name) == 0) {
			*id = *acc[i].id;
			return 0;
		}
	}
	return -ENOENT;
}

/* Give every worker of the case the injected accounts (before any session). */
static void
inject_accounts(struct xf_acase *c)
{
	for (unsigned int i = 0; i < c->h.p->conf.n_workers; i++) {
		xf_idmap_init(&c->h.p->w[i]->idmap, accounts, NULL);
	}
}

/* An FLIST frame with owners and the name table rec[0..nrec), as a sender with names
 * sends it. */
static int
flist_named(struct xh_peer *pe, uint32_t first, const struct xf_flist_entry *e, unsigned int n,
            bool last, const struct xf_name_rec *rec, unsigned int nrec)
{
	pe->flist_flags = XF_FLIST_F_OWNER;
	return xh_flist_named(pe, first, e, n, last, rec, nrec);
}

static int
cmp_rec(const void *a, const void *b)
{
	const struct xf_name_rec *x = a, *y = b;

	return x->kind != y->kind ? (int)x->kind - (int)y->kind : (x->id > y->id) - (x->id < y->id);
}

#define NREC(k, i, s)                                                                              \
	{                                                                                          \
		.kind = (k), .len = (uint8_t)(sizeof(s) - 1), .id = (i), .name = (s)               \
	}

/* The sender's ids 7001, 7002 (alpha, beta), 7100, 7101 (ga, gb) differ from the
 * receiver's; an unknown name keeps the number; an id without a name too. */
static void
test_names_mapped(void)
{
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		owned(xh_reg("a", 5), 7001, 7101),             /* 0 alpha, gb */
		owned(xh_dir("d", 0750), 7002, 7100),          /* 1 beta, ga */
		owned(xh_symlink("d/l", "../a"), 7001, gid_b), /* 2 alpha, "ghost" */
		owned(xh_reg("d/f", 5), uid_b, XF_ID_NONE),    /* 3 "nobody-here", -o */
		owned(xh_reg("u", 5), 7002, gid_a),            /* 4 beta, no name */
	};
	/* Frame 1: entries 0..2; frame 2: 3..4, naming 7002 again (the same name). */
	struct xf_name_rec r1[] = {
		NREC(XF_NAME_USER, 7001, "alpha"),   NREC(XF_NAME_USER, 7002, "beta"),
		NREC(XF_NAME_GROUP, gid_b, "ghost"), NREC(XF_NAME_GROUP, 7100, "ga"),
		NREC(XF_NAME_GROUP, 7101, "gb"),
	};
	struct xf_name_rec r2[] = {
		NREC(XF_NAME_USER, uid_b, "nobody-here"),
		NREC(XF_NAME_USER, 7002, "beta"),
	};
	const uint32_t want_uid[] = { uid_a, uid_b, uid_a, uid_b, uid_b };
	const uint32_t want_gid[] = { gid_b, gid_a, gid_b, getgid(), gid_a };
	const uint32_t reg[] = { 0, 3, 4 };
	/* "ghost" twice (a group of 2, and of 4 when gid_a is gid_b), "nobody-here" once. */
	uint64_t unmapped = 2u + (gid_a == gid_b ? 1u : 0u);

	/* The wire's (kind, id) order: uid_b and gid_b are the test's own ids, or root's. */
	qsort(r1, XF_ARRAY_SIZE(r1), sizeof(r1[0]), cmp_rec);
	qsort(r2, XF_ARRAY_SIZE(r2), sizeof(r2[0]), cmp_rec);
	case_begin(&c, "names", true);
	inject_accounts(&c);
	for (unsigned int run = 0; run < 2; run++) {
		CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x5a + run,
		                                   XF_HELLO_F_OWNER | XF_HELLO_F_OWNER_NAMES |
		                                           XF_HELLO_F_ITEMIZE,
		                                   "", 0) == 0);
		CU_ASSERT_EQUAL_FATAL(flist_named(&pe, 0, e, 3, false, r1, XF_ARRAY_SIZE(r1)), 0);
		CU_ASSERT_EQUAL_FATAL(flist_named(&pe, 3, e + 3, 2, true, r2, XF_ARRAY_SIZE(r2)),
		                      0);
		for (unsigned int i = 0; i < XF_ARRAY_SIZE(reg); i++) {
			CU_ASSERT(xh_wait_decided(&pe, reg[i], 20000));
			if (pe.dec[reg[i]] == XF_DEC_WHOLE) {
				CU_ASSERT_EQUAL(xh_data(&pe, reg[i], 0, "fives", 5), 0);
				CU_ASSERT_EQUAL(
				        xh_file_end(&pe, reg[i], 5, xf_csum_crc64(0, "fives", 5)),
				        0);
			}
		}
		CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
		CU_ASSERT_TRUE(pe.done);
		CU_ASSERT_FALSE(pe.aborted);
		for (unsigned int i = 0; i < XF_ARRAY_SIZE(e); i++) {
			struct stat sb = at(&c, e[i].path);

			CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
			CU_ASSERT_EQUAL(sb.st_uid, want_uid[i]);
			CU_ASSERT_EQUAL(sb.st_gid, want_gid[i]);
			if (run == 1) {
				/* Compared with the mapped ids: up to date, no owner item. */
				CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_UPTODATE);
				CU_ASSERT_EQUAL(pe.items[i], 0);
			}
		}
		CU_ASSERT_EQUAL(xf_acase_times(&c).owners_unmapped, unmapped * (run + 1));
		CU_ASSERT_EQUAL(xf_acase_times(&c).owners_set, 5);
		CU_ASSERT_EQUAL(c.h.p->rx[0].stats.names_refused, 0);
		if (run == 0) {
			CU_ASSERT(xh_peer_end(&pe, 20000));
		}
	}
	/* alpha, beta, nobody-here, ga, gb, ghost: once each, both runs (cached). */
	CU_ASSERT_EQUAL(c.h.p->w[0]->idmap.lookups, 6);
	xf_acase_end(&c, &pe);
}

/* A name table the session did not ask for; a second name for an id already named. */
static void
test_names_refused(void)
{
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = { owned(xh_reg("a", 5), 7001, XF_ID_NONE),
		                      owned(xh_reg("b", 5), 7001, XF_ID_NONE) };
	const struct xf_name_rec alpha[] = { NREC(XF_NAME_USER, 7001, "alpha") };
	const struct xf_name_rec beta[] = { NREC(XF_NAME_USER, 7001, "beta") };

	case_begin(&c, "namesbad", true);
	inject_accounts(&c);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x6a, XF_HELLO_F_OWNER, "", 0) == 0);
	CU_ASSERT_EQUAL_FATAL(flist_named(&pe, 0, e, 2, true, alpha, 1), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_PROTOCOL);
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.names_refused, 1);
	CU_ASSERT(xh_peer_end(&pe, 20000));

	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 2, 0x6b,
	                                   XF_HELLO_F_OWNER | XF_HELLO_F_OWNER_NAMES, "", 0) == 0);
	CU_ASSERT_EQUAL_FATAL(flist_named(&pe, 0, e, 1, false, alpha, 1), 0);
	CU_ASSERT_EQUAL_FATAL(flist_named(&pe, 1, e + 1, 1, true, beta, 1), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_PROTOCOL);
	CU_ASSERT_EQUAL(c.h.p->rx[0].stats.names_refused, 2);
	CU_ASSERT_EQUAL(at(&c, "b").st_ino, 0);
	CU_ASSERT(xh_peer_end(&pe, 20000));
	xf_acase_end(&c, NULL);
}

static const struct xf_test tests[] = {
	{ "every kind gets its owner; up to date with another owner", test_kinds_and_uptodate },
	{ "a volume that does not keep owners", test_not_kept },
	{ "no CAP_CHOWN: ATTR, counted, nothing appears", test_no_cap },
	{ "FLIST layout against the HELLO", test_layout_mismatch },
	{ "by name: mapped, unknown kept, up to date again", test_names_mapped },
	{ "by name: tables refused", test_names_refused },
};

int
main(void)
{
	/* As root the entries get ids nobody here has; otherwise the test's own (a chown to
	 * them needs no privilege), and test_no_cap still fails for another uid. */
	bool root = getuid() == 0;

	uid_a = root ? 1234u : (uint32_t)getuid();
	gid_a = root ? 5678u : (uint32_t)getgid();
	uid_b = root ? 4321u : (uint32_t)getuid();
	gid_b = root ? 8765u : (uint32_t)getgid();
	return xf_pt_main("owner", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
