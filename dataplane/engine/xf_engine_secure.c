/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authenticated, encrypted sessions on an RX core (docs/SECURITY.md 8): the Noise
 * IKpsk2 handshake carried in HELLO/HELLO_ACK, both roles, and AEAD on every frame after
 * it. Received frames are opened here before the codec reads their payload; frames
 * leave through eng_secure_tx, sealed after their header is final.
 *
 * Each RX core has its own ipsec-mb manager (made at start: sealing and opening allocate
 * nothing) and its own copy of the peers' handshake state. The responder's handshake
 * (X25519 and HKDF through OpenSSL, which allocates) runs on the handshake thread
 * (xf_engine_hs.c), never on an RX core: the RX core checks mac1 first (one HMAC), so a
 * frame without knowledge of our public key goes no further; under load (xf_hs_load.h,
 * docs/SECURITY.md 3) it answers a HELLO without a valid mac2 with a cookie reply; what
 * passes goes to the handshake thread in a record of this core's queue (xf_hs_queue.h),
 * and the answers come back in order (eng_secure_hs_poll). The initiator's side (a push's
 * or a pull's) goes there too, through the same queue: the handshake thread makes each
 * message 1 but its MACs (the first HELLO's, a copy of it ahead of its retransmission, a
 * new handshake's) and reads each message 2; the RX core adds and checks the MACs and
 * opens cookie replies on its jar (no allocation), and applies the answers in order
 * (job_hs_apply). Reads of message 2, which a forged HELLO_ACK with a valid mac1 can ask
 * for, are bounded per push and second (ENG_HS_ANSWER_MAX; docs/SECURITY.md 8.2).
 *
 * A session's keys are renewed by a new handshake every session.rekey_after_ms (the push
 * starts it, as the Noise initiator) and refused at session.reject_after_ms
 * (xf_secure_sess.h says which keys open what meanwhile; docs/SECURITY.md 5).
 *
 * Over 1,000 lines: one concern, what stands between an RX core's sessions and the wire
 * (both handshake roles and the AEAD of every frame share this core's manager, its copy
 * of the peers' keys and its handshake queue); split, each half would reach into the
 * other's state.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <sys/resource.h>

#include "xf_base.h"
#include "xf_engine_priv.h"
#include "xf_keylock.h"

#define MODULE "engine"

_Static_assert(XF_HELLO_AUTH_LEN == XF_NOISE_MSG1_LEN, "HELLO carries message 1");
_Static_assert(XF_HELLO_AUTH_MAX == XF_NOISE_MSG1_MAX, "its payload, the destination field");
_Static_assert(XF_HELLO_ACK_AUTH_LEN == XF_NOISE_MSG2_LEN, "HELLO_ACK carries message 2");

/* The HELLO's offsets inside a frame (HELLO_BODY: xf_engine_priv.h). */
#define HELLO_ACK_FRAME (XF_HDR_LEN + HELLO_BODY + XF_NOISE_MSG2_LEN + XF_SECURE_FRAME_OVERHEAD)
/* A HELLO_ACK carrying a cookie reply (XF_HELLO_F_COOKIE): in clear. */
#define COOKIE_FRAME (XF_HDR_LEN + HELLO_BODY + XF_NOISE_COOKIE_LEN_MSG)
/* HELLOs waiting for the handshake thread from which an RX core is under load. */
#define ENG_HS_BEHIND (XF_HS_QUEUE_LEN / 2)
/* Reads of message 2 a push asks for in a second, at most (two X25519 each):
 * its first answer tried against every copy of its message 1 (newest first), twice over. */
#define ENG_HS_ANSWER_MAX (2u * (ENG_HELLO_FRESH_MAX + 1u))
/* Packet numbers accepted above the highest one opened: the reliability layer's receive
 * window (docs/RELIABILITY.md, "Packet-number window"). */
#define ENG_SEC_PN_AHEAD 8192u

/* The structures that hold keys (docs/SECURITY.md 6), in ranges[]: @return how many. */
static unsigned int
key_ranges(struct xf_engine *e, struct iovec *ranges)
{
	unsigned int n = 0;

	ranges[n++] = (struct iovec){ &e->local, sizeof(e->local) };
	ranges[n++] = (struct iovec){ e->conf.private_key, sizeof(e->conf.private_key) };
	ranges[n++] = (struct iovec){ e->conf.psk, sizeof(e->conf.psk) };
	ranges[n++] = (struct iovec){ e->psk, sizeof(e->psk) };
	ranges[n++] = (struct iovec){ e->peers_next.npeers, sizeof(e->peers_next.npeers) };
	ranges[n++] = (struct iovec){ e->jobs, sizeof(e->jobs) }; /* handshakes, keys */
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		struct eng_rx *rx = &e->rx[r];

		ranges[n++] = (struct iovec){ rx->npeers, sizeof(rx->npeers) };
		ranges[n++] = (struct iovec){ &rx->jar, sizeof(rx->jar) };
		ranges[n++] = (struct iovec){ rx->rs, sizeof(rx->rs) }; /* sessions' keys */
		/* handshakes in flight to the handshake thread: the peer's state, the keys */
		ranges[n++] = (struct iovec){ rx->hsq.rec, sizeof(rx->hsq.rec) };
	}
	return n;
}

#define ENG_KEY_RANGES (6u + 4u * XF_ENGINE_MAX_RX)

/*
 * Lock the pages of the structures that will hold keys, before any key is in them, and
 * keep them out of core dumps. All or nothing, and soft: when mlock is refused
 * (RLIMIT_MEMLOCK without CAP_IPC_LOCK) the engine runs with its keys unlocked, and says
 * so once. Keys are wiped at teardown either way (eng_secure_destroy).
 */
static void
keys_lock(struct xf_engine *e)
{
	struct iovec r[ENG_KEY_RANGES];
	unsigned int n = key_ranges(e, r), i;
	size_t bytes = 0;
	struct rlimit lim = { 0 };
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		rc = xf_keylock(r[i].iov_base, r[i].iov_len);
		bytes += xf_keylock_span(r[i].iov_base, r[i].iov_len);
	}
	if (rc == 0) {
		e->keys_locked = bytes;
		return;
	}
	while (i-- > 0) {
		xf_keyunlock(r[i].iov_base, r[i].iov_len);
	}
	for (i = 0, bytes = 0; i < n; i++) {
		bytes += xf_keylock_span(r[i].iov_base, r[i].iov_len);
	}
	(void)getrlimit(RLIMIT_MEMLOCK, &lim);
	XF_LOG(WARNING, MODULE,
	       "key memory is not locked (mlock: %s): %zu bytes needed, RLIMIT_MEMLOCK is %llu; "
	       "keys may be written to swap (raise LimitMEMLOCK, or grant CAP_IPC_LOCK)",
	       strerror(-rc), bytes, (unsigned long long)lim.rlim_cur);
}

