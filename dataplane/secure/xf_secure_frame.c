/* SPDX-License-Identifier: BSD-3-Clause */
/* AEAD on whole protocol frames (xf_secure_frame.h). */
#include <errno.h>
#include <string.h>

#include "xf_proto.h"
#include "xf_secure_frame.h"

#define HDR_FLAGS 4u
#define HDR_LEN   6u
#define HDR_PN    16u

static uint64_t
ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 8; i++) {
		v = v << 8 | p[i];
	}
	return v;
}

static void
st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Bytes of the frame that stay in clear (authenticated only): the header, or a whole
 * HELLO_ACK, whose handshake message gives the peer the keys. */
static size_t
clear_len(const uint8_t *frame, size_t plain_len)
{
	return frame[3] == XF_MSG_HELLO_ACK ? plain_len : XF_HDR_LEN;
}

int
xf_secure_frame_seal(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint8_t *frame, size_t len,
                     uint64_t now_ns)
{
	return xf_secure_frame_seal_to(s, mgr, frame, frame, len, now_ns);
}

int
xf_secure_frame_seal_to(struct xf_secure *s, struct xf_crypto_mgr *mgr, const uint8_t *src,
                        uint8_t *dst, size_t len, uint64_t now_ns)
{
	size_t clear;
	uint16_t flags;
	int rc;

	if (len < XF_HDR_LEN || len - XF_HDR_LEN + XF_SECURE_FRAME_OVERHEAD > UINT16_MAX) {
		return -EINVAL;
	}
	clear = clear_len(src, len);
	if (dst != src) {
		/* The clear part (the header; a HELLO_ACK's whole frame) is copied; the rest is
		 * encrypted straight from src. */
		memcpy(dst, src, clear);
	}
	flags = (uint16_t)((dst[HDR_FLAGS] << 8 | dst[HDR_FLAGS + 1]) & ~XF_HDR_F_KEY_PHASE);
	if (xf_secure_phase(s) != 0) {
		flags |= XF_HDR_F_KEY_PHASE;
	}
	st16(dst + HDR_FLAGS, flags);
	st16(dst + HDR_LEN, (uint16_t)(len - XF_HDR_LEN + XF_SECURE_FRAME_OVERHEAD));
	rc = xf_secure_seal_to(s, mgr, ld64(dst + HDR_PN), now_ns, dst, clear, src + clear,
	                       dst + clear, len - clear, dst + len);
	return rc < 0 ? rc : (int)(len + XF_SECURE_FRAME_OVERHEAD);
}

int
xf_secure_frame_open(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint8_t *frame, size_t len,
                     uint64_t now_ns)
{
	size_t plain, clear;
	uint16_t flags;
	int rc;

	if (len < XF_HDR_LEN + XF_SECURE_FRAME_OVERHEAD) {
		s->st.auth_failed++;
		return -EBADMSG;
	}
	plain = len - XF_SECURE_FRAME_OVERHEAD;
	clear = clear_len(frame, plain);
	flags = (uint16_t)(frame[HDR_FLAGS] << 8 | frame[HDR_FLAGS + 1]);
	rc = xf_secure_open(s, mgr, ld64(frame + HDR_PN), (flags & XF_HDR_F_KEY_PHASE) != 0, now_ns,
	                    frame, clear, frame + clear, plain - clear, frame + plain);
	if (rc < 0) {
		return rc;
	}
	st16(frame + HDR_FLAGS, (uint16_t)(flags & ~(XF_HDR_F_KEY_PHASE | XF_HDR_F_KEY_EPOCH)));
	st16(frame + HDR_LEN, (uint16_t)(plain - XF_HDR_LEN));
	return (int)plain;
}
