/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * FLIST name tables (XF_HDR_F_NAMES, XF_HELLO_F_OWNER_NAMES, docs/PROTOCOL.md 6.21): a
 * table round-trips after the entries, the builder keeps room for it and refuses what
 * would not decode, and the decoder refuses each hostile table with its reason: names
 * empty, too long or with a refused byte (XF_R_NAME); records of an unknown kind, for
 * XF_ID_NONE, for an id no entry carries, repeated or out of order, a second name for an
 * id (XF_R_NAME_ID); counts, cuts and trailing bytes; the flag where it does not belong.
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_proto.h"
#include "xf_proto_test.h"

/* Three entries: uids 1000, 1000, 0; gids 100, none, 0. */
static const struct xf_flist_entry ents[3] = {
	{ .kind = XF_FILE_REG,
	  .mode = 0640,
	  .size = 5,
	  .path = "a",
	  .path_len = 1,
	  .uid = 1000,
	  .gid = 100 },
	{ .kind = XF_FILE_DIR,
	  .mode = 0755,
	  .path = "d",
	  .path_len = 1,
	  .uid = 1000,
	  .gid = XF_ID_NONE },
	{ .kind = XF_FILE_SYMLINK,
	  .mode = 0777,
	  .size = 1,
	  .path = "l",
	  .path_len = 1,
	  .target = "a",
	  .target_len = 1,
	  .uid = 0,
	  .gid = 0 },
};

#define REC(k, i, s)                                                                               \
	{                                                                                          \
		.kind = (k), .len = (uint8_t)(sizeof(s) - 1), .id = (i), .name = (s)               \
	}

static const struct xf_name_rec good[4] = {
	REC(XF_NAME_USER, 0, "root"),
	REC(XF_NAME_USER, 1000, "alice"),
	REC(XF_NAME_GROUP, 0, "root"),
	REC(XF_NAME_GROUP, 100, "users"),
};

/* The entries in an FLIST with owners (and LAST); the bytes written. */
static int
entries(uint8_t *buf, struct xf_proto_builder *b)
{
	struct xf_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.flags = XF_FLIST_F_OWNER | XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(b, buf, BUF_CAP, &m), 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_flist(b, &ents[i]), 0);
	}
	return (int)b->len;
}

/* The entries, then the raw table bytes t[0..tn), with XF_HDR_F_NAMES: a frame's length. */
static size_t
raw_frame(uint8_t *buf, const uint8_t *t, size_t tn)
{
	struct xf_proto_builder b;
	size_t len;

	entries(buf, &b);
	len = (size_t)xf_proto_build_finish(&b);
	memcpy(buf + len, t, tn);
	len += tn;
	buf[6] = (uint8_t)((len - XF_HDR_LEN) >> 8);
	buf[7] = (uint8_t)(len - XF_HDR_LEN);
	buf[5] |= XF_HDR_F_NAMES;
	return len;
}

/* Append a record (kind, len, id, name bytes) at t; its size. */
static size_t
rec_bytes(uint8_t *t, uint8_t kind, uint8_t len, uint32_t id, const char *name)
{
	t[0] = kind;
	t[1] = len;
	t[2] = (uint8_t)(id >> 24);
	t[3] = (uint8_t)(id >> 16);
	t[4] = (uint8_t)(id >> 8);
	t[5] = (uint8_t)id;
	memcpy(t + 6, name, len);
	return 6u + len;
}

static enum xf_proto_reason
reason_of(const uint8_t *buf, size_t len)
{
	struct xf_msg m;
	enum xf_proto_reason r = XF_R_MAX;

	decode_exact(buf, len, &m, &r);
	return r;
}

/* A table of one record of kind k, id, name (len bytes): the decoder's reason. */
static enum xf_proto_reason
one(uint8_t kind, uint32_t id, const char *name, uint8_t len)
{
	static uint8_t buf[BUF_CAP];
	uint8_t t[300] = { 0, 1 };
	size_t tn = 2 + rec_bytes(t + 2, kind, len, id, name);

	return reason_of(buf, raw_frame(buf, t, tn));
}

