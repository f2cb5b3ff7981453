/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Extended attributes and ACLs (XF_HELLO_F_XATTRS, XF_HELLO_F_ACLS, XF_HDR_F_XATTR,
 * docs/PROTOCOL.md 6.20) against the real pipeline (xf_hostile.h): a regular file and a
 * directory get their sets (user.*, an access and a default ACL), read back equal and
 * counted, and given again in place to an up-to-date file whose set changed; security.*
 * and trusted.* only where the volume keeps them
 * (xf_pipeline_conf.xattr_ns, volumes[].xattr_namespaces), the others left out and
 * counted; the DECISION items of an up-to-date entry say which of its attributes and
 * ACLs differ (rsync's `x` and `a`; a mode change alone is not an ACL change); sets over
 * each bound, with a wrong CRC-64 or in a namespace the session did
 * not ask for are refused XF_ST_XATTR, counted by reason, and nothing appears; FLIST
 * frames whose layout disagrees with the HELLO abort the session.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include "xf_attr_case.h"
#include "xf_xattr.h"

static char base_dir[96];

static void
case_begin(struct xf_acase *c, const char *tag, unsigned int ns)
{
	xf_acase_begin(c, base_dir, tag);
	c->h.p->conf.xattr_ns = ns; /* volumes[].xattr_namespaces */
}

/* Value of attribute name of path in the volume into buf; its length or -1. */
static ssize_t
get(struct xf_acase *c, const char *path, const char *name, char *buf, size_t n)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", c->h.vol, path);
	return lgetxattr(full, name, buf, n);
}

/* An entry with the set of the (name, value) pairs in names/values (sorted), in buf. */
static struct xf_flist_entry
with_set(struct xf_flist_entry e, uint8_t *buf, size_t cap, const char *const *names,
         const char *const *values, const size_t *lens, unsigned int n)
{
	struct xf_xattr_enc enc;
	int len;

	xf_xattr_enc_init(&enc, buf, cap);
	for (unsigned int i = 0; i < n; i++) {
		xf_xattr_enc_add(&enc, names[i], strlen(names[i]), values[i], lens[i]);
	}
	len = xf_xattr_enc_finish(&enc);
	CU_ASSERT_FATAL(len >= 0);
	e.xattr = len > 0 ? buf : NULL;
	e.xattr_len = (uint16_t)len;
	return e;
}

/* A minimal ACL in the kernel's form (version 2; user::rwx, group::r-x, other::r-x). */
static const char acl_min[] = "\x02\0\0\0"
                              "\x01\0\x07\0\xff\xff\xff\xff"
                              "\x04\0\x05\0\xff\xff\xff\xff"
                              "\x20\0\x05\0\xff\xff\xff\xff";
/* The same with a named user (uid 65534, r--) and its mask. */
static const char acl_user[] = "\x02\0\0\0"
                               "\x01\0\x06\0\xff\xff\xff\xff"
                               "\x02\0\x04\0\xfe\xff\0\0"
                               "\x04\0\x04\0\xff\xff\xff\xff"
                               "\x10\0\x04\0\xff\xff\xff\xff"
                               "\x20\0\x04\0\xff\xff\xff\xff";

/* acl_user as a chmod 0600 leaves it: its mask and others' entry ---. */
static const char acl_user600[] = "\x02\0\0\0"
                                  "\x01\0\x06\0\xff\xff\xff\xff"
                                  "\x02\0\x04\0\xfe\xff\0\0"
                                  "\x04\0\x04\0\xff\xff\xff\xff"
                                  "\x10\0\0\0\xff\xff\xff\xff"
                                  "\x20\0\0\0\xff\xff\xff\xff";

