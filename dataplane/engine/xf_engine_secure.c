/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authenticated, encrypted sessions on an RX core (docs/SECURITY.md 8): the Noise
 * IKpsk2 handshake carried in HELLO/HELLO_ACK, both roles, and AEAD on every frame after
 * it. Received frames are opened here before the codec reads their payload; frames
 * leave through eng_secure_tx, sealed after their header is final.
 *
 * Each RX core has its own ipsec-mb manager (made at start: sealing and opening allocate
 * nothing) and its own copy of the peers' handshake state. The handshake itself (X25519
 * and HKDF through OpenSSL, which allocates) runs on the RX core that receives the HELLO
 * or runs the push: mac1 is checked first (one HMAC), so a frame without knowledge of our
 * public key costs no Diffie-Hellman work.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "xf_base.h"
#include "xf_engine_priv.h"

#define MODULE "engine"

_Static_assert(XF_HELLO_AUTH_LEN == XF_NOISE_MSG1_LEN, "HELLO carries message 1");
_Static_assert(XF_HELLO_ACK_AUTH_LEN == XF_NOISE_MSG2_LEN, "HELLO_ACK carries message 2");

/* The HELLO body (docs/PROTOCOL.md 3.1) and its offsets inside a frame. */
#define HELLO_BODY      28u
#define HELLO_ACK_FRAME (XF_HDR_LEN + HELLO_BODY + XF_NOISE_MSG2_LEN + XF_SECURE_FRAME_OVERHEAD)
/* Packet numbers accepted above the highest one opened: the reliability layer's receive
 * window (docs/RELIABILITY.md, "Packet-number window"). */
#define ENG_SEC_PN_AHEAD 8192u

