/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wire codec against docs/PROTOCOL.md: round trips of every frame type (with the
 * largest and boundary cases), builders filling frames exactly, and every malformed
 * class rejected with its reason. Frames under test are copied into buffers of their
 * exact size so that ASan catches any read past the datagram.
 *
 * This file holds the base frames and the round trips; the malformed classes are in
 * test_proto_malformed.c, the encoder's and builders' refusals in test_proto_encode.c.
 *
 * Over 1,000 lines: the round trips of every frame type and of every HELLO and FLIST
 * layout (owners, filter rules, limits, the sealed options block) share the base frames
 * built here; split by frame type, each file would rebuild them. Name tables and
 * attribute sets have files of their own (test_proto_names.c, test_proto_xattr.c).
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_hs_block.h"
#include "xf_proto.h"
#include "xf_proto_test.h"

/* ---- helpers ---- */

static uint64_t
get_be(const uint8_t *p, unsigned int width)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < width; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* ---- the valid frame of every type that the malformed tests start from ---- */

static const struct xf_flist_entry base_entries[] = {
	{ .kind = XF_FILE_REG,
	  .mode = 0644,
	  .size = 1000,
	  .mtime_ns = -5,
	  .path = "a/b.txt",
	  .path_len = 7 },
	{ .kind = XF_FILE_DIR, .mode = 0755, .size = 0, .mtime_ns = 1, .path = "a", .path_len = 1 },
	{ .kind = XF_FILE_SYMLINK,
	  .mode = 0777,
	  .size = 5,
	  .mtime_ns = 1700000000123456789ll,
	  .path = "a/l",
	  .path_len = 3,
	  .target = "b.txt",
	  .target_len = 5 },
};

static const struct xf_decision_rec base_decisions[] = {
	{ .file = 10, .decision = XF_DEC_UPTODATE },
	{ .file = 11, .decision = XF_DEC_WHOLE, .items = XF_ITEM_TIME | XF_ITEM_PERMS },
	{ .file = 12,
	  .decision = XF_DEC_DELTA,
	  .items = XF_ITEM_SIZE | XF_ITEM_TIME,
	  .block_size = 4096,
	  .block_count = 3 },
	{ .file = 13, .decision = XF_DEC_REFUSED, .status = XF_ST_BAD_PATH },
};

static const struct xf_sig_rec base_sigs[] = {
	{ .weak = 0x11111111u, .strong = 0x22222222u },
	{ .weak = 0x33333333u, .strong = 0x44444444u },
	{ .weak = 0, .strong = UINT32_MAX },
};

static const struct xf_commit_fail base_fails[] = {
	{ .file = 3, .status = XF_ST_IO },
	{ .file = 7, .status = XF_ST_CHECKSUM },
};

static const struct xf_ack_range base_ranges[] = {
	{ .first = 90, .last = 100 },
	{ .first = 50, .last = 80 },
	{ .first = 0, .last = 10 },
};

static const uint8_t data_bytes[100] = { 1, 2, 3, 4, 5 };
static const char abort_text[] = "operator cancelled";

/* Build the base frame of type into buf; returns its length. */
size_t
tp_make_base(uint8_t type, uint8_t *buf)
{
	struct xf_proto_builder b;
	struct xf_msg m;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(type);
	switch (type) {
	case XF_MSG_HELLO:
		m.hello = (struct xf_msg_hello){ .min_version = 1,
			                         .max_version = 1,
			                         .max_payload = 1472,
			                         .flags = XF_HELLO_F_CHECKSUM,
			                         .nonce = 0xa5a5a5a5a5a5a5a5ull,
			                         .dest = "vol/dir",
			                         .dest_len = 7 };
		break;
	case XF_MSG_HELLO_ACK:
		m.hello = (struct xf_msg_hello){ .min_version = 1,
			                         .max_version = 1,
			                         .max_payload = 8972,
			                         .window = 64,
			                         .nonce = 0xa5a5a5a5a5a5a5a5ull };
		break;
	case XF_MSG_FLIST:
		m.flist.first_index = 10;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		for (size_t i = 0; i < XF_ARRAY_SIZE(base_entries); i++) {
			CU_ASSERT_EQUAL_FATAL(xf_proto_build_flist(&b, &base_entries[i]), 0);
		}
		rc = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(rc > 0);
		return (size_t)rc;
	case XF_MSG_DECISION:
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		for (size_t i = 0; i < XF_ARRAY_SIZE(base_decisions); i++) {
			CU_ASSERT_EQUAL_FATAL(xf_proto_build_decision(&b, &base_decisions[i]), 0);
		}
		rc = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(rc > 0);
		return (size_t)rc;
	case XF_MSG_SIG:
		m.sig.file = 2;
		m.sig.block_size = 4096;
		m.sig.first_block = 0;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		for (size_t i = 0; i < XF_ARRAY_SIZE(base_sigs); i++) {
			CU_ASSERT_EQUAL_FATAL(xf_proto_build_sig(&b, &base_sigs[i]), 0);
		}
		rc = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(rc > 0);
		return (size_t)rc;
	case XF_MSG_DATA:
		m.data = (struct xf_msg_data){
			.file = 1, .len = sizeof(data_bytes), .offset = 4096, .bytes = data_bytes
		};
		break;
	case XF_MSG_COPY:
		m.copy = (struct xf_msg_copy){
			.file = 1, .len = 4096, .offset = 0, .src_offset = 8192
		};
		break;
	case XF_MSG_FILE_END:
		m.file_end = (struct xf_msg_file_end){ .file = 1,
			                               .size = 8192,
			                               .crc64 = 0x995dc9bbdf1939faull };
		break;
	case XF_MSG_COMMIT:
		m.commit.committed = 10;
		m.commit.credit = 74;
		m.commit.seq = 0xbeef;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		for (size_t i = 0; i < XF_ARRAY_SIZE(base_fails); i++) {
			CU_ASSERT_EQUAL_FATAL(xf_proto_build_commit(&b, &base_fails[i]), 0);
		}
		rc = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(rc > 0);
		return (size_t)rc;
	case XF_MSG_ACK:
		m.ack.largest = 100;
		m.ack.ack_delay_us = 250;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
		for (size_t i = 0; i < XF_ARRAY_SIZE(base_ranges); i++) {
			CU_ASSERT_EQUAL_FATAL(xf_proto_build_ack(&b, &base_ranges[i]), 0);
		}
		rc = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(rc > 0);
		return (size_t)rc;
	case XF_MSG_DONE:
		m.done = (struct xf_msg_done){ .files = 10, .status = 0 };
		break;
	case XF_MSG_ABORT:
		m.abort = (struct xf_msg_abort){ .code = XF_ABORT_CANCEL,
			                         .msg_len = sizeof(abort_text) - 1,
			                         .msg = abort_text };
		break;
	case XF_MSG_PING:
		break;
	default:
		CU_FAIL_FATAL("no base frame for this type");
	}
	rc = xf_proto_encode(buf, BUF_CAP, &m);
	CU_ASSERT_FATAL(rc > 0);
	return (size_t)rc;
}

/*
 * Decode buf (must be valid), re-encode the decoded message and check the bytes are
 * identical: decode(encode(x)) == x and encode(decode(y)) == y.
 */
void
tp_roundtrip(const uint8_t *buf, size_t len, struct xf_msg *m)
{
	static uint8_t again[BUF_CAP];
	enum xf_proto_reason r = XF_R_MAX;
	int rc = decode_exact(buf, len, m, &r);

	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(r, XF_R_OK);
	CU_ASSERT_EQUAL(m->hdr.len, len - XF_HDR_LEN);
	/* Decoded views point into the freed copy; re-decode in place for the caller. */
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, len, m, NULL), 0);
	rc = xf_proto_encode(again, sizeof(again), m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)len);
	CU_ASSERT(memcmp(again, buf, len) == 0);
}

