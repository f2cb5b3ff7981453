/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attribute sets (xf_xattr.h, docs/PROTOCOL.md 6.20): the CRC-64/XZ against the standard
 * check value and a bitwise reference at every length from 0 to 64; the encoder's
 * canonical bytes; every bound of xf_xattr_check() at its limit and one past it, each
 * with its own reason; every truncation and every byte flipped of a valid set refused;
 * and FLIST frames with XF_HDR_F_XATTR: round trip, the entry's set cut anywhere
 * (truncated), the flag on another frame type (reserved), a builder that refuses a set
 * in a frame without the flag.
 */
#include <errno.h>

#include "xf_proto_test.h"
#include "xf_xattr.h"

/* Bit by bit, as the polynomial defines it. */
static uint64_t
crc_ref(const uint8_t *p, size_t n)
{
	uint64_t c = ~0ull;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++) {
			c = (c >> 1) ^ ((c & 1u) != 0 ? 0xC96C5795D7870F42ull : 0);
		}
	}
	return ~c;
}

void
test_xattr_crc(void)
{
	uint8_t buf[64];

	CU_ASSERT_EQUAL(xf_xattr_crc64(0, "123456789", 9), 0x995DC9BBDF1939FAull);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] = (uint8_t)(i * 37u + 11u);
	}
	for (size_t n = 0; n <= sizeof(buf); n++) {
		CU_ASSERT_EQUAL(xf_xattr_crc64(0, buf, n), crc_ref(buf, n));
		/* Continued in two parts, as a stream. */
		CU_ASSERT_EQUAL(
		        xf_xattr_crc64(xf_xattr_crc64(0, buf, n / 3), buf + n / 3, n - n / 3),
		        crc_ref(buf, n));
	}
}

/* A set of n attributes "user.aNN" with values of vlen bytes; its length. */
static int
make(uint8_t *buf, size_t cap, unsigned int n, size_t vlen)
{
	static uint8_t value[XF_XATTR_VALUE_MAX + 2];
	struct xf_xattr_enc e;
	char name[32];

	memset(value, 'v', sizeof(value));
	xf_xattr_enc_init(&e, buf, cap);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "user.a%03u", i % 1000u);
		if (xf_xattr_enc_add(&e, name, strlen(name), value, vlen) != 0) {
			return -1;
		}
	}
	return xf_xattr_enc_finish(&e);
}

void
test_xattr_encode(void)
{
	uint8_t buf[64];
	struct xf_xattr_enc e;
	struct xf_xattr a;
	size_t cur = 0;
	int n;

	xf_xattr_enc_init(&e, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_xattr_enc_finish(&e), 0); /* nothing: nothing carried */
	xf_xattr_enc_init(&e, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a", 6, "xy", 2), 0);
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.b", 6, NULL, 0), 0);
	n = xf_xattr_enc_finish(&e);
	/* CRC-64 (8), count (2), then 3 + 6 + 2 and 3 + 6 + 0. */
	CU_ASSERT_EQUAL(n, 10 + 11 + 9);
	CU_ASSERT_EQUAL(buf[8], 0);
	CU_ASSERT_EQUAL(buf[9], 2);
	CU_ASSERT_EQUAL(memcmp(buf + 10, "\x06\x00\x02user.axy\x06\x00\x00user.b", 20), 0);
	CU_ASSERT_EQUAL(xf_xattr_crc64(0, buf + 8, (size_t)n - 8),
	                ((uint64_t)buf[0] << 56 | (uint64_t)buf[1] << 48 | (uint64_t)buf[2] << 40 |
	                 (uint64_t)buf[3] << 32 | (uint64_t)buf[4] << 24 | (uint64_t)buf[5] << 16 |
	                 (uint64_t)buf[6] << 8 | buf[7]));
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, XF_XATTR_NS_USER), XF_XATTR_OK);
	CU_ASSERT_FATAL(xf_xattr_next(buf, (size_t)n, &cur, &a));
	CU_ASSERT_EQUAL(a.name_len, 6);
	CU_ASSERT_EQUAL(a.value_len, 2);
	CU_ASSERT_EQUAL(memcmp(a.value, "xy", 2), 0);
	CU_ASSERT_FATAL(xf_xattr_next(buf, (size_t)n, &cur, &a));
	CU_ASSERT_EQUAL(a.value_len, 0);
	CU_ASSERT_FALSE(xf_xattr_next(buf, (size_t)n, &cur, &a));
	/* The encoder refuses what no set may hold, and what does not fit. */
	xf_xattr_enc_init(&e, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "", 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a", XF_XATTR_NAME_MAX + 1, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a", 6, buf, 60), -ENOSPC);
	CU_ASSERT_EQUAL(xf_xattr_enc_finish(&e), -ENOSPC);
}

