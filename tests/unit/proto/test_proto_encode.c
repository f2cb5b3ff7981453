/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The encoder and the builders refuse what the decoder would reject; the names of types
 * and reasons; the packet number and flags rewritten in place for a retransmission.
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

/* ---- the encoder and the builders refuse what the decoder would reject ---- */

static int
enc(const struct xf_msg *m)
{
	static uint8_t buf[BUF_CAP];

	return xf_proto_encode(buf, sizeof(buf), m);
}

void
test_encode_refuses(void)
{
	static uint8_t buf[BUF_CAP], big[XF_PAYLOAD_MAX];
	static const uint8_t bad_decision[16] = { 0, 0, 0, 1, 9 };
	struct xf_msg m, base;
	char text[] = "bad\ttab";

	memset(&base, 0, sizeof(base));
	base.hdr = hdr(XF_MSG_DONE);
	CU_ASSERT(enc(&base) > 0);
	/* Header. */
	m = base;
	m.hdr.type = 0;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hdr.type = XF_MSG_TYPE_MAX + 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m = base;
	m.hdr.flags = 0x8000;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m = base;
	m.hdr.session = 0;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m = base;
	m.hdr.version = 9; /* forced to XF_PROTO_VERSION */
	CU_ASSERT_EQUAL(enc(&m), XF_HDR_LEN + 8);
	m.done.status = XF_ABORT_MAX + 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	/* The caller's capacity. */
	CU_ASSERT_EQUAL(xf_proto_encode(buf, XF_HDR_LEN + 7, &base), -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_encode(buf, XF_HDR_LEN + 8, &base), XF_HDR_LEN + 8);
	m = base;
	m.hdr.type = XF_MSG_PING;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, XF_HDR_LEN - 1, &m), -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_encode(buf, XF_HDR_LEN, &m), (int)XF_HDR_LEN);

	/* HELLO / HELLO_ACK. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_HELLO);
	m.hello = (struct xf_msg_hello){ .min_version = 1, .max_version = 1, .max_payload = 1472 };
	CU_ASSERT(enc(&m) > 0);
	m.hello.max_payload = XF_PAYLOAD_MIN - 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.max_payload = 1472;
	m.hello.min_version = 2;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.min_version = 1;
	m.hello.window = 4;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.window = 0;
	m.hello.flags = 0x2000;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.flags = XF_HELLO_F_HARDLINKS;
	CU_ASSERT(enc(&m) > 0);
	m.hello.flags = 0;
	m.hello.dest_len = XF_PATH_MAX + 1;
	m.hello.dest = (const char *)big;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.dest_len = 3;
	m.hello.dest = NULL;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.hello.dest = "abc";
	m.hdr.type = XF_MSG_HELLO_ACK;
	m.hello.window = 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL); /* destination in the answer */
	m.hello.dest_len = 0;
	CU_ASSERT(enc(&m) > 0);
	m.hello.window = 0;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);

	/* DATA. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_DATA);
	m.data.bytes = big;
	m.data.len = 0;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.data.len = XF_PAYLOAD_MAX - XF_DATA_OVERHEAD + 1;
	CU_ASSERT_EQUAL(enc(&m), -EMSGSIZE);
	m.data.len = UINT32_MAX;
	CU_ASSERT_EQUAL(enc(&m), -EMSGSIZE);
	m.data.len = 10;
	m.data.offset = OFF_MAX - 9;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.data.offset = OFF_MAX - 10;
	CU_ASSERT(enc(&m) > 0);
	m.data.bytes = NULL;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);

	/* COPY, FILE_END, ABORT. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_COPY);
	CU_ASSERT_EQUAL(enc(&m), -EINVAL); /* len 0 */
	m.copy.len = 1;
	m.copy.src_offset = OFF_MAX;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FILE_END);
	m.file_end.size = OFF_MAX + 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_ABORT);
	CU_ASSERT_EQUAL(enc(&m), -EINVAL); /* code NONE */
	m.abort.code = XF_ABORT_PROTOCOL;
	m.abort.msg = text;
	m.abort.msg_len = (uint16_t)strlen(text);
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.abort.msg_len = 3;
	CU_ASSERT(enc(&m) > 0);
	m.abort.msg = (const char *)big;
	m.abort.msg_len = XF_ABORT_MSG_MAX + 1;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);

	/* Arrays passed as raw wire bytes are checked as the decoder checks them. */
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_DECISION);
	m.decision.count = 1;
	m.decision.raw = bad_decision;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.decision.count = 0;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	m.decision.count = XF_DECISION_MAX + 1;
	m.decision.raw = big;
	CU_ASSERT_EQUAL(enc(&m), -EINVAL);
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.count = 1;
	m.flist.raw = big;
	m.flist.raw_len = 30;
	memset(big, 0, 64);
	CU_ASSERT_EQUAL(enc(&m), -EINVAL); /* kind 0 */
	m.flist.raw_len = sizeof(big);
	CU_ASSERT_EQUAL(enc(&m), -EMSGSIZE);
	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_ACK);
	CU_ASSERT_EQUAL(enc(&m), -EINVAL); /* no range */
}

