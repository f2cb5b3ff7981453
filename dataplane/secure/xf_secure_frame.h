/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * AEAD on whole protocol frames (docs/SECURITY.md 4, docs/PROTOCOL.md 2): the 24-byte
 * header is the associated data, the payload is encrypted in place, and the 16-byte tag
 * follows it; the header's len counts the tag and its flags carry the key phase
 * (XF_HDR_F_KEY_PHASE); the caller's XF_HDR_F_KEY_EPOCH (xf_secure_sess.h) is kept and
 * authenticated with the rest of the header. A HELLO_ACK is authenticated whole and encrypted not
 * at all: its Noise message 2 must be read before its keys exist.
 *
 * Sealing is done once the header is final (packet number, flags); opening comes before
 * any parsing of the payload, and gives back the frame as the codec expects it (len
 * without the tag, the phase and epoch bits cleared) only when the tag verified.
 */
#ifndef XF_SECURE_FRAME_H
#define XF_SECURE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "xf_secure.h"

/** Bytes a sealed frame carries more than its plaintext (the tag). */
#define XF_SECURE_FRAME_OVERHEAD XF_CRYPTO_TAG_LEN

/**
 * Seal a frame in place. @param frame header and payload, len bytes, with
 * XF_SECURE_FRAME_OVERHEAD bytes of room after them for the tag.
 * @return the sealed length (len + 16), or a negative errno of xf_secure_seal
 *         (-EINVAL also for a frame shorter than the header).
 */
int xf_secure_frame_seal(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint8_t *frame, size_t len,
                         uint64_t now_ns);

/**
 * Seal the frame at src (len bytes, left as it was) into dst (room for len + the tag, not
 * overlapping src unless dst == src): the same bytes xf_secure_frame_seal would make of a
 * copy, without the copy. For a frame kept for retransmission.
 * @return as xf_secure_frame_seal.
 */
int xf_secure_frame_seal_to(struct xf_secure *s, struct xf_crypto_mgr *mgr, const uint8_t *src,
                            uint8_t *dst, size_t len, uint64_t now_ns);

/**
 * Open a sealed frame in place (its header's length already checked against the
 * datagram). @return the plaintext length (len - 16), -EBADMSG (too short, or the tag),
 *         or another negative errno of xf_secure_open (-EALREADY, -ESTALE, -EKEYEXPIRED).
 */
int xf_secure_frame_open(struct xf_secure *s, struct xf_crypto_mgr *mgr, uint8_t *frame, size_t len,
                         uint64_t now_ns);

#endif /* XF_SECURE_FRAME_H */