int
eng_secure_create(struct xf_engine *e)
{
	const struct xf_engine_conf *c = &e->conf;

	e->aead = !c->security_none;
	if (!e->aead) {
		return 0;
	}
	keys_lock(e);
	e->has_psk = c->has_psk;
	memcpy(e->psk, c->psk, sizeof(e->psk));
	if (c->has_private_key && xf_noise_static_init(&e->local, c->private_key) < 0) {
		XF_LOG(ERR, MODULE, "the private key is not a usable X25519 key");
		return -EINVAL;
	}
	for (unsigned int r = 0; r < c->n_rx; r++) {
		struct eng_rx *rx = &e->rx[r];
		char name[16];

		snprintf(name, sizeof(name), "hs%u", r);
		if (xf_hs_queue_init(&rx->hsq, name, rx->lcore, ENG_HS_CORE, &e->hs_bell) < 0) {
			XF_LOG(ERR, MODULE, "handshake queue of RX core %u: no memory", r);
			return -ENOMEM;
		}
		xf_hs_load_init(&rx->hs_load, c->handshake_load != 0 ? c->handshake_load
		                                                     : XF_ENGINE_HS_LOAD_DEFAULT);
		rx->cmgr = xf_crypto_mgr_create();
		if (rx->cmgr == NULL) {
			XF_LOG(ERR, MODULE, "AES-GCM (ipsec-mb): %s", strerror(errno));
			return -errno;
		}
		/* mac1 and mac2 on the jar's own manager (SHA-NI where the CPU has it; not
		 * cmgr's AVX-512 HMAC, several times slower), mac1's key prepared once: no
		 * allocation per HELLO (xf_noise.h). */
		if (c->has_private_key && xf_noise_cookie_jar_init(&rx->jar, &e->local) < 0) {
			XF_LOG(ERR, MODULE, "HMAC-SHA256 (ipsec-mb): cannot prepare the mac1 key");
			return -EIO;
		}
		for (unsigned int i = 0; i < c->n_peers; i++) {
			if (c->peers[i].has_key &&
			    xf_noise_peer_init(&rx->npeers[i], c->peers[i].public_key,
			                       c->has_psk ? c->psk : NULL) < 0) {
				return -EIO;
			}
		}
	}
	return 0;
}

/* Last before the engine's memory is freed: every structure that held keys is wiped,
 * and unlocked if it was locked. */
void
eng_secure_destroy(struct xf_engine *e)
{
	struct iovec r[ENG_KEY_RANGES];
	unsigned int n;

	for (unsigned int i = 0; i < XF_ENGINE_MAX_RX; i++) {
		xf_crypto_mgr_free(e->rx[i].cmgr);
		e->rx[i].cmgr = NULL;
		xf_noise_cookie_jar_fini(&e->rx[i].jar);
		xf_hs_queue_fini(&e->rx[i].hsq); /* the records in flight wiped */
		for (unsigned int k = 0; k < ENG_RSESS_MAX; k++) {
			xf_secure_sess_wipe(&e->rx[i].rs[k].sec);
		}
	}
	n = key_ranges(e, r);
	for (unsigned int i = 0; i < n; i++) {
		xf_keylock_release(r[i].iov_base, r[i].iov_len, e->keys_locked != 0);
	}
	e->keys_locked = 0;
}

/*
 * The prologue binds what the HELLO offers: the protocol version in the header and the
 * HELLO's flags and max_payload (and, with XF_HELLO_F_DELETE, its window: the limit), so
 * that a middlebox that changed any of them (to turn AEAD off or to raise a deletion
 * limit, say) makes the handshake fail. The destination field (which volume, which path,
 * the rules, a pull request) is message 1's payload (XF_HELLO_F_SEALED_DEST): encrypted
 * and authenticated by the handshake, so neither read nor changed on the way. Every HELLO
 * of a job (the first, its fresh copies, a new handshake's) carries the same fields and
 * the same payload, so each builds the same prologue.
 */
void
eng_secure_prologue(struct xf_noise_prologue *pro, uint32_t hello_flags, uint16_t max_payload,
                    uint32_t hello_window)
{
	/* The handshake thread builds the responder's from a record the same way. */
	xf_hs_prologue(pro, hello_flags, max_payload, hello_window);
}

static uint64_t
unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the engine does with a handshake record's answer (xf_hs_rec.use). */
enum {
	ENG_HS_FIRST = 1,    /**< the first HELLO's message 1: the job starts */
	ENG_HS_COPY = 2,     /**< the next copy of it, kept for its retransmission */
	ENG_HS_REKEY = 3,    /**< a new handshake's message 1: it goes out */
	ENG_HS_ANSWER = 4,   /**< the first HELLO_ACK's message 2: the session's keys */
	ENG_HS_REANSWER = 5, /**< a new handshake's HELLO_ACK: the next keys */
};

/* A record of job j's, for its answer to find the job again (xf_hs_rec.use, job...). */
static void
job_rec(struct eng_rx *rx, const struct eng_job *j, struct xf_hs_rec *r, uint8_t use)
{
	const struct xf_engine_peer *peer = &rx->peers[j->req.peer];

	r->use = use;
	r->job = (uint16_t)(j - rx->e->jobs);
	r->job_id = j->id;
	r->job_seq = j->hs_seq;
	r->hdr.session = j->session_id;
	r->ip = peer->ip;
	r->port = peer->udp_port;
}

/* Ask the handshake thread for a message 1 of job j (its sealed block the payload).
 * @return 0, or -ENOBUFS: this core's queue is full (counted, drops.hs_queue_full): ask
 *         again later. */
static int
msg1_ask(struct eng_rx *rx, struct eng_job *j, uint8_t use)
{
	struct xf_noise_prologue pro;
	struct xf_hs_rec *r;

	eng_secure_prologue(&pro, j->hello_flags, j->hello_max_payload, j->hello_window);
	r = xf_hs_queue_fill_msg1(&rx->hsq, &j->npeer, &pro, j->session_id, unix_now(), j->sealed,
	                          j->sealed_len, rx->now);
	if (r == NULL) {
		return -ENOBUFS;
	}
	job_rec(rx, j, r, use);
	xf_hs_queue_submit(&rx->hsq, r);
	return 0;
}

/* A message 1 the handshake thread made (r): its MACs on this core's jar (mac2 with a
 * cookie of the peer's), into msg, and its handshake into *hs. @return 0 or -errno. */
static int
msg1_take(struct eng_rx *rx, struct eng_job *j, const struct xf_hs_rec *r, struct xf_noise_hs *hs,
          uint8_t *msg)
{
	struct xf_noise_hs h = r->ihs[0];
	int rc;

	if (r->rc < 0) {
		return r->rc;
	}
	memcpy(msg, r->msg1, j->msg1_len);
	rc = xf_noise_initiate_macs(&h, &rx->jar, &j->npeer, rx->now, msg, j->msg1_len);
	if (rc == 0) {
		*hs = h;
		j->hs_seq++;
	}
	xf_noise_hs_wipe(&h);
	return rc;
}

/* The next copy of the first HELLO's message 1, made ahead of its retransmission
 * (eng_secure_job_wait, eng_secure_hello_again). */
static void
copy_ask(struct eng_rx *rx, struct eng_job *j)
{
	if (!j->copy_asked && !j->copy_ready && !j->sec_ready &&
	    j->n_hs_old < ENG_HELLO_FRESH_MAX && msg1_ask(rx, j, ENG_HS_COPY) == 0) {
		j->copy_asked = true;
	}
}

