/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The handshake thread: the responder's Noise handshakes (X25519 and HKDF through OpenSSL,
 * which allocates), off the RX cores (docs/SECURITY.md 3, docs/ENGINE.md). A plain
 * pthread, not an EAL lcore: it is not part of the dataplane, may allocate and be
 * descheduled, and takes no core of its own (on a 2-CPU machine it shares them with
 * everything else, as the control thread does). It polls each RX core's queue
 * (xf_hs_queue.h) in turn and answers what it finds; idle, it sleeps (20 us, then 1 ms
 * after a second of nothing), so a HELLO waits at most about that long for it.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <sys/prctl.h>

#include "xf_engine_priv.h"

#define MODULE "engine"

/* Records answered per RX core per turn, so that one core's flood delays the others'
 * HELLOs by at most this many handshakes. */
#define HS_TURN 4u
/* Idle polls before the longer sleep (about one second at 20 us). */
#define HS_IDLE_LONG 50000u

static void *
hs_loop(void *arg)
{
	struct xf_engine *e = arg;
	unsigned int idle = 0;

	xf_core_set_self(ENG_HS_CORE);
	prctl(PR_SET_NAME, "xferd-hs");
	prctl(PR_SET_TIMERSLACK, 1000UL);
	while (!atomic_load_explicit(&e->hs_stop, memory_order_acquire)) {
		unsigned int n = 0;

		for (unsigned int r = 0; r < e->conf.n_rx; r++) {
			n += xf_hs_queue_serve(&e->rx[r].hsq, &e->local, HS_TURN);
		}
		__atomic_store_n(&e->hs_dh_ops, xf_noise_dh_ops(), __ATOMIC_RELAXED);
		if (n > 0) {
			idle = 0;
			continue;
		}
		idle += idle < HS_IDLE_LONG;
		nanosleep(&(struct timespec){ .tv_nsec = idle < HS_IDLE_LONG ? 20000 : 1000000 },
		          NULL);
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
	pthread_join(e->hs_thread, NULL);
	e->hs_started = false;
}