static void
check_entry_eq(const struct xf_flist_entry *a, const struct xf_flist_entry *b)
{
	CU_ASSERT_EQUAL(a->kind, b->kind);
	CU_ASSERT_EQUAL(a->mode, b->mode);
	CU_ASSERT_EQUAL(a->size, b->size);
	CU_ASSERT_EQUAL(a->mtime_ns, b->mtime_ns);
	CU_ASSERT_EQUAL_FATAL(a->path_len, b->path_len);
	CU_ASSERT(memcmp(a->path, b->path, a->path_len) == 0);
	CU_ASSERT_EQUAL_FATAL(a->target_len, b->target_len);
	if (a->target_len != 0) {
		CU_ASSERT(memcmp(a->target, b->target, a->target_len) == 0);
	} else {
		CU_ASSERT_PTR_NULL(a->target);
	}
}

/* ---- round trips ---- */

void
test_roundtrip_base(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_flist_entry e;
	struct xf_decision_rec d;
	struct xf_sig_rec s;
	struct xf_commit_fail f;
	struct xf_ack_range a;
	struct xf_msg m;
	uint32_t cur = 0;
	size_t n;

	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		n = tp_make_base(t, buf);
		tp_roundtrip(buf, n, &m);
		CU_ASSERT_EQUAL(m.hdr.version, XF_PROTO_VERSION);
		CU_ASSERT_EQUAL(m.hdr.type, t);
		CU_ASSERT_EQUAL(m.hdr.flags, 0);
		CU_ASSERT_EQUAL(m.hdr.session, 0xdeadbeefu);
		CU_ASSERT_EQUAL(m.hdr.pn, 0x0102030405060708ull);
		/* The wire layout of the header (docs/PROTOCOL.md). */
		CU_ASSERT_EQUAL(get_be(buf, 2), XF_PROTO_MAGIC);
		CU_ASSERT_EQUAL(buf[2], XF_PROTO_VERSION);
		CU_ASSERT_EQUAL(buf[3], t);
		CU_ASSERT_EQUAL(get_be(buf + 6, 2), n - XF_HDR_LEN);
		CU_ASSERT_EQUAL(get_be(buf + 8, 4), 0xdeadbeefu);
		CU_ASSERT_EQUAL(get_be(buf + 12, 4), 0);
		CU_ASSERT_EQUAL(get_be(buf + 16, 8), 0x0102030405060708ull);
		switch (t) {
		case XF_MSG_HELLO:
			CU_ASSERT_EQUAL(m.hello.min_version, 1);
			CU_ASSERT_EQUAL(m.hello.max_version, 1);
			CU_ASSERT_EQUAL(m.hello.max_payload, 1472);
			CU_ASSERT_EQUAL(m.hello.flags, XF_HELLO_F_CHECKSUM);
			CU_ASSERT_EQUAL(m.hello.nonce, 0xa5a5a5a5a5a5a5a5ull);
			CU_ASSERT_EQUAL_FATAL(m.hello.dest_len, 7);
			CU_ASSERT(memcmp(m.hello.dest, "vol/dir", 7) == 0);
			break;
		case XF_MSG_HELLO_ACK:
			CU_ASSERT_EQUAL(m.hello.status, 0);
			CU_ASSERT_EQUAL(m.hello.window, 64);
			CU_ASSERT_EQUAL(m.hello.max_payload, 8972);
			CU_ASSERT_EQUAL(m.hello.dest_len, 0);
			break;
		case XF_MSG_FLIST:
			CU_ASSERT_EQUAL(m.flist.first_index, 10);
			CU_ASSERT_EQUAL(m.flist.count, 3);
			CU_ASSERT_EQUAL(m.flist.flags, 0);
			for (size_t i = 0; i < XF_ARRAY_SIZE(base_entries); i++) {
				CU_ASSERT_FATAL(xf_proto_flist_next(&m, &cur, &e));
				check_entry_eq(&e, &base_entries[i]);
			}
			CU_ASSERT_FALSE(xf_proto_flist_next(&m, &cur, &e));
			CU_ASSERT_FALSE(xf_proto_flist_next(&m, &cur, &e));
			break;
		case XF_MSG_DECISION:
			CU_ASSERT_EQUAL_FATAL(m.decision.count, XF_ARRAY_SIZE(base_decisions));
			for (uint16_t i = 0; i < m.decision.count; i++) {
				xf_proto_decision_get(&m, i, &d);
				CU_ASSERT_EQUAL(d.file, base_decisions[i].file);
				CU_ASSERT_EQUAL(d.decision, base_decisions[i].decision);
				CU_ASSERT_EQUAL(d.status, base_decisions[i].status);
				CU_ASSERT_EQUAL(d.items, base_decisions[i].items);
				CU_ASSERT_EQUAL(d.block_size, base_decisions[i].block_size);
				CU_ASSERT_EQUAL(d.block_count, base_decisions[i].block_count);
			}
			break;
		case XF_MSG_SIG:
			CU_ASSERT_EQUAL(m.sig.file, 2);
			CU_ASSERT_EQUAL(m.sig.block_size, 4096);
			CU_ASSERT_EQUAL(m.sig.first_block, 0);
			CU_ASSERT_EQUAL_FATAL(m.sig.count, XF_ARRAY_SIZE(base_sigs));
			for (uint16_t i = 0; i < m.sig.count; i++) {
				xf_proto_sig_get(&m, i, &s);
				CU_ASSERT_EQUAL(s.weak, base_sigs[i].weak);
				CU_ASSERT_EQUAL(s.strong, base_sigs[i].strong);
			}
			break;
		case XF_MSG_DATA:
			CU_ASSERT_EQUAL(m.data.file, 1);
			CU_ASSERT_EQUAL(m.data.offset, 4096);
			CU_ASSERT_EQUAL_FATAL(m.data.len, sizeof(data_bytes));
			CU_ASSERT(memcmp(m.data.bytes, data_bytes, sizeof(data_bytes)) == 0);
			CU_ASSERT_PTR_EQUAL(m.data.bytes, buf + XF_DATA_OVERHEAD);
			break;
		case XF_MSG_COPY:
			CU_ASSERT_EQUAL(m.copy.file, 1);
			CU_ASSERT_EQUAL(m.copy.len, 4096);
			CU_ASSERT_EQUAL(m.copy.offset, 0);
			CU_ASSERT_EQUAL(m.copy.src_offset, 8192);
			break;
		case XF_MSG_FILE_END:
			CU_ASSERT_EQUAL(m.file_end.file, 1);
			CU_ASSERT_EQUAL(m.file_end.size, 8192);
			CU_ASSERT_EQUAL(m.file_end.crc64, 0x995dc9bbdf1939faull);
			break;
		case XF_MSG_COMMIT:
			CU_ASSERT_EQUAL(m.commit.committed, 10);
			CU_ASSERT_EQUAL(m.commit.credit, 74);
			CU_ASSERT_EQUAL(m.commit.seq, 0xbeef);
			CU_ASSERT_EQUAL_FATAL(m.commit.count, XF_ARRAY_SIZE(base_fails));
			for (uint16_t i = 0; i < m.commit.count; i++) {
				xf_proto_commit_get(&m, i, &f);
				CU_ASSERT_EQUAL(f.file, base_fails[i].file);
				CU_ASSERT_EQUAL(f.status, base_fails[i].status);
			}
			break;
		case XF_MSG_ACK:
			CU_ASSERT_EQUAL(m.ack.largest, 100);
			CU_ASSERT_EQUAL(m.ack.ack_delay_us, 250);
			CU_ASSERT_EQUAL_FATAL(m.ack.count, XF_ARRAY_SIZE(base_ranges));
			for (uint16_t i = 0; i < m.ack.count; i++) {
				xf_proto_ack_get(&m, i, &a);
				CU_ASSERT_EQUAL(a.first, base_ranges[i].first);
				CU_ASSERT_EQUAL(a.last, base_ranges[i].last);
			}
			break;
		case XF_MSG_DONE:
			CU_ASSERT_EQUAL(m.done.files, 10);
			CU_ASSERT_EQUAL(m.done.status, 0);
			break;
		case XF_MSG_ABORT:
			CU_ASSERT_EQUAL(m.abort.code, XF_ABORT_CANCEL);
			CU_ASSERT_EQUAL_FATAL(m.abort.msg_len, sizeof(abort_text) - 1);
			CU_ASSERT(memcmp(m.abort.msg, abort_text, m.abort.msg_len) == 0);
			break;
		case XF_MSG_PING:
			CU_ASSERT_EQUAL(n, XF_HDR_LEN);
			break;
		default:
			break;
		}
	}
}

