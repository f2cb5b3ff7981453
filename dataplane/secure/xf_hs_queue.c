/* SPDX-License-Identifier: BSD-3-Clause */
/* The handshakes off the RX core, both roles (xf_hs_queue.h, docs/SECURITY.md 3). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "xf_hs_queue.h"
#include "xf_ring.h"

_Static_assert((XF_HS_QUEUE_LEN & (XF_HS_QUEUE_LEN - 1)) == 0, "a power of two");

int
xf_hs_queue_init(struct xf_hs_queue *q, const char *name, unsigned int rx_core,
                 unsigned int hs_core, struct xf_hs_bell *bell)
{
	char n[32];

	/* Each ring holds every record at most once, so neither is ever full. */
	snprintf(n, sizeof(n), "%s_req", name);
	q->req = xf_ring_create(n, XF_HS_QUEUE_LEN, sizeof(uint32_t), rx_core, hs_core, -1);
	snprintf(n, sizeof(n), "%s_res", name);
	q->res = xf_ring_create(n, XF_HS_QUEUE_LEN, sizeof(uint32_t), hs_core, rx_core, -1);
	if (q->req == NULL || q->res == NULL) {
		xf_hs_queue_fini(q);
		return -ENOMEM;
	}
	q->head = q->n = 0;
	q->bell = bell;
	return 0;
}

void
xf_hs_queue_fini(struct xf_hs_queue *q)
{
	xf_ring_free(q->req);
	xf_ring_free(q->res);
	q->req = q->res = NULL;
	OPENSSL_cleanse(q->rec, sizeof(q->rec));
	q->head = q->n = 0;
}

/* The next free record, or NULL: the queue is full (counted). */
static struct xf_hs_rec *
take(struct xf_hs_queue *q)
{
	if (q->n == XF_HS_QUEUE_LEN) {
		q->full++;
		return NULL;
	}
	return &q->rec[(q->head + q->n) % XF_HS_QUEUE_LEN];
}

struct xf_hs_rec *
xf_hs_queue_fill(struct xf_hs_queue *q, enum xf_hs_kind kind, const struct xf_msg *hello,
                 const struct xf_noise_peer *npeer, uint16_t peer, uint32_t ip, uint16_t port,
                 const uint8_t *mac, uint64_t now_ns)
{
	const struct xf_msg_hello *h = &hello->hello;
	struct xf_hs_rec *r;

	/* The codec let through only a sealed field (XF_HELLO_F_SEALED_DEST) with AEAD. */
	if (h->auth == NULL || h->auth_len < XF_NOISE_MSG1_LEN || h->auth_len > XF_NOISE_MSG1_MAX ||
	    xf_hello_dest_field_len(h) != 0 || (kind != XF_HS_NEW && kind != XF_HS_REKEY)) {
		return NULL;
	}
	r = take(q);
	if (r == NULL) {
		return NULL;
	}
	r->kind = (uint8_t)kind;
	r->peer = peer;
	r->rs = 0;
	r->rs_gen = 0;
	r->ip = ip;
	r->port = port;
	memcpy(r->mac, mac, sizeof(r->mac));
	r->asked_ns = now_ns;
	r->hdr = hello->hdr;
	r->hello = *h;
	memcpy(r->msg1, h->auth, h->auth_len);
	r->hello.dest = NULL; /* set again by xf_hs_rec_hello: nothing points outside */
	r->hello.rules = NULL;
	r->hello.auth = NULL;
	r->npeer = *npeer;
	r->rc = -EINPROGRESS;
	return r;
}