void
test_flist_names(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_proto_builder b;
	struct xf_name_rec r;
	struct xf_flist_entry e;
	struct xf_msg d;
	uint32_t cursor = 0;
	int plain = entries(buf, &b), len;

	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good, 4), 0);
	len = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL(len, plain + (int)xf_proto_names_size(4, 4 + 5 + 4 + 5));
	CU_ASSERT_EQUAL(len, plain + 2 + 4 * 6 + 18);
	tp_roundtrip(buf, (size_t)len, &d);
	CU_ASSERT_EQUAL(d.hdr.flags & XF_HDR_F_NAMES, XF_HDR_F_NAMES);
	CU_ASSERT_EQUAL(d.flist.count, 3);
	CU_ASSERT_EQUAL(d.flist.n_names, 4);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cursor, &e));
		CU_ASSERT_EQUAL(e.uid, ents[i].uid);
		CU_ASSERT_EQUAL(e.gid, ents[i].gid);
	}
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cursor, &e)); /* the table is not an entry */
	cursor = 0;
	for (int i = 0; i < 4; i++) {
		CU_ASSERT_FATAL(xf_proto_flist_name_next(&d, &cursor, &r));
		CU_ASSERT_EQUAL(r.kind, good[i].kind);
		CU_ASSERT_EQUAL(r.id, good[i].id);
		CU_ASSERT_EQUAL(r.len, good[i].len);
		CU_ASSERT_EQUAL(memcmp(r.name, good[i].name, r.len), 0);
	}
	CU_ASSERT_FALSE(xf_proto_flist_name_next(&d, &cursor, &r));

	/* Fewer names than ids is fine (an id the sender cannot name goes as a number). */
	entries(buf, &b);
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good + 1, 1), 0);
	len = xf_proto_build_finish(&b);
	tp_roundtrip(buf, (size_t)len, &d);
	CU_ASSERT_EQUAL(d.flist.n_names, 1);
	/* No names: no table and no flag, in any FLIST. */
	entries(buf, &b);
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, NULL, 0), 0);
	len = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL(len, plain);
	tp_roundtrip(buf, (size_t)len, &d);
	CU_ASSERT_EQUAL(d.hdr.flags & XF_HDR_F_NAMES, 0);
	CU_ASSERT_PTR_NULL(d.flist.names);
	cursor = 0;
	CU_ASSERT_FALSE(xf_proto_flist_name_next(&d, &cursor, &r));
	/* UTF-8 names pass. */
	CU_ASSERT_EQUAL(one(XF_NAME_USER, 1000, "j\xc3\xb6rg", 5), XF_R_OK);
	/* A HELLO asks for names only with owners: test_proto_malformed.c's mutations. */
}

void
test_flist_names_build(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_proto_builder b;
	struct xf_name_rec bad[2] = { good[1], good[0] };
	struct xf_msg m;

	entries(buf, &b);
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 2), -EINVAL); /* out of order */
	bad[0] = good[1];
	bad[1] = good[1];
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 2), -EINVAL); /* repeated */
	bad[0] = (struct xf_name_rec)REC(3, 5, "x");
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 1), -EINVAL); /* kind */
	bad[0] = (struct xf_name_rec)REC(XF_NAME_USER, XF_ID_NONE, "x");
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 1), -EINVAL); /* no id */
	bad[0] = (struct xf_name_rec)REC(XF_NAME_USER, 1000, "a:b");
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 1), -EINVAL); /* a refused byte */
	bad[0] = (struct xf_name_rec)REC(XF_NAME_USER, 1000, "");
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, bad, 1), -EINVAL); /* empty */
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good, XF_NAMES_MAX + 1), -EINVAL);
	/* Names only with owners. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.flags = XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good, 1), -EINVAL);
	/* The reserve keeps room for the table: an entry that would eat it does not fit. */
	m.flist.flags = XF_FLIST_F_OWNER;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MIN, &m), 0);
	b.reserve = XF_PAYLOAD_MIN - b.len - (24 + XF_FLIST_OWNER_LEN + 1) + 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &ents[0]), -ENOSPC);
	b.reserve--;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &ents[0]), 0);
	/* A table larger than the room left does not fit (2 + 6 + 5 bytes); one that
	 * does, exactly. */
	b.cap = b.len + 12;
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good + 1, 1), -ENOSPC);
	b.cap = b.len + 13;
	CU_ASSERT_EQUAL(xf_proto_build_names(&b, good + 1, 1), 0);
	CU_ASSERT_EQUAL(b.len, b.cap);
}