/* Out-of-range accessor indices read nothing and return zeroed records. */
void
test_accessor_bounds(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_decision_rec d;
	struct xf_sig_rec s;
	struct xf_commit_fail f;
	struct xf_ack_range a;
	struct xf_msg m;

	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, tp_make_base(XF_MSG_DECISION, buf), &m, NULL),
	                      0);
	memset(&d, 0xff, sizeof(d));
	xf_proto_decision_get(&m, m.decision.count, &d);
	CU_ASSERT_EQUAL(d.decision, 0);
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, tp_make_base(XF_MSG_SIG, buf), &m, NULL), 0);
	memset(&s, 0xff, sizeof(s));
	xf_proto_sig_get(&m, UINT16_MAX, &s);
	CU_ASSERT_EQUAL(s.strong, 0);
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, tp_make_base(XF_MSG_COMMIT, buf), &m, NULL), 0);
	memset(&f, 0xff, sizeof(f));
	xf_proto_commit_get(&m, m.commit.count, &f);
	CU_ASSERT_EQUAL(f.status, 0);
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, tp_make_base(XF_MSG_ACK, buf), &m, NULL), 0);
	memset(&a, 0xff, sizeof(a));
	xf_proto_ack_get(&m, m.ack.count, &a);
	CU_ASSERT_EQUAL(a.last, 0);
}

/*
 * XF_HELLO_F_FILTERS: the rules ride the destination field after one NUL; decoded apart
 * from the destination, and refused when the NUL, the last newline or DELETE is missing,
 * or another NUL is inside. The encoder takes rules exactly with their flag.
 */
static void
test_hello_rules(void)
{
	static uint8_t buf[BUF_CAP];
	static const char rules[] = "- *.o\n+ keep/\n";
	const size_t rl = sizeof(rules) - 1, field = XF_HDR_LEN + 24, at = XF_HDR_LEN + 28;
	struct xf_msg m, d;
	enum xf_proto_reason why;
	int rc;

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_HELLO);
	m.hello = (struct xf_msg_hello){ .min_version = 1,
		                         .max_version = 1,
		                         .max_payload = XF_PAYLOAD_MIN,
		                         .window = 5,
		                         .flags = XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS,
		                         .dest = "m/d",
		                         .dest_len = 3,
		                         .rules = rules,
		                         .rules_len = (uint16_t)rl };
	CU_ASSERT_EQUAL(xf_hello_dest_field_len(&m.hello), 3 + 1 + rl);
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(at + 3 + 1 + rl));
	CU_ASSERT_EQUAL(buf[field] << 8 | buf[field + 1], (int)(3 + 1 + rl));
	CU_ASSERT_EQUAL(buf[at + 3], 0);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hello.dest_len, 3);
	CU_ASSERT(memcmp(d.hello.dest, "m/d", 3) == 0);
	CU_ASSERT_EQUAL(d.hello.rules_len, rl);
	CU_ASSERT(d.hello.rules != NULL && memcmp(d.hello.rules, rules, rl) == 0);
	CU_ASSERT_EQUAL(xf_hello_dest_field_len(&d.hello), 3 + 1 + rl);

	/* Mutations of the encoded frame. */
	buf[at + 3 + 1 + rl - 1] = 'x'; /* the last rule unended */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[at + 3 + 1 + rl - 1] = '\n';
	buf[at + 3 + 2] = 0; /* a second NUL, in the rules */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[at + 3 + 2] = '*';
	buf[at + 3] = '/'; /* no NUL: the flag without its rules */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[at + 3] = 0;
	buf[XF_HDR_LEN + 12 + 3] &= (uint8_t)~XF_HELLO_F_DELETE; /* rules without DELETE */
	buf[XF_HDR_LEN + 8 + 3] = 0;                             /* nor its window */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);

	/* The NUL, then nothing: the flag with no rules. */
	m.hello.rules_len = 0;
	m.hello.flags = XF_HELLO_F_DELETE;
	m.hello.dest = "m/\0";
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	buf[XF_HDR_LEN + 12 + 1] = XF_HELLO_F_FILTERS >> 16; /* flags are big-endian */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	m.hello.dest = "m/d";

	/* The encoder: rules exactly with the flag, and the field within XF_PATH_MAX. */
	m.hello.rules = rules;
	m.hello.rules_len = (uint16_t)rl;
	m.hello.flags = XF_HELLO_F_DELETE;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.flags = XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS;
	m.hello.rules_len = 0;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.rules_len = (uint16_t)(XF_PATH_MAX - 3);
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
}

/*
 * XF_HELLO_F_SEALED_DEST: with AEAD the destination field is message 1's payload, so the
 * HELLO carries no dest and an auth of XF_HELLO_AUTH_LEN plus the field; FILTERS and the
 * other flags say what the field holds. Refused: AEAD without the flag (an earlier
 * build's HELLO, its destination in clear), the flag without AEAD, a dest or rules in
 * clear beside it, an auth outside XF_HELLO_AUTH_LEN..MAX, the flag in a HELLO_ACK. The
 * field, once message 1 has given it, is read by xf_proto_hello_field as the decoder reads
 * one in clear.
 */
