/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dataplane/secure/xf_hs_queue: the hand-off of the responder's handshakes from an RX core
 * to the handshake thread. The record holds a copy of the HELLO (nothing points into the
 * frame; none of its destination field crosses in clear: the handshake thread reads it from
 * message 1, and a byte of it changed fails the handshake) and is found by its session while in
 * flight, a full queue refuses and counts, the answers come back in the order asked and open with
 * the initiator's keys, no Diffie-Hellman is done when a record is filled (only when served), a
 * message 1 answered twice in flight is adopted once (the copy is a replay), an answer for a
 * re-keyed peer or a reused session slot is stale, a new handshake that asks for anything
 * else than the session's first (destination, volume, rules, flags, limit) is told apart
 * from one that asks for the same, every flag bit is bound by the prologue (a HELLO with
 * XF_HELLO_F_FILTERS stripped fails), a record is wiped when done, and two threads (an
 * RX core and the handshake thread) pass records through the rings. The doorbell (xf_hs_bell.h): a
 * ring since the token keeps the waiter awake, a ring with nobody asleep makes no system call, and
 * a handshake thread that sleeps on it answers every HELLO submitted and stops when rung, without
 * polling. The initiator's records (a push's): message 1s asked for by several jobs come back in
 * order, made but for their MACs, which the RX core adds on its jar; message 2 read against a job's
 * handshakes gives the keys of the one it answers (and which); both roles share the queue's order
 * and its limit (a full queue refuses and counts either); the record carries the job's identity
 * there and back (the engine tells a cancelled job's or a reused slot's answer by it) and is wiped
 * when done; and on the RX core's thread, the initiator's part of a handshake does no X25519 and
 * OpenSSL allocates nothing.
 * Over 1,000 lines: one program for one structure. Both roles' records share the queue's
 * order, its limit and its rings, so their cases (and the two-thread ones) run on the same
 * fixture and its end-of-case checks; split, each half would carry a copy of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "xf_ossl_allocs.h"
#include "xf_test.h"

#include "xf_base.h"
#include "xf_hs_block.h"
#include "xf_hs_queue.h"

#define RX_CORE 1u
#define HS_CORE 2u

static struct xf_noise_static resp, init;
static struct xf_noise_peer resp_peer; /* the responder's state of the initiator */
static struct xf_noise_peer init_peer; /* the initiator's state of the responder */
static struct xf_hs_queue q;           /* static: zeroed, 150 KiB */
static struct xf_hs_bell bell;         /* rung by q's submits */
static const char dest[] = "vol/some/path";
/* The destination field message 1 carries: dest, a NUL, the filter rules. */
static const char field[] = "vol/some/path\0- *.secret-rule\n";
#define FIELD_LEN (sizeof(field) - 1)
static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };

/* The options message 1 carries (XF_HELLO_F_SEALED_OPTS), and its block's one size. */
#define OPTS (XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS)
#define ROOM XF_HS_BLOCK_LEN

/* Message 1 for session id at ts (unix ns), payload (len bytes) its payload, under the
 * prologue of m's clear fields; m's auth set to it. */
static void
initiate_raw(struct xf_msg *m, uint8_t *msg1, struct xf_noise_hs *hs, uint32_t id, uint64_t ts,
             const uint8_t *payload, size_t len)
{
	struct xf_noise_prologue pro;

	xf_hs_prologue(&pro, m->hello.flags, m->hello.max_payload, m->hello.window);
	CU_ASSERT_FATAL(xf_noise_initiate(hs, &init, &init_peer, &pro, id, NULL, ts, 1, payload,
	                                  len, msg1) == 0);
	m->hello.auth = msg1;
	m->hello.auth_len = (uint16_t)(XF_NOISE_MSG1_LEN + len);
}

/* The same, its payload the sealed block of opts, window and the field fld. */
static void
initiate_sealed(struct xf_msg *m, uint8_t *msg1, struct xf_noise_hs *hs, uint32_t id, uint64_t ts,
                uint32_t opts, uint32_t window, const char *fld, size_t fld_len)
{
	uint8_t blk[XF_NOISE_PAYLOAD_MAX];
	long n = xf_proto_hello_seal(blk, ROOM, opts, window, fld, fld_len);

	CU_ASSERT_FATAL(n == ROOM);
	initiate_raw(m, msg1, hs, id, ts, blk, (size_t)n);
}

/* A HELLO for session id, timestamped ts (unix ns), as an initiator makes it: in clear
 * only XF_HELLO_F_CLEAR_AEAD, window 0; message 1's payload the sealed block (OPTS, the
 * limit 99, the destination field), none of it in clear. */
static void
make_hello(struct xf_msg *m, uint8_t *msg1, struct xf_noise_hs *hs, uint32_t id, uint64_t ts)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = XF_MSG_HELLO;
	m->hdr.session = id;
	m->hdr.pn = 7;
	m->hello.min_version = m->hello.max_version = XF_PROTO_VERSION;
	m->hello.max_payload = 1400;
	m->hello.flags = XF_HELLO_F_CLEAR_AEAD;
	m->hello.nonce = 0x1122334455667788ull + id;
	initiate_sealed(m, msg1, hs, id, ts, OPTS, 99, field, FIELD_LEN);
}

static struct xf_hs_rec *
submit(const struct xf_msg *m)
{
	struct xf_hs_rec *r =
	        xf_hs_queue_fill(&q, XF_HS_NEW, m, &resp_peer, 3, 0x0100000a, 4000, mac, 55);

	if (r != NULL) {
		xf_hs_queue_submit(&q, r);
	}
	return r;
}

static int
suite_init(void)
{
	uint8_t k1[32], k2[32];

	for (int i = 0; i < 32; i++) {
		k1[i] = (uint8_t)(i + 1);
		k2[i] = (uint8_t)(i + 101);
	}
	xf_core_set_self(RX_CORE);
	return xf_noise_static_init(&resp, k1) || xf_noise_static_init(&init, k2) ||
	       xf_noise_peer_init(&init_peer, resp.pub, NULL) ||
	       xf_noise_peer_init(&resp_peer, init.pub, NULL) ||
	       xf_hs_queue_init(&q, "t", RX_CORE, HS_CORE, &bell);
}

static int
suite_clean(void)
{
	xf_hs_queue_fini(&q);
	return 0;
}

/* The handshake thread's side, run from this thread (the rings check the caller), served
 * with the static key of `me`. */
static unsigned int
serve_as(const struct xf_noise_static *me, unsigned int max)
{
	unsigned int n;

	xf_core_set_self(HS_CORE);
	n = xf_hs_queue_serve(&q, me, max);
	xf_core_set_self(RX_CORE);
	return n;
}

/* The responder's side. */
static unsigned int
serve(unsigned int max)
{
	return serve_as(&resp, max);
}

static bool all_zero(const void *p, size_t n);