/*
 * A push's first HELLO unanswered this long: the next copy's message 1 is asked for. Most
 * HELLOs are answered sooner, and then no copy is made; asked at once, the copy was made
 * for every push (0.25 ms of the handshake thread) and was in the queue ahead of the
 * HELLO_ACK's message 2, whose read then waited for it. Far below the first
 * retransmission, which waits for at least the initial RTT (XF_RELIAB_INITIAL_RTT_NS).
 */
#define ENG_HELLO_COPY_AFTER_NS (20ull * 1000ull * 1000ull)
_Static_assert(ENG_HELLO_COPY_AFTER_NS * 8 < XF_RELIAB_INITIAL_RTT_NS, "made long before");

/* A push's first HELLO waiting for its answer (no keys yet). */
void
eng_secure_job_wait(struct eng_rx *rx, struct eng_job *j)
{
	if (j->hello_sends > 0 && rx->now - j->hello_sent_ns >= ENG_HELLO_COPY_AFTER_NS) {
		copy_ask(rx, j);
	}
}

/* A push's message 1 of a new handshake goes out again, fresh, after this long unanswered. */
#define ENG_REKEY_RETRY_NS (1000ull * 1000ull * 1000ull)

/*
 * Limits of a session's keys: the configured ones (0: the defaults of xf_secure.h). The
 * previous handshake's keys are kept at most half a rekey interval, so that they are gone
 * before the next handshake's keys can take their epoch bit.
 */
static void
limits(const struct xf_engine *e, struct xf_secure_limits *lim)
{
	const struct xf_engine_conf *c = &e->conf;

	xf_secure_limits_default(lim);
	if (c->rekey_after_ms != 0) {
		lim->rekey_ns = c->rekey_after_ms * 1000000ull;
	}
	if (c->reject_after_ms != 0) {
		lim->reject_ns = c->reject_after_ms * 1000000ull;
	}
	if (c->key_update_frames != 0) {
		lim->key_update_frames = c->key_update_frames;
	}
	lim->prev_key_ns = XF_MIN(lim->prev_key_ns, lim->rekey_ns / 2);
}

/* Initiator: ask for the HELLO's message 1 of a job, before its session is made.
 * @return 0 (asked: eng_job_hello_made when it is made), -ENOKEY, -E2BIG, or -ENOBUFS
 *         (the queue is full: counted, ask again later). */
int
eng_secure_job_start(struct eng_rx *rx, struct eng_job *j, uint32_t hello_flags,
                     uint16_t max_payload, uint32_t hello_window)
{
	const struct xf_engine_conf *c = &rx->e->conf;
	const struct xf_engine_peer *peer = &rx->peers[j->req.peer];
	long len;
	int rc;

	if (!c->has_private_key || !peer->has_key) {
		return -ENOKEY;
	}
	/* The options and the destination field go in message 1's payload, padded to the
	 * block's one size (XF_HELLO_F_SEALED_OPTS, xf_hs_block.h), so every message 1 of
	 * this appliance is as long as every other; the HELLO shows only
	 * XF_HELLO_F_CLEAR_AEAD. The field fits: eng_hello_room bounded it where it was made. */
	len = xf_proto_hello_seal(j->sealed, eng_hello_room(rx->e, false),
	                          hello_flags | XF_HELLO_F_CLEAR_AEAD, hello_window, j->hello_dest,
	                          j->hello_dest_len);
	if (len < 0) {
		return -E2BIG;
	}
	/* This core's state of the peer holds its key and the PSK (the configuration's
	 * copies are wiped once the engine is made). */
	j->npeer = rx->npeers[j->req.peer];
	j->sealed_len = (uint16_t)len;
	j->hello_flags = XF_HELLO_F_CLEAR_AEAD;
	j->hello_max_payload = max_payload;
	j->hello_window = 0;
	j->msg1_len = (uint16_t)(XF_NOISE_MSG1_LEN + j->sealed_len);
	j->sec_ready = false;
	j->rekeying = false;
	j->n_hs_old = 0;
	j->hello_sends = 0;
	j->answer_budget = (struct xf_hs_budget){ 0 };
	j->copy_ready = j->copy_asked = j->rekey_asked = false;
	/* Made by the handshake thread: the job starts when it comes back (job_hs_apply). */
	rc = msg1_ask(rx, j, ENG_HS_FIRST);
	j->hello_asked = rc == 0;
	return rc;
}

/* The source a cookie is bound to: the address and port as seen on the wire. */
static void
src_bytes(uint8_t *src, uint32_t ip, uint16_t port)
{
	memcpy(src, &ip, 4);
	src[4] = (uint8_t)(port >> 8);
	src[5] = (uint8_t)port;
}

/* Responder: the HELLO's mac1 (before any Diffie-Hellman), bound to its source. */
static int
hello_macs(struct eng_rx *rx, const struct eng_rsess *rs, const struct xf_msg *hello)
{
	uint8_t src[6];
	int rc;

	src_bytes(src, rs->peer_ip, rs->peer_port);
	rc = xf_noise_check_macs(&rx->e->local, &rx->jar, hello->hello.auth, hello->hello.auth_len,
	                         src, sizeof(src), false, rx->now);
	rx->hs_bad_mac += rc < 0;
	return rc;
}

static void
st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
st32(uint8_t *p, uint32_t v)
{
	st16(p, (uint16_t)(v >> 16));
	st16(p + 2, (uint16_t)v);
}

/*
 * Responder under load: a cookie reply to a HELLO (docs/SECURITY.md 3), in clear, in a
 * HELLO_ACK with XF_HELLO_F_COOKIE (docs/PROTOCOL.md 3.1), numbered 0 and never kept: to
 * the Ethernet address the HELLO came from when mac is given (as a refusal would go: the
 * source is unproven and must not make us send an ARP request), else through the
 * neighbour table to a served session's peer. Written here, not by the codec, which
 * refuses the flag: the frame is read only by the initiator's engine (job_cookie).
 * Nothing here allocates from the heap: the frame is an mbuf from the engine's mempool
 * (rte_pktmbuf_alloc, a per-lcore cache: what every frame this core sends takes; none
 * left is tx_full, as for any frame), and the reply is made on this core's ipsec-mb
 * manager from keys the jar prepared at start (xf_noise_cookie_reply, no OpenSSL context,
 * no RNG). Its cost per HELLO is fixed: mac1 and mac2 each one HMAC-SHA256 over message
 * 1 (eng_secure_hello_gate), the cookie (an HMAC of the 6-byte source) twice, an AES-GCM
 * of 16 bytes, and every 120 s one more HMAC for the next cookie secret.
 */