/* Sets on a file and a directory; namespaces as the volume keeps them (ns); counted. */
static void
kinds(const char *tag, unsigned int ns)
{
	static uint8_t sa[256], sd[256];
	static const char *const na[] = { "security.t", "system.posix_acl_access", "trusted.t",
		                          "user.k", "user.z" };
	static const char *const va[] = { "sec", acl_user, "tru", "v", "" };
	static const size_t la[] = { 3, sizeof(acl_user) - 1, 3, 1, 0 };
	static const char *const nd[] = { "system.posix_acl_default", "user.d" };
	static const char *const vd[] = { acl_min, "dir" };
	static const size_t ld[] = { sizeof(acl_min) - 1, 3 };
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[3];
	const uint32_t reg[] = { 0, 2 };
	bool sec = (ns & XF_XATTR_NS_SECURITY) != 0, tru = (ns & XF_XATTR_NS_TRUSTED) != 0;
	char v[128];

	e[0] = with_set(xh_reg("a", 5), sa, sizeof(sa), na, va, la, 5);
	e[0].mode = 0644; /* as the ACL: its group bits are its mask, r-- */
	e[1] = with_set(xh_dir("d", 0755), sd, sizeof(sd), nd, vd, ld, 2);
	e[2] = xh_reg("d/f", 5); /* none: d's default ACL is not inherited */
	case_begin(&c, tag, ns);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1a,
	                                   XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS, "", 0) == 0);
	pe.flist_hdr = XF_HDR_F_XATTR;
	xf_acase_run(&c, &pe, e, 3, reg, 2);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
	}
	CU_ASSERT_EQUAL(get(&c, "a", "user.k", v, sizeof(v)), 1);
	CU_ASSERT_EQUAL(get(&c, "a", "user.z", v, sizeof(v)), 0);
	CU_ASSERT_EQUAL(get(&c, "a", "system.posix_acl_access", v, sizeof(v)),
	                (ssize_t)sizeof(acl_user) - 1);
	CU_ASSERT_EQUAL(memcmp(v, acl_user, sizeof(acl_user) - 1), 0);
	CU_ASSERT_EQUAL(get(&c, "a", "security.t", v, sizeof(v)), sec ? 3 : -1);
	CU_ASSERT_EQUAL(get(&c, "a", "trusted.t", v, sizeof(v)), tru ? 3 : -1);
	CU_ASSERT_EQUAL(get(&c, "d", "user.d", v, sizeof(v)), 3);
	CU_ASSERT_EQUAL(get(&c, "d", "system.posix_acl_default", v, sizeof(v)),
	                (ssize_t)sizeof(acl_min) - 1);
	CU_ASSERT_EQUAL(get(&c, "d/f", "system.posix_acl_access", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(xf_acase_times(&c).xattrs_set, 3);
	CU_ASSERT_EQUAL(xf_acase_times(&c).xattrs_failed, 0);
	CU_ASSERT_EQUAL(xf_acase_times(&c).xattrs_skipped, (sec ? 0u : 1u) + (tru ? 0u : 1u));
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* Only a's user.k changed: every entry up to date, a's new set given in place. */
	{
		static uint8_t sa2[256];
		static const char *const va2[] = { "sec", acl_user, "tru", "w", "" };

		e[0] = with_set(xh_reg("a", 5), sa2, sizeof(sa2), na, va2, la, 5);
		e[0].mode = 0644;
	}
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1b,
	                                   XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS | XF_HELLO_F_ITEMIZE,
	                                   "", 0) == 0);
	pe.flist_hdr = XF_HDR_F_XATTR;
	xf_acase_run(&c, &pe, e, 3, reg, 2);
	CU_ASSERT(xh_wait_decided(&pe, 1, 20000));
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_UPTODATE);
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
	}
	/* rsync's `.f........x a`: the attributes, not the ACL, nor the others. */
	CU_ASSERT_EQUAL(pe.items[0], XF_ITEM_XATTR);
	CU_ASSERT_EQUAL(pe.items[1], 0);
	CU_ASSERT_EQUAL(pe.items[2], 0);
	CU_ASSERT_EQUAL(get(&c, "a", "user.k", v, sizeof(v)), 1);
	CU_ASSERT_EQUAL(v[0], 'w');
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* a's mode alone (its ACL's mask follows the group bits: `p`, not `a`, as rsync
	 * prints); d's default ACL now names a user (`a`). */
	{
		static uint8_t sa3[256], sd2[256];
		static const char *const va3[] = { "sec", acl_user600, "tru", "w", "" };
		static const size_t la3[] = { 3, sizeof(acl_user600) - 1, 3, 1, 0 };
		static const char *const vd2[] = { acl_user, "dir" };
		static const size_t ld2[] = { sizeof(acl_user) - 1, 3 };

		e[0] = with_set(xh_reg("a", 5), sa3, sizeof(sa3), na, va3, la3, 5);
		e[0].mode = 0600;
		e[1] = with_set(xh_dir("d", 0755), sd2, sizeof(sd2), nd, vd2, ld2, 2);
	}
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x1c,
	                                   XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS | XF_HELLO_F_ITEMIZE,
	                                   "", 0) == 0);
	pe.flist_hdr = XF_HDR_F_XATTR;
	xf_acase_run(&c, &pe, e, 3, reg, 2);
	CU_ASSERT(xh_wait_decided(&pe, 1, 20000));
	CU_ASSERT_EQUAL(pe.items[0], XF_ITEM_PERMS);
	CU_ASSERT_EQUAL(pe.items[1], XF_ITEM_ACL);
	CU_ASSERT_EQUAL(pe.items[2], 0);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_OK);
	}
	CU_ASSERT_EQUAL(get(&c, "d", "system.posix_acl_default", v, sizeof(v)),
	                (ssize_t)sizeof(acl_user) - 1);
	xf_acase_end(&c, &pe);
}

