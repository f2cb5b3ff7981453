/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the files of the proto unit test: the exact-size decoding that lets ASan
 * catch a read past the datagram, the header every frame under test carries, and the
 * base frames and round trip that test_proto.c defines.
 */
#ifndef XF_PROTO_TEST_H
#define XF_PROTO_TEST_H

#include <CUnit/Basic.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_proto.h"

#define BUF_CAP (XF_PAYLOAD_MAX + 64u)
#define OFF_MAX ((uint64_t)INT64_MAX)

/* Decode a copy of buf[0..len) held in a buffer of exactly len bytes. */
static inline int
decode_exact(const uint8_t *buf, size_t len, struct xf_msg *msg, enum xf_proto_reason *r)
{
	uint8_t *copy = malloc(len != 0 ? len : 1);
	int rc;

	memcpy(copy, buf, len);
	rc = xf_proto_decode(copy, len, msg, r);
	free(copy);
	return rc;
}

static inline struct xf_hdr
hdr(uint8_t type)
{
	struct xf_hdr h = {
		.version = XF_PROTO_VERSION,
		.type = type,
		.flags = 0,
		.session = 0xdeadbeef,
		.pn = 0x0102030405060708ull,
	};

	return h;
}

/* An accepted HELLO_ACK with these flags: window 64, the least payload, nonce 7. */
static inline struct xf_msg
tp_hello_ack(uint32_t flags)
{
	struct xf_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = hdr(XF_MSG_HELLO_ACK);
	m.hello = (struct xf_msg_hello){ .min_version = XF_PROTO_VERSION,
		                         .max_version = XF_PROTO_VERSION,
		                         .max_payload = XF_PAYLOAD_MIN,
		                         .window = 64,
		                         .flags = flags,
		                         .nonce = 7 };
	return m;
}

/* Build the base frame of type into buf; returns its length. */
size_t tp_make_base(uint8_t type, uint8_t *buf);

/* Decode buf (must be valid) into m and check it re-encodes to the same bytes. */
void tp_roundtrip(const uint8_t *buf, size_t len, struct xf_msg *m);

/* Round trips and builders (test_proto.c). */
void test_roundtrip_base(void);
void test_accessor_bounds(void);
void test_roundtrip_hello_limits(void);
void test_hello_ack_compress(void);
void test_roundtrip_flist_limits(void);
void test_flist_fill_bytes(void);
void test_builders_fill(void);
void test_roundtrip_data_copy(void);
void test_roundtrip_abort_done(void);

/* Malformed frames (test_proto_malformed.c). */
void test_truncate_everywhere(void);
void test_trailing(void);
void test_header(void);
void test_mutations(void);
void test_reserved(void);
void test_bitflips(void);

/* The encoder and builders refusing, names, in-place rewrites (test_proto_encode.c). */
void test_encode_refuses(void);
/* test_proto_names.c */
void test_flist_names(void);
void test_flist_names_build(void);
void test_flist_names_malformed(void);
void test_builders_refuse(void);
void test_names(void);
void test_set_pn_flags(void);

/* A file's one DATA frame with its end (test_proto_data_end.c). */
void test_data_end(void);
void test_hello_data_end(void);

/* Attribute sets and FLIST entries that carry them (test_proto_xattr.c). */
void test_xattr_crc(void);
void test_xattr_encode(void);
void test_xattr_bounds(void);
void test_xattr_hostile(void);
void test_flist_xattr(void);
void test_xattr_acl_differs(void);
void test_flist_giveup(void);

#endif /* XF_PROTO_TEST_H */