static void
cookie_out(struct eng_rx *rx, const struct xf_msg *hello, uint32_t ip, uint16_t port,
           const struct rte_ether_addr *mac)
{
	uint8_t src[6];
	uint8_t *f, *b;
	struct rte_mbuf *m = eng_frame_new(rx, &f);

	if (m == NULL) {
		rx->tx_full++;
		return;
	}
	b = f + XF_HDR_LEN;
	memset(f, 0, COOKIE_FRAME);
	st16(f, XF_PROTO_MAGIC);
	f[2] = XF_PROTO_VERSION;
	f[3] = XF_MSG_HELLO_ACK;
	st16(f + 4, XF_HDR_F_REPLY | XF_HDR_F_NOACK);
	st16(f + 6, COOKIE_FRAME - XF_HDR_LEN);
	st32(f + 8, hello->hdr.session); /* packet number 0, never taken as seen */
	st16(b, XF_PROTO_VERSION);
	st16(b + 2, XF_PROTO_VERSION);
	st16(b + 4, XF_PAYLOAD_MIN);
	st32(b + 12, XF_HELLO_F_COOKIE);
	st32(b + 16, (uint32_t)(hello->hello.nonce >> 32));
	st32(b + 20, (uint32_t)hello->hello.nonce);
	st16(b + 26, XF_NOISE_COOKIE_LEN_MSG);
	src_bytes(src, ip, port);
	if (xf_noise_cookie_reply(&rx->e->local, &rx->jar, hello->hello.auth, hello->hello.auth_len,
	                          src, sizeof(src), NULL, rx->now, b + HELLO_BODY) < 0) {
		rx->hs_failed++;
		rte_pktmbuf_free(m);
		return;
	}
	rx->cookie_replies++;
	if (mac != NULL) {
		struct xf_net_flow flow = { .dst_mac = *mac, .dst_ip = ip, .dst_port = port };

		eng_frame_send(rx, m, COOKIE_FRAME, &flow);
	} else {
		eng_frame_out(rx, m, COOKIE_FRAME, ip, port, 0);
	}
}

/*
 * Responder: may a HELLO of peer pi, from ip:port, have Diffie-Hellman work? Each test
 * cheaper than the next: the mode, our keys, mac1 (one HMAC); then, under load
 * (xf_hs_load.h), mac2 (one more HMAC; without it a cookie reply, no DH) and the second's
 * budget of admissions on mac2. Runs before a session slot is taken.
 * @return 0 (go on), or a negative errno: dropped, counted by reason.
 */
int
eng_secure_hello_gate(struct eng_rx *rx, int pi, const struct xf_msg *hello, uint32_t ip,
                      uint16_t port, const struct rte_ether_addr *mac)
{
	const struct xf_engine_conf *c = &rx->e->conf;
	uint8_t src[6];
	bool busy;
	int rc;

	if (!(hello->hello.flags & XF_HELLO_F_AEAD)) {
		rx->hs_mode++; /* a peer asking for frames in clear: never, with AEAD on */
		return -EPROTO;
	}
	if (!c->has_private_key || !rx->peers[pi].has_key) {
		rx->hs_no_key++;
		return -ENOKEY;
	}
	src_bytes(src, ip, port);
	/* Under load too while the handshake thread is behind: half this core's queue
	 * waiting (a full one drops, drops.hs_queue_full). */
	busy = xf_hs_load_busy(&rx->hs_load, rx->now) || rx->hsq.n >= ENG_HS_BEHIND;
	rc = xf_noise_check_macs(&rx->e->local, &rx->jar, hello->hello.auth, hello->hello.auth_len,
	                         src, sizeof(src), busy, rx->now);
	if (rc < 0 && rc != -EAGAIN) {
		rx->hs_bad_mac++;
		return rc;
	}
	xf_hs_load_note(&rx->hs_load);
	rx->under_load_until = xf_hs_load_until(&rx->hs_load);
	if (rc == -EAGAIN) {
		rx->hs_cookie++;
		cookie_out(rx, hello, ip, port, mac);
		return rc;
	}
	if (busy && !xf_hs_load_admit_mac2(&rx->hs_load)) {
		rx->hs_rate++;
		return -EBUSY;
	}
	return 0;
}

/* Responder: a handshake answer that failed, counted by its reason. */
static void
count_hs_failure(struct eng_rx *rx, int rc)
{
	rx->hs_no_key += rc == -ENOKEY;
	rx->hs_replay += rc == -EALREADY;
	rx->hs_failed += rc != -ENOKEY && rc != -EALREADY;
}

/*
 * Responder: install the keys of the handshake thread's answer hs in a session just
 * opened (its slot taken), and keep message 2 for a HELLO_ACK sent again.
 * @return 0, or a negative errno (counted; the HELLO is dropped unanswered).
 */
int
eng_secure_accept(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_hs_rec *hs)
{
	struct xf_secure_limits lim;
	int rc;

	memcpy(rs->msg2, hs->msg2, sizeof(rs->msg2));
	memcpy(rs->hello_ident, hs->ident, sizeof(rs->hello_ident));
	limits(rx->e, &lim);
	rc = xf_secure_sess_init(&rs->sec, rx->cmgr, &hs->keys, &lim, rx->now);
	if (rc < 0) {
		rx->hs_failed++;
		return rc;
	}
	rx->handshakes++;
	return 0;
}

/* A frame's header flags; set_epoch writes its key epoch bit before it is sealed. */
static uint16_t
frame_flags(const uint8_t *frame)
{
	return (uint16_t)(frame[4] << 8 | frame[5]);
}

static void
set_epoch(uint8_t *frame, uint8_t epoch)
{
	uint16_t f = (uint16_t)(frame_flags(frame) & ~XF_HDR_F_KEY_EPOCH);

	f |= epoch ? XF_HDR_F_KEY_EPOCH : 0;
	frame[4] = (uint8_t)(f >> 8);
	frame[5] = (uint8_t)f;
}

/*
 * Responder: a HELLO_ACK carrying msg2 (answering nonce), sealed under keys with the
 * given epoch bit, sent once and unreliably: numbered from the session's packet-number
 * space as an ACK is (the number is never used again), and sent again only when the
 * initiator's HELLO comes again.
 */
