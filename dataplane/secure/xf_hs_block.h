/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HELLO's sealed block under AEAD (docs/PROTOCOL.md 3.1.4, docs/SECURITY.md 2.5): the
 * options and the destination field, in message 1's payload, zero-padded to one size that
 * depends only on the sender's MTU, never on what the block holds. So every message 1 a
 * sender makes is as long as every other, whatever its destination, filter rules, pull
 * request or options; the HELLO's length on the wire says only what its clear
 * `max_payload` says already.
 *
 * The size is the room a HELLO has in one frame at MTU 1500 (1,256 bytes), or at the
 * sender's MTU when that is smaller: a jumbo sender pads to the same 1,256 so that its
 * HELLO still crosses a 1500-byte hop and reaches a receiver without jumbo frames, with
 * which it then negotiates `max_payload` down (docs/PROTOCOL.md 3.1). The cost: a field of
 * at most 1,246 bytes under AEAD at every MTU >= 1500 (docs/SECURITY.md 2.5).
 *
 * This file gives the size; xf_proto_hello_seal (dataplane/proto) writes the block and
 * pads it to exactly that size. Pure C, no allocation.
 */
#ifndef XF_HS_BLOCK_H
#define XF_HS_BLOCK_H

#include <stddef.h>

/** The MTU whose room sizes every sealed block of a larger MTU too. */
#define XF_HS_BLOCK_MTU 1500u

/** The sealed block's size at XF_HS_BLOCK_MTU (xf_hs_block_len(1500)). */
#define XF_HS_BLOCK_LEN 1256u

/**
 * The one size of every sealed block a sender at this IP MTU makes: what is left of one
 * frame at XF_MIN(mtu, XF_HS_BLOCK_MTU) after IP and UDP, the frame header, the HELLO's
 * fixed fields, the 16 bytes a frame keeps for its tag and message 1 without payload, at
 * most XF_NOISE_PAYLOAD_MAX: the len a sender gives xf_proto_hello_seal. @return the size,
 * or 0 if not even the block's fixed part fits (an MTU under 254 bytes).
 */
size_t xf_hs_block_len(unsigned int mtu);

#endif /* XF_HS_BLOCK_H */