static bool
contains(const void *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

/* The HELLO as it crosses: encoded, none of the destination field in its bytes (the path,
 * the volume's name, the rule); decoded by the codec and copied into a record, which the
 * handshake thread answers with the field read from message 1: dest and rules as the
 * sender wrote them. */
static void
test_codec(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX], copy1[XF_NOISE_MSG1_MAX], frame[XF_PAYLOAD_MAX];
	struct xf_noise_hs hs;
	struct xf_msg m, dec, out;
	struct xf_hs_rec *r;
	int len;

	make_hello(&m, msg1, &hs, 41, 1000);
	len = xf_proto_encode(frame, sizeof(frame), &m);
	/* The field is padded: the HELLO is as long as one of an empty field. */
	CU_ASSERT_FATAL(len == (int)(XF_HDR_LEN + 28 + XF_NOISE_MSG1_LEN + ROOM));
	CU_ASSERT(!contains(frame, (size_t)len, "some/path"));
	CU_ASSERT(!contains(frame, (size_t)len, "vol/"));
	CU_ASSERT(!contains(frame, (size_t)len, "secret-rule"));
	CU_ASSERT_FATAL(xf_proto_decode(frame, (size_t)len, &dec, NULL) == 0);
	CU_ASSERT(dec.hello.dest_len == 0 && dec.hello.rules_len == 0);
	CU_ASSERT(dec.hello.auth_len == XF_NOISE_MSG1_LEN + ROOM);
	memcpy(copy1, dec.hello.auth, dec.hello.auth_len);
	r = submit(&dec);
	CU_ASSERT_FATAL(r != NULL);
	/* The frame goes back to the pool: the record keeps its own copy. */
	memset(frame, 'x', sizeof(frame));
	memset(msg1, 0, sizeof(msg1));
	xf_hs_rec_hello(r, &out);
	CU_ASSERT(out.hdr.type == XF_MSG_HELLO && out.hdr.session == 41 && out.hdr.pn == 7);
	/* Before the answer: the clear fields only (no option, no limit). */
	CU_ASSERT(out.hello.max_payload == 1400 && out.hello.window == 0);
	CU_ASSERT(out.hello.flags == XF_HELLO_F_CLEAR_AEAD);
	CU_ASSERT(out.hello.nonce == 0x1122334455667788ull + 41);
	CU_ASSERT(out.hello.dest_len == 0 && out.hello.rules_len == 0); /* not answered yet */
	CU_ASSERT(out.hello.auth == r->msg1);
	CU_ASSERT(out.hello.auth_len == XF_NOISE_MSG1_LEN + ROOM &&
	          memcmp(out.hello.auth, copy1, out.hello.auth_len) == 0);
	CU_ASSERT(r->peer == 3 && r->ip == 0x0100000a && r->port == 4000 && r->asked_ns == 55);
	CU_ASSERT(memcmp(r->mac, mac, 6) == 0 && r->kind == XF_HS_NEW);
	/* In flight: a copy of this session's HELLO is known as such, another's is not. */
	CU_ASSERT(xf_hs_queue_pending(&q, 41, 0x0100000a, 4000));
	CU_ASSERT(!xf_hs_queue_pending(&q, 42, 0x0100000a, 4000));
	CU_ASSERT(!xf_hs_queue_pending(&q, 41, 0x0200000a, 4000));
	CU_ASSERT(!xf_hs_queue_pending(&q, 41, 0x0100000a, 4001));
	/* Its answer: the handshake runs on the copy, and reads the field. */
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT(xf_hs_queue_pending(&q, 41, 0x0100000a, 4000)); /* answered, not applied */
	CU_ASSERT(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->rc == 0);
	xf_hs_rec_hello(r, &out);
	CU_ASSERT(out.hello.dest == r->dest && out.hello.dest_len == strlen(dest) &&
	          memcmp(out.hello.dest, dest, strlen(dest)) == 0);
	CU_ASSERT(out.hello.rules_len == strlen("- *.secret-rule\n") &&
	          memcmp(out.hello.rules, "- *.secret-rule\n", out.hello.rules_len) == 0);
	/* And the options and the limit message 1 carried. */
	CU_ASSERT(out.hello.flags == OPTS && out.hello.window == 99);
	xf_hs_queue_done(&q, r);
	CU_ASSERT(q.n == 0);
	CU_ASSERT(!xf_hs_queue_pending(&q, 41, 0x0100000a, 4000));
	xf_noise_hs_wipe(&hs);
}

/* A byte of message 1's encrypted payload changed on the way (mac1 is the RX core's to
 * check, before the record): the handshake fails (-EBADMSG, counted hs_failed by the
 * engine), no field is read, no keys. A field that decrypts but is not of the form its
 * flags say (rules flagged, no NUL: only a keyed peer can send it) fails too (-EPROTO). */
static void
test_payload_refused(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_msg m, out;
	struct xf_hs_rec *r;

	make_hello(&m, msg1, &hs, 51, 1100);
	msg1[88 + 12 + 3] ^= 1; /* the payload, after the timestamp */
	r = submit(&m);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->rc == -EBADMSG);
	xf_hs_rec_hello(r, &out);
	CU_ASSERT(out.hello.dest_len == 0 && out.hello.rules_len == 0);
	CU_ASSERT(all_zero(&r->keys, sizeof(r->keys)));
	xf_hs_queue_done(&q, r);
	xf_noise_hs_wipe(&hs);

	/* Sealed blocks a keyed peer could send that are not of their form: each -EPROTO. */
	{
		uint8_t blk[XF_NOISE_PAYLOAD_MAX];
		long n = xf_proto_hello_seal(blk, ROOM, OPTS, 99, field, FIELD_LEN);
		const struct {
			size_t off, len; /* bytes changed at off (len: the block's length) */
			uint8_t x, x2;   /* XORed into off and off + 1 */
		} bad[] = {
			{ 0, XF_HELLO_SEALED_HDR - 1, 0, 0 }, /* shorter than its fixed part */
			{ 0, XF_HELLO_SEALED_HDR + 5, 0, 0 }, /* than its field's length */
			{ ROOM - 1, ROOM, 1, 0 },             /* padding not zeros */
			{ 1, ROOM, XF_HELLO_F_SEALED_OPTS >> 16, 0 }, /* the clear set missing */
			{ 1, ROOM, 0x80, 0 },                         /* a reserved flag */
			{ 10 + 13, ROOM, 'x', 0 },                    /* the rules' NUL */
			/* the field's length claimed past the padding: by one byte, by the
			 * most a u16 says (FIELD_LEN < 256: its high byte is 0) */
			{ 8, ROOM, (uint8_t)((ROOM - XF_HELLO_SEALED_HDR + 1) >> 8),
			  (uint8_t)(FIELD_LEN ^ ((ROOM - XF_HELLO_SEALED_HDR + 1) & 0xffu)) },
			{ 8, ROOM, 0xff, (uint8_t)(FIELD_LEN ^ 0xffu) },
		};

		CU_ASSERT_FATAL(n == ROOM);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t b[ROOM + 1]; /* off + 1 of the last byte */

			memcpy(b, blk, sizeof(b));
			b[bad[i].off] ^= bad[i].x;
			b[bad[i].off + 1] ^= bad[i].x2;
			make_hello(&m, msg1, &hs, (uint32_t)(52 + i), 1200 + i);
			xf_noise_hs_wipe(&hs);
			initiate_raw(&m, msg1, &hs, (uint32_t)(52 + i), 1300 + i, b, bad[i].len);
			r = submit(&m);
			CU_ASSERT_FATAL(r != NULL);
			CU_ASSERT(serve(8) == 1);
			CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
			CU_ASSERT(r->rc == -EPROTO);
			CU_ASSERT(all_zero(&r->keys, sizeof(r->keys)));
			xf_hs_queue_done(&q, r);
			xf_noise_hs_wipe(&hs);
		}
	}
	/* A field not of the form its sealed flags say (rules flagged, no NUL). */
	make_hello(&m, msg1, &hs, 60, 1400);
	xf_noise_hs_wipe(&hs);
	initiate_sealed(&m, msg1, &hs, 60, 1401, OPTS, 99, dest, strlen(dest));
	r = submit(&m);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->rc == -EPROTO);
	xf_hs_queue_done(&q, r);
	CU_ASSERT(q.n == 0);
	xf_noise_hs_wipe(&hs);
}