static void
test_hello_sealed(void)
{
	static uint8_t buf[BUF_CAP], auth[XF_HELLO_AUTH_MAX + 1];
	static const char field[] = "vol/dst\0- *.o\n";
	const size_t fl = sizeof(field) - 1, flags_at = XF_HDR_LEN + 12;
	struct xf_msg m, d;
	struct xf_msg_hello h;
	enum xf_proto_reason why;
	int rc;

	memset(auth, 0xa7, sizeof(auth));
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_HELLO);
	m.hello = (struct xf_msg_hello){ .min_version = 2,
		                         .max_version = 2,
		                         .max_payload = 1456,
		                         .flags = XF_HELLO_F_CLEAR_AEAD,
		                         .auth = auth,
		                         .auth_len = (uint16_t)(XF_HELLO_AUTH_LEN + fl) };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 28 + XF_HELLO_AUTH_LEN + fl));
	CU_ASSERT_EQUAL(buf[XF_HDR_LEN + 24] | buf[XF_HDR_LEN + 25], 0); /* dest_len 0 */
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT(d.hello.dest_len == 0 && d.hello.rules_len == 0 && d.hello.rules == NULL);
	CU_ASSERT_EQUAL(d.hello.auth_len, XF_HELLO_AUTH_LEN + fl);
	/* The longest field, and one byte more. */
	m.hello.auth_len = XF_HELLO_AUTH_MAX;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) > 0);
	m.hello.auth_len = XF_HELLO_AUTH_MAX + 1;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.auth_len = XF_HELLO_AUTH_LEN - 1;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.auth_len = XF_HELLO_AUTH_LEN;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) > 0); /* an empty field */
	/* A dest or rules in clear beside the flag. */
	m.hello.dest = "vol/dst";
	m.hello.dest_len = 7;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.dest_len = 0;
	m.hello.rules = "- *.o\n";
	m.hello.rules_len = 6;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.rules_len = 0;
	m.hello.rules = NULL;
	m.hello.dest = NULL;
	/* The flag taken off the wire (AEAD without it) or AEAD taken off (the flag
	 * without it: auth_len then says message 1 without AEAD too). */
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	buf[flags_at + 2] &= (uint8_t) ~(XF_HELLO_F_SEALED_DEST >> 8);
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[flags_at + 2] |= (uint8_t)(XF_HELLO_F_SEALED_DEST >> 8);
	buf[flags_at + 3] &= (uint8_t)~XF_HELLO_F_AEAD;
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[flags_at + 3] |= (uint8_t)XF_HELLO_F_AEAD;
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) == 0);
	/* XF_HELLO_F_SEALED_OPTS taken off (options would then be in clear), an option in
	 * clear beside it, a limit in clear: each refused. */
	buf[flags_at + 1] &= (uint8_t) ~(XF_HELLO_F_SEALED_OPTS >> 16);
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[flags_at + 1] |= (uint8_t)(XF_HELLO_F_SEALED_OPTS >> 16);
	for (uint32_t bit = 1; bit != 0; bit <<= 1) {
		uint8_t keep[4];

		if ((bit & XF_HELLO_F_CLEAR_AEAD) != 0) {
			continue;
		}
		memcpy(keep, buf + flags_at, 4);
		buf[flags_at + 3 - __builtin_ctz(bit) / 8] |=
		        (uint8_t)(bit >> (__builtin_ctz(bit) / 8 * 8));
		CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 &&
		          (why == XF_R_FIELD || why == XF_R_RESERVED));
		memcpy(buf + flags_at, keep, 4);
	}
	buf[flags_at - 1] = 5; /* window */
	CU_ASSERT(xf_proto_decode(buf, (size_t)rc, &d, &why) < 0 && why == XF_R_FIELD);
	buf[flags_at - 1] = 0;
	/* The flag without AEAD, nothing else wrong: refused. */
	m.hello.flags = XF_HELLO_F_SEALED_DEST;
	m.hello.auth = NULL;
	m.hello.auth_len = 0;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	/* An earlier build's HELLO: AEAD, the destination in clear. */
	m.hello.flags = XF_HELLO_F_AEAD;
	m.hello.dest = "vol/dst";
	m.hello.dest_len = 7;
	m.hello.auth = auth;
	m.hello.auth_len = XF_HELLO_AUTH_LEN;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);

	/* The field as the responder reads it from message 1. */
	memset(&h, 0, sizeof(h));
	h.flags = XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS;
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, field, fl), XF_R_OK);
	CU_ASSERT(h.dest == field && h.dest_len == 7);
	CU_ASSERT(h.rules == field + 8 && h.rules_len == 6);
	CU_ASSERT_EQUAL(xf_hello_dest_field_len(&h), fl);
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, field, 7), XF_R_FIELD);      /* no NUL */
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, field, 8), XF_R_FIELD);      /* no rules */
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, field, fl - 1), XF_R_FIELD); /* unended */
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, NULL, 0), XF_R_FIELD);
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, (const char *)auth, XF_PATH_MAX + 1), XF_R_FIELD);
	h.flags = XF_HELLO_F_PULL; /* a pull request: NULs inside, all of it dest */
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, field, fl), XF_R_OK);
	CU_ASSERT(h.dest_len == fl && h.rules_len == 0 && h.rules == NULL);
	h.flags = 0;
	CU_ASSERT_EQUAL(xf_proto_hello_field(&h, NULL, 0), XF_R_OK); /* the first volume's root */
	CU_ASSERT_EQUAL(h.dest_len, 0);
}

/*
 * XF_HELLO_F_SEALED_OPTS: message 1's payload is the sealed block (xf_proto_hello_seal):
 * the real flags and limit, the field's length, the field, zero padding to exactly the
 * length the caller gives (a sender gives its one size, XF_HS_BLOCK_LEN from MTU 1500 up),
 * whatever the field. Read back by xf_proto_hello_unseal at any length (its sender keeps
 * it fixed), which judges the options as the decoder judges a HELLO's and refuses a block
 * cut short, padding that is not zeros, and options without XF_HELLO_F_CLEAR_AEAD.
 */
static void
test_hello_seal_block(void)
{
	static const char field[] = "vol/dst\0- *.o\n";
	static const char pull[] = "/src/a\0\0"; /* a pull request: its empty DEST ends it */
	const size_t fl = sizeof(field) - 1;
	static const size_t lens[] = {
		0, 1, 246, 247, 1000, XF_HS_BLOCK_LEN - XF_HELLO_SEALED_HDR
	};
	/* Unpadded, the one size at MTU 576 and at 1500, the longest message 1 holds. */
	static const size_t blens[] = { XF_HELLO_SEALED_HDR + sizeof(field) - 1, 332,
		                        XF_HS_BLOCK_LEN, XF_HELLO_SEALED_MAX };
	static uint8_t blk[XF_HELLO_SEALED_MAX + 1], copy[XF_HELLO_SEALED_MAX + 1];
	static char big[XF_PATH_MAX];
	const uint32_t opts = XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS |
	                      XF_HELLO_F_VOLUME | XF_HELLO_F_DRYRUN;
	struct xf_msg_hello clear = { .min_version = 2,
		                      .max_version = 2,
		                      .max_payload = 1456,
		                      .flags = XF_HELLO_F_CLEAR_AEAD,
		                      .auth_len = XF_HELLO_AUTH_LEN + XF_HS_BLOCK_LEN };
	struct xf_msg_hello h;
	long n;

	/* The round trip at the block's one size: the options, the limit and the field come
	 * back. */
	n = xf_proto_hello_seal(blk, XF_HS_BLOCK_LEN, opts, 7, field, fl);
	CU_ASSERT_EQUAL_FATAL(n, XF_HS_BLOCK_LEN);
	memcpy(copy, blk, (size_t)n);
	h = clear;
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, (size_t)n), XF_R_OK);
	CU_ASSERT(h.flags == opts && h.window == 7);
	CU_ASSERT(h.dest == (const char *)blk && h.dest_len == 7 &&
	          memcmp(h.dest, "vol/dst", 7) == 0);
	CU_ASSERT(h.rules_len == 6 && memcmp(h.rules, "- *.o\n", 6) == 0);
	CU_ASSERT_EQUAL(xf_hello_dest_field_len(&h), fl);
	/* Exactly the length given, whatever the field, every byte after it zero (the buffer
	 * held non-zeros), the last byte written and none past it; the longest field that
	 * fits, and one more byte refused. */
	memset(big, 'p', sizeof(big));
	for (size_t i = 0; i < XF_ARRAY_SIZE(lens); i++) {
		size_t zeros = 0;

		memset(blk, 0xee, sizeof(blk));
		CU_ASSERT_EQUAL(xf_proto_hello_seal(blk, XF_HS_BLOCK_LEN, XF_HELLO_F_CLEAR_AEAD, 0,
		                                    big, lens[i]),
		                XF_HS_BLOCK_LEN);
		CU_ASSERT(blk[8] == (uint8_t)(lens[i] >> 8) && blk[9] == (uint8_t)lens[i]);
		for (size_t k = XF_HELLO_SEALED_HDR + lens[i]; k < XF_HS_BLOCK_LEN; k++) {
			zeros += blk[k] == 0;
		}
		CU_ASSERT_EQUAL(zeros, XF_HS_BLOCK_LEN - XF_HELLO_SEALED_HDR - lens[i]);
		CU_ASSERT_EQUAL(blk[XF_HS_BLOCK_LEN], 0xee);
		h = clear;
		CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_OK);
		CU_ASSERT_EQUAL(h.dest_len, lens[i]);
	}
	CU_ASSERT_EQUAL(xf_proto_hello_seal(blk, XF_HS_BLOCK_LEN, XF_HELLO_F_CLEAR_AEAD, 0, big,
	                                    XF_HS_BLOCK_LEN - XF_HELLO_SEALED_HDR + 1),
	                -EMSGSIZE);
	/* Other lengths a caller may give: the fixed part alone, the longest message 1 holds;
	 * one byte more, no buffer, a field over XF_PATH_MAX or NULL with a length refused. */
	CU_ASSERT_EQUAL(
	        xf_proto_hello_seal(blk, XF_HELLO_SEALED_HDR, XF_HELLO_F_CLEAR_AEAD, 0, NULL, 0),
	        XF_HELLO_SEALED_HDR);
	CU_ASSERT_EQUAL(
	        xf_proto_hello_seal(blk, XF_HELLO_SEALED_HDR, XF_HELLO_F_CLEAR_AEAD, 0, big, 1),
	        -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_hello_seal(blk, XF_HELLO_SEALED_MAX, XF_HELLO_F_CLEAR_AEAD, 0, big,
	                                    XF_HELLO_SEALED_MAX - XF_HELLO_SEALED_HDR),
	                (long)XF_HELLO_SEALED_MAX);
	CU_ASSERT_EQUAL(
	        xf_proto_hello_seal(blk, XF_HELLO_SEALED_MAX + 1, XF_HELLO_F_CLEAR_AEAD, 0, big, 1),
	        -EINVAL);
	CU_ASSERT_EQUAL(
	        xf_proto_hello_seal(NULL, XF_HS_BLOCK_LEN, XF_HELLO_F_CLEAR_AEAD, 0, big, 1),
	        -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_hello_seal(blk, XF_HELLO_SEALED_MAX, XF_HELLO_F_CLEAR_AEAD, 0, big,
	                                    (size_t)XF_PATH_MAX + 1),
	                -EMSGSIZE);
	CU_ASSERT_EQUAL(
	        xf_proto_hello_seal(blk, XF_HS_BLOCK_LEN, XF_HELLO_F_CLEAR_AEAD, 0, NULL, 1),
	        -EMSGSIZE);
	/* The responder reads a block of any length (docs/PROTOCOL.md 3.1.4: keeping it
	 * fixed is the sender's part). */
	for (size_t i = 0; i < XF_ARRAY_SIZE(blens); i++) {
		CU_ASSERT_EQUAL((size_t)xf_proto_hello_seal(blk, blens[i], opts, 7, field, fl),
		                blens[i]);
		h = clear;
		CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, blens[i]), XF_R_OK);
		CU_ASSERT(h.flags == opts && h.window == 7 && h.dest_len == 7 && h.rules_len == 6);
	}
	/* A pull request whose DEST is empty ends in a NUL: kept, as its length says. */
	n = xf_proto_hello_seal(blk, XF_HS_BLOCK_LEN, XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_PULL, 0,
	                        pull, sizeof(pull) - 1);
	h = clear;
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, (size_t)n), XF_R_OK);
	CU_ASSERT(h.dest_len == sizeof(pull) - 1 && memcmp(h.dest, pull, sizeof(pull) - 1) == 0);
	/* Cut short: shorter than its fixed part, or than its field's length says. */
	h = clear;
	memcpy(blk, copy, XF_HS_BLOCK_LEN);
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HELLO_SEALED_HDR - 1),
	                XF_R_TRUNCATED);
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HELLO_SEALED_HDR + fl - 1),
	                XF_R_TRUNCATED);
	CU_ASSERT_EQUAL(h.flags, XF_HELLO_F_CLEAR_AEAD); /* unchanged */
	/* Changed: a padding byte (the last), a reserved flag, the clear set missing, a limit
	 * without DELETE, rules without DELETE, the field's form (its NUL). */
	blk[XF_HS_BLOCK_LEN - 1] = 1;
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_FIELD);
	memcpy(blk, copy, XF_HS_BLOCK_LEN);
	blk[1] |= 0x80; /* flag 0x800000 */
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_RESERVED);
	memcpy(blk, copy, XF_HS_BLOCK_LEN);
	blk[1] &= (uint8_t) ~(XF_HELLO_F_SEALED_OPTS >> 16);
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_FIELD);
	memcpy(blk, copy, XF_HS_BLOCK_LEN);
	blk[3] &= (uint8_t)~XF_HELLO_F_DELETE;
	CU_ASSERT_NOT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_OK);
	memcpy(blk, copy, XF_HS_BLOCK_LEN);
	blk[10 + 7] = 'x'; /* the NUL before the rules */
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(&h, (char *)blk, XF_HS_BLOCK_LEN), XF_R_FIELD);
	CU_ASSERT_EQUAL(h.flags, XF_HELLO_F_CLEAR_AEAD);
	CU_ASSERT_EQUAL(xf_proto_hello_unseal(NULL, (char *)blk, XF_HS_BLOCK_LEN), XF_R_TRUNCATED);
}

