/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-hs: the responder's handshakes (docs/SECURITY.md 3), inline on the receiving
 * thread against handed off to a handshake thread (dataplane/secure/xf_hs_queue.h), on
 * the same message 1s. Every message 1 carries what a push's does: the sealed block
 * (docs/PROTOCOL.md 3.1.4) at its one size (xf_hs_block_len: 1,256 bytes, so message 1 is
 * 1,404). Each run makes N fresh message 1s (newer timestamps), then:
 *   inline:  one thread, per HELLO: mac1 (xf_noise_check_macs), the Noise responder
 *            (message 1, message 2, keys), as an RX core did before the hand-off;
 *   handoff: the receiving thread checks mac1, fills and submits a record, and applies
 *            the answers (timestamp adopted, record wiped); a second thread serves the
 *            queue, as the engine's handshake thread does.
 * Reported, medians of --runs runs alternated by mode: handshakes a second (N over the
 * wall time, all answered; and N over the CPU time of the thread that did the DH, which
 * another process's load does not inflate), the receiving thread's CPU time per HELLO
 * (CLOCK_THREAD_CPUTIME_ID around its own steps only, not its waits for room or answers:
 * two clock reads per step, which the inline loop does not pay) and OpenSSL allocations
 * per HELLO made by the receiving thread (xf_ossl_allocs.h: counted per thread). The
 * receiving thread checks mac1 as an RX core does, with a jar bound by
 * xf_noise_cookie_jar_init (its own ipsec-mb manager, mac1's key prepared once).
 * Then mac1 alone (xf_noise_check_macs, not under load, as every HELLO is checked on an RX
 * core) on message 1s of 156, 404, 1,404 (the one size) and 4,243 bytes (the longest the
 * codec takes: what a flood of the largest HELLOs costs), three ways alternated run by
 * run: OpenSSL's one-shot HMAC() (a jar not bound: the baseline), the engine's jar, and
 * an ipsec-mb HMAC job from the same prepared key on the frames' manager
 * (xf_crypto_mgr_create, AVX-512 on a CPU that has it: the one an RX core seals and opens
 * frames on, whose HMAC does not use SHA-NI): ns of thread CPU per check and OpenSSL
 * allocations per check, medians of --runs runs; and the same message 1s under load
 * without mac2, as a flood's (mac1, mac2, the cookie reply: xf_noise_cookie_reply),
 * through OpenSSL and through the engine's jar.
 * Last, the initiator's side, which runs on the RX core of the push (docs/SECURITY.md 8.2),
 * with the responder's whole handshake as the baseline, each on this thread, two ways
 * alternated run by run: mac1, mac2 and the cookie reply through OpenSSL (xf_noise_initiate)
 * and through a jar bound to the initiator's key (xf_noise_initiate_jar, as the push's RX
 * core): ns of thread CPU and OpenSSL allocations per message 1 made (an ephemeral key,
 * es, ss, mac1), per genuine message 2 read (xf_noise_consume_response: mac1, ee, se, the
 * tag), per forged message 2 (a valid mac1, which anyone can compute from our public key,
 * over a random ephemeral key: the two DH, then the tag fails), per cookie reply read
 * (xf_noise_consume_cookie, on a copy of the state) and per responder handshake (message 1
 * read, message 2 made: four DH).
 * The load average is printed: on a shared machine the wall figures are for orientation.
 */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>

#include "xf_base.h"
#include "xf_hs_block.h"
#include "xf_hs_queue.h"
#include "xf_ossl_allocs.h"
#include "xf_perf.h"

#define NAME    "xf-bench-hs"
#define RX_CORE 1u
#define HS_CORE 2u

static struct xf_noise_static resp, init;
static struct xf_noise_peer resp_peer, init_peer;
static struct xf_noise_cookie_jar jar;    /* zeroed: OpenSSL's HMAC() */
static struct xf_noise_cookie_jar jar_mb; /* bound as an RX core's (xf_noise_cookie_jar_init) */
static struct xf_hs_queue q;
static struct xf_msg *hellos;
/* Message 1s whose payload is the sealed block of dest (XF_HELLO_F_SEALED_OPTS) at its one
 * size, as a push at this MTU sends it (max_payload 8900 in clear; the size is 1500's):
 * m1_len bytes of each; the initiator's steps seal the same block. */
#define MTU 9000u
static uint8_t (*msg1s)[XF_NOISE_MSG1_MAX];
static uint8_t blk[XF_NOISE_PAYLOAD_MAX];
static size_t blk_len, m1_len;
static uint64_t ts_next = 1000;
static atomic_bool serving;
static const uint8_t src[6] = { 10, 0, 0, 4, 0x12, 0x34 };
static const char dest[] = "vol/tree";

struct result {
	double hs_per_s;   /* handshakes a second, wall clock */
	double hs_per_cpu; /* per second of CPU time of the thread that does the DH */
	double rx_ns;      /* the receiving thread's CPU time per HELLO */
	double allocs;     /* OpenSSL allocations by the receiving thread per HELLO */
};

static uint64_t hs_cpu_ns; /* the handshake thread's CPU time, its last run */

static uint64_t
cpu_now(void)
{
	return xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* The sealed block every HELLO here carries (blk, blk_len bytes). */
static void
make_block(void)
{
	blk_len = xf_hs_block_len(MTU);
	m1_len = XF_NOISE_MSG1_LEN + blk_len;
	if (xf_proto_hello_seal(blk, blk_len, XF_HELLO_F_CLEAR_AEAD, 0, dest, strlen(dest)) !=
	    (long)blk_len) {
		abort();
	}
}

static void
make_hellos(unsigned int n)
{
	struct xf_noise_prologue pro;
	struct xf_noise_hs hs;

	for (unsigned int i = 0; i < n; i++) {
		struct xf_msg *m = &hellos[i];

		memset(m, 0, sizeof(*m));
		m->hdr.type = XF_MSG_HELLO;
		m->hdr.session = 1000 + i;
		m->hello.min_version = m->hello.max_version = XF_PROTO_VERSION;
		m->hello.max_payload = 8900;
		m->hello.flags = XF_HELLO_F_CLEAR_AEAD;
		xf_hs_prologue(&pro, m->hello.flags, m->hello.max_payload, 0);
		if (xf_noise_initiate(&hs, &init, &init_peer, &pro, m->hdr.session, NULL, ts_next++,
		                      1, blk, blk_len, msg1s[i]) != 0) {
			abort();
		}
		xf_noise_hs_wipe(&hs);
		m->hello.auth = msg1s[i];
		m->hello.auth_len = (uint16_t)m1_len;
	}
}

/* The receiving thread's mac1, as an RX core checks it: the engine's jar. */
static int
mac1(const struct xf_msg *m)
{
	return xf_noise_check_macs(&resp, &jar_mb, m->hello.auth, m->hello.auth_len, src,
	                           sizeof(src), false, 1);
}

static struct result
run_inline(unsigned int n)
{
	uint64_t t0 = xf_perf_now_ns(), c0 = cpu_now(), a0 = xf_ossl_allocs;
	struct xf_noise_prologue pro;
	struct xf_noise_keys keys;
	struct xf_noise_hs hs;
	uint8_t msg2[XF_NOISE_MSG2_LEN], block[XF_NOISE_PAYLOAD_MAX];
	double s;

	for (unsigned int i = 0; i < n; i++) {
		const struct xf_msg *m = &hellos[i];

		xf_hs_prologue(&pro, m->hello.flags, m->hello.max_payload, 0);
		if (mac1(m) != 0 ||
		    xf_noise_consume_initiation(&hs, &resp, &resp_peer, 1, &pro, m->hello.auth,
		                                m->hello.auth_len, block) != 0 ||
		    xf_noise_respond(&hs, m->hdr.session, NULL, msg2, &keys) != 0) {
			abort();
		}
		OPENSSL_cleanse(&keys, sizeof(keys));
	}
	s = (double)(xf_perf_now_ns() - t0) / 1e9;
	c0 = cpu_now() - c0;
	return (struct result){ n / s, n / ((double)c0 / 1e9), (double)c0 / n,
		                (double)(xf_ossl_allocs - a0) / n };
}

static void *
hs_thread(void *arg)
{
	uint64_t c0 = cpu_now();

	(void)arg;
	xf_core_set_self(HS_CORE);
	while (atomic_load(&serving)) {
		if (xf_hs_queue_serve(&q, &resp, 4) == 0) {
			sched_yield(); /* the engine's thread sleeps when idle */
		}
	}
	hs_cpu_ns = cpu_now() - c0;
	return NULL;
}

static struct result
run_handoff(unsigned int n)
{
	uint64_t t0 = xf_perf_now_ns(), a0 = xf_ossl_allocs, rx_ns = 0;
	unsigned int sent = 0, got = 0;
	pthread_t t;
	double s;

	atomic_store(&serving, true);
	if (pthread_create(&t, NULL, hs_thread, NULL) != 0) {
		abort();
	}
	while (got < n) {
		uint64_t w0 = cpu_now();
		struct xf_hs_rec *r;
		bool work = false;

		if (sent < n && q.n < XF_HS_QUEUE_LEN) {
			if (mac1(&hellos[sent]) != 0 ||
			    (r = xf_hs_queue_fill(&q, XF_HS_NEW, &hellos[sent], &resp_peer, 0, 1, 2,
			                          src, 0)) == NULL) {
				abort();
			}
			xf_hs_queue_submit(&q, r);
			sent++;
			work = true;
		}
		while ((r = xf_hs_queue_result(&q)) != NULL) {
			if (r->rc != 0 || xf_hs_rec_adopt(r, &resp_peer) != 0) {
				abort();
			}
			xf_hs_queue_done(&q, r);
			got++;
			work = true;
		}
		if (work) {
			rx_ns += cpu_now() - w0;
		} else {
			sched_yield(); /* an RX core would poll its port meanwhile */
		}
	}
	s = (double)(xf_perf_now_ns() - t0) / 1e9;
	atomic_store(&serving, false);
	pthread_join(t, NULL);
	return (struct result){ n / s, n / ((double)hs_cpu_ns / 1e9), (double)rx_ns / n,
		                (double)(xf_ossl_allocs - a0) / n };
}

/* The mac1 figures' ways of checking: OpenSSL's one-shot HMAC() (a zeroed jar: the
 * baseline), the engine's jar (its own manager, xf_crypto_mgr_create_hmac), and an HMAC job
 * on the frames' manager (xf_crypto_mgr_create), from the same prepared key with the same
 * 16-byte comparison; and under load, a HELLO without mac2 as a flood sends it: mac1, mac2
 * missing, the cookie reply (xf_noise_cookie_reply), through OpenSSL and through the jar. */
enum { MAC_OSSL, MAC_JAR, MAC_FRAMES, LOAD_OSSL, LOAD_JAR, MAC_MODES };

static struct xf_crypto_mgr *frames_mgr;
static struct xf_crypto_hmac_key frames_hk; /* resp's mac1 key, prepared on frames_mgr */

static int
mac1_frames(const uint8_t *m, size_t len)
{
	uint8_t mac[XF_NOISE_MAC_LEN];
	size_t off = len - 2 * XF_NOISE_MAC_LEN;

	if (m[0] != XF_NOISE_MSG1 || m[1] != 0 || m[2] != 0 || m[3] != 0 ||
	    xf_crypto_hmac(frames_mgr, &frames_hk, m, off, mac, sizeof(mac)) != 0) {
		return -EBADMSG;
	}
	return CRYPTO_memcmp(mac, m + off, sizeof(mac)) == 0 ? 0 : -EBADMSG;
}

/* mac1 checks of the n message 1s (len bytes each), reps times over, one way: ns of CPU
 * and OpenSSL allocations per check. */
static void
run_mac1(unsigned int mode, size_t len, unsigned int n, unsigned int reps, double *ns, double *al)
{
	uint64_t c0 = cpu_now(), a0 = xf_ossl_allocs;

	for (unsigned int r = 0; r < reps; r++) {
		for (unsigned int i = 0; i < n; i++) {
			struct xf_noise_cookie_jar *j =
			        mode == MAC_JAR || mode == LOAD_JAR ? &jar_mb : &jar;
			uint8_t reply[XF_NOISE_COOKIE_LEN_MSG];
			int rc;

			if (mode == MAC_FRAMES) {
				rc = mac1_frames(msg1s[i], len);
			} else if (mode == MAC_OSSL || mode == MAC_JAR) {
				rc = xf_noise_check_macs(&resp, j, msg1s[i], len, src, sizeof(src),
				                         false, 1);
			} else if (xf_noise_check_macs(&resp, j, msg1s[i], len, src, sizeof(src),
			                               true, 1) == -EAGAIN) {
				rc = xf_noise_cookie_reply(&resp, j, msg1s[i], len, src,
				                           sizeof(src), NULL, 1, reply);
			} else {
				rc = -1;
			}
			if (rc != 0) {
				abort();
			}
		}
	}
	*ns = (double)(cpu_now() - c0) / ((double)n * reps);
	*al = (double)(xf_ossl_allocs - a0) / ((double)n * reps);
}

/* n message 1s of len bytes (a payload of len - XF_NOISE_MSG1_LEN) in msg1s. */
static void
make_msg1s(size_t len, unsigned int n)
{
	static uint8_t field[XF_NOISE_PAYLOAD_MAX];
	struct xf_noise_prologue pro;
	struct xf_noise_hs hs;

	memset(field, 'd', sizeof(field));
	xf_hs_prologue(&pro, XF_HELLO_F_CLEAR_AEAD, 8900, 0);
	for (unsigned int i = 0; i < n; i++) {
		if (xf_noise_initiate(&hs, &init, &init_peer, &pro, 1 + i, NULL, ts_next++, 1,
		                      field, len - XF_NOISE_MSG1_LEN, msg1s[i]) != 0) {
			abort();
		}
		xf_noise_hs_wipe(&hs);
	}
}

/* mac1 at the message 1 lengths that matter: an unpadded 156 bytes, the 404 of a 256-byte
 * bucket, the one size a push sends (m1_len, 1,404), the longest the codec takes (what a
 * flood of the largest HELLOs costs an RX core); the three ways alternated run by run. */
static int
bench_mac1(const struct xf_perf_opts *o, unsigned int n)
{
	static const char *const mode[MAC_MODES] = { "openssl HMAC()", "engine's jar",
		                                     "frames' manager", "openssl", "engine's jar" };
	const size_t lens[] = { 156, 404, m1_len, XF_NOISE_MSG1_MAX };
	double ns[MAC_MODES][64], al[MAC_MODES][64], med[MAC_MODES];
	unsigned int reps = o->quick ? 5 : 20;

	frames_mgr = xf_crypto_mgr_create();
	if (frames_mgr == NULL ||
	    xf_crypto_hmac_key_init(frames_mgr, &frames_hk, resp.mac1_key, 32) != 0) {
		fprintf(stderr, "%s: no ipsec-mb manager\n", NAME);
		xf_crypto_mgr_free(frames_mgr);
		return 1;
	}
	printf("mac1 check (xf_noise_check_macs, not under load), %u message 1s x %u per run, "
	       "thread CPU, medians of %u: %s; %s (%s); ipsec-mb HMAC job on the %s (%s)\n",
	       n, reps, o->runs, mode[MAC_OSSL], mode[MAC_JAR], xf_crypto_mgr_arch(jar_mb.mgr),
	       mode[MAC_FRAMES], xf_crypto_mgr_arch(frames_mgr));
	for (unsigned int l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		make_msg1s(lens[l], n);
		for (unsigned int r = 0; r < o->runs; r++) {
			for (unsigned int i = 0; i < MAC_MODES; i++) {
				unsigned int m = (i + r) % MAC_MODES; /* each first in turn */

				run_mac1(m, lens[l], n, reps, &ns[m][r], &al[m][r]);
			}
		}
		for (unsigned int m = 0; m < MAC_MODES; m++) {
			med[m] = xf_perf_median(ns[m], o->runs);
		}
		printf("mac1 check, message 1 of %4zu bytes: %s %6.0f ns, %4.1f allocations; %s "
		       "%6.0f ns, %4.1f; %s %6.0f ns, %4.1f; ratio to openssl: jar %.3f, frames' "
		       "%.3f\n",
		       lens[l], mode[MAC_OSSL], med[MAC_OSSL],
		       xf_perf_median(al[MAC_OSSL], o->runs), mode[MAC_JAR], med[MAC_JAR],
		       xf_perf_median(al[MAC_JAR], o->runs), mode[MAC_FRAMES], med[MAC_FRAMES],
		       xf_perf_median(al[MAC_FRAMES], o->runs), med[MAC_JAR] / med[MAC_OSSL],
		       med[MAC_FRAMES] / med[MAC_OSSL]);
		printf("under load, no mac2 (mac1, mac2, cookie reply), %4zu bytes: %s %6.0f ns, "
		       "%4.1f allocations; %s %6.0f ns, %4.1f; ratio jar/openssl %.3f\n",
		       lens[l], mode[LOAD_OSSL], med[LOAD_OSSL],
		       xf_perf_median(al[LOAD_OSSL], o->runs), mode[LOAD_JAR], med[LOAD_JAR],
		       xf_perf_median(al[LOAD_JAR], o->runs), med[LOAD_JAR] / med[LOAD_OSSL]);
	}
	xf_crypto_hmac_key_wipe(&frames_hk);
	xf_crypto_mgr_free(frames_mgr);
	return 0;
}

/* The initiator's steps, one run of n handshakes, message 1 made through the jar ij (as
 * on the push's RX core: xf_noise_initiate_jar) or, ij NULL, with OpenSSL's HMAC()
 * (xf_noise_initiate): ns of thread CPU and OpenSSL allocations per step, in ns[] and
 * al[]: message 1, message 2 genuine, message 2 forged, a cookie reply read, and the
 * responder's handshake. */
enum { I_MSG1, I_MSG2, I_FORGED, I_COOKIE, I_RESP, I_STEPS };

static void
run_initiator(unsigned int n, struct xf_noise_cookie_jar *ij, double *ns, double *al)
{
	struct xf_noise_prologue pro;
	uint64_t c[I_STEPS] = { 0 }, a[I_STEPS] = { 0 };

	xf_hs_prologue(&pro, XF_HELLO_F_CLEAR_AEAD, 8900, 0);
	for (unsigned int i = 0; i < n; i++) {
		struct xf_noise_hs ih, rh, copy;
		struct xf_noise_keys ik, rk;
		uint8_t m1[XF_NOISE_MSG1_MAX], m2[XF_NOISE_MSG2_LEN], cr[XF_NOISE_COOKIE_LEN_MSG];
		uint8_t forged[XF_NOISE_MSG2_LEN], field[XF_NOISE_PAYLOAD_MAX];
		uint64_t t = cpu_now(), x = xf_ossl_allocs;
		int rc = ij != NULL
		                 ? xf_noise_initiate_jar(&ih, ij, &init, &init_peer, &pro, 7000 + i,
		                                         NULL, ts_next++, 1, blk, blk_len, m1)
		                 : xf_noise_initiate(&ih, &init, &init_peer, &pro, 7000 + i, NULL,
		                                     ts_next++, 1, blk, blk_len, m1);

		if (rc != 0) {
			abort();
		}
		c[I_MSG1] += cpu_now() - t;
		a[I_MSG1] += xf_ossl_allocs - x;
		t = cpu_now();
		x = xf_ossl_allocs;
		if (xf_noise_consume_initiation(&rh, &resp, &resp_peer, 1, &pro, m1, m1_len,
		                                field) != 0 ||
		    xf_noise_respond(&rh, 9000 + i, NULL, m2, &rk) != 0) {
			abort();
		}
		c[I_RESP] += cpu_now() - t;
		a[I_RESP] += xf_ossl_allocs - x;
		/* A forged answer: the genuine one's indexes, a random ephemeral key (a point
		 * OpenSSL takes), mac1 made again over it as anyone can. */
		memcpy(forged, m2, sizeof(forged));
		for (unsigned int k = 0; k < 32; k++) {
			forged[12 + k] = (uint8_t)(m2[12 + k] ^ (k == 0 ? 1 : 0));
		}
		{
			uint8_t mac[32];
			unsigned int ml = 0;

			if (HMAC(EVP_sha256(), init.mac1_key, 32, forged, 60, mac, &ml) == NULL) {
				abort();
			}
			memcpy(forged + 60, mac, 16);
		}
		copy = ih;
		t = cpu_now();
		x = xf_ossl_allocs;
		if (xf_noise_consume_response(&copy, forged, sizeof(forged), &ik) == 0) {
			abort(); /* the tag must fail */
		}
		c[I_FORGED] += cpu_now() - t;
		a[I_FORGED] += xf_ossl_allocs - x;
		/* The responder under load answers this message 1 with a cookie reply instead
		 * (its engine's jar); the push takes it, on a copy. Its next message 1 would
		 * carry mac2: the cookie is dropped, every message 1 here is alike. */
		if (xf_noise_cookie_reply(&resp, &jar_mb, m1, m1_len, src, sizeof(src), NULL, 1,
		                          cr) != 0) {
			abort();
		}
		copy = ih;
		t = cpu_now();
		x = xf_ossl_allocs;
		if (xf_noise_consume_cookie(&copy, cr, sizeof(cr), 1) != 0) {
			abort();
		}
		c[I_COOKIE] += cpu_now() - t;
		a[I_COOKIE] += xf_ossl_allocs - x;
		xf_noise_hs_wipe(&copy);
		init_peer.has_cookie = false;
		t = cpu_now();
		x = xf_ossl_allocs;
		if (xf_noise_consume_response(&ih, m2, sizeof(m2), &ik) != 0) {
			abort();
		}
		c[I_MSG2] += cpu_now() - t;
		a[I_MSG2] += xf_ossl_allocs - x;
		OPENSSL_cleanse(&ik, sizeof(ik));
		OPENSSL_cleanse(&rk, sizeof(rk));
	}
	for (unsigned int k = 0; k < I_STEPS; k++) {
		ns[k] = (double)c[k] / n;
		al[k] = (double)a[k] / n;
	}
}

/* Each step through OpenSSL's HMAC() and through the push's jar (bound to the initiator's
 * key, as its RX core's is), alternated run by run. */
static int
bench_initiator(const struct xf_perf_opts *o, unsigned int n)
{
	static const char *const step[I_STEPS] = { "message 1 made", "message 2 read",
		                                   "message 2 forged", "cookie reply read",
		                                   "responder, whole" };
	static struct xf_noise_cookie_jar ij;
	double ns[2][I_STEPS][64], al[2][I_STEPS][64], med[2][I_STEPS];

	if (xf_noise_cookie_jar_init(&ij, &init) != 0) {
		return 1;
	}
	n = XF_MAX(n / 4, 50u);
	for (unsigned int r = 0; r < o->runs; r++) {
		for (unsigned int i = 0; i < 2; i++) {
			unsigned int m = i ^ (r & 1); /* odd runs: the jar first */
			double x[I_STEPS], y[I_STEPS];

			xf_noise_peer_init(&resp_peer, init.pub, NULL); /* timestamps start again */
			run_initiator(n, m == 0 ? NULL : &ij, x, y);
			for (unsigned int k = 0; k < I_STEPS; k++) {
				ns[m][k][r] = x[k];
				al[m][k][r] = y[k];
			}
		}
	}
	printf("initiator (%u handshakes per run, thread CPU, medians of %u): OpenSSL's HMAC() "
	       "against the push's jar (%s)\n",
	       n, o->runs, xf_crypto_mgr_arch(ij.mgr));
	for (unsigned int k = 0; k < I_STEPS; k++) {
		for (unsigned int m = 0; m < 2; m++) {
			med[m][k] = xf_perf_median(ns[m][k], o->runs);
		}
		printf("initiator, %-17s openssl %7.0f ns CPU, %5.1f OpenSSL allocations; jar "
		       "%7.0f ns, %5.1f; ratio jar/openssl %.3f\n",
		       step[k], med[0][k], xf_perf_median(al[0][k], o->runs), med[1][k],
		       xf_perf_median(al[1][k], o->runs), med[1][k] / med[0][k]);
	}
	printf("ratio initiator (message 1 + message 2)/responder handshake: CPU %.3f openssl, "
	       "%.3f jar; forged message 2/responder handshake: CPU %.3f openssl, %.3f jar\n",
	       (med[0][I_MSG1] + med[0][I_MSG2]) / med[0][I_RESP],
	       (med[1][I_MSG1] + med[1][I_MSG2]) / med[1][I_RESP],
	       med[0][I_FORGED] / med[0][I_RESP], med[1][I_FORGED] / med[1][I_RESP]);
	xf_noise_cookie_jar_fini(&ij);
	return 0;
}

int
main(int argc, char **argv)
{
	struct xf_perf_opts o;
	unsigned int n;
	double hs[2][64], hc[2][64], rx[2][64], al[2][64], load[3] = { 0 };
	static const char *const mode[2] = { "inline", "handoff" };
	uint8_t k1[32], k2[32];
	int rc = xf_perf_parse(argc, argv, NAME,
	                       "the responder's handshakes: inline on the receiving thread "
	                       "against handed off to a handshake thread",
	                       5, 2, &o);

	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	o.runs = XF_MIN(o.runs, 64u);
	n = o.quick ? 200 : 2000;
	if (xf_ossl_allocs_count() != 0) {
		fprintf(stderr, "%s: CRYPTO_set_mem_functions refused\n", NAME);
		return 1;
	}
	memset(k1, 1, sizeof(k1));
	memset(k2, 2, sizeof(k2));
	xf_core_set_self(RX_CORE);
	if (xf_noise_static_init(&resp, k1) || xf_noise_static_init(&init, k2) ||
	    xf_noise_peer_init(&init_peer, resp.pub, NULL) ||
	    xf_noise_peer_init(&resp_peer, init.pub, NULL) ||
	    xf_hs_queue_init(&q, "bench", RX_CORE, HS_CORE, NULL) != 0 ||
	    xf_noise_cookie_jar_init(&jar_mb, &resp) != 0) {
		return 1;
	}
	hellos = calloc(n, sizeof(*hellos));
	msg1s = calloc(n, sizeof(*msg1s));
	if (hellos == NULL || msg1s == NULL) {
		return 1;
	}
	make_block();
	xf_perf_banner(NAME, OPENSSL_VERSION_TEXT, &o);
	(void)getloadavg(load, 3);
	printf("%u HELLOs per run, message 1 of %zu bytes (a sealed block of %zu at MTU %u), %u "
	       "runs alternated; load average before: %.2f %.2f %.2f\n",
	       n, m1_len, blk_len, MTU, o.runs, load[0], load[1], load[2]);
	for (unsigned int r = 0; r < o.runs; r++) {
		for (unsigned int i = 0; i < 2; i++) {
			unsigned int m = i ^ (r & 1); /* odd runs: handoff first */
			struct result x;

			make_hellos(n);
			x = m == 0 ? run_inline(n) : run_handoff(n);
			hs[m][r] = x.hs_per_s;
			hc[m][r] = x.hs_per_cpu;
			rx[m][r] = x.rx_ns;
			al[m][r] = x.allocs;
		}
	}
	(void)getloadavg(load, 3);
	for (unsigned int m = 0; m < 2; m++) {
		printf("%-8s handshakes/s %7.0f wall, %7.0f per CPU second of the DH thread; "
		       "receiving thread per HELLO: %7.0f ns CPU, %5.1f OpenSSL allocations\n",
		       mode[m], xf_perf_median(hs[m], o.runs), xf_perf_median(hc[m], o.runs),
		       xf_perf_median(rx[m], o.runs), xf_perf_median(al[m], o.runs));
	}
	printf("ratio handoff/inline: handshakes/s wall %.2f, per DH-thread CPU second %.2f, "
	       "receiving thread CPU per HELLO %.3f\n",
	       xf_perf_median(hs[1], o.runs) / xf_perf_median(hs[0], o.runs),
	       xf_perf_median(hc[1], o.runs) / xf_perf_median(hc[0], o.runs),
	       xf_perf_median(rx[1], o.runs) / xf_perf_median(rx[0], o.runs));
	rc = bench_mac1(&o, n);
	rc = rc != 0 ? rc : bench_initiator(&o, n);
	(void)getloadavg(load, 3);
	printf("load average after: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
	xf_hs_queue_fini(&q);
	xf_noise_cookie_jar_fini(&jar_mb);
	free(hellos);
	free(msg1s);
	return rc;
}