/*
 * Every message 1 a sender makes is as long as every other (xf_hs_block.h): HELLOs whose
 * destination fields are 1 byte and the most a block holds (1,246) encode to frames of
 * the same length, at every MTU from 1500 up (a jumbo sender pads to the same size, so its
 * HELLO crosses a 1500-byte hop), less below it; the handshake thread reads each field back
 * whole; one byte more does not fit.
 */
static void
test_fixed_len(void)
{
	static char big[XF_HS_BLOCK_LEN];
	uint8_t msg1[XF_NOISE_MSG1_MAX], frame[XF_PAYLOAD_MAX], blk[XF_NOISE_PAYLOAD_MAX];
	const size_t flen[] = { 1, ROOM - XF_HELLO_SEALED_HDR };
	int len[2];

	CU_ASSERT(xf_hs_block_len(1500) == ROOM && ROOM == 1256);
	CU_ASSERT(xf_hs_block_len(1501) == ROOM && xf_hs_block_len(9000) == ROOM);
	CU_ASSERT(xf_hs_block_len(576) == 576 - (1500 - ROOM));
	CU_ASSERT(xf_hs_block_len(1500 - ROOM + XF_HELLO_SEALED_HDR) == XF_HELLO_SEALED_HDR);
	CU_ASSERT(xf_hs_block_len(1500 - ROOM + XF_HELLO_SEALED_HDR - 1) == 0);
	/* A path of components of 199 bytes and a slash. */
	for (size_t i = 0; i < sizeof(big); i++) {
		big[i] = i % 200 == 199 ? '/' : 'a' + (char)(i % 26);
	}
	for (int k = 0; k < 2; k++) {
		struct xf_noise_hs hs;
		struct xf_msg m, dec, out;
		struct xf_hs_rec *r;

		make_hello(&m, msg1, &hs, (uint32_t)(90 + k), 1900 + (uint64_t)k);
		xf_noise_hs_wipe(&hs);
		initiate_sealed(&m, msg1, &hs, (uint32_t)(90 + k), 1910 + (uint64_t)k,
		                XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_VOLUME, 0, big, flen[k]);
		len[k] = xf_proto_encode(frame, sizeof(frame), &m);
		/* Fits one frame at MTU 1500 with the 16 bytes a frame keeps for its tag. */
		CU_ASSERT(len[k] == (int)(XF_HDR_LEN + 28 + XF_NOISE_MSG1_LEN + ROOM) &&
		          len[k] == 1500 - 28 - 16);
		CU_ASSERT_FATAL(xf_proto_decode(frame, (size_t)len[k], &dec, NULL) == 0);
		r = submit(&dec);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(serve(8) == 1);
		CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
		CU_ASSERT(r->rc == 0);
		xf_hs_rec_hello(r, &out);
		CU_ASSERT(out.hello.flags == (XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_VOLUME));
		CU_ASSERT(out.hello.dest_len == flen[k] &&
		          memcmp(out.hello.dest, big, flen[k]) == 0);
		xf_hs_queue_done(&q, r);
		xf_noise_hs_wipe(&hs);
	}
	CU_ASSERT(len[0] == len[1]);
	CU_ASSERT(xf_proto_hello_seal(blk, xf_hs_block_len(9000), XF_HELLO_F_CLEAR_AEAD, 0, big,
	                              ROOM - XF_HELLO_SEALED_HDR + 1) == -EMSGSIZE);
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0) {
			return false;
		}
	}
	return true;
}

/* In order, with the initiator's keys; DH only when served; records wiped when done. */
static void
test_order_keys(void)
{
	uint8_t msg1[3][XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs[3];
	struct xf_msg m[3];
	struct xf_hs_rec *r;
	uint64_t dh;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	for (unsigned int i = 0; i < 3; i++) {
		make_hello(&m[i], msg1[i], &hs[i], 100 + i, 2000 + i);
	}
	dh = xf_noise_dh_ops();
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(submit(&m[i]) != NULL);
	}
	CU_ASSERT(xf_noise_dh_ops() == dh);        /* the RX core's part does no DH */
	CU_ASSERT(xf_hs_queue_result(&q) == NULL); /* nothing answered yet */
	CU_ASSERT(serve(2) == 2);
	CU_ASSERT(serve(2) == 1);
	CU_ASSERT(xf_noise_dh_ops() == dh + 3 * 4); /* es, ss (message 1); ee, se (2) */
	for (unsigned int i = 0; i < 3; i++) {
		struct xf_noise_keys ik;

		r = xf_hs_queue_result(&q);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->hdr.session == 100 + i); /* in the order asked */
		CU_ASSERT(r->rc == 0);
		CU_ASSERT(xf_hs_rec_adopt(r, &resp_peer) == 0);
		CU_ASSERT(xf_noise_consume_response(&hs[i], r->msg2, XF_NOISE_MSG2_LEN, &ik) == 0);
		CU_ASSERT(memcmp(ik.send, r->keys.recv, 32) == 0);
		CU_ASSERT(memcmp(ik.recv, r->keys.send, 32) == 0);
		xf_hs_queue_done(&q, r);
		CU_ASSERT(all_zero(r, sizeof(*r)));
	}
	CU_ASSERT(xf_hs_queue_result(&q) == NULL);
	CU_ASSERT(q.n == 0);
}

/* A full queue refuses and counts; a record answered and done frees its place. */
static void
test_full(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_msg m;
	struct xf_hs_rec *r;
	uint64_t full = q.full;

	make_hello(&m, msg1, &hs, 200, 3000);
	for (unsigned int i = 0; i < XF_HS_QUEUE_LEN; i++) {
		CU_ASSERT_FATAL(submit(&m) != NULL);
	}
	CU_ASSERT(submit(&m) == NULL);
	CU_ASSERT(submit(&m) == NULL);
	CU_ASSERT(q.full == full + 2);
	CU_ASSERT(serve(1) == 1);
	CU_ASSERT(submit(&m) == NULL); /* answered, not yet applied: still in flight */
	r = xf_hs_queue_result(&q);
	CU_ASSERT_FATAL(r != NULL);
	xf_hs_queue_done(&q, r);
	CU_ASSERT(submit(&m) != NULL);
	/* Drain: the copies of one message 1 are a replay once the first is adopted. */
	while (serve(XF_HS_QUEUE_LEN) > 0) {
	}
	while ((r = xf_hs_queue_result(&q)) != NULL) {
		xf_hs_queue_done(&q, r);
	}
	CU_ASSERT(q.n == 0 && q.full == full + 3);
	xf_noise_hs_wipe(&hs);
}