void
test_roundtrip_hello_limits(void)
{
	static uint8_t buf[BUF_CAP];
	static char dest[XF_PATH_MAX];
	struct xf_msg m, d;
	int rc;

	memset(dest, 'd', sizeof(dest));
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_HELLO);
	m.hdr.flags = XF_HDR_F_NOACK;
	m.hello = (struct xf_msg_hello){ .min_version = 1,
		                         .max_version = UINT16_MAX,
		                         .max_payload = XF_PAYLOAD_MIN,
		                         .nonce = UINT64_MAX,
		                         .dest = dest,
		                         .dest_len = XF_PATH_MAX };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 28 + XF_PATH_MAX));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hdr.flags, XF_HDR_F_NOACK);
	CU_ASSERT_EQUAL(d.hello.max_version, UINT16_MAX);
	CU_ASSERT_EQUAL(d.hello.max_payload, XF_PAYLOAD_MIN);
	CU_ASSERT_EQUAL(d.hello.dest_len, XF_PATH_MAX);
	CU_ASSERT(memcmp(d.hello.dest, dest, XF_PATH_MAX) == 0);

	/* An empty destination, the largest max_payload, and a refusal with its code. */
	m.hello.dest_len = 0;
	m.hello.dest = NULL;
	m.hello.max_payload = XF_PAYLOAD_MAX;
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 28));
	tp_roundtrip(buf, (size_t)rc, &d);

	m.hdr.type = XF_MSG_HELLO_ACK;
	m.hello.status = XF_ABORT_BUSY;
	m.hello.window = 0;
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hello.status, XF_ABORT_BUSY);
}

/*
 * The receiver's volume asks for compressed DATA in its HELLO_ACK (XF_HELLO_F_COMPRESS,
 * docs/PROTOCOL.md 6.16): an accepted answer carries it there and back, a refusal never
 * (the encoder and the decoder say no), and the rule of when a receiver asks:
 * its volume asks, and the HELLO neither compresses already nor sends no DATA.
 */
void
test_hello_ack_compress(void)
{
	uint8_t buf[BUF_CAP];
	struct xf_msg m, d;
	enum xf_proto_reason why;
	int rc;

	m = tp_hello_ack(XF_HELLO_F_COMPRESS);
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 28));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hello.flags, XF_HELLO_F_COMPRESS);

	/* The answer carries nothing else of the HELLO's compression words. */
	m.hello.flags = XF_HELLO_F_COMPRESS | XF_HELLO_F_NO_COMPRESS;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);

	/* A refusal asks nothing. */
	m.hello.flags = XF_HELLO_F_COMPRESS;
	m.hello.status = XF_ABORT_BUSY;
	m.hello.window = 0;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) < 0);
	m.hello.flags = 0;
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	buf[XF_HDR_LEN + 12 + 2] |= XF_HELLO_F_COMPRESS >> 8; /* flags, big-endian */
	CU_ASSERT_EQUAL(xf_proto_decode(buf, (size_t)rc, &d, &why), -EBADMSG);
	CU_ASSERT_EQUAL(why, XF_R_FIELD);

	CU_ASSERT(xf_hello_ack_zip(0, true));
	CU_ASSERT(xf_hello_ack_zip(XF_HELLO_F_CHECKSUM | XF_HELLO_F_DELETE | XF_HELLO_F_VOLUME,
	                           true));
	CU_ASSERT(!xf_hello_ack_zip(0, false));
	/* --compress already: taken anyway, and a sender that predates the ask keeps working */
	CU_ASSERT(!xf_hello_ack_zip(XF_HELLO_F_COMPRESS, true));
	CU_ASSERT(!xf_hello_ack_zip(XF_HELLO_F_DRYRUN, true)); /* no DATA */
	CU_ASSERT(!xf_hello_ack_zip(XF_HELLO_F_PULL, true));   /* no DATA, no volume */
}

