/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-crypto: AES-256-GCM bytes per second on one core, sealing frames in place with
 * a 16-byte header as associated data, at 1,472 bytes (a 1,500-byte MTU datagram) and
 * 8,972 bytes (a 9,000-byte jumbo datagram): intel-ipsec-mb through drivers/crypto (the
 * frame path) against OpenSSL 3.0 EVP on the same data and the same nonces. Then X25519
 * (OpenSSL) operations per second: key generation (one fixed-base multiplication) and
 * derive (one variable-base multiplication), the cost of a handshake's DH work.
 * Medians of --runs runs (default 5).
 *
 * Last, the seal of a frame the sender keeps for retransmission (every data frame): from
 * a kept frame into a new one, either copied first and sealed in place or sealed straight
 * from the kept one (xf_crypto_seal_to), over working sets of KEPT frames each (beyond
 * the caches, as the reliability slots are), and sealed from it into WARM frames used in
 * turn (what eng_secure_tx does: the engine's ring of sealed copies, xf_engine_sealbuf.h),
 * alternated run by run and timed on the thread's CPU clock (so another process's load
 * does not count).
 *
 * Between the two: seal and open (xf_crypto_open, the receiver's decrypt and tag check)
 * of the same frames, both on the thread's CPU clock, per frame size.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rand.h>

#include "xf_crypto.h"
#include "xf_perf.h"

#define NAME   "xf-bench-crypto"
#define HDR    16u
#define FRAMES 256u /* frames in the working set (2.3 MiB at 8,972 bytes: L2/L3) */
#define MAXLEN 8972u
#define KEPT   2048u /* kept frames and new ones: 18 MiB each at 8,972 bytes */
#define WARM   32u   /* the engine's ring of sealed copies (XF_SEALBUF_SLOTS): 287 KiB */

static const unsigned int sizes[] = { 1472, 8972 };

static uint8_t key[32], iv[12], hdr[HDR];
static uint8_t *pool;

static double
run_ipsecmb(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, unsigned int len,
            uint64_t bytes)
{
	uint8_t tag[16];
	uint64_t done = 0, pn = 0, t0 = xf_perf_now_ns();

	while (done < bytes) {
		uint8_t *f = pool + (pn % FRAMES) * MAXLEN;

		if (xf_crypto_seal(mgr, k, pn, hdr, HDR, f, len, tag) != 0) {
			abort();
		}
		pn++;
		done += len;
	}
	return (double)done / ((double)(xf_perf_now_ns() - t0) / 1e9);
}

/* The receiver's side beside the sender's, on the thread's CPU clock (another process's
 * load does not count): each pass seals the FRAMES frames of the pool in place, keeping
 * their tags, then opens them in place (xf_crypto_open: decrypt and check the tag, as
 * eng_secure_rx does). *seal and *open get bytes per CPU second of each half. */
static void
run_seal_open(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, unsigned int len,
              uint64_t bytes, double *seal, double *open)
{
	static uint8_t tags[FRAMES][16];
	uint64_t done = 0, pn = 0, t_seal = 0, t_open = 0;

	while (done < bytes) {
		uint64_t t0 = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID), t1, t2;

		for (unsigned int i = 0; i < FRAMES; i++) {
			if (xf_crypto_seal(mgr, k, pn + i, hdr, HDR, pool + (size_t)i * MAXLEN, len,
			                   tags[i]) != 0) {
				abort();
			}
		}
		t1 = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		for (unsigned int i = 0; i < FRAMES; i++) {
			if (xf_crypto_open(mgr, k, pn + i, hdr, HDR, pool + (size_t)i * MAXLEN, len,
			                   tags[i]) != 0) {
				abort(); /* a tag that does not verify: the benchmark is wrong */
			}
		}
		t2 = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t_seal += t1 - t0;
		t_open += t2 - t1;
		pn += FRAMES;
		done += (uint64_t)FRAMES * len;
	}
	*seal = (double)done / ((double)t_seal / 1e9);
	*open = (double)done / ((double)t_open / 1e9);
}

enum kept_mode {
	KEPT_COPY,    /* copied into a new frame, then sealed in place */
	KEPT_SEAL_TO, /* sealed from the kept frame into a new frame (cold: KEPT of them) */
	KEPT_WARM,    /* sealed from it into one of WARM frames used in turn (still cached) */
};

/* A kept frame sealed into another one, by mode. @return bytes per CPU second. */
static double
run_kept(struct xf_crypto_mgr *mgr, const struct xf_crypto_key *k, const uint8_t *kept,
         uint8_t *out, enum kept_mode mode, uint64_t bytes)
{
	uint8_t tag[16];
	uint64_t done = 0, pn = 0, t0 = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID);

	while (done < bytes) {
		const uint8_t *src = kept + (pn % KEPT) * MAXLEN;
		uint8_t *dst = out + (mode == KEPT_WARM ? pn % WARM : (pn * 7) % KEPT) * MAXLEN;
		int rc;

		if (mode == KEPT_COPY) {
			memcpy(dst, src, MAXLEN);
			rc = xf_crypto_seal(mgr, k, pn, hdr, HDR, dst, MAXLEN, tag);
		} else {
			rc = xf_crypto_seal_to(mgr, k, pn, hdr, HDR, src, dst, MAXLEN, tag);
		}
		if (rc != 0) {
			abort();
		}
		pn++;
		done += MAXLEN;
	}
	return (double)done / ((double)(xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e9);
}

