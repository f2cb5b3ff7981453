/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Malformed frames: every cut, trailing byte, header field, field mutation, reserved bit
 * and bit flip of the base frames is rejected with its reason (or, for a flip the decoder
 * accepts, re-encodes to the same bytes).
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

static void
put_be(uint8_t *p, unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++) {
		p[i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	}
}

/* ---- malformed frames ---- */

static void
expect_reject(const uint8_t *buf, size_t len, enum xf_proto_reason want, const char *what)
{
	struct xf_msg m;
	enum xf_proto_reason r = XF_R_OK;
	int rc = decode_exact(buf, len, &m, &r);

	if (r != want) {
		fprintf(stderr, "%s: reason %s, want %s\n", what, xf_proto_reason_str(r),
		        xf_proto_reason_str(want));
	}
	CU_ASSERT_EQUAL(r, want);
	if (want == XF_R_OK) {
		CU_ASSERT_EQUAL(rc, 0);
	} else if (want == XF_R_VERSION) {
		CU_ASSERT_EQUAL(rc, -EPROTONOSUPPORT);
	} else {
		CU_ASSERT_EQUAL(rc, -EBADMSG);
	}
}

/* Every cut of every valid frame is rejected, with or without a matching header. */
void
test_truncate_everywhere(void)
{
	static uint8_t buf[BUF_CAP], cut[BUF_CAP];
	char what[64];

	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		size_t n = tp_make_base(t, buf);

		for (size_t l = 0; l < n; l++) {
			snprintf(what, sizeof(what), "%s cut at %zu", xf_proto_type_str(t), l);
			expect_reject(buf, l, l < XF_HDR_LEN ? XF_R_SHORT : XF_R_LENGTH, what);
			if (l < XF_HDR_LEN) {
				continue;
			}
			/* The header's length says the cut length: the body is short. */
			memcpy(cut, buf, l);
			put_be(cut + 6, 2, l - XF_HDR_LEN);
			snprintf(what, sizeof(what), "%s cut at %zu, len fixed",
			         xf_proto_type_str(t), l);
			if (t != XF_MSG_DATA) {
				expect_reject(cut, l, XF_R_TRUNCATED, what);
			} else if (l < XF_DATA_OVERHEAD) {
				expect_reject(cut, l, XF_R_TRUNCATED, what);
			} else if (l == XF_DATA_OVERHEAD) {
				expect_reject(cut, l, XF_R_COUNT, what);
			} else {
				/* A shorter DATA is a valid DATA with fewer bytes. */
				expect_reject(cut, l, XF_R_OK, what);
			}
		}
	}
}

/* One byte more than the fields: trailing (DATA has no trailer: it is data). */
void
test_trailing(void)
{
	static uint8_t buf[BUF_CAP];

	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		size_t n = tp_make_base(t, buf);

		buf[n] = 0;
		put_be(buf + 6, 2, n + 1 - XF_HDR_LEN);
		expect_reject(buf, n + 1, t == XF_MSG_DATA ? XF_R_OK : XF_R_TRAILING,
		              xf_proto_type_str(t));
		/* Header length disagreeing with the datagram either way. */
		expect_reject(buf, n, XF_R_LENGTH, "len over datagram");
		put_be(buf + 6, 2, n - 1 - XF_HDR_LEN);
		expect_reject(buf, n, XF_R_LENGTH, "len under datagram");
	}
}