static void
hello_ack_out(struct eng_rx *rx, struct eng_rsess *rs, struct xf_secure *keys, uint8_t epoch,
              uint64_t nonce, const uint8_t *msg2)
{
	struct xf_msg a = { .hdr = { .type = XF_MSG_HELLO_ACK,
		                     .flags = XF_HDR_F_REPLY | XF_HDR_F_ACKNOW,
		                     .session = rs->id,
		                     .pn = xf_reliab_next_pn(rs->rel) } };
	uint8_t *frame;
	struct rte_mbuf *m = eng_frame_new(rx, &frame);
	int len;

	if (m == NULL) {
		return; /* the initiator asks again */
	}
	a.hello.min_version = a.hello.max_version = XF_PROTO_VERSION;
	a.hello.max_payload = rs->max_payload;
	a.hello.window = rx->e->conf.window;
	a.hello.nonce = nonce;
	a.hello.flags = eng_rs_ack_flags(rx, rs);
	a.hello.auth = msg2;
	a.hello.auth_len = XF_HELLO_ACK_AUTH_LEN;
	len = xf_proto_encode(frame, rs->max_payload, &a);
	if (len > 0) {
		set_epoch(frame, epoch);
		len = xf_secure_frame_seal(keys, rx->cmgr, frame, (size_t)len, rx->now);
		rx->nonce_refused += len == -EINVAL;
	}
	if (len < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	xf_reliab_on_sent(rs->rel, rx->now, (uint32_t)len, NULL, 0, 0, NULL);
	rx->sealed++;
	eng_frame_out(rx, m, (uint16_t)len, rs->peer_ip, rs->peer_port, 0);
}

/*
 * Responder: a HELLO of a session we serve. Before the sender confirmed our HELLO_ACK,
 * it is the first HELLO sent again (with a fresh message 1 each time, which we do not
 * take: our keys are those of the copy we answered): our HELLO_ACK may have been lost,
 * and our probes cannot stand in for it (the sender has no keys to open them), so it
 * goes out again, once per HELLO whose mac1 is right (no DH work). After, it is a new
 * handshake (the push's, every session.rekey_after_ms), which passes
 * eng_secure_hello_gate as a new session's HELLO does (under load: mac2, or a cookie
 * reply to the session's peer) and goes to the handshake thread; its answer
 * (rekey_apply) holds the keys as next and sends the HELLO_ACK sealed under them, and we
 * go on sealing under the current keys until the push's first frame under the new ones
 * verifies. The push sends a fresh message 1 again when no answer comes.
 */
void
eng_secure_rekey(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_msg *hello)
{
	int rc;

	if (!(hello->hello.flags & XF_HELLO_F_AEAD)) {
		rx->hs_mode++;
		return;
	}
	if (!rs->confirmed) {
		if (hello_macs(rx, rs, hello) == 0) {
			hello_ack_out(rx, rs, &rs->sec.cur, rs->sec.epoch, hello->hello.nonce,
			              rs->msg2);
		}
		return;
	}
	rc = eng_secure_hello_gate(rx, rs->peer, hello, rs->peer_ip, rs->peer_port, NULL);
	if (rc == 0) {
		(void)eng_secure_hs_submit(rx, XF_HS_REKEY, rs->peer, hello, rs->peer_ip,
		                           rs->peer_port, NULL, rs);
	}
}

/*
 * Responder: the handshake thread's answer to a new handshake of session rs. It must ask
 * for what the session's first asked for (docs/PROTOCOL.md 6.13): the session writes
 * where its first HELLO said, under its flags and limit, so a new handshake naming
 * another destination, volume, rules, flags or limit (only a peer holding the keys can
 * make one: a correct push never does) is refused unanswered and counted
 * (drops.hs_rekey_changed). The session keeps its keys until they expire.
 */
static void
rekey_apply(struct eng_rx *rx, struct eng_rsess *rs, const struct xf_hs_rec *hs)
{
	struct xf_secure_limits lim;

	if (!xf_hs_rec_same(hs, rs->hello_ident)) {
		rx->hs_rekey_changed++;
		if (!rs->rekey_changed_logged) {
			/* Once a session: its peer holds the keys and could repeat it. */
			rs->rekey_changed_logged = true;
			XF_LOG(WARNING, MODULE,
			       "session %08x: a new handshake asked for another destination, "
			       "volume, rules, flags or limit than the session's: refused",
			       rs->id);
		}
		return;
	}
	limits(rx->e, &lim);
	if (xf_secure_sess_offer(&rs->sec, rx->cmgr, &hs->keys, &lim, rx->now) < 0) {
		rx->hs_failed++;
		return;
	}
	rx->handshakes++;
	hello_ack_out(rx, rs, &rs->sec.next, xf_secure_sess_next_epoch(&rs->sec), hs->hello.nonce,
	              hs->msg2);
}

/*
 * Responder: pass a HELLO that passed eng_secure_hello_gate to the handshake thread: a
 * new session's (kind XF_HS_NEW), or a new handshake of session rs (XF_HS_REKEY). The
 * record takes a copy of the HELLO and of peer pi's handshake state.
 * @return 0, or -ENOBUFS: this core's queue is full, the HELLO is dropped (counted,
 *         drops.hs_queue_full; the initiator sends it again).
 */
int
eng_secure_hs_submit(struct eng_rx *rx, enum xf_hs_kind kind, int pi, const struct xf_msg *hello,
                     uint32_t ip, uint16_t port, const struct rte_ether_addr *mac,
                     const struct eng_rsess *rs)
{
	static const uint8_t no_mac[6];
	struct xf_hs_rec *r =
	        xf_hs_queue_fill(&rx->hsq, kind, hello, &rx->npeers[pi], (uint16_t)pi, ip, port,
	                         mac != NULL ? mac->addr_bytes : no_mac, rx->now);

	if (r == NULL) {
		return -ENOBUFS; /* counted in hsq.full (the gate let through only message 1s) */
	}
	if (rs != NULL) {
		r->rs = (uint16_t)(rs - rx->rs);
		r->rs_gen = rx->rs_gen[r->rs];
	}
	rx->hs_dh++;
	xf_hs_queue_submit(&rx->hsq, r);
	return 0;
}

static void job_hs_apply(struct eng_rx *rx, struct xf_hs_rec *r);

/*
 * Apply the handshake thread's answers, in the order asked: the initiator's to its jobs
 * (job_hs_apply), the responder's to its sessions. A responder's answer whose session
 * or peer went meanwhile is stale (drops.hs_stale): a session that ended (its slot
 * perhaps taken by another: the slot's generation says), a peer a reload re-keyed or
 * moved. A message 1 answered while a copy of it was in flight is a replay once the
 * first is taken (its timestamp is no longer newer: drops.hs_replay). Each record is
 * wiped once applied. @return true if there was any (busy).
 */

bool
eng_secure_hs_poll(struct eng_rx *rx)
{
	struct xf_hs_rec *hs;
	bool busy = false;

	if (!rx->e->aead) {
		return false; /* session.security none: no handshakes, no queue */
	}
	while ((hs = xf_hs_queue_result(&rx->hsq)) != NULL) {
		struct eng_rsess *rs = hs->kind == XF_HS_REKEY ? &rx->rs[hs->rs] : NULL;
		int rc = hs->rc;

		busy = true;
		if (hs->kind == XF_HS_MSG1 || hs->kind == XF_HS_MSG2) {
			job_hs_apply(rx, hs); /* a push's or a pull's */
		} else if (rs != NULL && !xf_hs_rec_current(hs, rs->used && !rs->closing,
		                                            rx->rs_gen[hs->rs], rs->id)) {
			rx->hs_stale++;
		} else if (rc < 0 ||
		           (rc = xf_hs_rec_adopt(hs, &rx->npeers[hs->peer])) == -EALREADY) {
			count_hs_failure(rx, rc);
		} else if (rc < 0 || !rx->peer_present[hs->peer]) {
			rx->hs_stale++; /* re-keyed or removed by a reload */
		} else if (rs != NULL) {
			rekey_apply(rx, rs, hs);
		} else {
			eng_rs_open_keyed(rx, hs);
		}
		xf_hs_queue_done(&rx->hsq, hs);
	}
	return busy;
}

static void count_open_failure(struct eng_rx *rx, int rc);

static uint16_t
ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

/*
 * Initiator: a cookie reply (a HELLO_ACK of COOKIE_FRAME bytes, in clear) to the job's
 * outstanding message 1, the first HELLO's or a new handshake's. Its AEAD (keyed by the
 * responder's public key, bound to our message 1's mac1) is what authenticates it; the
 * HELLO fields around it must be exactly those of a cookie reply to our HELLO. The next
 * message 1 carries mac2: a new handshake's goes out at the next poll, the first HELLO's
 * copy at its retransmission (eng_secure_hello_again). @return 1 (taken), or a negative
 * errno: dropped, counted.
 */
static int
job_cookie(struct eng_rx *rx, struct eng_job *j, const uint8_t *frame)
{
	const uint8_t *b = frame + XF_HDR_LEN;
	int rc;

	if (ld32(b + 12) != XF_HELLO_F_COOKIE || ld64(b + 16) != j->nonce || ld16(b + 24) != 0 ||
	    ld16(b + 26) != XF_NOISE_COOKIE_LEN_MSG) {
		rx->hs_bad_cookie++;
		return -EBADMSG;
	}
	rc = xf_noise_consume_cookie(&j->hs, b + HELLO_BODY, XF_NOISE_COOKIE_LEN_MSG, rx->now);
	if (rc < 0) {
		rx->hs_bad_cookie++; /* another message 1's, none outstanding, or forged */
		return rc;
	}
	rx->cookies_taken++;
	if (j->rekeying) {
		j->rekey_sent_ns = rx->now - ENG_REKEY_RETRY_NS;
	}
	return 1;
}

/*
 * Initiator: a HELLO_ACK (len bytes) for the handshake thread to read its message 2
 * against the job's handshakes: with rekey, the new handshake's; else the first HELLO's
 * and its earlier copies' (the responder answers the first copy it got), newest first.
 * Its length and message 2's mac1 are checked here (no DH, no allocation); a failure
 * leaves the handshake as it was, for the right answer or (a new handshake's) the retry
 * timer. @return 1 (taken: its answer is applied at a later poll, job_answer_apply), or a
 * negative errno: dropped, counted.
 */
static int
job_answer_ask(struct eng_rx *rx, struct eng_job *j, const uint8_t *frame, uint16_t len, bool rekey)
{
	const struct xf_noise_hs *try[XF_HS_TRY_MAX];
	unsigned int n = 0, want = rekey ? 1u : 1u + j->n_hs_old;
	bool spent = false;
	struct xf_hs_rec *r;
	int rc;

	_Static_assert(ENG_HELLO_FRESH_MAX + 1u <= XF_HS_TRY_MAX, "a record tries every copy");
	if (len != HELLO_ACK_FRAME) {
		rx->auth_no_keys++; /* not the answer to our HELLO: nothing opens it */
		return -EBADMSG;
	}
	rc = xf_noise_response_check(&j->hs, frame + XF_HDR_LEN + HELLO_BODY, XF_NOISE_MSG2_LEN);
	if (rc < 0) {
		rx->hs_bad_response++;
		return rc;
	}
	/* Each read is two DH, and a forged answer with a valid mac1 costs its sender
	 * nothing: at most ENG_HS_ANSWER_MAX a second (then dropped, counted; the genuine
	 * answer comes again with the next HELLO). */
	while (n < want) {
		if (!xf_hs_budget_take(&j->answer_budget, ENG_HS_ANSWER_MAX, rx->now)) {
			spent = true;
			break;
		}
		try[n] = n == 0 ? &j->hs : &j->hs_old[j->n_hs_old - n];
		n++;
	}
	if (n == 0) {
		rx->hs_response_rate++;
		return -EBUSY;
	}
	r = xf_hs_queue_fill_msg2(&rx->hsq, try, n, &j->npeer, frame, len, XF_HDR_LEN + HELLO_BODY,
	                          rx->now);
	if (r == NULL) {
		return -ENOBUFS; /* counted in hsq.full; the answer comes again */
	}
	job_rec(rx, j, r, rekey ? ENG_HS_REANSWER : ENG_HS_ANSWER);
	r->budget_short = spent;
	xf_hs_queue_submit(&rx->hsq, r);
	return 1;
}

/*
 * Initiator: the first HELLO_ACK, its keys now the session's, opened under them and
 * read as any answer of the session (as if it had come now: it did not reach the codec
 * when it came).
 */
static void
job_answer_deliver(struct eng_rx *rx, struct eng_job *j, struct xf_hs_rec *r)
{
	enum xf_proto_reason why = XF_R_OK;
	uint16_t len = r->frame_len;
	struct xf_msg msg;

	if (eng_secure_rx(rx, r->frame, &len, r->ip, r->port) != 0) {
		return; /* counted there */
	}
	if (xf_proto_decode(r->frame, len, &msg, &why) < 0) {
		rx->bad_frames++;
		rx->frame_drops[why < XF_R_MAX ? why : 0]++;
		return;
	}
	xf_push_on_frame(j->push, &msg, r->frame_len, rx->now);
}

/*
 * Initiator: the handshake thread's reading of a HELLO_ACK's message 2 (r). The first
 * answer gives the session its keys; a new handshake's keys are held as next only while
 * its tag is checked under them, then replace the session's, whose receive half stays for
 * reordered frames (xf_secure_sess_switch). An answer the job no longer waits for (keyed
 * meanwhile, by another copy; a new handshake replaced or done) is stale (drops.hs_stale).
 */
static void
job_answer_apply(struct eng_rx *rx, struct eng_job *j, struct xf_hs_rec *r, bool rekey)
{
	bool epoch = (ld16(r->frame + 4) & XF_HDR_F_KEY_EPOCH) != 0;
	struct xf_secure_limits lim;
	int rc;

	if (rekey ? !j->sec_ready || !j->rekeying ||
	                    !xf_hs_rec_for_job(r, true, j->id, j->hs_seq, true) ||
	                    epoch != xf_secure_sess_next_epoch(&j->sec)
	          : j->sec_ready) {
		rx->hs_stale++;
		return;
	}
	if (r->rc < 0) {
		/* The budget spent before every copy was tried: counted as refused. */
		rx->hs_response_rate += r->budget_short;
		rx->hs_bad_response += !r->budget_short;
		return;
	}
	xf_noise_hs_wipe(&j->hs);
	if (!rekey) {
		OPENSSL_cleanse(j->hs_old, sizeof(j->hs_old));
		j->n_hs_old = 0;
		xf_noise_hs_wipe(&j->hs_copy);
		j->copy_ready = false;
	}
	limits(rx->e, &lim);
	rc = rekey ? xf_secure_sess_offer(&j->sec, rx->cmgr, &r->keys, &lim, rx->now)
	           : xf_secure_sess_init(&j->sec, rx->cmgr, &r->keys, &lim, rx->now);
	if (rc < 0) {
		rx->hs_failed++;
		return;
	}
	if (!rekey) {
		j->sec_ready = true;
		rx->handshakes++;
		job_answer_deliver(rx, j, r);
		return;
	}
	rc = xf_secure_frame_open(&j->sec.next, rx->cmgr, r->frame, r->frame_len, rx->now);
	if (rc < 0) {
		xf_secure_sess_drop_next(&j->sec);
		count_open_failure(rx, rc);
		return;
	}
	rx->unsealed++;
	xf_secure_sess_switch(&j->sec, rx->now);
	j->rekeying = false;
	rx->handshakes++;
	rx->rekeys++;
}

static void
count_open_failure(struct eng_rx *rx, int rc)
{
	rx->auth_failed += rc == -EBADMSG;
	rx->auth_replayed += rc == -EALREADY;
	rx->auth_too_old += rc == -ESTALE;
	rx->auth_expired += rc == -EKEYEXPIRED;
}

/*
 * A received frame, before the codec: open it in place with its session's keys. A HELLO
 * is left in clear (its message 1 is checked when the session opens), and so is a frame
 * whose header the codec will refuse anyway (it counts the reason).
 * @return 0 (decode *len bytes), 1 (taken here: a HELLO_ACK whose message 2 the handshake
 *         thread reads), or a negative errno: drop, counted.
 */
int
eng_secure_rx(struct eng_rx *rx, uint8_t *frame, uint16_t *len, uint32_t ip, uint16_t port)
{
	uint16_t flags;
	uint32_t id;
	struct xf_secure_sess *ss;
	struct xf_secure *s;
	int rc;

	/* A header the codec refuses is left to it: it counts the exact reason. */
	flags = *len >= XF_HDR_LEN ? ld16(frame + 4) : 0;
	if (*len < XF_HDR_LEN || ld16(frame) != XF_PROTO_MAGIC || frame[2] != XF_PROTO_VERSION ||
	    frame[3] == 0 || frame[3] > XF_MSG_PING || ld16(frame + 6) != *len - XF_HDR_LEN ||
	    !xf_proto_hdr_flags_ok(frame[3],
	                           flags & (uint16_t) ~(XF_HDR_F_KEY_PHASE | XF_HDR_F_KEY_EPOCH)) ||
	    ld32(frame + 8) == 0 || ld32(frame + 12) != 0) {
		return 0;
	}
	id = ld32(frame + 8);
	if (flags & XF_HDR_F_REPLY) {
		struct eng_job *j = eng_job_by_session(rx, id, ip, port);

		if (j == NULL) {
			rx->no_session++;
			return -ENOENT;
		}
		if (frame[3] == XF_MSG_HELLO_ACK && *len == COOKIE_FRAME) {
			return job_cookie(rx, j, frame); /* no sealed frame is this short */
		}
		if (!j->sec_ready) {
			if (frame[3] != XF_MSG_HELLO_ACK) {
				rx->auth_no_keys++;
				return -ENOKEY;
			}
			return job_answer_ask(rx, j, frame, *len, false);
		}
		if (j->rekeying && frame[3] == XF_MSG_HELLO_ACK &&
		    ((flags & XF_HDR_F_KEY_EPOCH) != 0) == xf_secure_sess_next_epoch(&j->sec)) {
			return job_answer_ask(rx, j, frame, *len, true);
		}
		ss = &j->sec;
	} else {
		struct eng_rsess *rs;

		if (frame[3] == XF_MSG_HELLO) {
			return 0;
		}
		rs = eng_rs_find(rx, id, ip, port);
		if (rs == NULL) {
			rx->no_session++;
			return -ENOENT;
		}
		ss = &rs->sec;
	}
	s = xf_secure_sess_rx_keys(ss, (flags & XF_HDR_F_KEY_EPOCH) != 0, rx->now);
	if (s == NULL) {
		rx->auth_no_keys++; /* an epoch whose keys are gone, or never were */
		return -ENOKEY;
	}
	/* A number far above the highest one accepted is refused before it can verify and
	 * slide the replay window past numbers the peer has not sent yet (a peer's frame
	 * numbered 2^64-1 would make every later one stale), as the reliability layer does
	 * (docs/PROTOCOL.md 6.2). */
	if (s->rx.win.any && ld64(frame + 16) > s->rx.win.top + ENG_SEC_PN_AHEAD) {
		rx->pn_ahead++;
		return -ERANGE;
	}
	rc = xf_secure_frame_open(s, rx->cmgr, frame, *len, rx->now);
	if (rc < 0) {
		count_open_failure(rx, rc);
		return rc;
	}
	rx->unsealed++;
	rx->rekeys += xf_secure_sess_opened(ss, s, rx->now);
	*len = (uint16_t)rc;
	return 0;
}

/*
 * Seal a frame of ours for sending. A frame the session keeps for retransmission (a
 * second reference) is sealed into another mbuf (a warm one: xf_engine_sealbuf.h),
 * straight from its plaintext (no copy first: the cipher writes the copy anyway): its
 * plaintext goes out again under a new packet number, never the same ciphertext. m's
 * reference passes to the result.
 * @return the frame to send (*len updated), or NULL: dropped and counted.
 */
struct rte_mbuf *
eng_secure_tx(struct eng_rx *rx, struct xf_secure_sess *s, struct rte_mbuf *m, uint16_t *len)
{
	uint8_t *src = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;
	struct rte_mbuf *out = m;
	uint8_t *frame = src;
	int rc;

	if (rte_mbuf_refcnt_read(m) > 1) {
		/* Into a warm mbuf where one is free again (xf_engine_sealbuf.h). */
		out = xf_sealbuf_get(&rx->sealbuf, rx->e->mp);
		if (out == NULL) {
			rx->tx_full++;
			rte_pktmbuf_free(m);
			return NULL;
		}
		frame = rte_pktmbuf_mtod(out, uint8_t *) + XF_NET_HDR_LEN;
	}
	/* The epoch bit is in the header, the associated data, so it is set before sealing;
	 * on a kept frame it is set in the session's copy, whose header is written again
	 * before every send. */
	set_epoch(src, s->epoch);
	rc = xf_secure_frame_seal_to(&s->cur, rx->cmgr, src, frame, *len, rx->now);
	if (out != m) {
		rte_pktmbuf_free(m); /* the kept reference stays with the session */
	}
	if (rc < 0) {
		rx->nonce_refused += rc == -EINVAL;
		rte_pktmbuf_free(out);
		return NULL;
	}
	rx->sealed++;
	*len = (uint16_t)rc;
	return out;
}

/* Off the fast path (a session's poll): start a key update when one is due, and derive
 * the keys after an update. */
void
eng_secure_maintain(struct eng_rx *rx, struct xf_secure_sess *ss)
{
	struct xf_secure *s = &ss->cur;

	if (xf_secure_should_key_update(s) && xf_secure_key_update(s) == 0) {
		rx->key_updates++;
	}
	if (!__atomic_load_n(&s->tx.next_ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&s->rx.next_ready, __ATOMIC_ACQUIRE)) {
		xf_secure_maintain(s, rx->cmgr);
	}
}

/*
 * Initiator: message 1 of a new handshake, in a HELLO of the running session (same id,
 * flags, max_payload, window and destination: the same prologue). Fresh each time (new
 * ephemeral key and timestamp: the handshake thread made it, job_hs_apply), so an answer
 * lost costs one retry, and a captured one replays nothing.
 */
static void
rekey_out(struct eng_rx *rx, struct eng_job *j)
{
	const struct xf_engine_peer *peer = &rx->peers[j->req.peer];
	struct xf_msg h = { .hdr = { .type = XF_MSG_HELLO, .session = j->session_id } };
	struct rte_mbuf *m;
	uint8_t *frame;
	int len;

	if (!eng_tx_room(rx, 2) || (m = eng_frame_new(rx, &frame)) == NULL) {
		return; /* sent again on the retry timer */
	}
	h.hello.min_version = h.hello.max_version = XF_PROTO_VERSION;
	h.hello.max_payload = j->hello_max_payload;
	h.hello.flags = j->hello_flags;
	h.hello.window = j->hello_window;
	h.hello.nonce = j->nonce;
	/* The options and the destination field are message 1's payload (j->sealed). */
	h.hello.auth = j->rekey_msg1;
	h.hello.auth_len = j->msg1_len;
	/* In clear, as every HELLO (message 1 protects itself), numbered 0: a HELLO's number
	 * is never taken as seen, and nothing seals under it. */
	len = xf_proto_encode(frame, j->hello_max_payload, &h);
	if (len < 0) {
		rte_pktmbuf_free(m);
		return;
	}
	eng_frame_out(rx, m, (uint16_t)len, peer->ip, peer->udp_port, j->lane_port);
}

/* A push's keys off the fast path: key updates, and a new handshake when one is due (its
 * message 1 asked of the handshake thread; the queue full: asked again at the next poll). */
void
eng_secure_job_poll(struct eng_rx *rx, struct eng_job *j)
{
	eng_secure_maintain(rx, &j->sec);
	if (!j->rekey_asked &&
	    (j->rekeying ? rx->now - j->rekey_sent_ns >= ENG_REKEY_RETRY_NS
	                 : xf_secure_sess_should_rekey(&j->sec, rx->now)) &&
	    msg1_ask(rx, j, ENG_HS_REKEY) == 0) {
		j->rekey_asked = true;
	}
}

/*
 * Initiator: the first HELLO sent again (m, the session's copy, len bytes) as a copy
 * with a fresh message 1 (new ephemeral key and timestamp), so that a HELLO captured
 * and replayed is stale and a cookie's mac2 can be added; the handshake of the one
 * before is kept, since the responder answers the first copy it got. The handshake
 * thread makes each copy ahead (copy_ask): here only its MACs are added. After
 * ENG_HELLO_FRESH_MAX copies, or while the next one is not made yet (it is asked for),
 * the HELLO is sent as it is. m's reference passes to the result. @return the frame to
 * send, or NULL (no mbuf: counted, sent later).
 */
struct rte_mbuf *
eng_secure_hello_again(struct eng_rx *rx, struct eng_job *j, struct rte_mbuf *m, uint16_t len)
{
	const uint8_t *in = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;
	/* The push's HELLO: no destination in clear, message 1 after the fixed fields. */
	size_t auth = XF_HDR_LEN + HELLO_BODY;
	struct rte_mbuf *out;
	struct xf_noise_hs h;
	uint8_t *frame;

	if (j->n_hs_old == ENG_HELLO_FRESH_MAX || ld16(in + XF_HDR_LEN + 24) != 0 ||
	    auth + j->msg1_len != len) {
		return m;
	}
	if (!j->copy_ready) {
		copy_ask(rx, j);
		return m;
	}
	out = eng_frame_new(rx, &frame);
	if (out == NULL) {
		rx->tx_full++;
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(frame, in, len);
	rte_pktmbuf_free(m);
	memcpy(frame + auth, j->copy_msg1, j->msg1_len);
	h = j->hs_copy;
	xf_noise_hs_wipe(&j->hs_copy);
	j->copy_ready = false;
	if (xf_noise_initiate_macs(&h, &rx->jar, &j->npeer, rx->now, frame + auth, j->msg1_len) <
	    0) {
		memcpy(frame + auth, j->msg1, j->msg1_len); /* the last one again */
		rx->hs_failed++;
	} else {
		j->hs_old[j->n_hs_old++] = j->hs;
		j->hs = h;
		j->hs_seq++;
		memcpy(j->msg1, frame + auth, j->msg1_len);
	}
	xf_noise_hs_wipe(&h);
	copy_ask(rx, j);
	return out;
}

/* The job slot r was made for, if this core still runs that job (a slot it no longer
 * runs may be the control thread's, or another job's). */
static struct eng_job *
job_running(struct eng_rx *rx, const struct xf_hs_rec *r)
{
	for (unsigned int k = 0; k < rx->njobs; k++) {
		struct eng_job *j = &rx->e->jobs[rx->jobs[k]];

		if (rx->jobs[k] == r->job && xf_hs_rec_for_job(r, true, j->id, j->hs_seq, false)) {
			return j;
		}
	}
	return NULL;
}

/*
 * Initiator: apply the handshake thread's answer r for a job, in the order asked. A job
 * that ended or was cancelled meanwhile (its slot perhaps another job's now) takes
 * nothing: stale (drops.hs_stale). The caller wipes the record.
 */
static void
job_hs_apply(struct eng_rx *rx, struct xf_hs_rec *r)
{
	struct eng_job *j;
	int rc;

	if (r->use == ENG_HS_FIRST) {
		j = eng_job_waiting(rx, r->job, r->job_id);
		if (j == NULL || !j->hello_asked) {
			rx->hs_stale++; /* cancelled while its message 1 was made */
			return;
		}
		j->hello_asked = false;
		rc = msg1_take(rx, j, r, &j->hs, j->msg1);
		rx->hs_failed += rc < 0;
		eng_job_hello_made(rx, j, rc);
		return;
	}
	j = job_running(rx, r);
	if (j == NULL) {
		rx->hs_stale++;
		return;
	}
	switch (r->use) {
	case ENG_HS_COPY:
		j->copy_asked = false;
		if (r->rc < 0) {
			rx->hs_failed++;
		} else if (!j->sec_ready) {
			j->hs_copy = r->ihs[0]; /* its MACs when it goes out */
			memcpy(j->copy_msg1, r->msg1, j->msg1_len);
			j->copy_ready = true;
		}
		break;
	case ENG_HS_REKEY:
		j->rekey_asked = false;
		if (!j->sec_ready) {
			rx->hs_stale++;
		} else if (msg1_take(rx, j, r, &j->hs, j->rekey_msg1) < 0) {
			rx->hs_failed++; /* asked again at the next poll, or at the retry timer */
		} else {
			j->rekeying = true;
			j->rekey_sent_ns = rx->now;
			rekey_out(rx, j);
		}
		break;
	case ENG_HS_ANSWER:
	case ENG_HS_REANSWER:
		job_answer_apply(rx, j, r, r->use == ENG_HS_REANSWER);
		break;
	default:
		rx->hs_stale++;
		break;
	}
}

/* A job's handshakes and keys wiped when it ends (its records in flight are then stale). */
void
eng_secure_job_end(struct eng_job *j)
{
	xf_noise_hs_wipe(&j->hs);
	OPENSSL_cleanse(j->hs_old, sizeof(j->hs_old));
	j->n_hs_old = 0;
	xf_noise_hs_wipe(&j->hs_copy);
	OPENSSL_cleanse(j->copy_msg1, sizeof(j->copy_msg1));
	j->copy_ready = j->copy_asked = j->rekey_asked = j->hello_asked = false;
	xf_secure_sess_wipe(&j->sec);
	j->rekeying = false;
	j->sec_ready = false;
}