static double
run_openssl(const struct xf_crypto_key *k, unsigned int len, uint64_t bytes)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t tag[16], nonce[12];
	uint64_t done = 0, pn = 0, t0;
	int n;

	/* Key schedule once, as the frame path would; per frame only the nonce changes. */
	if (c == NULL || EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
		abort();
	}
	t0 = xf_perf_now_ns();
	while (done < bytes) {
		uint8_t *f = pool + (pn % FRAMES) * MAXLEN;

		xf_crypto_nonce(k, pn, nonce);
		if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
		    EVP_EncryptUpdate(c, NULL, &n, hdr, HDR) != 1 ||
		    EVP_EncryptUpdate(c, f, &n, f, (int)len) != 1 ||
		    EVP_EncryptFinal_ex(c, f + n, &n) != 1 ||
		    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) {
			abort();
		}
		pn++;
		done += len;
	}
	EVP_CIPHER_CTX_free(c);
	return (double)done / ((double)(xf_perf_now_ns() - t0) / 1e9);
}

/* X25519 operations per second: keygen (mode 0) or derive with a fixed peer (mode 1). */
static double
run_x25519(int mode, unsigned int ops)
{
	EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_PKEY *mine = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t out[32];
	uint64_t t0;

	if (peer == NULL || mine == NULL) {
		abort();
	}
	t0 = xf_perf_now_ns();
	for (unsigned int i = 0; i < ops; i++) {
		if (mode == 0) {
			EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");

			if (k == NULL) {
				abort();
			}
			EVP_PKEY_free(k);
		} else {
			EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(mine, NULL);
			size_t ol = sizeof(out);

			if (c == NULL || EVP_PKEY_derive_init(c) != 1 ||
			    EVP_PKEY_derive_set_peer(c, peer) != 1 ||
			    EVP_PKEY_derive(c, out, &ol) != 1) {
				abort();
			}
			EVP_PKEY_CTX_free(c);
		}
	}
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return ops / ((double)(xf_perf_now_ns() - t0) / 1e9);
}

