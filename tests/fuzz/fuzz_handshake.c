/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the handshake decoders (dataplane/secure/xf_noise.h).
 *
 * The first byte picks the receiver, the rest is the message:
 *   0: responder, message 1 (its payload after the timestamp: the HELLO's sealed block,
 *      any length up to XF_NOISE_PAYLOAD_MAX, opaque here; fuzz_proto reads it as a block):
 *      check_macs (with and without load)
 *      then consume_initiation;
 *   1: initiator with a message 1 outstanding, message 2: consume_response;
 *   2: the same initiator, cookie reply: consume_cookie.
 * Fixed keys make valid messages reachable from the seeds (gen_hs_seeds writes them).
 * Properties: no crash or sanitizer report, every return is one of the documented ones,
 * a rejected message leaves the peer's timestamp and the pending handshake unchanged,
 * and nothing but the genuine bytes is accepted (a forgery of the AEAD would be a bug).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "hs_keys.h"
#include "xf_noise.h"
#include "xf_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xf_noise_static is, rs;
	static struct xf_noise_peer ip, rp;
	static struct xf_noise_hs ih, rh, saved;
	static struct xf_noise_cookie_jar jar;
	static bool ready;
	static uint8_t payload[XF_NOISE_PAYLOAD_MAX + 1];
	uint8_t m1[XF_NOISE_MSG1_LEN], before[XF_NOISE_TAI64N_LEN], m2[XF_NOISE_MSG2_LEN];
	struct xf_noise_keys k;
	int rc;

	if (!ready) {
		CHECK(xf_noise_static_init(&is, hs_ipriv) == 0);
		CHECK(xf_noise_static_init(&rs, hs_rpriv) == 0);
		ready = true;
	}
	if (size < 1) {
		return 0;
	}
	CHECK(xf_noise_peer_init(&ip, rs.pub, NULL) == 0);
	CHECK(xf_noise_peer_init(&rp, is.pub, NULL) == 0);
	xf_noise_cookie_jar_set(&jar, hs_cookie_secret, 0);
	switch (data[0] % 3) {
	case 0:
		memcpy(before, rp.last_ts, sizeof(before));
		rc = xf_noise_check_macs(&rs, &jar, data + 1, size - 1, hs_src, sizeof(hs_src),
		                         data[0] & 4, 0);
		CHECK(rc == 0 || rc == -EBADMSG || rc == -EAGAIN);
		/* A canary past the longest payload: never written. */
		payload[XF_NOISE_PAYLOAD_MAX] = 0xa5;
		rc = xf_noise_consume_initiation(&rh, &rs, &rp, 1, &hs_pro, data + 1, size - 1,
		                                 payload);
		CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOKEY || rc == -EALREADY);
		CHECK(payload[XF_NOISE_PAYLOAD_MAX] == 0xa5);
		if (rc != 0) {
			CHECK(memcmp(before, rp.last_ts, sizeof(before)) == 0);
		} else {
			CHECK(size - 1 >= XF_NOISE_MSG1_LEN && size - 1 <= XF_NOISE_MSG1_MAX);
			CHECK(xf_noise_respond(&rh, HS_R_INDEX, NULL, m2, &k) == 0);
		}
		break;
	case 1:
	case 2:
		CHECK(xf_noise_initiate(&ih, &is, &ip, &hs_pro, HS_I_INDEX, hs_ieph, HS_UNIX_NS, 0,
		                        NULL, 0, m1) == 0);
		saved = ih;
		if (data[0] % 3 == 1) {
			rc = xf_noise_consume_response(&ih, data + 1, size - 1, &k);
			CHECK(rc == 0 || rc == -EBADMSG);
			if (rc != 0) {
				CHECK(memcmp(&saved, &ih, sizeof(ih)) == 0);
			}
		} else {
			rc = xf_noise_consume_cookie(&ih, data + 1, size - 1, 0);
			CHECK(rc == 0 || rc == -EBADMSG);
			CHECK(rc == 0 || !ip.has_cookie);
		}
		break;
	}
	return 0;
}