void
test_header(void)
{
	static uint8_t buf[BUF_CAP];
	static uint8_t big[XF_PAYLOAD_MAX + 1];
	const uint8_t bad_types[] = { 0, XF_MSG_TYPE_MAX + 1, 0x80, 0xff };
	struct xf_msg m;
	enum xf_proto_reason r;
	char what[64];

	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		size_t n = tp_make_base(t, buf);

		snprintf(what, sizeof(what), "%s", xf_proto_type_str(t));
		buf[0] ^= 0x01;
		expect_reject(buf, n, XF_R_MAGIC, what);
		buf[0] ^= 0x01;
		buf[1] = 0x58;
		expect_reject(buf, n, XF_R_MAGIC, what);
		buf[1] = 0x46;
		expect_reject(buf, n, XF_R_OK, what);

		for (unsigned int v = 0; v < 256; v += (v < 4 ? 1 : 51)) {
			buf[2] = (uint8_t)v;
			expect_reject(buf, n, v == XF_PROTO_VERSION ? XF_R_OK : XF_R_VERSION, what);
		}
		/* A version mismatch still fills the header so the receiver can answer. */
		buf[2] = 1; /* version 1 is not spoken: it has no authentication */
		CU_ASSERT_EQUAL(xf_proto_decode(buf, n, &m, &r), -EPROTONOSUPPORT);
		CU_ASSERT_EQUAL(m.hdr.version, 1);
		CU_ASSERT_EQUAL(m.hdr.session, 0xdeadbeefu);
		CU_ASSERT_EQUAL(m.hdr.type, t);
		buf[2] = XF_PROTO_VERSION;

		for (size_t i = 0; i < sizeof(bad_types); i++) {
			buf[3] = bad_types[i];
			expect_reject(buf, n, XF_R_TYPE, what);
		}
		buf[3] = t;

		for (unsigned int bit = 3; bit < 16; bit++) {
			if ((1u << bit) == XF_HDR_F_REDO) {
				continue; /* defined: a file's second attempt (6.19) */
			}
			if ((1u << bit) == XF_HDR_F_XATTR && t == XF_MSG_FLIST) {
				continue; /* an FLIST layout (6.20): test_flist_xattr() */
			}
			if ((1u << bit) == XF_HDR_F_END && t == XF_MSG_DATA) {
				continue; /* a DATA layout (3.5): test_data_end() */
			}
			put_be(buf + 4, 2, 1u << bit);
			/* XF_HDR_F_NAMES: defined on FLIST, where the base frame (without owners
			 * and table) fails on it (test_proto_names.c); reserved elsewhere. */
			expect_reject(buf, n,
			              (1u << bit) == XF_HDR_F_NAMES && t == XF_MSG_FLIST
			                      ? XF_R_NAME_ID
			                      : XF_R_RESERVED,
			              what);
		}
		put_be(buf + 4, 2, XF_HDR_F_NOACK);
		expect_reject(buf, n, XF_R_OK, what);
		put_be(buf + 4, 2, XF_HDR_F_REPLY);
		expect_reject(buf, n, XF_R_OK, what);
		put_be(buf + 4, 2, XF_HDR_F_ACKNOW);
		expect_reject(buf, n, XF_R_OK, what);
		/* REDO only on the frames of a file's contents. */
		put_be(buf + 4, 2, XF_HDR_F_REDO | XF_HDR_F_ACKNOW);
		expect_reject(buf, n,
		              t == XF_MSG_DATA || t == XF_MSG_COPY || t == XF_MSG_FILE_END
		                      ? XF_R_OK
		                      : XF_R_RESERVED,
		              what);
		put_be(buf + 4, 2, 0);

		for (unsigned int i = 12; i < 16; i++) {
			buf[i] = 0x80;
			expect_reject(buf, n, XF_R_RESERVED, what);
			buf[i] = 0x01;
			expect_reject(buf, n, XF_R_RESERVED, what);
			buf[i] = 0;
		}

		put_be(buf + 8, 4, 0);
		expect_reject(buf, n, XF_R_FIELD, "session 0");
		put_be(buf + 8, 4, 1);
		expect_reject(buf, n, XF_R_OK, "session 1");
		/* Every packet number is valid. */
		put_be(buf + 16, 8, UINT64_MAX);
		expect_reject(buf, n, XF_R_OK, what);
	}

	/* A datagram over XF_PAYLOAD_MAX, even if its header agrees. */
	tp_make_base(XF_MSG_DATA, big);
	put_be(big + 6, 2, sizeof(big) - XF_HDR_LEN);
	expect_reject(big, sizeof(big), XF_R_LENGTH, "over max");
	put_be(big + 6, 2, sizeof(big) - 1 - XF_HDR_LEN);
	expect_reject(big, sizeof(big) - 1, XF_R_OK, "at max");

	/* NULL reason pointer is allowed. */
	CU_ASSERT_EQUAL(xf_proto_decode(buf, 3, &m, NULL), -EBADMSG);
}

/* A field of a base frame set to a value, and the verdict. */
struct mutation {
	uint8_t type;
	uint16_t off; /**< from the start of the body */
	uint8_t width;
	uint64_t value;
	enum xf_proto_reason want;
};