int
eng_secure_create(struct xf_engine *e)
{
	const struct xf_engine_conf *c = &e->conf;

	e->aead = !c->security_none;
	if (!e->aead) {
		return 0;
	}
	if (c->has_private_key && xf_noise_static_init(&e->local, c->private_key) < 0) {
		XF_LOG(ERR, MODULE, "the private key is not a usable X25519 key");
		return -EINVAL;
	}
	for (unsigned int r = 0; r < c->n_rx; r++) {
		struct eng_rx *rx = &e->rx[r];

		rx->cmgr = xf_crypto_mgr_create();
		if (rx->cmgr == NULL) {
			XF_LOG(ERR, MODULE, "AES-GCM (ipsec-mb): %s", strerror(errno));
			return -errno;
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

void
eng_secure_destroy(struct xf_engine *e)
{
	for (unsigned int r = 0; r < XF_ENGINE_MAX_RX; r++) {
		xf_crypto_mgr_free(e->rx[r].cmgr);
		e->rx[r].cmgr = NULL;
		OPENSSL_cleanse(e->rx[r].npeers, sizeof(e->rx[r].npeers));
		OPENSSL_cleanse(&e->rx[r].jar, sizeof(e->rx[r].jar));
	}
	for (unsigned int i = 0; i < XF_ENGINE_MAX_RX; i++) {
		for (unsigned int k = 0; k < ENG_RSESS_MAX; k++) {
			xf_secure_wipe(&e->rx[i].rs[k].sec);
		}
	}
	OPENSSL_cleanse(&e->local, sizeof(e->local));
}

/*
 * The prologue binds what the HELLO offers: the protocol version in the header and the
 * HELLO's flags and max_payload (and, with XF_HELLO_F_DELETE, its window: the limit), so that a
 * middlebox that changed any of them (to turn AEAD off, say) makes the handshake fail.
 */
void
eng_secure_prologue(struct xf_noise_prologue *pro, uint32_t hello_flags, uint16_t max_payload,
                    uint32_t hello_window)
{
	pro->version = XF_PROTO_VERSION;
	pro->capabilities = (uint32_t)max_payload << 16 | (hello_flags & 0xffffu);
	/* A deleting session's limit too: a middlebox must not raise it. */
	pro->has_options = (hello_flags & XF_HELLO_F_DELETE) != 0;
	pro->options = pro->has_options ? hello_window : 0;
}

static uint64_t
unix_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Limits of a session's keys. A new handshake every 120 s is not run yet, so the age
 * limits are off rather than ending every session at 180 s; key updates by frame count
 * (xf_secure_should_key_update) keep each key under AES-GCM's limit.
 */
static void
limits(struct xf_secure_limits *lim)
{
	xf_secure_limits_default(lim);
	lim->rekey_ns = UINT64_MAX;
	lim->reject_ns = UINT64_MAX;
}

/* Initiator: the HELLO's message 1 for a job, before its session is made. */
int
eng_secure_job_start(struct eng_rx *rx, struct eng_job *j, uint32_t hello_flags,
                     uint16_t max_payload, uint32_t hello_window)
{
	const struct xf_engine_conf *c = &rx->e->conf;
	const struct xf_engine_peer *peer = &c->peers[j->req.peer];
	struct xf_noise_prologue pro;

	if (!c->has_private_key || !peer->has_key) {
		return -ENOKEY;
	}
	/* This core's state of the peer holds its key and the PSK (the configuration's
	 * copies are wiped once the engine is made). */
	j->npeer = rx->npeers[j->req.peer];
	eng_secure_prologue(&pro, hello_flags, max_payload, hello_window);
	j->sec_ready = false;
	return xf_noise_initiate(&j->hs, &rx->e->local, &j->npeer, &pro, j->session_id, NULL,
	                         unix_now(), rx->now, j->msg1);
}

/*
 * Responder: the handshake of a HELLO from the peer at index pi (its source address),
 * after the session slot was taken. Writes message 2 for the HELLO_ACK and installs the
 * session's keys. @return 0, or a negative errno (counted; the HELLO is dropped unanswered).
 */
int
eng_secure_accept(struct eng_rx *rx, struct eng_rsess *rs, int pi, const struct xf_msg *hello,
                  uint8_t *msg2)
{
	struct xf_engine *e = rx->e;
	struct xf_noise_prologue pro;
	struct xf_noise_hs hs;
	struct xf_noise_keys keys;
	struct xf_secure_limits lim;
	uint8_t src[6];
	int rc;

	if (!(hello->hello.flags & XF_HELLO_F_AEAD)) {
		rx->hs_mode++; /* a peer asking for frames in clear: never, with AEAD on */
		return -EPROTO;
	}
	if (!e->conf.has_private_key || !e->conf.peers[pi].has_key) {
		rx->hs_no_key++;
		return -ENOKEY;
	}
	memcpy(src, &rs->peer_ip, 4);
	src[4] = (uint8_t)(rs->peer_port >> 8);
	src[5] = (uint8_t)rs->peer_port;
	rc = xf_noise_check_macs(&e->local, &rx->jar, hello->hello.auth, hello->hello.auth_len, src,
	                         sizeof(src), false, rx->now);
	if (rc < 0) {
		rx->hs_bad_mac++;
		return rc;
	}
	eng_secure_prologue(&pro, hello->hello.flags, hello->hello.max_payload,
	                    hello->hello.window);
	/* Only the key the allowlist names for this source address counts: another peer's
	 * key from this address is unknown here (-ENOKEY), and each address keeps its own
	 * last timestamp. */
	rc = xf_noise_consume_initiation(&hs, &e->local, &rx->npeers[pi], 1, &pro,
	                                 hello->hello.auth, hello->hello.auth_len);
	if (rc < 0) {
		rx->hs_no_key += rc == -ENOKEY;
		rx->hs_replay += rc == -EALREADY;
		rx->hs_failed += rc != -ENOKEY && rc != -EALREADY;
		return rc;
	}
	rc = xf_noise_respond(&hs, rs->id, NULL, msg2, &keys);
	limits(&lim);
	rc = rc < 0 ? rc : xf_secure_init(&rs->sec, rx->cmgr, &keys, &lim, rx->now);
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (rc < 0) {
		rx->hs_failed++;
		return rc;
	}
	rx->handshakes++;
	return 0;
}

/* Initiator: the HELLO_ACK's message 2 finishes the job's handshake. */
static int
job_finish(struct eng_rx *rx, struct eng_job *j, const uint8_t *frame, uint16_t len)
{
	struct xf_noise_keys keys;
	struct xf_secure_limits lim;
	int rc;

	if (len != HELLO_ACK_FRAME) {
		rx->auth_no_keys++; /* not the answer to our HELLO: nothing opens it */
		return -EBADMSG;
	}
	rc = xf_noise_consume_response(&j->hs, frame + XF_HDR_LEN + HELLO_BODY, XF_NOISE_MSG2_LEN,
	                               &keys);
	if (rc < 0) {
		rx->hs_bad_response++;
		return rc;
	}
	limits(&lim);
	rc = xf_secure_init(&j->sec, rx->cmgr, &keys, &lim, rx->now);
	OPENSSL_cleanse(&keys, sizeof(keys));
	if (rc < 0) {
		rx->hs_failed++;
		return rc;
	}
	j->sec_ready = true;
	rx->handshakes++;
	return 0;
}

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
 * @return 0 (decode *len bytes), or a negative errno: drop, counted.
 */
int
eng_secure_rx(struct eng_rx *rx, uint8_t *frame, uint16_t *len, uint32_t ip, uint16_t port)
{
	uint16_t flags;
	uint32_t id;
	struct xf_secure *s;
	int rc;

	/* A header the codec refuses is left to it: it counts the exact reason. */
	if (*len < XF_HDR_LEN || ld16(frame) != XF_PROTO_MAGIC || frame[2] != XF_PROTO_VERSION ||
	    frame[3] == 0 || frame[3] > XF_MSG_PING || ld16(frame + 6) != *len - XF_HDR_LEN ||
	    (ld16(frame + 4) &
	     ~(XF_HDR_F_NOACK | XF_HDR_F_REPLY | XF_HDR_F_ACKNOW | XF_HDR_F_KEY_PHASE)) != 0 ||
	    ld32(frame + 8) == 0 || ld32(frame + 12) != 0) {
		return 0;
	}
	flags = ld16(frame + 4);
	id = ld32(frame + 8);
	if (flags & XF_HDR_F_REPLY) {
		struct eng_job *j = eng_job_by_session(rx, id, ip, port);

		if (j == NULL) {
			rx->no_session++;
			return -ENOENT;
		}
		if (!j->sec_ready) {
			if (frame[3] != XF_MSG_HELLO_ACK) {
				rx->auth_no_keys++;
				return -ENOKEY;
			}
			rc = job_finish(rx, j, frame, *len);
			if (rc < 0) {
				return rc;
			}
		}
		s = &j->sec;
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
		s = &rs->sec;
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
	*len = (uint16_t)rc;
	return 0;
}

/*
 * Seal a frame of ours for sending. A frame the session keeps for retransmission (a
 * second reference) is sealed into a new frame, straight from its plaintext (no copy
 * first: the cipher writes the new frame anyway): its plaintext goes out again under a
 * new packet number, never the same ciphertext. m's reference passes to the result.
 * @return the frame to send (*len updated), or NULL: dropped and counted.
 */
struct rte_mbuf *
eng_secure_tx(struct eng_rx *rx, struct xf_secure *s, struct rte_mbuf *m, uint16_t *len)
{
	const uint8_t *src = rte_pktmbuf_mtod(m, uint8_t *) + XF_NET_HDR_LEN;
	struct rte_mbuf *out = m;
	uint8_t *frame = (uint8_t *)src;
	int rc;

	if (rte_mbuf_refcnt_read(m) > 1) {
		out = eng_frame_new(rx, &frame);
		if (out == NULL) {
			rx->tx_full++;
			rte_pktmbuf_free(m);
			return NULL;
		}
	}
	rc = xf_secure_frame_seal_to(s, rx->cmgr, src, frame, *len, rx->now);
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
eng_secure_maintain(struct eng_rx *rx, struct xf_secure *s)
{
	if (xf_secure_should_key_update(s)) {
		xf_secure_key_update(s);
	}
	if (!__atomic_load_n(&s->tx.next_ready, __ATOMIC_ACQUIRE) ||
	    !__atomic_load_n(&s->rx.next_ready, __ATOMIC_ACQUIRE)) {
		xf_secure_maintain(s, rx->cmgr);
	}
}