void
test_builders_refuse(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_proto_builder b;
	struct xf_flist_entry e = {
		.kind = XF_FILE_REG, .mode = 0644, .size = 1, .path = "x", .path_len = 1
	};
	struct xf_flist_entry bad;
	struct xf_decision_rec dr = { .decision = XF_DEC_REFUSED, .status = 0 };
	struct xf_commit_fail cf = { .file = 4, .status = XF_ST_IO };
	struct xf_ack_range ar = { .first = 5, .last = 10 };
	struct xf_sig_rec sr = { 0 };
	struct xf_msg m;

	memset(&m, 0, sizeof(m));
	/* Types without arrays, bad headers, too little room for the fixed part. */
	m.hdr = hdr(XF_MSG_DATA);
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.hdr = hdr(XF_MSG_PING);
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.hdr = hdr(XF_MSG_FLIST);
	m.hdr.session = 0;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.hdr = hdr(XF_MSG_FLIST);
	m.flist.flags = 8;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.flist.flags = 0;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, XF_HDR_LEN + 7, &m), -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, XF_HDR_LEN + 8, &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -ENOSPC);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL);

	/* FLIST entries the decoder would reject. */
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	bad = e;
	bad.kind = 0;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.mode = 010644;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.path_len = 0;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.path_len = XF_PATH_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.path = NULL;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.kind = XF_FILE_DIR;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL); /* size 1 */
	bad = e;
	bad.size = OFF_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.kind = XF_FILE_SYMLINK;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL); /* no target */
	bad.target = "y";
	bad.target_len = 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), 0);
	bad.size = 2;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	/* A hard link: its leader's path is the target, size its length. */
	bad = e;
	bad.kind = XF_FILE_HARDLINK;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL); /* no leader */
	bad.target = "l";
	bad.target_len = 1;
	bad.size = 2;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL); /* size != target_len */
	bad.size = 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), 0);
	bad.kind = XF_FILE_HARDLINK + 1;
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	bad = e;
	bad.target_len = 1;
	bad.target = "y";
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &bad), -EINVAL);
	/* A record of another type is refused. */
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), -EINVAL);
	/* The symlink and the hard link: a 24-byte entry, 1-byte path, 1-byte target each. */
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), XF_FLIST_OVERHEAD + 2 + 24 + 2);
	/* Indices past UINT32_MAX. */
	m.flist.first_index = UINT32_MAX - 1;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &e), -EINVAL);

	/* DECISION. */
	m.hdr = hdr(XF_MSG_DECISION);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	dr.status = XF_ST_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	dr = (struct xf_decision_rec){ .decision = XF_DEC_DELTA, .block_size = 512 };
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	dr.decision = 0;
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	/* Items: reserved bits, a new entry that differs, items with REFUSED. */
	dr = (struct xf_decision_rec){ .decision = XF_DEC_WHOLE, .items = XF_ITEM_ALL + 1 };
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	dr.items = XF_ITEM_NEW | XF_ITEM_SIZE;
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	dr = (struct xf_decision_rec){ .decision = XF_DEC_REFUSED,
		                       .status = XF_ST_IO,
		                       .items = XF_ITEM_TIME };
	CU_ASSERT_EQUAL(xf_proto_build_decision(&b, &dr), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL);

	/* SIG. */
	m.hdr = hdr(XF_MSG_SIG);
	m.sig.block_size = 0;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.sig.block_size = XF_BLOCK_MAX + 1;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.sig.block_size = 1;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_sig(&b, &sr), 0);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), XF_HDR_LEN + 16 + 8);

	/* ACK: first range ends at largest; then descending with gaps. */
	m.hdr = hdr(XF_MSG_ACK);
	m.ack.largest = 11;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL);
	ar.last = 11;
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), 0);
	ar = (struct xf_ack_range){ .first = 2, .last = 4 }; /* touches 5 */
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), -EINVAL);
	ar = (struct xf_ack_range){ .first = 3, .last = 2 };
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), -EINVAL);
	ar = (struct xf_ack_range){ .first = 0, .last = 3 };
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), 0);
	ar = (struct xf_ack_range){ .first = 0, .last = 0 };
	CU_ASSERT_EQUAL(xf_proto_build_ack(&b, &ar), -EINVAL); /* nothing below 0 */
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), XF_HDR_LEN + 16 + 32);

	/* COMMIT. */
	m.hdr = hdr(XF_MSG_COMMIT);
	m.commit.committed = 5;
	m.commit.credit = 4;
	CU_ASSERT_EQUAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), -EINVAL);
	m.commit.credit = 5;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), 0);
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), -EINVAL); /* twice */
	cf.file = 5;
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), -EINVAL); /* not settled */
	cf.file = 3;
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), -EINVAL); /* out of order */
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), XF_HDR_LEN + 12 + 8);
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	cf.status = 0;
	CU_ASSERT_EQUAL(xf_proto_build_commit(&b, &cf), -EINVAL);
}