struct xf_hs_rec *
xf_hs_queue_fill_msg1(struct xf_hs_queue *q, const struct xf_noise_peer *npeer,
                      const struct xf_noise_prologue *pro, uint32_t local_index, uint64_t unix_ns,
                      const uint8_t *payload, size_t payload_len, uint64_t now_ns)
{
	struct xf_hs_rec *r;

	if (payload_len > XF_NOISE_PAYLOAD_MAX || (payload == NULL && payload_len != 0)) {
		return NULL;
	}
	r = take(q);
	if (r == NULL) {
		return NULL;
	}
	/* The record was wiped when last done (or never used): only what this kind reads is
	 * written. */
	r->kind = XF_HS_MSG1;
	r->asked_ns = now_ns;
	r->hdr.session = local_index;
	r->hello.auth_len = (uint16_t)(XF_NOISE_MSG1_LEN + payload_len);
	r->pro = *pro;
	r->unix_ns = unix_ns;
	if (payload_len != 0) {
		memcpy(r->payload, payload, payload_len);
	}
	r->npeer = *npeer;
	r->rc = -EINPROGRESS;
	return r;
}

struct xf_hs_rec *
xf_hs_queue_fill_msg2(struct xf_hs_queue *q, const struct xf_noise_hs *const *hs, unsigned int n,
                      const struct xf_noise_peer *npeer, const uint8_t *frame, size_t frame_len,
                      size_t msg2_off, uint64_t now_ns)
{
	struct xf_hs_rec *r;

	if (n == 0 || n > XF_HS_TRY_MAX || frame_len > sizeof(r->frame) ||
	    msg2_off + XF_NOISE_MSG2_LEN > frame_len) {
		return NULL;
	}
	r = take(q);
	if (r == NULL) {
		return NULL;
	}
	r->kind = XF_HS_MSG2;
	r->asked_ns = now_ns;
	memcpy(r->frame, frame, frame_len);
	r->frame_len = (uint16_t)frame_len;
	memcpy(r->msg2, frame + msg2_off, XF_NOISE_MSG2_LEN);
	r->npeer = *npeer;
	/* The copies read nothing of the RX core's: their peer is the record's, and they
	 * have no jar (message 2's mac1 was checked on the RX core's). */
	for (unsigned int i = 0; i < n; i++) {
		r->ihs[i] = *hs[i];
		r->ihs[i].peer = &r->npeer;
		r->ihs[i].jar = NULL;
	}
	r->n_try = (uint8_t)n;
	r->rc = -EINPROGRESS;
	return r;
}

bool
xf_hs_queue_pending(const struct xf_hs_queue *q, uint32_t session, uint32_t ip, uint16_t port)
{
	for (unsigned int i = 0; i < q->n; i++) {
		const struct xf_hs_rec *r = &q->rec[(q->head + i) % XF_HS_QUEUE_LEN];

		if ((r->kind == XF_HS_NEW || r->kind == XF_HS_REKEY) && r->hdr.session == session &&
		    r->ip == ip && r->port == port) {
			return true;
		}
	}
	return false;
}

void
xf_hs_queue_submit(struct xf_hs_queue *q, struct xf_hs_rec *r)
{
	uint32_t i = (uint32_t)(r - q->rec);

	/* Never full: at most XF_HS_QUEUE_LEN records are in flight (xf_hs_queue_fill). */
	(void)xf_ring_enqueue_burst(q->req, &i, 1);
	q->n++;
	if (q->bell != NULL) {
		xf_hs_bell_ring(q->bell); /* after the enqueue: the thread finds the record */
	}
}

unsigned int
xf_hs_queue_serve(struct xf_hs_queue *q, const struct xf_noise_static *local, unsigned int max)
{
	uint32_t idx[XF_HS_QUEUE_LEN];
	unsigned int n = xf_ring_dequeue_burst(q->req, idx, XF_MIN(max, XF_HS_QUEUE_LEN));

	for (unsigned int i = 0; i < n; i++) {
		struct xf_hs_rec *r = &q->rec[idx[i] % XF_HS_QUEUE_LEN];

		if (r->kind == XF_HS_MSG1 || r->kind == XF_HS_MSG2) {
			xf_hs_initiate(r, local);
		} else {
			xf_hs_respond(r, local);
		}
	}
	/* The record's bytes are out before its index: the ring's enqueue releases them. */
	(void)xf_ring_enqueue_burst(q->res, idx, n);
	return n;
}

