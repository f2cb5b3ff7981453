/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The allowlist replaced at run time (a reload: docs/CONTROL.md, docs/SECURITY.md 6).
 *
 * Peers live in slots. A peer keeps its slot for as long as it is configured, and a slot
 * is never given to another peer, so the slot a served session or a push holds (its
 * per-peer session count, its job's peer) names the same peer until it ends. The control
 * thread writes the next table into e->peers_next, derives the handshake state of each
 * changed peer there (SHA-256 through OpenSSL, which allocates: not on an RX core), and
 * publishes it by its generation number. Each RX core adopts it between two polls by
 * copying (no allocation, no lock), ends what it serves and pushes for a peer that was
 * removed or changed (address, UDP port or key: the keys its sessions were made with are
 * no longer the ones the allowlist names), and stores the generation; the control thread
 * waits for every RX core before it returns, and so before it writes the next table.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "xf_base.h"
#include "xf_engine_priv.h"

#define MODULE "engine"

/* How long the control thread waits for the RX cores to adopt a table. */
#define PEERS_ADOPT_NS (5ull * 1000000000ull)

/* The tables at start: the configured peers, slot i for peers[i], in the control
 * thread's view (peers_next, generation 0) and each RX core's. */
void
eng_peers_init(struct xf_engine *e)
{
	const struct xf_engine_conf *c = &e->conf;
	struct eng_peers_next *nx = &e->peers_next;

	for (unsigned int i = 0; i < c->n_peers; i++) {
		nx->peers[i] = c->peers[i];
		nx->present[i] = true;
	}
	nx->n = c->n_peers;
	for (unsigned int r = 0; r < c->n_rx; r++) {
		struct eng_rx *rx = &e->rx[r];

		memcpy(rx->peers, nx->peers, sizeof(rx->peers));
		memcpy(rx->peer_present, nx->present, sizeof(rx->peer_present));
		rx->n_peers = nx->n;
	}
}

static bool
same_peer(const struct xf_engine_peer *a, const struct xf_engine_peer *b)
{
	return a->ip == b->ip && a->udp_port == b->udp_port && a->has_key == b->has_key &&
	       (!a->has_key || memcmp(a->public_key, b->public_key, sizeof(a->public_key)) == 0);
}

/*
 * RX core: adopt the published table, if there is a new one. The slots that changed take
 * the new entry and handshake state (a re-keyed peer starts with no timestamp and no
 * cookie: its key is new); the others keep theirs. @return busy.
 */
bool
eng_peers_poll(struct eng_rx *rx)
{
	struct xf_engine *e = rx->e;
	const struct eng_peers_next *nx = &e->peers_next;
	unsigned int gen = atomic_load_explicit(&e->peers_gen, memory_order_acquire);

	if (gen == atomic_load_explicit(&rx->peers_gen, memory_order_relaxed)) {
		return false;
	}
	for (unsigned int s = 0; s < nx->n; s++) {
		if (!nx->changed[s]) {
			continue;
		}
		rx->peers[s] = nx->peers[s];
		rx->peer_present[s] = nx->present[s];
		if (e->aead) {
			rx->npeers[s] = nx->npeers[s]; /* zero for a removed or keyless peer */
		}
	}
	rx->n_peers = nx->n;
	for (unsigned int i = 0; i < ENG_RSESS_MAX; i++) {
		struct eng_rsess *rs = &rx->rs[i];

		if (rs->used && !rs->closing && nx->changed[rs->peer]) {
			eng_rs_peer_gone(rx, rs);
		}
	}
	eng_jobs_peer_gone(rx, nx->changed);
	atomic_store_explicit(&rx->peers_gen, gen, memory_order_release);
	return true;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
xf_engine_set_peers(struct xf_engine *e, const struct xf_engine_peer *peers, const bool *present,
                    unsigned int n_slots)
{
	struct eng_peers_next *nx = &e->peers_next;
	unsigned int gen = atomic_load_explicit(&e->peers_gen, memory_order_relaxed);
	bool changed[XF_ENGINE_MAX_PEERS];
	uint64_t deadline;
	unsigned int n_changed = 0;

	if (n_slots < e->conf.n_peers || n_slots > XF_ENGINE_MAX_PEERS) {
		return -EINVAL;
	}
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		if (atomic_load_explicit(&e->rx[r].peers_gen, memory_order_acquire) != gen) {
			return -EBUSY; /* the last table is not adopted everywhere yet */
		}
	}
	/* peers_next holds the running table (the last published, or the configured one):
	 * every RX core has adopted it. First what changes, and the new peers' handshake
	 * state (nothing reads npeers before the next generation); the table itself only
	 * once nothing can fail. */
	OPENSSL_cleanse(nx->npeers, sizeof(nx->npeers));
	for (unsigned int s = 0; s < n_slots; s++) {
		changed[s] = nx->present[s] != present[s] ||
		             (present[s] && !same_peer(&nx->peers[s], &peers[s]));
		if (changed[s] && present[s] && peers[s].has_key && e->aead &&
		    xf_noise_peer_init(&nx->npeers[s], peers[s].public_key,
		                       e->has_psk ? e->psk : NULL) < 0) {
			OPENSSL_cleanse(nx->npeers, sizeof(nx->npeers));
			return -EIO;
		}
		n_changed += changed[s];
	}
	for (unsigned int s = 0; s < n_slots; s++) {
		nx->changed[s] = changed[s];
		nx->present[s] = present[s];
		nx->peers[s] = present[s] ? peers[s] : (struct xf_engine_peer){ 0 };
	}
	nx->n = n_slots;
	/* The control thread's own view (xf_engine_push checks a slot against it). */
	memcpy(e->conf.peers, nx->peers, n_slots * sizeof(nx->peers[0]));
	e->conf.n_peers = n_slots;
	if (n_changed == 0) {
		return 0;
	}
	gen++;
	if (!e->launched) {
		/* No RX core runs: adopt here, as each would. */
		atomic_store_explicit(&e->peers_gen, gen, memory_order_release);
		for (unsigned int r = 0; r < e->conf.n_rx; r++) {
			eng_peers_poll(&e->rx[r]);
		}
		return 0;
	}
	atomic_store_explicit(&e->peers_gen, gen, memory_order_release);
	deadline = mono_ns() + PEERS_ADOPT_NS;
	for (unsigned int r = 0; r < e->conf.n_rx; r++) {
		while (atomic_load_explicit(&e->rx[r].peers_gen, memory_order_acquire) != gen) {
			struct timespec ms = { .tv_nsec = 1000000 };

			if (mono_ns() > deadline) {
				XF_LOG(WARNING, MODULE,
				       "RX core %u has not adopted the new peers yet", r);
				return -ETIMEDOUT;
			}
			nanosleep(&ms, NULL);
		}
	}
	XF_LOG(NOTICE, MODULE, "peers: %u slot(s) changed; their sessions and pushes end",
	       n_changed);
	return 0;
}