void
test_names(void)
{
	for (int r = 0; r < XF_R_MAX; r++) {
		const char *s = xf_proto_reason_str((enum xf_proto_reason)r);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT(strcmp(s, "?") != 0);
	}
	CU_ASSERT_STRING_EQUAL(xf_proto_reason_str(XF_R_TRUNCATED), "truncated");
	CU_ASSERT_STRING_EQUAL(xf_proto_reason_str(XF_R_MAX), "?");
	CU_ASSERT_STRING_EQUAL(xf_proto_reason_str((enum xf_proto_reason) - 1), "?");
	for (unsigned int t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		CU_ASSERT(strcmp(xf_proto_type_str(t), "?") != 0);
	}
	CU_ASSERT_STRING_EQUAL(xf_proto_type_str(XF_MSG_FLIST), "FLIST");
	CU_ASSERT_STRING_EQUAL(xf_proto_type_str(0), "?");
	CU_ASSERT_STRING_EQUAL(xf_proto_type_str(XF_MSG_TYPE_MAX + 1), "?");
	/* Every failure status has a name of its own. */
	for (unsigned int st = 0; st <= XF_ST_MAX; st++) {
		const char *s = xf_proto_status_str(st);

		CU_ASSERT(strcmp(s, "?") != 0);
		for (unsigned int o = 0; o < st; o++) {
			CU_ASSERT(strcmp(s, xf_proto_status_str(o)) != 0);
		}
	}
	CU_ASSERT_STRING_EQUAL(xf_proto_status_str(XF_ST_CHECKSUM), "checksum");
	CU_ASSERT_STRING_EQUAL(xf_proto_status_str(XF_ST_REDO), "redo");
	CU_ASSERT_STRING_EQUAL(xf_proto_status_str(255), "?");
}

/* A retransmission rewrites the packet number (and the responder a flag) in place. */
void
test_set_pn_flags(void)
{
	uint8_t buf[64];
	struct xf_msg m = { .hdr = { .type = XF_MSG_PING, .session = 7, .pn = 1 } }, d;
	int n = xf_proto_encode(buf, sizeof(buf), &m);

	CU_ASSERT_FATAL(n == XF_HDR_LEN);
	xf_proto_set_pn(buf, 0x0102030405060708ull);
	xf_proto_set_flags(buf, XF_HDR_F_REPLY);
	xf_proto_set_flags(buf, XF_HDR_F_ACKNOW);
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, (size_t)n, &d, NULL), 0);
	CU_ASSERT_EQUAL(d.hdr.pn, 0x0102030405060708ull);
	CU_ASSERT_EQUAL(d.hdr.flags, XF_HDR_F_REPLY | XF_HDR_F_ACKNOW);
	CU_ASSERT_EQUAL(d.hdr.session, 7);
}