/* The same message 1 twice in flight: both answered, the second one refused at adoption. */
static void
test_replay_in_flight(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_hs_rec *a, *b;
	struct xf_msg m;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	make_hello(&m, msg1, &hs, 300, 4000);
	CU_ASSERT_FATAL(submit(&m) != NULL && submit(&m) != NULL);
	CU_ASSERT(serve(8) == 2);
	a = xf_hs_queue_result(&q);
	b = xf_hs_queue_result(&q);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT(a->rc == 0 && b->rc == 0); /* each against the timestamp it was given */
	CU_ASSERT(xf_hs_rec_adopt(a, &resp_peer) == 0);
	CU_ASSERT(xf_hs_rec_adopt(b, &resp_peer) == -EALREADY);
	xf_hs_queue_done(&q, a);
	xf_hs_queue_done(&q, b);
	/* Once adopted, the same message 1 is refused by the handshake itself. */
	CU_ASSERT_FATAL(submit(&m) != NULL);
	CU_ASSERT(serve(8) == 1);
	a = xf_hs_queue_result(&q);
	CU_ASSERT(a != NULL && a->rc == -EALREADY);
	xf_hs_queue_done(&q, a);
	xf_noise_hs_wipe(&hs);
}

/* A peer re-keyed while its HELLO was in flight; a session slot taken by another. */
static void
test_stale(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX], other[32];
	struct xf_noise_peer rekeyed;
	struct xf_noise_hs hs;
	struct xf_hs_rec *r;
	struct xf_msg m;

	make_hello(&m, msg1, &hs, 400, 5000);
	CU_ASSERT_FATAL(submit(&m) != NULL);
	CU_ASSERT(serve(8) == 1);
	r = xf_hs_queue_result(&q);
	CU_ASSERT_FATAL(r != NULL && r->rc == 0);
	memset(other, 0x5a, sizeof(other));
	CU_ASSERT_FATAL(xf_noise_pubkey(other, other) == 0);
	xf_noise_peer_init(&rekeyed, other, NULL);
	CU_ASSERT(xf_hs_rec_adopt(r, &rekeyed) == -ENOKEY);
	/* A rekey record for slot generation 6 of session 400. */
	r->kind = XF_HS_REKEY;
	r->rs_gen = 6;
	CU_ASSERT(xf_hs_rec_current(r, true, 6, 400));
	CU_ASSERT(!xf_hs_rec_current(r, true, 7, 400));  /* the slot was reused */
	CU_ASSERT(!xf_hs_rec_current(r, false, 6, 400)); /* the session ended */
	CU_ASSERT(!xf_hs_rec_current(r, true, 6, 401));  /* another session's id */
	xf_hs_queue_done(&q, r);
	xf_noise_hs_wipe(&hs);
}

/* A message 1 whose sender index is not the HELLO's session id. */
static void
test_bad_index(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_hs_rec *r;
	struct xf_msg m;

	make_hello(&m, msg1, &hs, 500, 6000);
	m.hdr.session = 501;
	CU_ASSERT_FATAL(submit(&m) != NULL);
	CU_ASSERT(serve(8) == 1);
	r = xf_hs_queue_result(&q);
	CU_ASSERT(r != NULL && r->rc == -EBADMSG);
	xf_hs_queue_done(&q, r);
	/* A HELLO without message 1 never takes a record. */
	m.hello.auth_len = 0;
	CU_ASSERT(submit(&m) == NULL && q.n == 0);
	xf_noise_hs_wipe(&hs);
}

/* Two threads: this one as the RX core, another as the handshake thread. */
#define THREADED_N 200u

static volatile int hs_done;

/* The handshake thread, serving with the static key arg (NULL: the responder's). */
static void *
hs_thread(void *arg)
{
	const struct xf_noise_static *local = arg != NULL ? arg : &resp;

	xf_core_set_self(HS_CORE);
	while (!hs_done) {
		xf_hs_queue_serve(&q, local, 4);
	}
	return NULL;
}

static void
test_threads(void)
{
	uint8_t msg1[4][XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs[4];
	struct xf_msg m[4];
	unsigned int sent = 0, got = 0, refused = 0;
	pthread_t t;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	/* 4 message 1s of distinct sessions, sent in turn: from the 5th on, replays */
	for (unsigned int i = 0; i < 4; i++) {
		make_hello(&m[i], msg1[i], &hs[i], 600 + i, 7000 + i);
	}
	hs_done = 0;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, hs_thread, NULL) == 0);
	while (got < THREADED_N) {
		struct xf_hs_rec *r;

		if (sent < THREADED_N) {
			r = xf_hs_queue_fill(&q, XF_HS_NEW, &m[sent % 4], &resp_peer, 3, 1, 2, mac,
			                     0);
			if (r != NULL) {
				xf_hs_queue_submit(&q, r);
				sent++;
			}
		}
		while ((r = xf_hs_queue_result(&q)) != NULL) {
			CU_ASSERT(r->hdr.session == 600 + got % 4); /* in order */
			refused += r->rc != 0 || xf_hs_rec_adopt(r, &resp_peer) != 0;
			xf_hs_queue_done(&q, r);
			got++;
		}
	}
	hs_done = 1;
	pthread_join(t, NULL);
	CU_ASSERT(q.n == 0);
	CU_ASSERT(refused == THREADED_N - 4); /* each message 1 adopted once */
	for (unsigned int i = 0; i < 4; i++) {
		xf_noise_hs_wipe(&hs[i]);
	}
}

/* The doorbell alone: a ring after the token keeps the waiter from sleeping, and a ring
 * while nobody waits makes no wake-up call. */
static void
test_bell_rung(void)
{
	struct xf_hs_bell b = { 0 };
	uint32_t t = xf_hs_bell_token(&b);

	xf_hs_bell_ring(&b);
	CU_ASSERT(xf_hs_bell_token(&b) == t + 1);
	CU_ASSERT(xf_hs_bell_wait(&b, t) == 0); /* rung since t: returns at once */
	CU_ASSERT(b.sleeps == 0);
	CU_ASSERT(b.wakes == 0); /* nobody was waiting */
	CU_ASSERT(b.waiting == 0);
	/* a token that wrapped around compares as well */
	b.seq = UINT32_MAX;
	t = xf_hs_bell_token(&b);
	xf_hs_bell_ring(&b);
	CU_ASSERT(b.seq == 0);
	CU_ASSERT(xf_hs_bell_wait(&b, t) == 0);
}

/* The handshake thread's loop as xf_engine_hs.c runs it: token, stop flag, serve, and sleep
 * on the bell when there was nothing. */
static int bell_stop;
static unsigned int bell_loops;