/* Rewrite the CRC-64 of a set whose records a test changed. */
static void
recrc(uint8_t *set, size_t len)
{
	uint64_t c = xf_xattr_crc64(0, set + 8, len - 8);

	for (int i = 0; i < 8; i++) {
		set[i] = (uint8_t)(c >> (56 - 8 * i));
	}
}

void
test_xattr_bounds(void)
{
	static uint8_t buf[16384];
	const unsigned int all =
	        XF_XATTR_NS_USER | XF_XATTR_NS_SECURITY | XF_XATTR_NS_TRUSTED | XF_XATTR_NS_ACL;
	char name[XF_XATTR_NAME_MAX + 2];
	struct xf_xattr_enc e;
	int n;

	/* Count: at the limit, and one more. */
	n = make(buf, sizeof(buf), XF_XATTR_COUNT_MAX, 1);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_OK);
	n = make(buf, sizeof(buf), XF_XATTR_COUNT_MAX + 1, 1);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_COUNT);
	/* A value at the limit, and one byte more. */
	n = make(buf, sizeof(buf), 1, XF_XATTR_VALUE_MAX);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_OK);
	n = make(buf, sizeof(buf), 1, XF_XATTR_VALUE_MAX + 1);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_VALUE);
	/* The set: exactly XF_XATTR_SET_MAX bytes, and one more. Two values of v bytes
	 * make 10 + 2 * (3 + 9) + 2v bytes. */
	{
		size_t v = (XF_XATTR_SET_MAX - 10u - 24u) / 2u;

		n = make(buf, sizeof(buf), 2, v);
		CU_ASSERT_EQUAL(n, (int)XF_XATTR_SET_MAX);
		CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_OK);
		static uint8_t val[XF_XATTR_SET_MAX]; /* the values: not inside the set made */

		memset(val, 'v', sizeof(val));
		xf_xattr_enc_init(&e, buf, sizeof(buf));
		CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a000", 9, val, v), 0);
		CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a001", 9, val, v + 1), 0);
		n = xf_xattr_enc_finish(&e);
		CU_ASSERT_EQUAL(n, (int)XF_XATTR_SET_MAX + 1);
		CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_TOTAL);
	}
	/* A name of XF_XATTR_NAME_MAX bytes is fine. */
	memset(name, 'n', sizeof(name));
	memcpy(name, "user.", 5);
	xf_xattr_enc_init(&e, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, name, XF_XATTR_NAME_MAX, NULL, 0), 0);
	n = xf_xattr_enc_finish(&e);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_OK);
	/* Namespaces: each only where the session carries it; system.* but the ACLs never. */
	{
		static const struct {
			const char *name;
			unsigned int ns;
		} cases[] = {
			{ "user.x", XF_XATTR_NS_USER },
			{ "security.selinux", XF_XATTR_NS_SECURITY },
			{ "trusted.x", XF_XATTR_NS_TRUSTED },
			{ "system.posix_acl_access", XF_XATTR_NS_ACL },
			{ "system.posix_acl_default", XF_XATTR_NS_ACL },
			{ "system.posix_acl_accesss", 0 },
			{ "system.nfs4_acl", 0 },
			{ "user.", 0 }, /* a prefix and no name */
			{ "other.x", 0 },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			size_t l = strlen(cases[i].name);

			CU_ASSERT_EQUAL(xf_xattr_ns(cases[i].name, l), cases[i].ns);
			xf_xattr_enc_init(&e, buf, sizeof(buf));
			CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, cases[i].name, l, "1", 1), 0);
			n = xf_xattr_enc_finish(&e);
			CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all),
			                cases[i].ns != 0 ? XF_XATTR_OK : XF_XATTR_R_NAME);
			if (cases[i].ns != 0) {
				CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all & ~cases[i].ns),
				                XF_XATTR_R_NAME);
			}
		}
	}
	/* Out of order, twice, a NUL in a name: refused (the CRC-64 made right). */
	xf_xattr_enc_init(&e, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.b", 6, NULL, 0), 0);
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.a", 6, NULL, 0), 0);
	n = xf_xattr_enc_finish(&e);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_NAME);
	buf[10 + 3 + 5] = 'a'; /* user.a twice */
	recrc(buf, (size_t)n);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_NAME);
	buf[10 + 3 + 5] = '\0';
	recrc(buf, (size_t)n);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, (size_t)n, all), XF_XATTR_R_NAME);
	/* A zero count, and a short header: malformed. */
	memset(buf, 0, 10);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, 10, all), XF_XATTR_R_MALFORMED);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, 9, all), XF_XATTR_R_MALFORMED);
	CU_ASSERT_EQUAL(xf_xattr_check(buf, 0, 0), XF_XATTR_OK); /* the empty set */
}