static const struct mutation mutations[] = {
	/* HELLO */
	{ XF_MSG_HELLO, 0, 2, 0, XF_R_FIELD },
	{ XF_MSG_HELLO, 0, 2, 2, XF_R_FIELD }, /* min 2 > max 1 */
	{ XF_MSG_HELLO, 2, 2, 7, XF_R_OK },
	{ XF_MSG_HELLO, 4, 2, XF_PAYLOAD_MIN - 1, XF_R_FIELD },
	{ XF_MSG_HELLO, 4, 2, XF_PAYLOAD_MIN, XF_R_OK },
	{ XF_MSG_HELLO, 4, 2, XF_PAYLOAD_MAX, XF_R_OK },
	{ XF_MSG_HELLO, 4, 2, XF_PAYLOAD_MAX + 1, XF_R_FIELD },
	{ XF_MSG_HELLO, 4, 2, 0, XF_R_FIELD },
	{ XF_MSG_HELLO, 6, 2, 1, XF_R_RESERVED },        /* status is HELLO_ACK's */
	{ XF_MSG_HELLO, 8, 4, 1, XF_R_RESERVED },        /* window is HELLO_ACK's */
	{ XF_MSG_HELLO, 12, 4, 0x80000, XF_R_RESERVED }, /* the lowest flag not defined */
	/* A pull's --no-compress (6.16): only in a pull, never beside COMPRESS. */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_NO_COMPRESS, XF_R_FIELD },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_NO_COMPRESS | XF_HELLO_F_PULL, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_NO_COMPRESS | XF_HELLO_F_PULL | XF_HELLO_F_COMPRESS,
	  XF_R_FIELD },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_XATTRS, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_ACLS, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_OWNER, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_HARDLINKS, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_COOKIE, XF_R_RESERVED }, /* the HELLO_ACK's */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_DRYRUN, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_ITEMIZE, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_COMPRESS, XF_R_OK },
	/* Names without owners (6.21); with them, accepted. */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_OWNER_NAMES, XF_R_FIELD },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_OWNER_NAMES | XF_HELLO_F_OWNER, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_REDO, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_PULL, XF_R_OK }, /* dest is a pull request */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_PULL | XF_HELLO_F_CHECKSUM | XF_HELLO_F_DRYRUN, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_DRYRUN | XF_HELLO_F_ITEMIZE | XF_HELLO_F_DELETE,
	  XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_VOLUME, XF_R_OK }, /* dest names the volume */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_DELETE, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_DELETE | XF_HELLO_F_VOLUME, XF_R_OK },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS, XF_R_FIELD }, /* no NUL */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_FILTERS, XF_R_FIELD }, /* rules without DELETE */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_NO_COMPRESS << 1, XF_R_RESERVED },
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_SEALED_OPTS, XF_R_FIELD }, /* sealed without AEAD */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_AEAD, XF_R_FIELD },        /* AEAD without message 1 */
	{ XF_MSG_HELLO, 26, 2, XF_HELLO_AUTH_LEN, XF_R_FIELD },      /* message 1 without AEAD */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_SEALED_DEST, XF_R_FIELD }, /* sealed without AEAD */
	{ XF_MSG_HELLO, 12, 4, XF_HELLO_F_AEAD | XF_HELLO_F_SEALED_DEST, XF_R_FIELD }, /* no auth */
	{ XF_MSG_HELLO, 26, 2, 1, XF_R_FIELD },
	{ XF_MSG_HELLO, 12, 4, 0x80000000u, XF_R_RESERVED },
	{ XF_MSG_HELLO, 12, 4, 0, XF_R_OK },
	{ XF_MSG_HELLO, 24, 2, 8, XF_R_TRUNCATED },
	{ XF_MSG_HELLO, 24, 2, 6, XF_R_TRAILING },
	{ XF_MSG_HELLO, 24, 2, XF_PATH_MAX + 1, XF_R_FIELD },
	{ XF_MSG_HELLO, 24, 2, UINT16_MAX, XF_R_FIELD },
	/* HELLO_ACK */
	{ XF_MSG_HELLO_ACK, 6, 2, XF_ABORT_MAX + 1, XF_R_FIELD },
	{ XF_MSG_HELLO_ACK, 6, 2, XF_ABORT_REFUSED, XF_R_OK },
	{ XF_MSG_HELLO_ACK, 8, 4, 0, XF_R_FIELD }, /* accepted with no credit */
	{ XF_MSG_HELLO_ACK, 8, 4, UINT32_MAX, XF_R_OK },
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_DELETE, XF_R_RESERVED }, /* the HELLO's to ask */
	{ XF_MSG_HELLO_ACK, 24, 2, 1, XF_R_RESERVED }, /* no destination in the answer */
	{ XF_MSG_HELLO_ACK, 0, 2, 0, XF_R_FIELD },
	{ XF_MSG_HELLO_ACK, 4, 2, 100, XF_R_FIELD },
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_VOLUME, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_DRYRUN, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_ITEMIZE, XF_R_RESERVED },
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_HARDLINKS, XF_R_RESERVED }, /* the HELLO's */
	/* The receiver's volume asks for compressed DATA (6.16). */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_COMPRESS, XF_R_OK },
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_NO_COMPRESS, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_FILTERS, XF_R_RESERVED },     /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_OWNER, XF_R_RESERVED },       /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_OWNER_NAMES, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_XATTRS, XF_R_RESERVED },      /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_ACLS, XF_R_RESERVED },        /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_REDO, XF_R_RESERVED },        /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_PULL, XF_R_RESERVED },        /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_SEALED_DEST, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_SEALED_OPTS, XF_R_RESERVED }, /* the HELLO's */
	{ XF_MSG_HELLO_ACK, 12, 4, XF_HELLO_F_COOKIE, XF_R_RESERVED }, /* the engine reads it */
	{ XF_MSG_HELLO_ACK, 26, 2, XF_HELLO_ACK_AUTH_LEN, XF_R_FIELD },
	/* FLIST: fixed part */
	{ XF_MSG_FLIST, 4, 2, 0, XF_R_COUNT },
	{ XF_MSG_FLIST, 4, 2, XF_FLIST_MAX + 1, XF_R_COUNT },
	{ XF_MSG_FLIST, 4, 2, UINT16_MAX, XF_R_COUNT },
	{ XF_MSG_FLIST, 4, 2, 4, XF_R_TRUNCATED },
	{ XF_MSG_FLIST, 4, 2, 2, XF_R_TRAILING },
	{ XF_MSG_FLIST, 6, 2, 8, XF_R_RESERVED },              /* the lowest flag not defined */
	{ XF_MSG_FLIST, 6, 2, XF_FLIST_F_GIVEUP, XF_R_FIELD }, /* a list, no placeholder */
	/* XF_FLIST_F_OWNER on entries without owners: each is read 8 bytes longer, so
	 * entry 0's uid and gid are its path and entry 1 starts in the wrong place. */
	{ XF_MSG_FLIST, 6, 2, XF_FLIST_F_OWNER, XF_R_FIELD },
	{ XF_MSG_FLIST, 6, 2, 0x8000, XF_R_RESERVED },
	{ XF_MSG_FLIST, 6, 2, XF_FLIST_F_LAST, XF_R_OK },
	{ XF_MSG_FLIST, 0, 4, UINT32_MAX - 3, XF_R_OK },
	{ XF_MSG_FLIST, 0, 4, UINT32_MAX - 2, XF_R_RANGE }, /* index overflow */
	/* FLIST entry 0 (regular, at 8): kind, reserved, lengths, mode, size */
	{ XF_MSG_FLIST, 8, 1, 0, XF_R_FIELD },
	{ XF_MSG_FLIST, 8, 1, XF_FILE_HARDLINK, XF_R_FIELD }, /* a hard link without target */
	{ XF_MSG_FLIST, 8, 1, 5, XF_R_FIELD },
	{ XF_MSG_FLIST, 8, 1, XF_FILE_DIR, XF_R_FIELD }, /* a directory of size 1000 */
	{ XF_MSG_FLIST, 10, 2, 0, XF_R_FIELD },
	{ XF_MSG_FLIST, 10, 2, XF_PATH_MAX + 1, XF_R_FIELD },
	{ XF_MSG_FLIST, 10, 2, XF_PATH_MAX, XF_R_TRUNCATED },
	{ XF_MSG_FLIST, 10, 2, 8, XF_R_FIELD }, /* entry 1 then starts a byte late: kind 0 */
	{ XF_MSG_FLIST, 12, 2, 1, XF_R_FIELD }, /* a regular file with a target */
	{ XF_MSG_FLIST, 14, 2, 010000, XF_R_FIELD },
	{ XF_MSG_FLIST, 14, 2, 0xffff, XF_R_FIELD },
	{ XF_MSG_FLIST, 14, 2, 07777, XF_R_OK },
	{ XF_MSG_FLIST, 16, 8, OFF_MAX, XF_R_OK },
	{ XF_MSG_FLIST, 16, 8, OFF_MAX + 1, XF_R_FIELD },
	{ XF_MSG_FLIST, 24, 8, UINT64_MAX, XF_R_OK }, /* mtime -1 ns */
	/* FLIST entry 1 (directory, at 39) */
	{ XF_MSG_FLIST, 47, 8, 1, XF_R_FIELD }, /* directory size */
	{ XF_MSG_FLIST, 43, 2, 1, XF_R_FIELD }, /* directory target */
	{ XF_MSG_FLIST, 39, 1, XF_FILE_REG, XF_R_OK },
	/* FLIST entry 2 (symlink, at 64) */
	{ XF_MSG_FLIST, 68, 2, 0, XF_R_FIELD }, /* symlink without target */
	{ XF_MSG_FLIST, 72, 8, 4, XF_R_FIELD }, /* size != target length */
	{ XF_MSG_FLIST, 68, 2, 4, XF_R_FIELD }, /* target length != size */
	{ XF_MSG_FLIST, 68, 2, 6, XF_R_FIELD },
	{ XF_MSG_FLIST, 64, 1, XF_FILE_REG, XF_R_FIELD },
	{ XF_MSG_FLIST, 64, 1, XF_FILE_HARDLINK, XF_R_OK }, /* its target: the leader's path */
	{ XF_MSG_FLIST, 64, 1, 5, XF_R_FIELD },
	/* DECISION */
	{ XF_MSG_DECISION, 0, 2, 0, XF_R_COUNT },
	{ XF_MSG_DECISION, 0, 2, XF_DECISION_MAX + 1, XF_R_COUNT },
	{ XF_MSG_DECISION, 0, 2, 5, XF_R_TRUNCATED },
	{ XF_MSG_DECISION, 0, 2, 3, XF_R_TRAILING },
	{ XF_MSG_DECISION, 4 + 4, 1, 0, XF_R_FIELD },
	{ XF_MSG_DECISION, 4 + 4, 1, 5, XF_R_FIELD },
	{ XF_MSG_DECISION, 4 + 5, 1, 1, XF_R_FIELD },    /* status with UPTODATE */
	{ XF_MSG_DECISION, 4 + 8, 4, 4096, XF_R_FIELD }, /* block size with UPTODATE */
	{ XF_MSG_DECISION, 20 + 12, 4, 1, XF_R_FIELD },  /* block count with WHOLE */
	{ XF_MSG_DECISION, 36 + 8, 4, 0, XF_R_FIELD },   /* DELTA block size 0 */
	{ XF_MSG_DECISION, 36 + 8, 4, XF_BLOCK_MAX, XF_R_OK },
	{ XF_MSG_DECISION, 36 + 8, 4, XF_BLOCK_MAX + 1, XF_R_FIELD },
	{ XF_MSG_DECISION, 36 + 12, 4, 0, XF_R_FIELD },       /* DELTA of no blocks */
	{ XF_MSG_DECISION, 36 + 5, 1, XF_ST_IO, XF_R_FIELD }, /* status with DELTA */
	{ XF_MSG_DECISION, 52 + 5, 1, 0, XF_R_FIELD },        /* REFUSED without status */
	{ XF_MSG_DECISION, 52 + 5, 1, XF_ST_MAX, XF_R_OK },
	{ XF_MSG_DECISION, 52 + 5, 1, XF_ST_MAX + 1, XF_R_FIELD },
	/* XF_ST_REDO: with WHOLE only ("again, whole", 6.19); never a failure */
	{ XF_MSG_DECISION, 20 + 5, 1, XF_ST_REDO, XF_R_OK },
	{ XF_MSG_DECISION, 20 + 5, 1, XF_ST_CHECKSUM, XF_R_FIELD },
	{ XF_MSG_DECISION, 20 + 5, 1, XF_ST_REDO + 1, XF_R_FIELD },
	{ XF_MSG_DECISION, 4 + 5, 1, XF_ST_REDO, XF_R_FIELD },
	{ XF_MSG_DECISION, 36 + 5, 1, XF_ST_REDO, XF_R_FIELD },
	{ XF_MSG_DECISION, 52 + 5, 1, XF_ST_REDO, XF_R_FIELD },
	{ XF_MSG_DECISION, 52 + 8, 4, 1, XF_R_FIELD },
	/* DECISION items (u16 @6 of a record) */
	{ XF_MSG_DECISION, 4 + 6, 2, XF_ITEM_NEW, XF_R_OK },
	{ XF_MSG_DECISION, 4 + 6, 2, XF_ITEM_ALL & ~XF_ITEM_NEW, XF_R_OK },
	{ XF_MSG_DECISION, 4 + 6, 2, XF_ITEM_NEW | XF_ITEM_TIME, XF_R_FIELD }, /* new, yet older */
	{ XF_MSG_DECISION, 4 + 6, 2, XF_ITEM_ALL + 1, XF_R_RESERVED },
	{ XF_MSG_DECISION, 4 + 6, 2, XF_ITEM_XATTR | XF_ITEM_ACL, XF_R_OK },
	{ XF_MSG_DECISION, 4 + 6, 2, 0x8000, XF_R_RESERVED },
	{ XF_MSG_DECISION, 52 + 6, 2, XF_ITEM_ACL, XF_R_FIELD }, /* items with REFUSED */
	{ XF_MSG_DECISION, 4 + 6, 2, 0x8000, XF_R_RESERVED },
	{ XF_MSG_DECISION, 36 + 6, 2, XF_ITEM_SIZE | XF_ITEM_TIME, XF_R_OK }, /* DELTA */
	{ XF_MSG_DECISION, 52 + 6, 2, XF_ITEM_TIME, XF_R_FIELD }, /* items with REFUSED */
	/* SIG */
	{ XF_MSG_SIG, 4, 4, 0, XF_R_FIELD },
	{ XF_MSG_SIG, 4, 4, XF_BLOCK_MAX + 1, XF_R_FIELD },
	{ XF_MSG_SIG, 4, 4, 1, XF_R_OK },
	{ XF_MSG_SIG, 12, 2, 0, XF_R_COUNT },
	{ XF_MSG_SIG, 12, 2, XF_SIG_MAX + 1, XF_R_COUNT },
	{ XF_MSG_SIG, 12, 2, 4, XF_R_TRUNCATED },
	{ XF_MSG_SIG, 12, 2, 2, XF_R_TRAILING },
	{ XF_MSG_SIG, 8, 4, UINT32_MAX - 2, XF_R_OK },
	{ XF_MSG_SIG, 8, 4, UINT32_MAX - 1, XF_R_RANGE },
	{ XF_MSG_SIG, 8, 4, UINT32_MAX, XF_R_RANGE },
	/* DATA (100 bytes) */
	{ XF_MSG_DATA, 8, 8, OFF_MAX - 100, XF_R_OK },
	{ XF_MSG_DATA, 8, 8, OFF_MAX - 99, XF_R_RANGE },
	{ XF_MSG_DATA, 8, 8, UINT64_MAX, XF_R_RANGE },
	{ XF_MSG_DATA, 0, 4, UINT32_MAX, XF_R_OK },
	{ XF_MSG_DATA, 4, 4, 1, XF_R_OK }, /* raw_len: compressed (6.16) */
	{ XF_MSG_DATA, 4, 4, XF_DATA_RAW_MAX, XF_R_OK },
	{ XF_MSG_DATA, 4, 4, XF_DATA_RAW_MAX + 1, XF_R_FIELD },
	{ XF_MSG_DATA, 4, 4, UINT32_MAX, XF_R_FIELD },
	/* COPY (4096 bytes) */
	{ XF_MSG_COPY, 4, 4, 0, XF_R_FIELD },
	{ XF_MSG_COPY, 8, 8, OFF_MAX - 4096, XF_R_OK },
	{ XF_MSG_COPY, 8, 8, OFF_MAX - 4095, XF_R_RANGE },
	{ XF_MSG_COPY, 8, 8, UINT64_MAX, XF_R_RANGE },
	{ XF_MSG_COPY, 16, 8, OFF_MAX - 4096, XF_R_OK },
	{ XF_MSG_COPY, 16, 8, OFF_MAX - 4095, XF_R_RANGE },
	{ XF_MSG_COPY, 16, 8, UINT64_MAX - 1, XF_R_RANGE },
	/* FILE_END */
	{ XF_MSG_FILE_END, 8, 8, OFF_MAX, XF_R_OK },
	{ XF_MSG_FILE_END, 8, 8, OFF_MAX + 1, XF_R_FIELD },
	{ XF_MSG_FILE_END, 8, 8, 0, XF_R_OK },
	{ XF_MSG_FILE_END, 4, 2, XF_ST_IO, XF_R_OK },
	{ XF_MSG_FILE_END, 4, 2, XF_ST_MAX + 1, XF_R_FIELD },
	{ XF_MSG_FILE_END, 4, 2, XF_ST_REDO, XF_R_FIELD }, /* not a way to give up */
	/* COMMIT (committed 10, credit 74, failures 3 and 7) */
	{ XF_MSG_COMMIT, 4, 4, 9, XF_R_RANGE }, /* credit below committed */
	{ XF_MSG_COMMIT, 4, 4, 10, XF_R_OK },
	{ XF_MSG_COMMIT, 10, 2, 0xffff, XF_R_OK }, /* seq: any value, it wraps */
	{ XF_MSG_COMMIT, 8, 2, XF_COMMIT_FAIL_MAX + 1, XF_R_COUNT },
	{ XF_MSG_COMMIT, 8, 2, 3, XF_R_TRUNCATED },
	{ XF_MSG_COMMIT, 8, 2, 1, XF_R_TRAILING },
	{ XF_MSG_COMMIT, 12 + 4, 2, 0, XF_R_FIELD },
	{ XF_MSG_COMMIT, 12 + 4, 2, XF_ST_MAX + 1, XF_R_FIELD },
	{ XF_MSG_COMMIT, 12 + 4, 2, XF_ST_REDO, XF_R_FIELD }, /* not a failure */
	{ XF_MSG_COMMIT, 20, 4, 10, XF_R_RANGE },             /* not yet settled */
	{ XF_MSG_COMMIT, 20, 4, 9, XF_R_OK },
	{ XF_MSG_COMMIT, 20, 4, 3, XF_R_RANGE }, /* listed twice */
	{ XF_MSG_COMMIT, 20, 4, 2, XF_R_RANGE }, /* out of order */
	{ XF_MSG_COMMIT, 0, 4, 7, XF_R_RANGE },
	/* ACK (largest 100: 90-100, 50-80, 0-10) */
	{ XF_MSG_ACK, 12, 2, 0, XF_R_COUNT },
	{ XF_MSG_ACK, 12, 2, XF_ACK_RANGES + 1, XF_R_COUNT },
	{ XF_MSG_ACK, 12, 2, 4, XF_R_TRUNCATED },
	{ XF_MSG_ACK, 12, 2, 2, XF_R_TRAILING },
	{ XF_MSG_ACK, 0, 8, 101, XF_R_RANGE }, /* largest != first range's last */
	{ XF_MSG_ACK, 0, 8, 99, XF_R_RANGE },
	{ XF_MSG_ACK, 16, 8, 101, XF_R_RANGE }, /* first > last */
	{ XF_MSG_ACK, 16, 8, 100, XF_R_OK },
	{ XF_MSG_ACK, 40, 8, 89, XF_R_RANGE }, /* touching: no gap */
	{ XF_MSG_ACK, 40, 8, 88, XF_R_OK },
	{ XF_MSG_ACK, 40, 8, 95, XF_R_RANGE },  /* overlapping */
	{ XF_MSG_ACK, 40, 8, 200, XF_R_RANGE }, /* ascending */
	{ XF_MSG_ACK, 56, 8, 49, XF_R_RANGE },
	{ XF_MSG_ACK, 56, 8, 48, XF_R_OK },
	{ XF_MSG_ACK, 48, 8, 11, XF_R_RANGE },
	{ XF_MSG_ACK, 8, 4, UINT32_MAX, XF_R_OK },
	/* DONE */
	{ XF_MSG_DONE, 4, 4, XF_ABORT_MAX + 1, XF_R_FIELD },
	{ XF_MSG_DONE, 4, 4, XF_ABORT_PROTOCOL, XF_R_OK },
	{ XF_MSG_DONE, 0, 4, 0, XF_R_OK },
	/* ABORT ("operator cancelled", 18 bytes) */
	{ XF_MSG_ABORT, 0, 2, 0, XF_R_FIELD },
	{ XF_MSG_ABORT, 0, 2, XF_ABORT_MAX + 1, XF_R_FIELD },
	{ XF_MSG_ABORT, 0, 2, XF_ABORT_VERSION, XF_R_OK },
	{ XF_MSG_ABORT, 2, 2, 19, XF_R_TRUNCATED },
	{ XF_MSG_ABORT, 2, 2, 17, XF_R_TRAILING },
	{ XF_MSG_ABORT, 2, 2, XF_ABORT_MSG_MAX + 1, XF_R_FIELD },
	{ XF_MSG_ABORT, 4, 1, 0x7f, XF_R_FIELD },
	{ XF_MSG_ABORT, 4, 1, '\n', XF_R_FIELD },
	{ XF_MSG_ABORT, 4, 1, 0, XF_R_FIELD },
	{ XF_MSG_ABORT, 21, 1, 0xc3, XF_R_FIELD },
	{ XF_MSG_ABORT, 21, 1, '~', XF_R_OK },
};