static void *
bell_thread(void *arg)
{
	(void)arg;
	xf_core_set_self(HS_CORE);
	for (;;) {
		uint32_t token = xf_hs_bell_token(&bell);

		if (__atomic_load_n(&bell_stop, __ATOMIC_ACQUIRE)) {
			break;
		}
		bell_loops++;
		if (xf_hs_queue_serve(&q, &resp, 4) == 0) {
			(void)xf_hs_bell_wait(&bell, token);
		}
	}
	return NULL;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define BELL_N 20u

/* HELLOs one at a time to a thread asleep on the bell: each answered (the ring woke it),
 * in a bounded number of its loops (it sleeps between them, it does not poll), and the
 * ring of the stop flag ends it. */
static void
test_bell_threads(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_msg m;
	struct timespec until;
	pthread_t t;
	unsigned int got = 0;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	memset(&bell, 0, sizeof(bell));
	bell_stop = 0;
	bell_loops = 0;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, bell_thread, NULL) == 0);
	for (unsigned int i = 0; i < BELL_N; i++) {
		uint64_t deadline = mono_ns() + 10000000000ull;
		struct xf_hs_rec *r;

		/* the thread asleep (or about to be) before the HELLO: it must be woken */
		while (__atomic_load_n(&bell.waiting, __ATOMIC_ACQUIRE) == 0 &&
		       mono_ns() < deadline) {
		}
		make_hello(&m, msg1, &hs, 800 + i, 9000 + i);
		r = xf_hs_queue_fill(&q, XF_HS_NEW, &m, &resp_peer, 3, 1, 2, mac, 0);
		CU_ASSERT_FATAL(r != NULL);
		xf_hs_queue_submit(&q, r);
		while ((r = xf_hs_queue_result(&q)) == NULL && mono_ns() < deadline) {
		}
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->hdr.session == 800 + i);
		CU_ASSERT(r->rc == 0 && xf_hs_rec_adopt(r, &resp_peer) == 0);
		xf_hs_queue_done(&q, r);
		xf_noise_hs_wipe(&hs);
		got++;
	}
	__atomic_store_n(&bell_stop, 1, __ATOMIC_RELEASE);
	xf_hs_bell_ring(&bell);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	CU_ASSERT_FATAL(pthread_timedjoin_np(t, NULL, &until) == 0);
	CU_ASSERT(got == BELL_N);
	CU_ASSERT(q.n == 0);
	/* Asleep before each HELLO, so each one needed a wake-up call. A loop per HELLO
	 * served, one that found nothing more, at most one more when a ring fell between a
	 * token and the serve, and the last (stop): a thread that polled on a timer would run
	 * thousands. */
	CU_ASSERT(bell.wakes >= BELL_N);
	CU_ASSERT(bell.sleeps >= BELL_N);
	CU_ASSERT(bell_loops <= 3 * BELL_N + 2);
}

/* A HELLO of session id (kind), its message 1's payload fld, answered by the handshake
 * thread: its record's ident (what it asks for), in out. */
static void
answered_ident(enum xf_hs_kind kind, uint32_t id, uint32_t flags, uint16_t max_payload,
               uint32_t window, const char *fld, size_t fld_len, uint8_t *out)
{
	static uint64_t ts = 900000;
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_hs hs;
	struct xf_msg m;
	struct xf_hs_rec *r;

	make_hello(&m, msg1, &hs, id, ts);
	xf_noise_hs_wipe(&hs);
	m.hello.max_payload = max_payload;
	initiate_sealed(&m, msg1, &hs, id, ++ts, flags, window, fld, fld_len);
	r = xf_hs_queue_fill(&q, kind, &m, &resp_peer, 3, 0x0100000a, 4000, mac, 55);
	CU_ASSERT_FATAL(r != NULL);
	xf_hs_queue_submit(&q, r);
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT_FATAL(r->rc == 0);
	CU_ASSERT(xf_hs_rec_adopt(r, &resp_peer) == 0);
	memcpy(out, r->ident, XF_HS_IDENT_LEN);
	/* The same HELLO, its digest made again: the record's. */
	{
		uint8_t again[XF_HS_IDENT_LEN];
		struct xf_msg h;

		xf_hs_rec_hello(r, &h);
		CU_ASSERT(xf_hs_ident(&h.hello, fld, fld_len, again) == 0);
		CU_ASSERT(xf_hs_rec_same(r, again));
	}
	xf_hs_queue_done(&q, r);
	xf_noise_hs_wipe(&hs);
}

/*
 * A new handshake of a running session (docs/PROTOCOL.md 6.13) must ask for what its first
 * HELLO asked: the engine refuses one whose record is not xf_hs_rec_same as the session's
 * ident (drops.hs_rekey_changed). The same fields and field with a new message 1 (new
 * ephemeral key, timestamp) are the same; each of another destination path, another volume,
 * other rules, rules dropped, a flag more or less, another deletion limit, another
 * max_payload is not; nor is a field that differs only in where the NUL splits it.
 */
static void
test_rekey_ident(void)
{
	static const char vol2[] = "vo2/some/path\0- *.secret-rule\n";
	static const char path2[] = "vol/some/patH\0- *.secret-rule\n";
	static const char rules2[] = "vol/some/path\0- *.secret-rulf\n";
	static const char split2[] = "vol/some/pat\0h- *.secret-rule\n";
	const uint32_t flags = OPTS; /* compared as message 1 carries them, not as in clear */
	uint8_t first[XF_HS_IDENT_LEN], id2[XF_HS_IDENT_LEN];
	struct xf_hs_rec r;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	answered_ident(XF_HS_NEW, 300, flags, 1400, 99, field, FIELD_LEN, first);
	CU_ASSERT(!all_zero(first, sizeof(first)));
	memset(&r, 0, sizeof(r));
	/* What the engine compares: a REKEY record's ident against the session's. */
#define SAME(...)                                                                                  \
	(answered_ident(XF_HS_REKEY, 300, __VA_ARGS__, r.ident), xf_hs_rec_same(&r, first))
	CU_ASSERT(SAME(flags, 1400, 99, field, FIELD_LEN));
	CU_ASSERT(SAME(flags, 1400, 99, field, FIELD_LEN)); /* and again, fresh */
	CU_ASSERT(!SAME(flags, 1400, 99, vol2, sizeof(vol2) - 1));
	CU_ASSERT(!SAME(flags, 1400, 99, path2, sizeof(path2) - 1));
	CU_ASSERT(!SAME(flags, 1400, 99, rules2, sizeof(rules2) - 1));
	CU_ASSERT(!SAME(flags, 1400, 99, split2, sizeof(split2) - 1));
	CU_ASSERT(!SAME(flags & ~XF_HELLO_F_FILTERS, 1400, 99, dest, strlen(dest)));
	CU_ASSERT(!SAME(flags | XF_HELLO_F_DRYRUN, 1400, 99, field, FIELD_LEN));
	CU_ASSERT(!SAME(flags | XF_HELLO_F_VOLUME, 1400, 99, field, FIELD_LEN));
	CU_ASSERT(!SAME(flags, 1400, 100, field, FIELD_LEN));
	CU_ASSERT(!SAME(flags, 1400, XF_DELETE_UNLIMITED, field, FIELD_LEN));
	CU_ASSERT(!SAME(flags, 1399, 99, field, FIELD_LEN));
	CU_ASSERT(!SAME(flags & ~(XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS), 1400, 0, dest,
	                strlen(dest)));
	CU_ASSERT(!SAME(flags & ~XF_HELLO_F_FILTERS, 1400, 99, dest, strlen(dest)));
#undef SAME
	/* Digests of the fixed fields alone tell each field apart (fixed width). */
	{
		struct xf_msg_hello a = { .flags = 1, .max_payload = 2, .window = 3 };
		struct xf_msg_hello b = a;

		CU_ASSERT(xf_hs_ident(&a, "x", 1, first) == 0);
		b.window = 3u << 8;
		CU_ASSERT(xf_hs_ident(&b, "x", 1, id2) == 0 && memcmp(first, id2, 32) != 0);
		CU_ASSERT(xf_hs_ident(&a, "x", 0, id2) == 0 && memcmp(first, id2, 32) != 0);
	}
	CU_ASSERT(q.n == 0);
}