int
main(int argc, char **argv)
{
	static struct xf_crypto_key k;
	struct xf_perf_opts o;
	struct xf_crypto_mgr *mgr;
	char libs[160];
	FILE *csv;
	int rc = xf_perf_parse(argc, argv, NAME,
	                       "AES-256-GCM bytes/s per core (ipsec-mb vs OpenSSL), X25519 ops/s",
	                       5, 3, &o);

	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	mgr = xf_crypto_mgr_create();
	pool = aligned_alloc(64, (size_t)FRAMES * MAXLEN);
	if (mgr == NULL || pool == NULL || RAND_bytes(key, 32) != 1 || RAND_bytes(iv, 12) != 1 ||
	    RAND_bytes(hdr, HDR) != 1 || RAND_bytes(pool, (int)(FRAMES * MAXLEN)) != 1 ||
	    xf_crypto_key_init(mgr, &k, key, iv) != 0) {
		fprintf(stderr, NAME ": set-up failed\n");
		return 1;
	}
	snprintf(libs, sizeof(libs), "intel-ipsec-mb (%s path), %s", xf_crypto_mgr_arch(mgr),
	         OPENSSL_VERSION_TEXT);
	xf_perf_banner(NAME, libs, &o);
	csv = xf_perf_csv_open(&o);
	xf_perf_pin(0);
	printf("%-10s %8s %14s %14s %8s\n", "AES-GCM", "frame", "ipsec-mb GB/s", "OpenSSL GB/s",
	       "ratio");
	for (size_t s = 0; s < XF_PERF_ARRAY_SIZE(sizes); s++) {
		uint64_t bytes = o.quick ? (64ull << 20) : (1ull << 30);
		double a[16], b[16], ma, mb;

		for (unsigned int r = 0; r < o.runs && r < 16; r++) {
			a[r] = run_ipsecmb(mgr, &k, sizes[s], bytes);
			b[r] = run_openssl(&k, sizes[s], bytes);
		}
		ma = xf_perf_median(a, o.runs < 16 ? o.runs : 16);
		mb = xf_perf_median(b, o.runs < 16 ? o.runs : 16);
		printf("%-10s %8u %14.2f %14.2f %8.2f\n", "seal", sizes[s], ma / 1e9, mb / 1e9,
		       ma / mb);
		xf_perf_csv_row(csv, NAME, "aes256gcm-seal", "ipsec-mb", sizes[s], 1, 1, o.runs,
		                ma / 1e9, "GB/s", ma / mb);
		xf_perf_csv_row(csv, NAME, "aes256gcm-seal", "openssl", sizes[s], 1, 1, o.runs,
		                mb / 1e9, "GB/s", 1.0);
	}
	for (size_t s = 0; s < XF_PERF_ARRAY_SIZE(sizes); s++) {
		uint64_t bytes = o.quick ? (64ull << 20) : (1ull << 30);
		double a[16], b[16], ma, mb;

		for (unsigned int r = 0; r < o.runs && r < 16; r++) {
			run_seal_open(mgr, &k, sizes[s], bytes, &a[r], &b[r]);
		}
		ma = xf_perf_median(a, o.runs < 16 ? o.runs : 16);
		mb = xf_perf_median(b, o.runs < 16 ? o.runs : 16);
		printf("%-10s %8u  seal %.2f GB/cpu-s, open %.2f GB/cpu-s, open/seal %.2f\n",
		       "seal+open", sizes[s], ma / 1e9, mb / 1e9, mb / ma);
		xf_perf_csv_row(csv, NAME, "aes256gcm-seal-cpu", "ipsec-mb", sizes[s], 1, 1, o.runs,
		                ma / 1e9, "GB/cpu-s", 1.0);
		xf_perf_csv_row(csv, NAME, "aes256gcm-open-cpu", "ipsec-mb", sizes[s], 1, 1, o.runs,
		                mb / 1e9, "GB/cpu-s", mb / ma);
	}
	{
		uint8_t *kept = aligned_alloc(64, (size_t)KEPT * MAXLEN);
		uint8_t *out = aligned_alloc(64, (size_t)KEPT * MAXLEN);
		uint64_t bytes = o.quick ? (64ull << 20) : (1ull << 30);
		double a[16], b[16], c[16], ma, mb, mc;

		if (kept == NULL || out == NULL) {
			fprintf(stderr, NAME ": no memory for the kept frames\n");
			return 1;
		}
		memset(out, 0, (size_t)KEPT * MAXLEN);
		for (size_t i = 0; i < (size_t)KEPT * MAXLEN; i++) {
			kept[i] = (uint8_t)(i * 131);
		}
		for (unsigned int r = 0; r < o.runs && r < 16; r++) {
			a[r] = run_kept(mgr, &k, kept, out, KEPT_COPY, bytes);
			b[r] = run_kept(mgr, &k, kept, out, KEPT_SEAL_TO, bytes);
			c[r] = run_kept(mgr, &k, kept, out, KEPT_WARM, bytes);
		}
		ma = xf_perf_median(a, o.runs < 16 ? o.runs : 16);
		mb = xf_perf_median(b, o.runs < 16 ? o.runs : 16);
		mc = xf_perf_median(c, o.runs < 16 ? o.runs : 16);
		printf("kept frame %8u  copy+seal %.2f GB/cpu-s, seal_to %.2f GB/cpu-s, ratio %.2f\n",
		       MAXLEN, ma / 1e9, mb / 1e9, mb / ma);
		xf_perf_csv_row(csv, NAME, "aes256gcm-kept-copy-seal", "ipsec-mb", MAXLEN, 1, 1,
		                o.runs, ma / 1e9, "GB/cpu-s", 1.0);
		xf_perf_csv_row(csv, NAME, "aes256gcm-kept-seal-to", "ipsec-mb", MAXLEN, 1, 1,
		                o.runs, mb / 1e9, "GB/cpu-s", mb / ma);
		printf("kept frame %8u  seal_to into %u warm frames %.2f GB/cpu-s, ratio to seal_to "
		       "%.2f\n",
		       MAXLEN, WARM, mc / 1e9, mc / mb);
		xf_perf_csv_row(csv, NAME, "aes256gcm-kept-seal-to-warm", "ipsec-mb", MAXLEN, 1, 1,
		                o.runs, mc / 1e9, "GB/cpu-s", mc / mb);
		free(kept);
		free(out);
	}
	for (int mode = 0; mode < 2; mode++) {
		double v[16];

		for (unsigned int r = 0; r < o.runs && r < 16; r++) {
			v[r] = run_x25519(mode, o.quick ? 2000 : 20000);
		}
		v[0] = xf_perf_median(v, o.runs < 16 ? o.runs : 16);
		printf("X25519 %-8s %12.0f ops/s\n", mode == 0 ? "keygen" : "derive", v[0]);
		xf_perf_csv_row(csv, NAME, mode == 0 ? "x25519-keygen" : "x25519-derive", "openssl",
		                32, 1, 1, o.runs, v[0], "ops/s", 0.0);
	}
	if (csv != NULL) {
		fclose(csv);
	}
	xf_crypto_key_wipe(&k);
	xf_crypto_mgr_free(mgr);
	free(pool);
	return 0;
}
