/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs one complete IKpsk2 handshake with fixed inputs and prints every message and
 * derived key in hex, for tests/unit/secure/noise_ref.py, which computes the same with an
 * independent implementation (python3-cryptography) and compares.
 *
 * usage: noise_vec I_PRIV R_PRIV I_EPH R_EPH PSK|- VERSION CAPS UNIX_NS I_IDX R_IDX
 *                  COOKIE_SECRET SRC COOKIE_NONCE PAYLOAD|-    (keys and bytes in hex)
 * The flow: message 1 (its payload after the timestamp: PAYLOAD, the HELLO's destination
 * field), responder under load answers with a cookie reply, the initiator sends message 1
 * again (same ephemeral, timestamp + 1 ns) with mac2, the responder accepts it (and prints
 * the payload it read) and answers message 2, both sides derive their keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_noise.h"
#include "xf_secure.h"

static void
unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n) {
		fprintf(stderr, "noise_vec: %s: want %zu hex bytes\n", s, n);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			exit(2);
		}
		out[i] = (uint8_t)v;
	}
}

static void
put(const char *name, const uint8_t *p, size_t n)
{
	printf("%s ", name);
	for (size_t i = 0; i < n; i++) {
		printf("%02x", p[i]);
	}
	printf("\n");
}

static void
must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "noise_vec: %s: %s\n", what, strerror(-rc));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	static struct xf_noise_static is, rs;
	static struct xf_noise_peer ip, rp;
	static struct xf_noise_hs ih, rh;
	static struct xf_noise_cookie_jar jar;
	struct xf_noise_prologue pro = {
		0
	}; /* no options, no destination: the vectors bind none */
	struct xf_noise_keys ik, rk;
	uint8_t ipriv[32], rpriv[32], ieph[32], reph[32], psk[32], secret[32], src[6], cn[12];
	static uint8_t m1[XF_NOISE_MSG1_MAX], payload[XF_NOISE_PAYLOAD_MAX],
	        got[XF_NOISE_PAYLOAD_MAX];
	uint8_t m2[XF_NOISE_MSG2_LEN], cr[XF_NOISE_COOKIE_LEN_MSG];
	size_t plen = 0, m1_len;
	uint8_t key[32], iv[12], next[32];
	uint64_t unix_ns;
	uint32_t iidx, ridx;

	if (argc != 15) {
		fprintf(stderr, "usage: see noise_vec.c\n");
		return 2;
	}
	unhex(argv[1], ipriv, 32);
	unhex(argv[2], rpriv, 32);
	unhex(argv[3], ieph, 32);
	unhex(argv[4], reph, 32);
	if (strcmp(argv[5], "-") != 0) {
		unhex(argv[5], psk, 32);
	}
	pro.version = (uint8_t)strtoul(argv[6], NULL, 0);
	pro.capabilities = (uint32_t)strtoul(argv[7], NULL, 0);
	unix_ns = strtoull(argv[8], NULL, 0);
	iidx = (uint32_t)strtoul(argv[9], NULL, 0);
	ridx = (uint32_t)strtoul(argv[10], NULL, 0);
	unhex(argv[11], secret, 32);
	unhex(argv[12], src, sizeof(src));
	unhex(argv[13], cn, sizeof(cn));
	if (strcmp(argv[14], "-") != 0) {
		plen = strlen(argv[14]) / 2;
		if (plen > sizeof(payload)) {
			return 2;
		}
		unhex(argv[14], payload, plen);
	}
	m1_len = XF_NOISE_MSG1_LEN + plen;

	must(xf_noise_static_init(&is, ipriv), "initiator static");
	must(xf_noise_static_init(&rs, rpriv), "responder static");
	must(xf_noise_peer_init(&ip, rs.pub, strcmp(argv[5], "-") ? psk : NULL), "peer");
	must(xf_noise_peer_init(&rp, is.pub, strcmp(argv[5], "-") ? psk : NULL), "peer");
	xf_noise_cookie_jar_set(&jar, secret, 1000);

	must(xf_noise_initiate(&ih, &is, &ip, &pro, iidx, ieph, unix_ns, 1000, payload, plen, m1),
	     "initiate");
	put("msg1", m1, m1_len);
	if (xf_noise_check_macs(&rs, &jar, m1, m1_len, src, sizeof(src), true, 2000) != -EAGAIN) {
		fprintf(stderr, "noise_vec: under load, message 1 without mac2 passed\n");
		return 1;
	}
	must(xf_noise_cookie_reply(&rs, &jar, m1, m1_len, src, sizeof(src), cn, 2000, cr),
	     "cookie");
	put("cookie_reply", cr, sizeof(cr));
	must(xf_noise_consume_cookie(&ih, cr, sizeof(cr), 3000), "consume cookie");
	must(xf_noise_initiate(&ih, &is, &ip, &pro, iidx, ieph, unix_ns + 1, 4000, payload, plen,
	                       m1),
	     "again");
	put("msg1b", m1, m1_len);
	must(xf_noise_check_macs(&rs, &jar, m1, m1_len, src, sizeof(src), true, 5000), "macs");
	must(xf_noise_consume_initiation(&rh, &rs, &rp, 1, &pro, m1, m1_len, got), "consume 1");
	put("payload", got, plen);
	must(xf_noise_respond(&rh, ridx, reph, m2, &rk), "respond");
	put("msg2", m2, sizeof(m2));
	must(xf_noise_consume_response(&ih, m2, sizeof(m2), &ik), "consume 2");
	put("i_send", ik.send, 32);
	put("i_recv", ik.recv, 32);
	put("r_send", rk.send, 32);
	put("r_recv", rk.recv, 32);
	put("i_hash", ik.hash, 32);
	put("r_hash", rk.hash, 32);
	must(xf_secure_derive(ik.send, key, iv, next), "derive");
	put("i2r_key", key, 32);
	put("i2r_iv", iv, 12);
	put("i2r_next", next, 32);
	must(xf_secure_derive(rk.send, key, iv, next), "derive");
	put("r2i_key", key, 32);
	put("r2i_iv", iv, 12);
	put("r2i_next", next, 32);
	return 0;
}