void
test_roundtrip_flist_limits(void)
{
	static uint8_t buf[BUF_CAP];
	static char path[XF_PATH_MAX], target[XF_PATH_MAX];
	static char names[XF_FLIST_MAX][8];
	struct xf_proto_builder b;
	struct xf_flist_entry e, got;
	struct xf_msg m, d;
	uint32_t cur = 0;
	int rc;

	/* The largest entry: a symlink with a path and a target of XF_PATH_MAX each. */
	memset(path, 'p', sizeof(path));
	memset(target, 't', sizeof(target));
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.first_index = UINT32_MAX - 1;
	m.flist.flags = XF_FLIST_F_LAST;
	e = (struct xf_flist_entry){ .kind = XF_FILE_SYMLINK,
		                     .mode = 07777,
		                     .size = XF_PATH_MAX,
		                     .mtime_ns = INT64_MIN,
		                     .path = path,
		                     .path_len = XF_PATH_MAX,
		                     .target = target,
		                     .target_len = XF_PATH_MAX };
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MAX, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_FLIST_OVERHEAD + 2 * XF_PATH_MAX));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.flist.first_index, UINT32_MAX - 1);
	CU_ASSERT_EQUAL(d.flist.flags, XF_FLIST_F_LAST);
	CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cur, &got));
	check_entry_eq(&got, &e);
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cur, &got));

	/* XF_FLIST_MAX entries; one more is refused for count, not for bytes. */
	m.flist.first_index = 0;
	m.flist.flags = 0;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MAX, &m), 0);
	for (unsigned int i = 0; i < XF_FLIST_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "f%03u", i);
		e = (struct xf_flist_entry){ .kind = XF_FILE_REG,
			                     .mode = i,
			                     .size = OFF_MAX - i,
			                     .mtime_ns = (int64_t)i * 1000,
			                     .path = names[i],
			                     .path_len = 4 };
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_flist(&b, &e), 0);
	}
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -ENOSPC);
	CU_ASSERT(b.len + XF_FLIST_OVERHEAD < XF_PAYLOAD_MAX);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 8 + XF_FLIST_MAX * (24 + 4)));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.flist.count, XF_FLIST_MAX);
	cur = 0;
	for (unsigned int i = 0; i < XF_FLIST_MAX; i++) {
		CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cur, &got));
		CU_ASSERT_EQUAL(got.mode, i);
		CU_ASSERT_EQUAL(got.size, OFF_MAX - i);
		CU_ASSERT_EQUAL(got.mtime_ns, (int64_t)i * 1000);
		CU_ASSERT(memcmp(got.path, names[i], 4) == 0);
	}
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cur, &got));

	/* The end marker: an empty FLIST with LAST says total = first_index. */
	m.flist.first_index = 1234;
	m.flist.flags = XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MIN, &m), 0);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 8));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.flist.count, 0);
	cur = 0;
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cur, &got));
	/* ...but only with LAST. */
	m.flist.flags = 0;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MIN, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL);
}

/* An entry fits a frame exactly when XF_FLIST_OVERHEAD + path + target <= the cap. */
void
test_flist_fill_bytes(void)
{
	static uint8_t buf[BUF_CAP];
	static char path[XF_PATH_MAX];
	const size_t caps[] = { XF_PAYLOAD_MIN, XF_PAYLOAD_MTU1500, XF_PAYLOAD_MAX };
	struct xf_proto_builder b;
	struct xf_flist_entry e = { .kind = XF_FILE_REG, .mode = 0600, .path = path };
	struct xf_msg m, d;

	memset(path, 'q', sizeof(path));
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	for (size_t c = 0; c < XF_ARRAY_SIZE(caps); c++) {
		size_t room = caps[c] - XF_FLIST_OVERHEAD;
		size_t fit = room < XF_PATH_MAX ? room : XF_PATH_MAX;

		CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, caps[c], &m), 0);
		if (room < XF_PATH_MAX) {
			e.path_len = (uint16_t)(room + 1);
			CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -ENOSPC);
			CU_ASSERT_EQUAL(b.count, 0);
		}
		e.path_len = (uint16_t)fit;
		CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
		CU_ASSERT_EQUAL(xf_proto_build_finish(&b), (int)(XF_FLIST_OVERHEAD + fit));
		CU_ASSERT_EQUAL(xf_proto_decode(buf, XF_FLIST_OVERHEAD + fit, &d, NULL), 0);
	}

	/* Ten entries of 144 bytes fill a 1472-byte frame to the last byte. */
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MTU1500, &m), 0);
	e.path_len = (XF_PAYLOAD_MTU1500 - XF_HDR_LEN - 8) / 10 - 24;
	for (int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
	}
	e.path_len = 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -ENOSPC);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), (int)XF_PAYLOAD_MTU1500);
	tp_roundtrip(buf, XF_PAYLOAD_MTU1500, &d);
	CU_ASSERT_EQUAL(d.flist.count, 10);
}

/* Each array builder: exactly k records fit a frame sized for k; k + 1 does not. */
void
test_builders_fill(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_proto_builder b;
	struct xf_decision_rec dr = { .decision = XF_DEC_WHOLE };
	struct xf_sig_rec sr = { .weak = 7, .strong = 9 };
	struct xf_commit_fail cf = { .status = XF_ST_NOSPACE };
	struct xf_ack_range ar;
	struct xf_msg m, d;
	int rc;

	memset(&m, 0, sizeof(m));

	/* DECISION: 10 records in a frame of 24 + 4 + 10 * 16. */
	m.hdr = hdr(XF_MSG_DECISION);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_HDR_LEN + 4 + 10 * 16, &m), 0);
	for (uint32_t i = 0; i < 10; i++) {
		dr.file = i;
		CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), 0);
	}
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -ENOSPC);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), (int)(XF_HDR_LEN + 4 + 10 * 16));
	/* And the count limit fills XF_PAYLOAD_MAX to the byte. */
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	for (uint32_t i = 0; i < XF_DECISION_MAX; i++) {
		dr.file = i;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_decision(&b, &dr), 0);
	}
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -ENOSPC);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 4 + XF_DECISION_MAX * 16));
	CU_ASSERT(rc <= (int)XF_PAYLOAD_MAX && rc + 16 > (int)XF_PAYLOAD_MAX);
	tp_roundtrip(buf, (size_t)rc, &d);
	xf_proto_decision_get(&d, XF_DECISION_MAX - 1, &dr);
	CU_ASSERT_EQUAL(dr.file, XF_DECISION_MAX - 1);

	/* SIG: the most records, ending on the last block index a u32 can name. */
	m.hdr = hdr(XF_MSG_SIG);
	m.sig.file = 5;
	m.sig.block_size = XF_BLOCK_MAX;
	m.sig.first_block = UINT32_MAX - (XF_SIG_MAX - 1);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	for (uint32_t i = 0; i < XF_SIG_MAX; i++) {
		sr.weak = i;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_sig(&b, &sr), 0);
	}
	CU_ASSERT(xf_proto_build_sig(&b, &sr) < 0);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 16 + XF_SIG_MAX * 8));
	CU_ASSERT(rc <= (int)XF_PAYLOAD_MAX && rc + 12 > (int)XF_PAYLOAD_MAX);
	tp_roundtrip(buf, (size_t)rc, &d);
	xf_proto_sig_get(&d, XF_SIG_MAX - 1, &sr);
	CU_ASSERT_EQUAL(sr.weak, XF_SIG_MAX - 1);
	CU_ASSERT_EQUAL(d.sig.block_size, XF_BLOCK_MAX);
	/* With room for more, the block index limit is what refuses. */
	m.sig.first_block = UINT32_MAX;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_sig(&b, &sr), 0);
	CU_ASSERT_EQUAL(xf_proto_build_sig(&b, &sr), -EINVAL);
	CU_ASSERT(xf_proto_build_finish(&b) > 0);

	/* COMMIT: the most failures fill XF_PAYLOAD_MAX to the byte; none is fine too. */
	m.hdr = hdr(XF_MSG_COMMIT);
	m.commit.committed = 5000;
	m.commit.credit = 5000;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	for (uint32_t i = 0; i < XF_COMMIT_FAIL_MAX; i++) {
		cf.file = i * 2;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_commit(&b, &cf), 0);
	}
	cf.file = 4999;
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), -ENOSPC);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 12 + XF_COMMIT_FAIL_MAX * 8));
	CU_ASSERT(rc <= (int)XF_PAYLOAD_MAX && rc + 8 > (int)XF_PAYLOAD_MAX);
	tp_roundtrip(buf, (size_t)rc, &d);
	xf_proto_commit_get(&d, XF_COMMIT_FAIL_MAX - 1, &cf);
	CU_ASSERT_EQUAL(cf.file, (XF_COMMIT_FAIL_MAX - 1) * 2);
	CU_ASSERT_EQUAL(cf.status, XF_ST_NOSPACE);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 12));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.commit.count, 0);

	/* ACK: XF_ACK_RANGES ranges, from UINT64_MAX down to a range starting at 0. */
	m.hdr = hdr(XF_MSG_ACK);
	m.ack.largest = UINT64_MAX;
	m.ack.ack_delay_us = UINT32_MAX;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, BUF_CAP, &m), 0);
	for (uint32_t i = 0; i < XF_ACK_RANGES; i++) {
		uint32_t k = XF_ACK_RANGES - 1 - i;

		ar.last = i == 0 ? UINT64_MAX : 3 * (uint64_t)k + 1;
		ar.first = 3 * (uint64_t)k;
		CU_ASSERT_EQUAL_FATAL(xf_proto_build_ack(&b, &ar), 0);
	}
	CU_ASSERT(xf_proto_build_ack(&b, &ar) < 0);
	rc = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 16 + XF_ACK_RANGES * 16));
	CU_ASSERT(rc <= (int)XF_PAYLOAD_MTU1500);
	tp_roundtrip(buf, (size_t)rc, &d);
	xf_proto_ack_get(&d, XF_ACK_RANGES - 1, &ar);
	CU_ASSERT_EQUAL(ar.first, 0);
	CU_ASSERT_EQUAL(ar.last, 1);
	/* The count limit applies even with bytes to spare; bytes limit at 512. */
	m.ack.largest = 1000000;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MIN, &m), 0);
	for (uint32_t i = 0;; i++) {
		ar.last = 1000000 - 10 * (uint64_t)i;
		ar.first = ar.last - 5;
		rc = xf_proto_build_ack(&b, &ar);
		if (rc != 0) {
			CU_ASSERT_EQUAL(rc, -ENOSPC);
			CU_ASSERT_EQUAL(i, (XF_PAYLOAD_MIN - XF_HDR_LEN - 16) / 16);
			break;
		}
	}
	CU_ASSERT(xf_proto_build_finish(&b) <= (int)XF_PAYLOAD_MIN);
}