static void
test_user_acl(void)
{
	kinds("user", 0);
}

static void
test_security_trusted(void)
{
	if (getuid() != 0) {
		/* trusted.* needs CAP_SYS_ADMIN: security.* alone then. */
		kinds("sec", XF_XATTR_NS_SECURITY);
		return;
	}
	kinds("sectru", XF_XATTR_NS_SECURITY | XF_XATTR_NS_TRUSTED);
}

/* Each refusal: its file refused XATTR and never there, its counter one more. */
static void
test_refused(void)
{
	static uint8_t s[6][4096];
	static char big[XF_XATTR_VALUE_MAX + 1];
	const char *n1[] = { "user.v" };
	const char *v1[] = { big };
	size_t l_over[] = { XF_XATTR_VALUE_MAX + 1 };
	const char *nacl[] = { "system.posix_acl_access" };
	const char *vacl[] = { acl_min };
	size_t lacl[] = { sizeof(acl_min) - 1 };
	const char *names[XF_XATTR_COUNT_MAX + 1];
	const char *vals[XF_XATTR_COUNT_MAX + 1];
	size_t lens[XF_XATTR_COUNT_MAX + 1];
	char nbuf[XF_XATTR_COUNT_MAX + 1][16];
	struct xf_acase c;
	struct xh_peer pe;
	struct xf_flist_entry e[6];
	const struct xf_pipeline_rx_stats *st;

	memset(big, 'b', sizeof(big));
	for (unsigned int i = 0; i <= XF_XATTR_COUNT_MAX; i++) {
		snprintf(nbuf[i], sizeof(nbuf[i]), "user.%03u", i);
		names[i] = nbuf[i];
		vals[i] = big;
		lens[i] = i < 2 ? 1020u : 1u; /* 10 + 2 * 1031 + 12 > 2048 */
	}
	e[0] = with_set(xh_reg("value", 5), s[0], sizeof(s[0]), n1, v1, l_over, 1);
	e[1] = with_set(xh_reg("total", 5), s[1], sizeof(s[1]), names, vals, lens, 3);
	for (unsigned int i = 0; i <= XF_XATTR_COUNT_MAX; i++) {
		lens[i] = 1;
	}
	e[2] = with_set(xh_reg("count", 5), s[2], sizeof(s[2]), names, vals, lens,
	                XF_XATTR_COUNT_MAX + 1);
	e[3] = with_set(xh_reg("crc", 5), s[3], sizeof(s[3]), names, vals, lens, 1);
	s[3][0] ^= 1;
	e[4] = with_set(xh_reg("acl", 5), s[4], sizeof(s[4]), nacl, vacl, lacl, 1);
	e[5] = with_set(xh_reg("fine", 5), s[5], sizeof(s[5]), names, vals, lens, 2);
	case_begin(&c, "refused", 0);
	/* -X alone: an ACL is a name of a namespace the session did not ask for. */
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x2a, XF_HELLO_F_XATTRS, "", 0) == 0);
	pe.flist_hdr = XF_HDR_F_XATTR;
	{
		const uint32_t reg[] = { 5 };

		xf_acase_run(&c, &pe, e, 6, reg, 1);
	}
	for (unsigned int i = 0; i < 5; i++) {
		char path[512];
		struct stat sb;

		CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_REFUSED);
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_XATTR);
		snprintf(path, sizeof(path), "%s/%s", c.h.vol, e[i].path);
		CU_ASSERT_NOT_EQUAL(lstat(path, &sb), 0);
	}
	CU_ASSERT_EQUAL(pe.st[5], XF_ST_OK);
	st = &c.h.p->rx[0].stats;
	CU_ASSERT_EQUAL(st->xattr_value, 1);
	CU_ASSERT_EQUAL(st->xattr_total, 1);
	CU_ASSERT_EQUAL(st->xattr_count, 1);
	CU_ASSERT_EQUAL(st->xattr_crc, 1);
	CU_ASSERT_EQUAL(st->xattr_name, 1);
	CU_ASSERT_EQUAL(st->xattr_malformed, 0);
	CU_ASSERT_EQUAL(xf_acase_times(&c).xattrs_set, 1);
	xf_acase_end(&c, &pe);
}

