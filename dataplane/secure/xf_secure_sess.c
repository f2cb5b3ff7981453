/* SPDX-License-Identifier: BSD-3-Clause */
/* A session's transport keys across handshakes (xf_secure_sess.h). */
#include <string.h>

#include <openssl/crypto.h>

#include "xf_secure_sess.h"

int
xf_secure_sess_init(struct xf_secure_sess *ss, struct xf_crypto_mgr *mgr,
                    const struct xf_noise_keys *k, const struct xf_secure_limits *lim,
                    uint64_t now_ns)
{
	xf_secure_sess_wipe(ss);
	return xf_secure_init(&ss->cur, mgr, k, lim, now_ns);
}

int
xf_secure_sess_offer(struct xf_secure_sess *ss, struct xf_crypto_mgr *mgr,
                     const struct xf_noise_keys *k, const struct xf_secure_limits *lim,
                     uint64_t now_ns)
{
	int rc = xf_secure_init(&ss->next, mgr, k, lim, now_ns);

	ss->has_next = rc == 0;
	return rc;
}

void
xf_secure_sess_drop_next(struct xf_secure_sess *ss)
{
	xf_secure_wipe(&ss->next);
	ss->has_next = false;
}

void
xf_secure_sess_switch(struct xf_secure_sess *ss, uint64_t now_ns)
{
	ss->last_key_updates += ss->cur.st.key_updates_tx + ss->cur.st.key_updates_rx;
	ss->prev = ss->cur;
	ss->has_prev = true;
	ss->prev_until_ns = now_ns + ss->cur.lim.prev_key_ns;
	ss->cur = ss->next;
	xf_secure_sess_drop_next(ss);
	ss->epoch ^= 1u;
	ss->rekeys++;
}

struct xf_secure *
xf_secure_sess_rx_keys(struct xf_secure_sess *ss, uint8_t epoch, uint64_t now_ns)
{
	if (ss->has_prev && now_ns >= ss->prev_until_ns) {
		xf_secure_wipe(&ss->prev);
		ss->has_prev = false;
	}
	if ((epoch & 1u) == ss->epoch) {
		return &ss->cur;
	}
	/* A frame of the other epoch is of the handshake after cur (next) or of the one
	 * before it (prev): never both at once, since the responder switches at the first
	 * frame under next, and the initiator offers next only to check one answer. */
	return ss->has_next ? &ss->next : ss->has_prev ? &ss->prev : NULL;
}

bool
xf_secure_sess_opened(struct xf_secure_sess *ss, const struct xf_secure *keys, uint64_t now_ns)
{
	if (keys != &ss->next || !ss->has_next) {
		return false;
	}
	xf_secure_sess_switch(ss, now_ns);
	return true;
}

bool
xf_secure_sess_should_rekey(const struct xf_secure_sess *ss, uint64_t now_ns)
{
	return xf_secure_should_rekey(&ss->cur, now_ns);
}

uint64_t
xf_secure_sess_key_updates(const struct xf_secure_sess *ss)
{
	return ss->last_key_updates + ss->cur.st.key_updates_tx + ss->cur.st.key_updates_rx;
}

void
xf_secure_sess_wipe(struct xf_secure_sess *ss)
{
	OPENSSL_cleanse(ss, sizeof(*ss));
}