void
test_xattr_hostile(void)
{
	uint8_t set[128], bad[128];
	struct xf_xattr_enc e;
	int n;

	xf_xattr_enc_init(&e, set, sizeof(set));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "system.posix_acl_access", 23, "\x02\0\0\0", 4), 0);
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&e, "user.k", 6, "value", 5), 0);
	n = xf_xattr_enc_finish(&e);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(xf_xattr_check(set, (size_t)n, XF_XATTR_NS_USER | XF_XATTR_NS_ACL),
	                XF_XATTR_OK);
	/* Every cut: malformed (never read past the end: ASan). */
	for (int cut = 1; cut < n; cut++) {
		enum xf_xattr_reason r =
		        xf_xattr_check(set, (size_t)cut, XF_XATTR_NS_USER | XF_XATTR_NS_ACL);

		CU_ASSERT(r == XF_XATTR_R_MALFORMED);
	}
	/* Every byte flipped: refused, by its structure or by its CRC-64. */
	for (int i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, set, (size_t)n);
			bad[i] ^= (uint8_t)(1u << bit);
			CU_ASSERT(xf_xattr_check(bad, (size_t)n,
			                         XF_XATTR_NS_USER | XF_XATTR_NS_ACL) !=
			          XF_XATTR_OK);
		}
	}
	CU_ASSERT_STRING_EQUAL(xf_xattr_reason_name(XF_XATTR_R_VALUE), "value");
	CU_ASSERT_STRING_EQUAL(xf_xattr_reason_name(XF_XATTR_R_MAX), "?");
}

/* FLIST entries with attribute sets (XF_HDR_F_XATTR). */
void
test_flist_xattr(void)
{
	static uint8_t buf[BUF_CAP];
	uint8_t set[64];
	struct xf_xattr_enc enc;
	struct xf_flist_entry in[2] = {
		{ .kind = XF_FILE_REG, .mode = 0640, .size = 5, .path = "a", .path_len = 1 },
		{ .kind = XF_FILE_DIR, .mode = 0755, .path = "d", .path_len = 1 },
	};
	struct xf_proto_builder b;
	struct xf_flist_entry e;
	struct xf_msg m, d;
	enum xf_proto_reason why;
	uint32_t cursor = 0;
	int len, sl;

	xf_xattr_enc_init(&enc, set, sizeof(set));
	CU_ASSERT_EQUAL(xf_xattr_enc_add(&enc, "user.k", 6, "v", 1), 0);
	sl = xf_xattr_enc_finish(&enc);
	in[0].xattr = set;
	in[0].xattr_len = (uint16_t)sl;
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.hdr.flags = XF_HDR_F_XATTR;
	m.flist.flags = XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &in[i]), 0);
	}
	len = xf_proto_build_finish(&b);
	/* Each entry: 24 fixed, its path, 2 bytes of length, its set. */
	CU_ASSERT_EQUAL(len, (int)(XF_HDR_LEN + 8 + 2 * (24 + 1 + 2) + sl));
	tp_roundtrip(buf, (size_t)len, &d);
	CU_ASSERT_EQUAL(d.hdr.flags, XF_HDR_F_XATTR);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cursor, &e));
		CU_ASSERT_EQUAL(e.xattr_len, in[i].xattr_len);
		CU_ASSERT(i == 0 ? memcmp(e.xattr, set, (size_t)sl) == 0 : e.xattr == NULL);
	}
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cursor, &e));
	/* Cut anywhere in the last entry's length or set... the first entry's set: every
	 * length short of the frame is truncated (the frame's length field follows). */
	for (int cut = 1; cut <= 2 + sl + 27; cut++) {
		size_t n = (size_t)len - (size_t)cut;

		buf[6] = (uint8_t)((n - XF_HDR_LEN) >> 8);
		buf[7] = (uint8_t)(n - XF_HDR_LEN);
		why = XF_R_OK;
		CU_ASSERT_EQUAL(decode_exact(buf, n, &d, &why), -EBADMSG);
		CU_ASSERT_EQUAL(why, XF_R_TRUNCATED);
	}
	/* Without the flag, a set cannot be carried: the builder refuses the entry. */
	m.hdr.flags = 0;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &in[0]), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &in[1]), 0);
	/* The flag on a frame of another type is reserved. */
	len = (int)tp_make_base(XF_MSG_DATA, buf);
	buf[5] |= XF_HDR_F_XATTR;
	why = XF_R_OK;
	CU_ASSERT_EQUAL(decode_exact(buf, (size_t)len, &d, &why), -EBADMSG);
	CU_ASSERT_EQUAL(why, XF_R_RESERVED);
}

