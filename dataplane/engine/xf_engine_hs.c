/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake thread: the Noise handshakes of both roles (X25519 and HKDF through OpenSSL,
 * which allocates), off the RX cores (docs/SECURITY.md 3, docs/ENGINE.md): the responder's,
 * and the initiator's message 1 and reading of message 2. A plain
 * pthread, not an EAL lcore: it is not part of the dataplane, may allocate and be
 * descheduled, and takes no core of its own (on a 2-CPU machine it shares them with
 * everything else, as the control thread does). It polls each RX core's queue
 * (xf_hs_queue.h) in turn and answers what it finds; when it finds nothing it sleeps until
 * an RX core submits a request and rings its doorbell (xf_hs_bell.h), so an idle thread
 * costs no CPU and a request waits only for the wake-up.
 */
#include <errno.h>
#include <string.h>

#include <sys/prctl.h>

#include "xf_engine_priv.h"

#define MODULE "engine"

/* Records answered per RX core per turn, so that one core's flood delays the others'
 * HELLOs by at most this many handshakes. */
#define HS_TURN 4u

static void *
hs_loop(void *arg)
{
	struct xf_engine *e = arg;

	xf_core_set_self(ENG_HS_CORE);
	prctl(PR_SET_NAME, "xferd-hs");
	for (;;) {
		/* The token before the stop flag and the queues: a ring after it (a HELLO, or
		 * eng_hs_stop) keeps the wait below from sleeping. */
		uint32_t token = xf_hs_bell_token(&e->hs_bell);
		unsigned int n = 0;

		if (atomic_load_explicit(&e->hs_stop, memory_order_acquire)) {
			break;
		}
		for (unsigned int r = 0; r < e->conf.n_rx; r++) {
			n += xf_hs_queue_serve(&e->rx[r].hsq, &e->local, HS_TURN);
		}
		__atomic_store_n(&e->hs_dh_ops, xf_noise_dh_ops(), __ATOMIC_RELAXED);
		if (n == 0) {
			(void)xf_hs_bell_wait(&e->hs_bell, token);
		}
	}
	return NULL;
}

int
eng_hs_start(struct xf_engine *e)
{
	int rc;

	if (!e->aead) {
		return 0;
	}
	atomic_store(&e->hs_stop, false);
	rc = pthread_create(&e->hs_thread, NULL, hs_loop, e);
	if (rc != 0) {
		XF_LOG(ERR, MODULE, "handshake thread: %s", strerror(rc));
		return -rc;
	}
	e->hs_started = true;
	return 0;
}

/* After the RX cores have stopped: what is still in the queues is wiped at destroy. */
void
eng_hs_stop(struct xf_engine *e)
{
	if (!e->hs_started) {
		return;
	}
	atomic_store_explicit(&e->hs_stop, true, memory_order_release);
	xf_hs_bell_ring(&e->hs_bell);
	pthread_join(e->hs_thread, NULL);
	e->hs_started = false;
}
