/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Seeds for fuzz_handshake: a genuine message 1 (without payload, and with the sealed block
 * a push's carries, at its one size), message 2 and cookie reply made with the harness's
 * fixed keys, each behind its selector byte, plus short and empty inputs.
 * usage: gen_hs_seeds DIR
 */
#include <stdio.h>
#include <string.h>

#include "hs_keys.h"
#include "xf_hs_block.h"
#include "xf_noise.h"
#include "xf_proto.h"

static int
put(const char *dir, const char *name, uint8_t sel, const uint8_t *m, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(&sel, 1, 1, f) != 1 || (n > 0 && fwrite(m, n, 1, f) != 1)) {
		perror(path);
		return 1;
	}
	return fclose(f) != 0;
}

int
main(int argc, char **argv)
{
	static struct xf_noise_static is, rs;
	static struct xf_noise_peer ip, rp;
	static struct xf_noise_hs ih, rh;
	static struct xf_noise_cookie_jar jar;
	/* A HELLO's destination field as message 1 carries it: volume/path, NUL, a rule; in
	 * the sealed block with the options of a deleting push (docs/PROTOCOL.md 3.1.4). */
	static const char field[] = "vol/some/path\0- *.tmp\n";
	static uint8_t blk[XF_HS_BLOCK_LEN], got[XF_HS_BLOCK_LEN];
	uint8_t m1[XF_NOISE_MSG1_LEN], m2[XF_NOISE_MSG2_LEN], c[XF_NOISE_COOKIE_LEN_MSG];
	uint8_t m1d[XF_NOISE_MSG1_LEN + XF_HS_BLOCK_LEN];
	struct xf_noise_keys k;
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_hs_seeds DIR\n");
		return 2;
	}
	if (xf_noise_static_init(&is, hs_ipriv) || xf_noise_static_init(&rs, hs_rpriv) ||
	    xf_noise_peer_init(&ip, rs.pub, NULL) || xf_noise_peer_init(&rp, is.pub, NULL)) {
		return 1;
	}
	xf_noise_cookie_jar_set(&jar, hs_cookie_secret, 0);
	if (xf_noise_initiate(&ih, &is, &ip, &hs_pro, HS_I_INDEX, hs_ieph, HS_UNIX_NS, 0, NULL, 0,
	                      m1) ||
	    xf_noise_cookie_reply(&rs, &jar, m1, XF_NOISE_MSG1_LEN, hs_src, sizeof(hs_src), NULL, 0,
	                          c) ||
	    xf_noise_consume_initiation(&rh, &rs, &rp, 1, &hs_pro, m1, sizeof(m1), NULL) ||
	    xf_noise_respond(&rh, HS_R_INDEX, hs_reph, m2, &k)) {
		fprintf(stderr, "gen_hs_seeds: handshake failed\n");
		return 1;
	}
	/* The harness starts each input from a fresh peer: the same timestamp is taken. */
	if (xf_proto_hello_seal(blk, sizeof(blk),
	                        XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS, 5,
	                        field, sizeof(field) - 1) != (long)sizeof(blk) ||
	    xf_noise_peer_init(&rp, is.pub, NULL) ||
	    xf_noise_initiate(&ih, &is, &ip, &hs_pro, HS_I_INDEX, hs_ieph, HS_UNIX_NS, 0, blk,
	                      sizeof(blk), m1d) ||
	    xf_noise_consume_initiation(&rh, &rs, &rp, 1, &hs_pro, m1d, sizeof(m1d), got) ||
	    memcmp(got, blk, sizeof(got)) != 0) {
		fprintf(stderr, "gen_hs_seeds: message 1 with a sealed block failed\n");
		return 1;
	}
	xf_noise_hs_wipe(&rh);
	bad |= put(argv[1], "msg1", 0, m1, sizeof(m1));
	bad |= put(argv[1], "msg1-load", 4, m1, sizeof(m1));
	bad |= put(argv[1], "msg1-block", 0, m1d, sizeof(m1d));
	bad |= put(argv[1], "msg2", 1, m2, sizeof(m2));
	bad |= put(argv[1], "cookie", 2, c, sizeof(c));
	bad |= put(argv[1], "short", 0, m1, 8);
	bad |= put(argv[1], "empty", 1, m1, 0);
	return bad;
}
