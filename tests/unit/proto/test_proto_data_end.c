/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A file's one DATA frame with its end (XF_HDR_F_END, docs/PROTOCOL.md 3.5, 6.9): the
 * CRC-64 after the bytes, built in place and from a message alike; what the decoder
 * refuses; and the HELLO_ACK flag that allows it (XF_HELLO_F_DATA_END).
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "xf_base.h"
#include "xf_proto.h"
#include "xf_proto_test.h"

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
test_data_end(void)
{
	static uint8_t buf[BUF_CAP], ref[BUF_CAP], payload[XF_PAYLOAD_MAX];
	const uint32_t max = XF_PAYLOAD_MAX - XF_DATA_OVERHEAD - XF_DATA_END_LEN;
	const uint64_t crc = 0x0123456789abcdefull;
	struct xf_hdr h = hdr(XF_MSG_DATA);
	struct xf_msg m, d;
	enum xf_proto_reason why;
	int rc, n;

	for (size_t i = 0; i < sizeof(payload); i++) {
		payload[i] = (uint8_t)(i * 13 + 5);
	}
	/* From a message: the CRC follows the bytes, and the decoder gives both back. */
	memset(&m, 0, sizeof(m));
	m.hdr = h;
	m.hdr.flags = XF_HDR_F_END | XF_HDR_F_REDO;
	m.data = (struct xf_msg_data){ .file = 42, .len = 4096, .bytes = payload, .crc64 = crc };
	n = xf_proto_encode(ref, sizeof(ref), &m);
	CU_ASSERT_EQUAL_FATAL(n, (int)(XF_DATA_OVERHEAD + 4096 + XF_DATA_END_LEN));
	tp_roundtrip(ref, (size_t)n, &d);
	CU_ASSERT(xf_proto_data_ends(&d));
	CU_ASSERT_EQUAL(d.data.crc64, crc);
	CU_ASSERT_EQUAL(d.data.len, 4096);
	CU_ASSERT_EQUAL(d.data.offset, 0);
	CU_ASSERT_EQUAL(xf_proto_data_span(&d.data), 4096);
	CU_ASSERT(memcmp(d.data.bytes, payload, 4096) == 0);

	/* Built in place around bytes already in the buffer: the same frame. */
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf + XF_DATA_OVERHEAD, payload, 4096);
	h.flags = XF_HDR_F_REDO;
	rc = xf_proto_data_end_encode(buf, &h, 42, 4096, 0, crc);
	CU_ASSERT_EQUAL_FATAL(rc, n);
	CU_ASSERT(memcmp(buf, ref, (size_t)n) == 0);

	/* The largest: the CRC takes the last 8 bytes of the largest payload. */
	rc = xf_proto_data_end_encode(buf, &h, 1, max, 0, crc);
	CU_ASSERT_EQUAL_FATAL(rc, (int)XF_PAYLOAD_MAX);
	CU_ASSERT_EQUAL(xf_proto_data_end_encode(buf, &h, 1, max + 1, 0, crc), -EMSGSIZE);
	CU_ASSERT_EQUAL(xf_proto_data_end_encode(buf, &h, 1, 0, 0, crc), -EINVAL);
	m.data.len = max + 1;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EMSGSIZE);
	m.data.len = 4096;

	/* Compressed: the size it ends the file at is raw_len. */
	rc = xf_proto_data_end_encode(buf, &h, 1, 100, 4000, crc);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_DATA_OVERHEAD + 100 + XF_DATA_END_LEN));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT(xf_proto_data_ends(&d));
	CU_ASSERT_EQUAL(xf_proto_data_span(&d.data), 4000);

	/* The plain encoder never sets the flag, so it never promises a CRC it has not
	 * written. */
	h.flags = XF_HDR_F_END;
	rc = xf_proto_data_hdr_encode(buf, &h, 1, 0, 100, 0);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_DATA_OVERHEAD + 100));
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT(!xf_proto_data_ends(&d));

	/* The end of a file its one frame starts: nowhere else. */
	m.data.offset = 1;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);
	m.data.offset = 0;
	memcpy(buf, ref, (size_t)n);
	put_be64(buf + XF_HDR_LEN + 8, 4096);
	CU_ASSERT_EQUAL(decode_exact(buf, (size_t)n, &d, &why), -EBADMSG);
	CU_ASSERT_EQUAL(why, XF_R_FIELD);

	/* At least one byte besides the CRC, and the CRC whole. */
	rc = xf_proto_data_end_encode(buf, &h, 1, 1, 0, crc);
	CU_ASSERT_EQUAL_FATAL(rc, (int)(XF_DATA_OVERHEAD + 1 + XF_DATA_END_LEN));
	for (int cut = 1; cut <= (int)XF_DATA_END_LEN + 1; cut++) {
		uint16_t body = (uint16_t)(rc - cut - (int)XF_HDR_LEN);

		buf[6] = (uint8_t)(body >> 8);
		buf[7] = (uint8_t)body;
		CU_ASSERT_EQUAL(decode_exact(buf, (size_t)(rc - cut), &d, &why), -EBADMSG);
		CU_ASSERT_EQUAL(why, cut == 1 ? XF_R_COUNT : XF_R_TRUNCATED);
	}

	/* The flag on any other frame is reserved, and the header rule a reader uses before
	 * it decodes agrees. */
	for (uint8_t t = 1; t <= XF_MSG_TYPE_MAX; t++) {
		size_t len = tp_make_base(t, buf);

		buf[4] = XF_HDR_F_END >> 8;
		buf[5] = 0;
		if (t != XF_MSG_DATA) {
			CU_ASSERT_EQUAL(decode_exact(buf, len, &d, &why), -EBADMSG);
			CU_ASSERT_EQUAL(why, XF_R_RESERVED);
		}
		CU_ASSERT_EQUAL(xf_proto_hdr_flags_ok(t, XF_HDR_F_END), t == XF_MSG_DATA);
	}
	m.hdr.type = XF_MSG_FILE_END;
	m.file_end = (struct xf_msg_file_end){ .file = 1, .size = 1 };
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);
}

/* The receiver says it takes a file's end in its DATA frame in an accepted HELLO_ACK, and
 * only there. */
void
test_hello_data_end(void)
{
	uint8_t buf[BUF_CAP];
	struct xf_msg m, d;
	int rc;

	m = tp_hello_ack(XF_HELLO_F_DATA_END | XF_HELLO_F_COMPRESS);
	rc = xf_proto_encode(buf, sizeof(buf), &m);
	CU_ASSERT_FATAL(rc > 0);
	tp_roundtrip(buf, (size_t)rc, &d);
	CU_ASSERT_EQUAL(d.hello.flags, XF_HELLO_F_DATA_END | XF_HELLO_F_COMPRESS);

	/* A refusal takes nothing. */
	m.hello.flags = XF_HELLO_F_DATA_END;
	m.hello.status = XF_ABORT_BUSY;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);

	/* The initiator has no word on it: reserved in a HELLO. */
	m.hdr = hdr(XF_MSG_HELLO);
	m.hello.status = 0;
	m.hello.window = 0;
	CU_ASSERT_EQUAL(xf_proto_encode(buf, sizeof(buf), &m), -EINVAL);
	m.hello.flags = 0;
	CU_ASSERT(xf_proto_encode(buf, sizeof(buf), &m) > 0);
}