/* Submit m, have it answered, free the record: @return its rc. */
static int
answered_rc(const struct xf_msg *m, struct xf_noise_hs *hs)
{
	struct xf_hs_rec *r = submit(m);
	int rc;

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	rc = r->rc;
	xf_hs_queue_done(&q, r);
	xf_noise_hs_wipe(hs);
	return rc;
}

/*
 * The downgrade: every flag of the clear HELLO is in the prologue (xf_hs_prologue), those
 * from bit 16 on too (XF_HELLO_F_SEALED_OPTS), and its max_payload and window: one changed
 * on the way fails the handshake on message 1's tag (-EBADMSG). The real options are the
 * sealed block, under that tag: a flag or the limit changed in it fails the same way,
 * before any of it is read (the block is encrypted: a changed bit is a changed ciphertext).
 */
static void
test_prologue_flags(void)
{
	/* Message 1's payload starts after 88 bytes of keys and 12 of its timestamp. */
	const size_t blk_at = 88 + 12;
	uint8_t msg1[XF_NOISE_MSG1_MAX];
	struct xf_noise_prologue a, b;
	struct xf_noise_hs hs;
	struct xf_msg m;
	struct xf_hs_rec *r;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	for (unsigned int bit = 0; bit < 32; bit++) {
		xf_hs_prologue(&a, XF_HELLO_F_CLEAR_AEAD, 1400, 0);
		xf_hs_prologue(&b, XF_HELLO_F_CLEAR_AEAD ^ (1u << bit), 1400, 0);
		CU_ASSERT(a.capabilities != b.capabilities || a.flags_hi != b.flags_hi ||
		          a.has_options != b.has_options);
	}
	make_hello(&m, msg1, &hs, 61, 950000000);
	m.hello.max_payload = 1456; /* changed on the way */
	CU_ASSERT(answered_rc(&m, &hs) == -EBADMSG);
	make_hello(&m, msg1, &hs, 62, 950000001);
	m.hello.flags &= ~XF_HELLO_F_SEALED_OPTS; /* stripped (the codec refuses it first) */
	CU_ASSERT(answered_rc(&m, &hs) == -EBADMSG);
	make_hello(&m, msg1, &hs, 64, 950000003);
	msg1[blk_at + 3] ^= XF_HELLO_F_DELETE; /* the sealed DELETE flag */
	CU_ASSERT(answered_rc(&m, &hs) == -EBADMSG);
	make_hello(&m, msg1, &hs, 65, 950000004);
	msg1[blk_at + 7] ^= 1; /* the sealed limit */
	CU_ASSERT(answered_rc(&m, &hs) == -EBADMSG);
	make_hello(&m, msg1, &hs, 66, 950000005);
	msg1[blk_at + 9] ^= 1; /* the sealed field's length */
	CU_ASSERT(answered_rc(&m, &hs) == -EBADMSG);
	/* Unchanged, it goes through, and the record holds the sealed options. */
	make_hello(&m, msg1, &hs, 63, 950000002);
	xf_hs_prologue(&a, m.hello.flags, m.hello.max_payload, m.hello.window);
	CU_ASSERT(a.flags_hi == XF_HELLO_F_SEALED_OPTS >> 16 && !a.has_options);
	r = submit(&m);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(serve(8) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->rc == 0 && r->hello.flags == OPTS && r->hello.window == 99);
	xf_hs_queue_done(&q, r);
	xf_noise_hs_wipe(&hs);
	CU_ASSERT(q.n == 0);
}

/* ---- the initiator's records (a push's message 1 made, its message 2 read) ---- */

static struct xf_noise_cookie_jar ijar; /* the initiator's RX core's: its MACs */
static const struct xf_noise_prologue ipro = { .version = XF_PROTO_VERSION, .capabilities = 0x5 };
static const uint8_t ipay[] = "the sealed block of a push";
#define IPAY_LEN (sizeof(ipay) - 1)

/* Ask for message 1 of session id, for job slot job. */
static struct xf_hs_rec *
ask_msg1(uint32_t id, uint16_t job, uint64_t ts)
{
	struct xf_hs_rec *r =
	        xf_hs_queue_fill_msg1(&q, &init_peer, &ipro, id, ts, ipay, IPAY_LEN, 77);

	if (r != NULL) {
		r->use = 1;
		r->job = job;
		r->job_id = 1000u + job;
		r->job_seq = 5;
		xf_hs_queue_submit(&q, r);
	}
	return r;
}

/* The responder's side, as the handshake thread would: message 1 (len bytes, MACs
 * checked first) read, message 2 (into m2) and its keys. */
static void
respond_to(const uint8_t *msg1, size_t len, uint32_t id, uint8_t *m2, struct xf_noise_keys *rk)
{
	uint8_t pay[XF_NOISE_PAYLOAD_MAX];
	struct xf_noise_hs rh;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	CU_ASSERT_FATAL(xf_noise_check_macs(&resp, NULL, msg1, len, mac, 6, false, 0) == 0);
	CU_ASSERT_FATAL(
	        xf_noise_consume_initiation(&rh, &resp, &resp_peer, 1, &ipro, msg1, len, pay) == 0);
	CU_ASSERT(memcmp(pay, ipay, IPAY_LEN) == 0);
	CU_ASSERT_FATAL(xf_noise_respond(&rh, id, NULL, m2, rk) == 0);
}

/* The handshake thread's side for the initiator: served with its static key. */
static unsigned int
serve_init(unsigned int max)
{
	return serve_as(&init, max);
}

/*
 * Message 1s asked for by several jobs come back in the order asked, made but for their
 * MACs (zero), with DH only where served; the RX core's MACs then make each one the
 * responder takes; message 2 asked for against a job's handshakes (the wrong ones first)
 * comes back with the keys of the one it answers and says which; the record carries the
 * job's identity there and back, and the HELLO_ACK unchanged; each record wiped when done.
 */