void
test_flist_names_malformed(void)
{
	static uint8_t buf[BUF_CAP];
	static char longname[XF_ACCOUNT_NAME_MAX + 2];
	const char refused[] = { '\0', '/', ':', ' ', '\n', '\t', 0x1f, 0x7f };
	uint8_t t[1200];
	size_t tn;

	memset(longname, 'n', sizeof(longname));
	CU_ASSERT_EQUAL(one(XF_NAME_USER, 1000, longname, XF_ACCOUNT_NAME_MAX), XF_R_OK);
	CU_ASSERT_EQUAL(one(XF_NAME_USER, 1000, longname, XF_ACCOUNT_NAME_MAX + 1), XF_R_NAME);
	CU_ASSERT_EQUAL(one(XF_NAME_USER, 1000, "", 0), XF_R_NAME);
	for (size_t i = 0; i < sizeof(refused); i++) {
		char n[3] = { 'a', refused[i], 'b' };

		CU_ASSERT_EQUAL(one(XF_NAME_USER, 1000, n, 3), XF_R_NAME);
	}
	CU_ASSERT_EQUAL(one(0, 1000, "x", 1), XF_R_NAME_ID);
	CU_ASSERT_EQUAL(one(3, 1000, "x", 1), XF_R_NAME_ID);
	CU_ASSERT_EQUAL(one(XF_NAME_USER, XF_ID_NONE, "x", 1), XF_R_NAME_ID);
	/* Ids no entry carries: a user 100 (only a gid), a group 1000 (only a uid), 7. */
	CU_ASSERT_EQUAL(one(XF_NAME_USER, 100, "x", 1), XF_R_NAME_ID);
	CU_ASSERT_EQUAL(one(XF_NAME_GROUP, 1000, "x", 1), XF_R_NAME_ID);
	CU_ASSERT_EQUAL(one(XF_NAME_GROUP, 7, "x", 1), XF_R_NAME_ID);
	/* One id twice, with the same name and with another; two out of order. */
	t[0] = 0;
	t[1] = 2;
	tn = 2 + rec_bytes(t + 2, XF_NAME_USER, 5, 1000, "alice");
	tn += rec_bytes(t + tn, XF_NAME_USER, 5, 1000, "alice");
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn)), XF_R_NAME_ID);
	tn = 2 + rec_bytes(t + 2, XF_NAME_USER, 5, 1000, "alice");
	tn += rec_bytes(t + tn, XF_NAME_USER, 3, 1000, "bob");
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn)), XF_R_NAME_ID);
	tn = 2 + rec_bytes(t + 2, XF_NAME_GROUP, 4, 0, "root");
	tn += rec_bytes(t + tn, XF_NAME_USER, 5, 1000, "alice");
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn)), XF_R_NAME_ID);
	/* More names than the entries' ids: three distinct ids, a fourth record. */
	t[1] = 4;
	tn = 2 + rec_bytes(t + 2, XF_NAME_USER, 1, 0, "r");
	tn += rec_bytes(t + tn, XF_NAME_USER, 1, 1000, "a");
	tn += rec_bytes(t + tn, XF_NAME_USER, 1, 1001, "b");
	tn += rec_bytes(t + tn, XF_NAME_GROUP, 1, 100, "u");
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn)), XF_R_NAME_ID);
	/* Counts: 0, over XF_NAMES_MAX, more than there are; cut inside a record; a byte
	 * after the table; no table at all. */
	t[0] = 0;
	t[1] = 0;
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, 2)), XF_R_COUNT);
	t[0] = (uint8_t)((XF_NAMES_MAX + 1) >> 8);
	t[1] = (uint8_t)(XF_NAMES_MAX + 1);
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, 2)), XF_R_COUNT);
	t[0] = 0;
	t[1] = 2;
	tn = 2 + rec_bytes(t + 2, XF_NAME_USER, 5, 1000, "alice");
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn)), XF_R_TRUNCATED);
	t[1] = 1;
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn - 1)), XF_R_TRUNCATED);
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, 5)), XF_R_TRUNCATED);
	t[tn] = 'x';
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, tn + 1)), XF_R_TRAILING);
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, 0)), XF_R_TRUNCATED);
	CU_ASSERT_EQUAL(reason_of(buf, raw_frame(buf, t, 1)), XF_R_TRUNCATED);
	/* The flag on an FLIST without owners, and on another frame type. */
	{
		struct xf_proto_builder b;
		struct xf_msg m;
		struct xf_flist_entry e = ents[0];
		int len;

		memset(&m, 0, sizeof(m));
		m.hdr = hdr(XF_MSG_FLIST);
		m.flist.flags = XF_FLIST_F_LAST;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_flist(&b, &e), 0);
		len = xf_proto_build_finish(&b);
		buf[5] |= XF_HDR_F_NAMES;
		CU_ASSERT_EQUAL(reason_of(buf, (size_t)len), XF_R_NAME_ID);
		memset(&m, 0, sizeof(m));
		m.hdr = hdr(XF_MSG_PING);
		len = xf_proto_encode(buf, BUF_CAP, &m);
		CU_ASSERT_FATAL(len > 0);
		buf[5] |= XF_HDR_F_NAMES;
		CU_ASSERT_EQUAL(reason_of(buf, (size_t)len), XF_R_RESERVED);
	}
}