void
test_mutations(void)
{
	static uint8_t buf[BUF_CAP];
	char what[96];

	for (size_t i = 0; i < XF_ARRAY_SIZE(mutations); i++) {
		const struct mutation *mu = &mutations[i];
		size_t n = tp_make_base(mu->type, buf);

		CU_ASSERT_FATAL(XF_HDR_LEN + mu->off + mu->width <= n);
		put_be(buf + XF_HDR_LEN + mu->off, mu->width, mu->value);
		snprintf(what, sizeof(what), "mutation %zu (%s +%u = %llu)", i,
		         xf_proto_type_str(mu->type), mu->off, (unsigned long long)mu->value);
		expect_reject(buf, n, mu->want, what);
	}
}

/* Reserved bytes of every body layout; each set bit is rejected. */
struct reserved {
	uint8_t type;
	uint16_t off;
	uint8_t len;
};

static const struct reserved reserved_fields[] = {
	{ XF_MSG_FLIST, 9, 1 },    { XF_MSG_FLIST, 40, 1 },    { XF_MSG_FLIST, 65, 1 },
	{ XF_MSG_DECISION, 2, 2 }, { XF_MSG_DECISION, 10, 1 }, { XF_MSG_DECISION, 58, 1 },
	{ XF_MSG_SIG, 14, 2 },     { XF_MSG_FILE_END, 6, 2 },  { XF_MSG_COMMIT, 18, 2 },
	{ XF_MSG_COMMIT, 26, 2 },  { XF_MSG_ACK, 14, 2 },
};