static void
test_init_order(void)
{
	uint8_t m1[3][XF_NOISE_MSG1_MAX], m2[XF_NOISE_MSG2_LEN], frame[8 + XF_NOISE_MSG2_LEN + 16];
	const size_t len = XF_NOISE_MSG1_LEN + IPAY_LEN;
	const struct xf_noise_hs *try[3];
	struct xf_noise_hs hs[3];
	struct xf_noise_keys rk;
	struct xf_hs_rec *r;
	uint64_t dh;

	CU_ASSERT_FATAL(xf_noise_cookie_jar_init(&ijar, &init) == 0);
	xf_noise_peer_init(&init_peer, resp.pub, NULL);
	dh = xf_noise_dh_ops();
	for (uint16_t i = 0; i < 3; i++) {
		CU_ASSERT_FATAL(ask_msg1(300 + i, i, 9000 + i) != NULL);
	}
	CU_ASSERT(xf_noise_dh_ops() == dh); /* asking does no DH */
	CU_ASSERT(xf_hs_queue_result(&q) == NULL);
	CU_ASSERT(serve_init(2) == 2 && serve_init(2) == 1);
	CU_ASSERT(xf_noise_dh_ops() == dh + 3 * 2); /* es, ss */
	for (uint16_t i = 0; i < 3; i++) {
		r = xf_hs_queue_result(&q);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->kind == XF_HS_MSG1 && r->rc == 0 && r->hdr.session == 300u + i);
		CU_ASSERT(r->use == 1 && r->job == i && r->job_id == 1000u + i && r->job_seq == 5);
		CU_ASSERT(r->hello.auth_len == len);
		CU_ASSERT(all_zero(r->msg1 + len - 2 * XF_NOISE_MAC_LEN, 2 * XF_NOISE_MAC_LEN));
		CU_ASSERT(all_zero(r->payload, sizeof(r->payload))); /* the plaintext wiped */
		hs[i] = r->ihs[0];
		memcpy(m1[i], r->msg1, len);
		xf_hs_queue_done(&q, r);
		CU_ASSERT(all_zero(r, sizeof(*r)));
		/* The RX core's part: the MACs, on its jar, no DH. */
		dh = xf_noise_dh_ops();
		CU_ASSERT_FATAL(xf_noise_initiate_macs(&hs[i], &ijar, &init_peer, 1, m1[i], len) ==
		                0);
		CU_ASSERT(xf_noise_dh_ops() == dh);
		CU_ASSERT(hs[i].peer == &init_peer && hs[i].jar == &ijar);
	}
	/* Made once: MACs twice on one handshake refused. */
	CU_ASSERT(xf_noise_initiate_macs(&hs[0], &ijar, &init_peer, 1, m1[0], len) == -EINVAL);
	/* The responder answers the second; the job tries the first, then the third, then
	 * the second (as a push tries its copies of message 1). */
	respond_to(m1[1], len, 77, m2, &rk);
	memset(frame, 0xa5, sizeof(frame));
	memcpy(frame + 8, m2, sizeof(m2));
	CU_ASSERT(xf_noise_response_check(&hs[1], m2, sizeof(m2)) == 0);
	try[0] = &hs[0];
	try[1] = &hs[2];
	try[2] = &hs[1];
	dh = xf_noise_dh_ops();
	r = xf_hs_queue_fill_msg2(&q, try, 3, &init_peer, frame, sizeof(frame), 8, 78);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT(r->ihs[0].peer == &r->npeer && r->ihs[2].jar == NULL); /* nothing of ours */
	r->use = 4;
	r->job = 1;
	r->job_id = 1001;
	xf_hs_queue_submit(&q, r);
	CU_ASSERT(xf_noise_dh_ops() == dh);
	CU_ASSERT(serve_init(4) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->kind == XF_HS_MSG2 && r->rc == 0 && r->tried == 2);
	CU_ASSERT(r->use == 4 && r->job == 1 && r->job_id == 1001);
	CU_ASSERT(memcmp(r->keys.send, rk.recv, 32) == 0 && memcmp(r->keys.recv, rk.send, 32) == 0);
	CU_ASSERT(r->frame_len == sizeof(frame) && memcmp(r->frame, frame, sizeof(frame)) == 0);
	CU_ASSERT(all_zero(r->ihs, sizeof(r->ihs))); /* the handshakes do not come back */
	xf_hs_queue_done(&q, r);
	/* The RX core's handshakes are untouched: the same message 2 reads there too. */
	{
		struct xf_noise_keys ik;
		struct xf_noise_hs t = hs[1];

		CU_ASSERT(xf_noise_consume_response(&t, m2, sizeof(m2), &ik) == 0 &&
		          memcmp(ik.send, rk.recv, 32) == 0);
	}
	/* Against none of the right one: refused, the handshakes wiped all the same. */
	r = xf_hs_queue_fill_msg2(&q, try, 2, &init_peer, frame, sizeof(frame), 8, 79);
	CU_ASSERT_FATAL(r != NULL);
	xf_hs_queue_submit(&q, r);
	CU_ASSERT(serve_init(4) == 1);
	CU_ASSERT_FATAL(xf_hs_queue_result(&q) == r);
	CU_ASSERT(r->rc == -EBADMSG && all_zero(r->ihs, sizeof(r->ihs)));
	CU_ASSERT(all_zero(&r->keys, sizeof(r->keys)));
	xf_hs_queue_done(&q, r);
	/* Nothing to try, more than a record holds, a message 2 outside the frame: refused. */
	CU_ASSERT(xf_hs_queue_fill_msg2(&q, try, 0, &init_peer, frame, sizeof(frame), 8, 0) ==
	          NULL);
	CU_ASSERT(xf_hs_queue_fill_msg2(&q, try, XF_HS_TRY_MAX + 1, &init_peer, frame,
	                                sizeof(frame), 8, 0) == NULL);
	CU_ASSERT(xf_hs_queue_fill_msg2(&q, try, 1, &init_peer, frame, sizeof(frame), 25, 0) ==
	          NULL);
	CU_ASSERT(q.n == 0);
	for (unsigned int i = 0; i < 3; i++) {
		xf_noise_hs_wipe(&hs[i]);
	}
}

/*
 * An initiator's answer is for its job only while the job holds its slot (not cancelled
 * or ended meanwhile), under the same id (not a later job in the same slot), and, for a
 * new handshake's, while its handshake is the one asked for (not replaced by a later
 * message 1); the fields that say so survive the handshake thread.
 */
static void
test_init_stale(void)
{
	struct xf_hs_rec *r;

	CU_ASSERT_FATAL(ask_msg1(350, 3, 9500) != NULL);
	CU_ASSERT(serve_init(1) == 1);
	r = xf_hs_queue_result(&q);
	CU_ASSERT_FATAL(r != NULL && r->rc == 0);
	CU_ASSERT(xf_hs_rec_for_job(r, true, 1003, 5, true));
	CU_ASSERT(xf_hs_rec_for_job(r, true, 1003, 6, false));  /* the first HELLO's: any */
	CU_ASSERT(!xf_hs_rec_for_job(r, false, 1003, 5, true)); /* cancelled, ended */
	CU_ASSERT(!xf_hs_rec_for_job(r, true, 1004, 5, false)); /* the slot reused */
	CU_ASSERT(!xf_hs_rec_for_job(r, true, 1003, 6, true));  /* a later message 1 */
	xf_hs_queue_done(&q, r);
	CU_ASSERT(all_zero(r, sizeof(*r)) && q.n == 0);
}

/*
 * Both roles share one queue, in one order: a HELLO of a session, message 1 of a job, a
 * second HELLO come back as asked (each answered as its kind is). A full queue refuses
 * the initiator's requests as the responder's, counted in the same place; once a record
 * is done there is room again.
 */