void
test_roundtrip_data_copy(void)
{
	static uint8_t buf[BUF_CAP], payload[XF_PAYLOAD_MAX];
	const uint32_t max = XF_PAYLOAD_MAX - XF_DATA_OVERHEAD;
	struct xf_hdr h = hdr(XF_MSG_DATA);
	struct xf_msg m, d;
	int rc;

	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i * 31 + 7);
	}
	/* The largest DATA, ending exactly at the largest offset. */
	memset(&m, 0, sizeof(m));
	m.hdr = h;
	m.data = (struct xf_msg_data){
		.file = UINT32_MAX, .len = max, .offset = OFF_MAX - max, .bytes = payload
	};
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_PAYLOAD_MAX);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.data.len, max);
	CU_ASSERT_EQUAL(d.data.offset, OFF_MAX - max);
	CU_ASSERT(memcmp(d.data.bytes, payload, max) == 0);
	/* The same frame built in place. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf + XF_DATA_OVERHEAD, payload, max);
	h.type = 0; /* ignored: the function makes DATA */
	rc = xf_proto_data_hdr_encode(buf, &h, UINT32_MAX, OFF_MAX - max, max, 0);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_PAYLOAD_MAX);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hdr.type, XF_MSG_DATA);
	CU_ASSERT_EQUAL(d.data.len, max);
	/* One byte at MTU 1500's largest payload. */
	rc = xf_proto_data_hdr_encode(buf, &h, 0, 0, XF_PAYLOAD_MTU1500 - XF_DATA_OVERHEAD, 0);
	CU_ASSERT_EQUAL(rc, (int)XF_PAYLOAD_MTU1500);
	rc = xf_proto_data_hdr_encode(buf, &h, 0, 0, 1, 0);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_DATA_OVERHEAD + 1);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.data.len, 1);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 0, 0, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 0, 0, max + 1, 0), -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 0, OFF_MAX, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 0, OFF_MAX - 1, 1, 0),
	                XF_DATA_OVERHEAD + 1);

	/* Compressed (raw_len, 6.16): the write's end is offset + raw_len, not + len. */
	rc = xf_proto_data_hdr_encode(buf, &h, 9, OFF_MAX - XF_DATA_RAW_MAX, 100, XF_DATA_RAW_MAX);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_DATA_OVERHEAD + 100);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.data.len, 100);
	CU_ASSERT_EQUAL(d.data.raw_len, XF_DATA_RAW_MAX);
	CU_ASSERT_EQUAL(xf_proto_data_span(&d.data), XF_DATA_RAW_MAX);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 9, OFF_MAX - XF_DATA_RAW_MAX + 1, 100,
	                                         XF_DATA_RAW_MAX),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 9, 0, 100, XF_DATA_RAW_MAX + 1), -EINVAL);
	rc = xf_proto_data_hdr_encode(buf, &h, 9, 0, 100, 0);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.data.raw_len, 0);
	CU_ASSERT_EQUAL(xf_proto_data_span(&d.data), 100);
	/* The decoder checks the range with raw_len too. */
	rc = xf_proto_data_hdr_encode(buf, &h, 9, OFF_MAX - 200, 100, 0);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_DATA_OVERHEAD + 100);
	buf[XF_HDR_LEN + 4] = 0; /* raw_len 201, big-endian */
	buf[XF_HDR_LEN + 5] = 0;
	buf[XF_HDR_LEN + 6] = 0;
	buf[XF_HDR_LEN + 7] = 201;
	CU_ASSERT_EQUAL(xf_proto_decode(buf, (size_t)rc, &d, NULL), -EBADMSG);
	buf[XF_HDR_LEN + 7] = 200;
	CU_ASSERT_EQUAL(xf_proto_decode(buf, (size_t)rc, &d, NULL), 0);
	CU_ASSERT_EQUAL(d.data.raw_len, 200);
	/* And xf_proto_encode writes it. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_DATA);
	m.data = (struct xf_msg_data){ .file = 1, .len = 10, .raw_len = 4000, .bytes = payload };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_DATA_OVERHEAD + 10);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.data.raw_len, 4000);
	m.data.raw_len = XF_DATA_RAW_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);
	h.session = 0;
	CU_ASSERT_EQUAL(xf_proto_data_hdr_encode(buf, &h, 0, 0, 1, 0), -EINVAL);

	/* COPY of the largest length ending at the largest offset, in both files. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_COPY);
	m.copy = (struct xf_msg_copy){ .file = 3,
		                       .len = UINT32_MAX,
		                       .offset = OFF_MAX - UINT32_MAX,
		                       .src_offset = OFF_MAX - UINT32_MAX };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, XF_HDR_LEN + 24);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.copy.len, UINT32_MAX);
	CU_ASSERT_EQUAL(d.copy.src_offset, OFF_MAX - UINT32_MAX);

	/* FILE_END of an empty file and of the largest one. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FILE_END);
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, XF_HDR_LEN + 24);
	tp_roundtrip(buf, (size_t)rc, &d);
	m.file_end.size = OFF_MAX;
	m.file_end.crc64 = UINT64_MAX;
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.file_end.size, OFF_MAX);
}

void
test_roundtrip_abort_done(void)
{
	static uint8_t buf[BUF_CAP];
	char text[XF_ABORT_MSG_MAX];
	struct xf_msg m, d;
	int rc;

	for (size_t i = 0; i < sizeof(text); i++) {
		text[i] = (char)(0x20 + i % (0x7f - 0x20));
	}
	CU_ASSERT_EQUAL(text[0], ' ');
	CU_ASSERT_EQUAL(text[0x7e - 0x20], '~');
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_ABORT);
	m.abort = (struct xf_msg_abort){ .code = XF_ABORT_MAX,
		                         .msg_len = XF_ABORT_MSG_MAX,
		                         .msg = text };
	rc = xf_proto_encode(buf, XF_PAYLOAD_MIN, &m);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_HDR_LEN + 4 + XF_ABORT_MSG_MAX));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT(memcmp(d.abort.msg, text, XF_ABORT_MSG_MAX) == 0);
	m.abort = (struct xf_msg_abort){ .code = XF_ABORT_VERSION };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, XF_HDR_LEN + 4);
	tp_roundtrip(buf, (size_t)rc, &d);

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_DONE);
	m.done = (struct xf_msg_done){ .files = UINT32_MAX, .status = XF_ABORT_MAX };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, XF_HDR_LEN + 8);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.done.files, UINT32_MAX);
	CU_ASSERT_FALSE(d.done.has_delete);

	/* A deleting session's receiver: 20 bytes with the deletion's outcome. */
	m.done = (struct xf_msg_done){ .files = 7,
		                       .has_delete = true,
		                       .deleted = UINT32_MAX,
		                       .kept = 3,
		                       .del_status = XF_DEL_MAX };
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_EQUAL_FATAL(rc, XF_HDR_LEN + 20);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT(d.done.has_delete);
	CU_ASSERT_EQUAL(d.done.deleted, UINT32_MAX);
	CU_ASSERT_EQUAL(d.done.kept, 3);
	CU_ASSERT_EQUAL(d.done.del_status, XF_DEL_MAX);
	m.done.del_status = XF_DEL_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);
}