void
test_reserved(void)
{
	static uint8_t buf[BUF_CAP];
	char what[64];

	for (size_t i = 0; i < XF_ARRAY_SIZE(reserved_fields); i++) {
		const struct reserved *rf = &reserved_fields[i];
		size_t n = tp_make_base(rf->type, buf);

		for (unsigned int byte = 0; byte < rf->len; byte++) {
			uint8_t *p = buf + XF_HDR_LEN + rf->off + byte;

			CU_ASSERT_EQUAL_FATAL(*p, 0);
			for (unsigned int bit = 0; bit < 8; bit++) {
				/* The high byte of a DECISION record's items: its bit 0 is
				 * XF_ITEM_ACL (the mutations test it), bits 1..7 reserved. */
				if (rf->type == XF_MSG_DECISION && rf->off != 2 && bit == 0) {
					continue;
				}
				*p = (uint8_t)(1u << bit);
				snprintf(what, sizeof(what), "%s reserved +%u bit %u",
				         xf_proto_type_str(rf->type), rf->off + byte, bit);
				expect_reject(buf, n, XF_R_RESERVED, what);
			}
			*p = 0;
		}
		expect_reject(buf, n, XF_R_OK, "restored");
	}
}

/* Single-bit flips anywhere: never a crash, and never a silently different header. */
void
test_bitflips(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_msg m;

	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		size_t n = tp_make_base(t, buf);

		for (size_t i = 0; i < n * 8; i++) {
			buf[i / 8] ^= (uint8_t)(1u << (i % 8));
			if (decode_exact(buf, n, &m, NULL) == 0) {
				/* Accepted: then it re-encodes to the same bytes. */
				tp_roundtrip(buf, n, &m);
			}
			buf[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
	}
}

/* Placeholder frames (XF_FLIST_F_GIVEUP, docs/PROTOCOL.md 6.23): one regular entry of size 0
 * without a set round-trips; the builder and the decoder refuse anything else. */
void
test_flist_giveup(void)
{
	static uint8_t buf[BUF_CAP];
	struct xf_flist_entry ph = { .kind = XF_FILE_REG, .path = "cut/pat", .path_len = 7 };
	struct xf_flist_entry sym = { .kind = XF_FILE_SYMLINK,
		                      .path = "l",
		                      .path_len = 1,
		                      .size = 1,
		                      .target = "t",
		                      .target_len = 1 };
	struct xf_flist_entry sized = ph, e;
	struct xf_proto_builder b;
	struct xf_msg m, d;
	uint32_t cursor = 0;
	int len;

	memset(&m, 0, sizeof(m));
	m.hdr.version = XF_PROTO_VERSION;
	m.hdr.type = XF_MSG_FLIST;
	m.hdr.session = 1;
	m.hdr.flags = XF_HDR_F_XATTR;
	m.flist.first_index = 9;
	m.flist.flags = XF_FLIST_F_LAST | XF_FLIST_F_GIVEUP;
	sized.size = 1;
	CU_ASSERT_EQUAL_FATAL(xf_proto_build_begin(&b, buf, sizeof(buf), &m), 0);
	CU_ASSERT_EQUAL(xf_proto_build_finish(&b), -EINVAL); /* none: not even with LAST */
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &sym), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &sized), -EINVAL);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &ph), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&b, &ph), -EINVAL); /* one entry only */
	len = xf_proto_build_finish(&b);
	CU_ASSERT_FATAL(len > 0);
	/* in place: the entries are read from the frame (decode_exact frees its copy) */
	CU_ASSERT_EQUAL_FATAL(xf_proto_decode(buf, (size_t)len, &d, NULL), 0);
	CU_ASSERT_EQUAL(d.flist.flags, XF_FLIST_F_LAST | XF_FLIST_F_GIVEUP);
	CU_ASSERT_FATAL(xf_proto_flist_next(&d, &cursor, &e));
	CU_ASSERT(e.path_len == 7 && memcmp(e.path, "cut/pat", 7) == 0 && e.size == 0);
	CU_ASSERT_FALSE(xf_proto_flist_next(&d, &cursor, &e));
	/* The entry made a symlink, or given a size, by hand: refused. */
	buf[XF_HDR_LEN + 8] = XF_FILE_DIR;
	expect_reject(buf, (size_t)len, XF_R_FIELD, "placeholder of another kind");
	buf[XF_HDR_LEN + 8] = XF_FILE_REG;
	buf[XF_HDR_LEN + 8 + 15] = 1; /* size 1 */
	expect_reject(buf, (size_t)len, XF_R_FIELD, "placeholder with a size");
	buf[XF_HDR_LEN + 8 + 15] = 0;
	expect_reject(buf, (size_t)len, XF_R_OK, "placeholder restored");
	/* The base FLIST (several entries, of every kind) with the flag: refused. */
	len = (int)tp_make_base(XF_MSG_FLIST, buf);
	buf[XF_HDR_LEN + 7] |= XF_FLIST_F_GIVEUP;
	expect_reject(buf, (size_t)len, XF_R_FIELD, "GIVEUP on a list of entries");
}