static void
test_init_mixed_full(void)
{
	uint8_t msg1[XF_NOISE_MSG1_MAX], m1b[XF_NOISE_MSG1_MAX], frame[XF_NOISE_MSG2_LEN];
	const struct xf_noise_hs *try[1];
	struct xf_noise_hs hs, hsb;
	struct xf_msg m, mb;
	struct xf_hs_rec *r;
	uint64_t full = q.full;

	xf_noise_peer_init(&resp_peer, init.pub, NULL);
	make_hello(&m, msg1, &hs, 400, 4000);
	make_hello(&mb, m1b, &hsb, 401, 4001);
	CU_ASSERT_FATAL(submit(&m) != NULL);
	CU_ASSERT_FATAL(ask_msg1(402, 7, 4002) != NULL);
	CU_ASSERT_FATAL(submit(&mb) != NULL);
	/* Served with the responder's key: the message 1 is made toward init_peer anyway
	 * (its key is the record's), the HELLOs answered. */
	CU_ASSERT(serve(8) == 3);
	for (unsigned int i = 0; i < 3; i++) {
		static const uint32_t order[3] = { 400, 402, 401 };

		r = xf_hs_queue_result(&q);
		CU_ASSERT_FATAL(r != NULL);
		CU_ASSERT(r->kind == (i == 1 ? XF_HS_MSG1 : XF_HS_NEW));
		CU_ASSERT(r->hdr.session == order[i] && r->rc == 0);
		xf_hs_queue_done(&q, r);
	}
	/* The initiator's records are not a session's HELLO in flight. */
	CU_ASSERT_FATAL(ask_msg1(403, 7, 4003) != NULL);
	CU_ASSERT(!xf_hs_queue_pending(&q, 403, 0, 0));
	while (q.n < XF_HS_QUEUE_LEN) {
		CU_ASSERT_FATAL(ask_msg1(404, 8, 4004) != NULL);
	}
	try[0] = &hs;
	memset(frame, 0, sizeof(frame));
	CU_ASSERT(ask_msg1(405, 9, 4005) == NULL);
	CU_ASSERT(xf_hs_queue_fill_msg2(&q, try, 1, &init_peer, frame, sizeof(frame), 0, 0) ==
	          NULL);
	CU_ASSERT(submit(&m) == NULL);
	CU_ASSERT(q.full == full + 3);
	CU_ASSERT(serve_init(1) == 1);
	r = xf_hs_queue_result(&q);
	CU_ASSERT_FATAL(r != NULL && r->hdr.session == 403);
	xf_hs_queue_done(&q, r);
	CU_ASSERT_FATAL(ask_msg1(405, 9, 4005) != NULL);
	while (serve_init(XF_HS_QUEUE_LEN) > 0) {
	}
	while ((r = xf_hs_queue_result(&q)) != NULL) {
		CU_ASSERT(r->rc == 0);
		xf_hs_queue_done(&q, r);
	}
	CU_ASSERT(q.n == 0 && q.full == full + 3);
	xf_noise_hs_wipe(&hs);
	xf_noise_hs_wipe(&hsb);
}

/*
 * The initiator's RX core with the handshake thread a thread of its own, as in the
 * engine: a push's whole handshake, many times over (message 1 asked for, its MACs added,
 * answered by the responder, message 2 checked and asked for, the keys taken), in order.
 * This thread, the RX core, does no X25519 and OpenSSL allocates nothing on it
 * (CRYPTO_set_mem_functions, counted per thread) for any of its part; the handshake
 * thread does all the DH.
 */
static void
test_init_threads(void)
{
	enum { N = 24 };
	const size_t len = XF_NOISE_MSG1_LEN + IPAY_LEN;
	uint8_t m1[XF_NOISE_MSG1_MAX], m2[N][XF_NOISE_MSG2_LEN];
	struct xf_noise_keys rk[N];
	struct xf_noise_hs hs;
	const struct xf_noise_hs *try[1] = { &hs };
	uint64_t dh = 0, allocs = 0, x, d;
	unsigned int keyed = 0;
	pthread_t t;

	xf_noise_peer_init(&init_peer, resp.pub, NULL);
	hs_done = 0;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, hs_thread, &init) == 0);
	for (unsigned int i = 0; i < N; i++) {
		struct xf_hs_rec *r;

		x = xf_ossl_allocs;
		d = xf_noise_dh_ops();
		CU_ASSERT_FATAL(ask_msg1(500 + i, 1, 5000 + i) != NULL);
		while ((r = xf_hs_queue_result(&q)) == NULL) {
		}
		CU_ASSERT_FATAL(r->rc == 0 && r->hdr.session == 500 + i);
		hs = r->ihs[0];
		memcpy(m1, r->msg1, len);
		xf_hs_queue_done(&q, r);
		CU_ASSERT_FATAL(xf_noise_initiate_macs(&hs, &ijar, &init_peer, 2, m1, len) == 0);
		allocs += xf_ossl_allocs - x;
		dh += xf_noise_dh_ops() - d;
		/* The responder (this thread too: not counted). */
		respond_to(m1, len, 90 + i, m2[i], &rk[i]);
		x = xf_ossl_allocs;
		d = xf_noise_dh_ops();
		CU_ASSERT(xf_noise_response_check(&hs, m2[i], XF_NOISE_MSG2_LEN) == 0);
		r = xf_hs_queue_fill_msg2(&q, try, 1, &init_peer, m2[i], XF_NOISE_MSG2_LEN, 0, 3);
		CU_ASSERT_FATAL(r != NULL);
		xf_hs_queue_submit(&q, r);
		while ((r = xf_hs_queue_result(&q)) == NULL) {
		}
		keyed += r->rc == 0 && memcmp(r->keys.send, rk[i].recv, 32) == 0 &&
		         memcmp(r->keys.recv, rk[i].send, 32) == 0;
		xf_hs_queue_done(&q, r);
		xf_noise_hs_wipe(&hs);
		allocs += xf_ossl_allocs - x;
		dh += xf_noise_dh_ops() - d;
	}
	hs_done = 1;
	pthread_join(t, NULL);
	printf("\n%u handshakes as the initiator: %llu X25519 and %llu OpenSSL allocations on "
	       "the RX core\n",
	       (unsigned int)N, (unsigned long long)dh, (unsigned long long)allocs);
	CU_ASSERT(keyed == N);
	CU_ASSERT_EQUAL(dh, 0);
	CU_ASSERT_EQUAL(allocs, 0);
	/* Not vacuous: the same steps in one go on this thread allocate and do DH. */
	x = xf_ossl_allocs;
	d = xf_noise_dh_ops();
	CU_ASSERT(xf_noise_initiate_jar(&hs, &ijar, &init, &init_peer, &ipro, 1, NULL, 6000, 2,
	                                ipay, IPAY_LEN, m1) == 0);
	CU_ASSERT(xf_ossl_allocs - x > 0 && xf_noise_dh_ops() - d == 2);
	xf_noise_hs_wipe(&hs);
	CU_ASSERT(q.n == 0);
	xf_noise_cookie_jar_fini(&ijar);
}

static const struct xf_test tests[] = {
	{ "codec", test_codec },
	{ "payload_refused", test_payload_refused },
	{ "fixed_len", test_fixed_len },
	{ "order_keys", test_order_keys },
	{ "full", test_full },
	{ "replay_in_flight", test_replay_in_flight },
	{ "stale", test_stale },
	{ "bad_index", test_bad_index },
	{ "rekey_ident", test_rekey_ident },
	{ "prologue_flags", test_prologue_flags },
	{ "threads", test_threads },
	{ "bell_rung", test_bell_rung },
	{ "bell_threads", test_bell_threads },
	{ "init_order", test_init_order },
	{ "init_stale", test_init_stale },
	{ "init_mixed_full", test_init_mixed_full },
	{ "init_threads", test_init_threads },
};

int
main(void)
{
	/* Before OpenSSL allocates anything: every allocation it makes is then counted. */
	if (xf_ossl_allocs_count() != 0) {
		return 1;
	}
	return xf_test_main("hs_queue", suite_init, suite_clean, XF_TESTS(tests));
}