/* An ACL value in the kernel's form from n entries (tag, perm, id). */
static size_t
acl(uint8_t *buf, const uint32_t (*ent)[3], unsigned int n)
{
	memcpy(buf, "\x02\0\0\0", 4);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p = buf + 4 + 8 * i;

		p[0] = (uint8_t)ent[i][0];
		p[1] = (uint8_t)(ent[i][0] >> 8);
		p[2] = (uint8_t)ent[i][1];
		p[3] = (uint8_t)(ent[i][1] >> 8);
		for (int k = 0; k < 4; k++) {
			p[4 + k] = (uint8_t)(ent[i][2] >> (8 * k));
		}
	}
	return 4 + 8u * n;
}

/* ACLs told apart as rsync -A tells them (its `a` column, checked against rsync 3 on
 * the same changes): not by the bits the mode gives. */
void
test_xattr_acl_differs(void)
{
	const uint32_t u = 0xffffffffu;
	/* user::rw- user:65534:r-- group::r-- mask::r-- other::r-- */
	const uint32_t base[5][3] = {
		{ 1, 6, u }, { 2, 4, 65534 }, { 4, 4, u }, { 0x10, 4, u }, { 0x20, 4, u }
	};
	const uint32_t modebits[5][3] = { /* chmod 0700: owner, mask, others */
		                          { 1, 7, u },
		                          { 2, 4, 65534 },
		                          { 4, 4, u },
		                          { 0x10, 0, u },
		                          { 0x20, 0, u }
	};
	const uint32_t named[5][3] = { /* the named user's permissions */
		                       { 1, 6, u },
		                       { 2, 6, 65534 },
		                       { 4, 4, u },
		                       { 0x10, 4, u },
		                       { 0x20, 4, u }
	};
	const uint32_t other_id[5][3] = { /* another named user */
		                          { 1, 6, u },
		                          { 2, 4, 1000 },
		                          { 4, 4, u },
		                          { 0x10, 4, u },
		                          { 0x20, 4, u }
	};
	const uint32_t group[5][3] = { /* the owning group's entry, under the mask */
		                       { 1, 6, u },
		                       { 2, 4, 65534 },
		                       { 4, 0, u },
		                       { 0x10, 4, u },
		                       { 0x20, 4, u }
	};
	const uint32_t minimal[3][3] = { { 1, 6, u }, { 4, 0, u }, { 0x20, 4, u } };
	uint8_t a[64], b[64];
	size_t al = acl(a, base, 5), bl;

	CU_ASSERT_FALSE(xf_xattr_acl_differs(a, al, a, al, true));
	CU_ASSERT_FALSE(xf_xattr_acl_differs(NULL, 0, NULL, 0, true));
	bl = acl(b, modebits, 5);
	CU_ASSERT_FALSE(xf_xattr_acl_differs(a, al, b, bl, true));
	CU_ASSERT(xf_xattr_acl_differs(a, al, b, bl, false)); /* a default ACL: every byte */
	bl = acl(b, named, 5);
	CU_ASSERT(xf_xattr_acl_differs(a, al, b, bl, true));
	bl = acl(b, other_id, 5);
	CU_ASSERT(xf_xattr_acl_differs(a, al, b, bl, true));
	bl = acl(b, group, 5);
	CU_ASSERT(xf_xattr_acl_differs(a, al, b, bl, true));
	/* None against an extended one, either way; a minimal one is none. */
	CU_ASSERT(xf_xattr_acl_differs(a, al, NULL, 0, true));
	CU_ASSERT(xf_xattr_acl_differs(NULL, 0, a, al, true));
	bl = acl(b, minimal, 3);
	CU_ASSERT_FALSE(xf_xattr_acl_differs(b, bl, NULL, 0, true));
	CU_ASSERT(xf_xattr_acl_differs(b, bl, a, al, true));
	CU_ASSERT(xf_xattr_acl_differs(b, bl, NULL, 0, false));
	/* Not whole entries: bytewise. */
	CU_ASSERT(xf_xattr_acl_differs(a, al - 1, a, al, true));
	CU_ASSERT_FALSE(xf_xattr_acl_differs(a, al - 1, a, al - 1, true));
	CU_ASSERT_FALSE(xf_xattr_acl_differs(a, 3, a, 3, true));
}