/* A session with HELLO flags hello sends FLIST frames with header flags hdr: aborted. */
static void
mismatch(struct xf_acase *c, uint32_t id, uint32_t hello, uint16_t hdr, uint64_t aborts)
{
	struct xh_peer pe;
	struct xf_flist_entry e = xh_reg("a", 5);

	CU_ASSERT_FATAL(xh_peer_open_flags(&c->h, &pe, 1, (uint16_t)id, id, hello, "", 0) == 0);
	pe.flist_hdr = hdr;
	CU_ASSERT_EQUAL_FATAL(xh_flist(&pe, 0, &e, 1, true), 0);
	CU_ASSERT(xh_until(&c->h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.aborted);
	CU_ASSERT_EQUAL(pe.abort_code, XF_ABORT_PROTOCOL);
	CU_ASSERT_EQUAL(c->h.p->rx[0].stats.proto_aborts, aborts);
	CU_ASSERT(xh_peer_end(&pe, 20000));
}

static void
test_layout_mismatch(void)
{
	struct xf_acase c;

	case_begin(&c, "mismatch", 0);
	mismatch(&c, 0x4a, 0, XF_HDR_F_XATTR, 1);
	mismatch(&c, 0x4b, XF_HELLO_F_XATTRS, 0, 2);
	mismatch(&c, 0x4c, XF_HELLO_F_ACLS, 0, 3);
	xf_acase_end(&c, NULL);
}

static const struct xf_test tests[] = {
	{ "user.* and ACLs on a file and a directory", test_user_acl },
	{ "security.* and trusted.* where the volume keeps them", test_security_trusted },
	{ "bounds, CRC-64, namespace: refused and counted", test_refused },
	{ "FLIST layout against the HELLO", test_layout_mismatch },
};

int
main(void)
{
	return xf_pt_main("xattrs", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