/*
 * XF_FLIST_F_OWNER (docs/PROTOCOL.md 3.2, 6.17): each entry carries uid and gid after its
 * fixed fields, 8 bytes more; they round-trip, XF_ID_NONE included; the same entries in
 * a frame without the flag decode with XF_ID_NONE and take 8 bytes less; a frame cut
 * inside the owner fields is truncated; the fit rule counts XF_FLIST_OWNER_LEN.
 */
static void
test_flist_owner(void)
{
	static uint8_t buf[BUF_CAP];
	static char path[XF_PATH_MAX];
	struct xf_flist_entry in[3] = {
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
		  .uid = 0,
		  .gid = XF_ID_NONE },
		{ .kind = XF_FILE_SYMLINK,
		  .mode = 0777,
		  .size = 2,
		  .path = "d/l",
		  .path_len = 3,
		  .target = "..",
		  .target_len = 2,
		  .uid = XF_ID_NONE - 1,
		  .gid = 7 },
	};
	struct xf_proto_builder b;
	struct xf_flist_entry e;
	struct xf_msg m, d;
	uint32_t cursor = 0;
	int len, plain;

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.flags = XF_FLIST_F_OWNER | XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &in[i]), 0);
	}
	len = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL(len, (int)(XF_HDR_LEN + 8 + 3 * (24 + XF_FLIST_OWNER_LEN) + 1 + 1 + 3 + 2));
	tp_roundtrip(buf, (size_t)len, &d);
	CU_ASSERT_EQUAL(d.flist.flags, XF_FLIST_F_OWNER | XF_FLIST_F_LAST);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cursor, &e));
		CU_ASSERT_EQUAL(e.uid, in[i].uid);
		CU_ASSERT_EQUAL(e.gid, in[i].gid);
		CU_ASSERT_EQUAL(e.mode, in[i].mode);
		CU_ASSERT_EQUAL(e.path_len, in[i].path_len);
		CU_ASSERT_EQUAL(memcmp(e.path, in[i].path, e.path_len), 0);
		CU_ASSERT_EQUAL(e.target_len, in[i].target_len);
	}
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cursor, &e));
	/* Cut inside the last entry's owner fields (before its path): truncated. */
	for (int cut = 1; cut <= 8; cut++) {
		size_t n = (size_t)len - 5 - (size_t)cut;
		enum xf_proto_reason why = XF_R_OK;

		buf[6] = (uint8_t)((n - XF_HDR_LEN) >> 8);
		buf[7] = (uint8_t)(n - XF_HDR_LEN);
		CU_ASSERT_EQUAL(xf_proto_decode(buf, n, &d, &why), -EBADMSG);
		CU_ASSERT_EQUAL(why, XF_R_TRUNCATED);
	}

	/* Without the flag: the same entries, 8 bytes less each, owners not carried. */
	m.flist.flags = XF_FLIST_F_LAST;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &in[i]), 0);
	}
	plain = xf_proto_build_finish(&b);
	CU_ASSERT_EQUAL(plain, len - 3 * (int)XF_FLIST_OWNER_LEN);
	tp_roundtrip(buf, (size_t)plain, &d);
	cursor = 0;
	while (xf_proto_flist_next(&d, &cursor, &e)) {
		CU_ASSERT_EQUAL(e.uid, XF_ID_NONE);
		CU_ASSERT_EQUAL(e.gid, XF_ID_NONE);
	}

	/* The fit rule: overhead + owner fields + path bytes. */
	memset(path, 'q', sizeof(path));
	m.flist.flags = XF_FLIST_F_OWNER;
	e = (struct xf_flist_entry){ .kind = XF_FILE_REG, .path = path };
	e.path_len = (uint16_t)(XF_PAYLOAD_MIN - XF_FLIST_OVERHEAD - XF_FLIST_OWNER_LEN + 1);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MIN, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -ENOSPC);
	e.path_len--;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), (int)XF_PAYLOAD_MIN);
	CU_ASSERT_EQUAL(xf_proto_decode(buf, XF_PAYLOAD_MIN, &d, NULL), 0);
	/* The largest entry still fits a jumbo frame with them. */
	e.path_len = XF_PATH_MAX;
	e.kind = XF_FILE_SYMLINK;
	e.target = path;
	e.target_len = XF_PATH_MAX;
	e.size = XF_PATH_MAX;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, XF_PAYLOAD_MAX, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
	/* An unknown FLIST flag is refused by the builder. */
	m.flist.flags = 0x8;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
}

static const struct xf_test tests[] = {
	{ "round trip of every type", test_roundtrip_base },
	{ "accessor bounds", test_accessor_bounds },
	{ "HELLO limits", test_roundtrip_hello_limits },
	{ "HELLO_ACK: the volume asks for compressed DATA", test_hello_ack_compress },
	{ "HELLO filter rules", test_hello_rules },
	{ "HELLO destination field sealed in message 1", test_hello_sealed },
	{ "HELLO options and field sealed, padded", test_hello_seal_block },
	{ "FLIST limits", test_roundtrip_flist_limits },
	{ "FLIST fills bytes exactly", test_flist_fill_bytes },
	{ "FLIST with owners", test_flist_owner },
	{ "FLIST name tables", test_flist_names },
	{ "FLIST name tables: the builder refuses", test_flist_names_build },
	{ "FLIST name tables: hostile", test_flist_names_malformed },
	{ "FLIST with attribute sets", test_flist_xattr },
	{ "attribute set CRC-64", test_xattr_crc },
	{ "attribute set encoding", test_xattr_encode },
	{ "attribute set bounds", test_xattr_bounds },
	{ "attribute set cut and flipped", test_xattr_hostile },
	{ "ACLs told apart as rsync -A does", test_xattr_acl_differs },
	{ "FLIST placeholders (XF_FLIST_F_GIVEUP)", test_flist_giveup },
	{ "builders fill to the limit", test_builders_fill },
	{ "DATA, COPY, FILE_END limits", test_roundtrip_data_copy },
	{ "DATA with the file's end", test_data_end },
	{ "HELLO_ACK: the receiver takes a file's end in its DATA", test_hello_data_end },
	{ "ABORT and DONE limits", test_roundtrip_abort_done },
	{ "truncated at every length", test_truncate_everywhere },
	{ "trailing bytes and length", test_trailing },
	{ "header checks", test_header },
	{ "field mutations", test_mutations },
	{ "reserved bits", test_reserved },
	{ "bit flips", test_bitflips },
	{ "encoder refuses", test_encode_refuses },
	{ "builders refuse", test_builders_refuse },
	{ "names", test_names },
	{ "set packet number and flags in place", test_set_pn_flags },
};

int
main(void)
{
	return xf_test_main("proto", NULL, NULL, XF_TESTS(tests));
}
