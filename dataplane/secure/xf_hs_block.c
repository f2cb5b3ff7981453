/* SPDX-License-Identifier: BSD-3-Clause */
/* The one size of the HELLO's sealed block (xf_hs_block.h). */
#include "xf_hs_block.h"

#include "xf_noise.h"
#include "xf_proto.h"
#include "xf_secure_frame.h"

/* IPv4 and UDP headers, and the HELLO's fixed fields (docs/PROTOCOL.md 3.1). */
#define IP_UDP     28u
#define HELLO_BODY 28u
#define OVERHEAD   (IP_UDP + XF_HDR_LEN + HELLO_BODY + XF_SECURE_FRAME_OVERHEAD + XF_NOISE_MSG1_LEN)

_Static_assert(XF_HS_BLOCK_MTU - OVERHEAD == XF_HS_BLOCK_LEN,
               "XF_HS_BLOCK_LEN is the room at 1500");
_Static_assert(XF_HS_BLOCK_LEN <= XF_NOISE_PAYLOAD_MAX, "the block fits message 1's payload");
_Static_assert(XF_HELLO_SEALED_MAX == XF_NOISE_PAYLOAD_MAX, "the codec seals what message 1 holds");

size_t
xf_hs_block_len(unsigned int mtu)
{
	size_t m = mtu < XF_HS_BLOCK_MTU ? mtu : XF_HS_BLOCK_MTU;

	if (m < OVERHEAD + XF_HELLO_SEALED_HDR) {
		return 0;
	}
	/* At most 1500 here, so under XF_PAYLOAD_MAX and XF_NOISE_PAYLOAD_MAX (asserted). */
	return m - OVERHEAD;
}