struct xf_hs_rec *
xf_hs_queue_result(struct xf_hs_queue *q)
{
	uint32_t i;

	if (xf_ring_dequeue_burst(q->res, &i, 1) != 1) {
		return NULL;
	}
	/* In order: the handshake thread answers the requests as they came. */
	return &q->rec[i % XF_HS_QUEUE_LEN];
}

void
xf_hs_queue_done(struct xf_hs_queue *q, struct xf_hs_rec *r)
{
	OPENSSL_cleanse(r, sizeof(*r));
	q->head = (q->head + 1) % XF_HS_QUEUE_LEN;
	q->n--;
}

void
xf_hs_prologue(struct xf_noise_prologue *pro, uint32_t hello_flags, uint16_t max_payload,
               uint32_t hello_window)
{
	pro->version = XF_PROTO_VERSION;
	pro->capabilities = (uint32_t)max_payload << 16 | (hello_flags & 0xffffu);
	/* A deleting session's limit too: a middlebox must not raise it. Under AEAD the
	 * HELLO's flags are XF_HELLO_F_CLEAR_AEAD and its window 0 (bound here, so a HELLO
	 * stripped of XF_HELLO_F_SEALED_OPTS fails); the real options and the destination
	 * field need no place here: they are message 1's payload, which the handshake
	 * authenticates (its tag, under the hash the prologue starts) and hides. */
	pro->has_options = (hello_flags & XF_HELLO_F_DELETE) != 0;
	pro->options = pro->has_options ? hello_window : 0;
	/* And the flags from bit 16 on (XF_HELLO_F_FILTERS): every flag is bound. */
	pro->flags_hi = hello_flags >> 16;
}

int
xf_hs_respond(struct xf_hs_rec *r, const struct xf_noise_static *local)
{
	size_t payload = r->hello.auth_len - XF_NOISE_MSG1_LEN;
	struct xf_noise_prologue pro;
	struct xf_noise_hs hs;
	int rc;

	xf_hs_prologue(&pro, r->hello.flags, r->hello.max_payload, r->hello.window);
	rc = xf_noise_consume_initiation(&hs, local, &r->npeer, 1, &pro, r->msg1, r->hello.auth_len,
	                                 (uint8_t *)r->dest);
	/* The initiator's index is the session id it names in every header. */
	if (rc == 0 && hs.remote_index != r->hdr.session) {
		xf_noise_hs_wipe(&hs);
		rc = -EBADMSG;
	}
	/* The sealed block (XF_HELLO_F_SEALED_OPTS): the real flags and limit into the
	 * record, judged as the codec judges a HELLO's, then the field as the codec reads one
	 * in clear (the peer holds the key: a malformed one is its fault, not a forgery).
	 * Only lengths stay: xf_hs_rec_hello points them. */
	if (rc == 0 && xf_proto_hello_unseal(&r->hello, r->dest, payload) != XF_R_OK) {
		xf_noise_hs_wipe(&hs);
		rc = -EPROTO;
	}
	if (rc == 0 &&
	    xf_hs_ident(&r->hello, r->dest, xf_hello_dest_field_len(&r->hello), r->ident) < 0) {
		xf_noise_hs_wipe(&hs);
		rc = -EIO;
	}
	r->hello.dest = NULL;
	r->hello.rules = NULL;
	if (rc == 0) {
		rc = xf_noise_respond(&hs, r->hdr.session, NULL, r->msg2, &r->keys);
	}
	r->rc = rc;
	return rc;
}

int
xf_hs_initiate(struct xf_hs_rec *r, const struct xf_noise_static *local)
{
	int rc = -EINVAL;

	if (r->kind == XF_HS_MSG1) {
		rc = xf_noise_initiate_noise(&r->ihs[0], local, &r->npeer, &r->pro, r->hdr.session,
		                             NULL, r->unix_ns, r->payload,
		                             r->hello.auth_len - XF_NOISE_MSG1_LEN, r->msg1);
		OPENSSL_cleanse(r->payload, sizeof(r->payload));
	} else if (r->kind == XF_HS_MSG2) {
		rc = -EBADMSG;
		for (unsigned int i = 0; rc != 0 && i < r->n_try && i < XF_HS_TRY_MAX; i++) {
			rc = xf_noise_response_finish(&r->ihs[i], r->msg2, XF_NOISE_MSG2_LEN,
			                              &r->keys);
			r->tried = (uint8_t)i;
		}
		/* What goes back is the keys: the handshakes stay with the RX core. */
		OPENSSL_cleanse(r->ihs, sizeof(r->ihs));
	}
	r->rc = rc;
	return rc;
}

int
xf_hs_ident(const struct xf_msg_hello *h, const char *field, size_t field_len,
            uint8_t out[XF_HS_IDENT_LEN])
{
	uint8_t fixed[14];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	/* Big-endian, fixed width: no two HELLOs encode alike. */
	for (int i = 0; i < 4; i++) {
		fixed[i] = (uint8_t)(h->flags >> (24 - 8 * i));
		fixed[6 + i] = (uint8_t)(h->window >> (24 - 8 * i));
		fixed[10 + i] = (uint8_t)((uint32_t)field_len >> (24 - 8 * i));
	}
	fixed[4] = (uint8_t)(h->max_payload >> 8);
	fixed[5] = (uint8_t)h->max_payload;
	ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(c, fixed, sizeof(fixed)) == 1 &&
	     EVP_DigestUpdate(c, field, field_len) == 1 && EVP_DigestFinal_ex(c, out, NULL) == 1;
	EVP_MD_CTX_free(c);
	if (!ok) {
		memset(out, 0, XF_HS_IDENT_LEN);
		return -EIO;
	}
	return 0;
}

bool
xf_hs_rec_same(const struct xf_hs_rec *r, const uint8_t ident[XF_HS_IDENT_LEN])
{
	return CRYPTO_memcmp(r->ident, ident, XF_HS_IDENT_LEN) == 0;
}

int
xf_hs_rec_adopt(const struct xf_hs_rec *r, struct xf_noise_peer *npeer)
{
	if (CRYPTO_memcmp(r->npeer.pub, npeer->pub, sizeof(npeer->pub)) != 0) {
		return -ENOKEY;
	}
	/* TAI64N orders as bytes (big-endian). */
	if (memcmp(r->npeer.last_ts, npeer->last_ts, sizeof(npeer->last_ts)) <= 0) {
		return -EALREADY;
	}
	memcpy(npeer->last_ts, r->npeer.last_ts, sizeof(npeer->last_ts));
	return 0;
}

bool
xf_hs_rec_current(const struct xf_hs_rec *r, bool slot_used, uint32_t slot_gen,
                  uint32_t slot_session)
{
	return slot_used && slot_gen == r->rs_gen && slot_session == r->hdr.session;
}

bool
xf_hs_rec_for_job(const struct xf_hs_rec *r, bool slot_held, uint32_t job_id, uint32_t job_seq,
                  bool seq_matters)
{
	return slot_held && r->job_id == job_id && (!seq_matters || r->job_seq == job_seq);
}

void
xf_hs_rec_hello(const struct xf_hs_rec *r, struct xf_msg *out)
{
	memset(out, 0, sizeof(*out));
	out->hdr = r->hdr;
	out->hello = r->hello;
	out->hello.dest = r->dest;
	out->hello.rules = r->hello.rules_len != 0 ? r->dest + r->hello.dest_len + 1 : NULL;
	out->hello.auth = r->msg1;
}
