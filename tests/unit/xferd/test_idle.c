/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The idle back-off of the polling lcores (xf_engine_idle(), xf_engine_rx.c), its sleeps
 * counted through -Wl,--wrap=nanosleep (none taken): an idle core spins 256 empty polls,
 * then sleeps 20, 40, 80 and 160 us, then 200 us a poll, so an idle appliance never
 * spins for good and a long wait costs few wake-ups (docs/ENGINE.md); a core that finds
 * work starts over; a core that waits for its peer alone (peer_bound) sleeps at once;
 * cores.idle poll never sleeps. No EAL needed.
 */
#include <stdlib.h>
#include <time.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_engine_priv.h"

int __wrap_nanosleep(const struct timespec *req, struct timespec *rem);

static unsigned int naps, naps_long;
static long nap_ns[8]; /* the first sleeps of a stretch, in order */

int
__wrap_nanosleep(const struct timespec *req, struct timespec *rem)
{
	(void)rem;
	if (naps < 8) {
		nap_ns[naps] = req->tv_sec * 1000000000l + req->tv_nsec;
	}
	naps++;
	naps_long += req->tv_sec > 0 || req->tv_nsec >= 200000;
	return 0;
}

/*
 * A stretch of max empty polls from a busy one, the core waiting for its peer alone from
 * its poll bound_from on (0: never).
 * @return the poll of its first sleep (0: none)
 */
static unsigned int
stretch_bound(struct xf_engine *e, unsigned int max, unsigned int bound_from)
{
	unsigned int idle = 0, first = 0;

	naps = 0;
	naps_long = 0;
	for (unsigned int i = 1; i <= max; i++) {
		xf_engine_idle(e, &idle, bound_from != 0 && i >= bound_from);
		if (naps == 1 && first == 0) {
			first = i;
		}
	}
	return first;
}

static unsigned int
stretch(struct xf_engine *e, unsigned int max)
{
	return stretch_bound(e, max, 0);
}

static void
test_backoff(void)
{
	struct xf_engine *e = calloc(1, sizeof(*e));

	CU_ASSERT_FATAL(e != NULL);
	/* Idle: a sleep every poll after the spin, each twice the last, then 200 us ones. */
	CU_ASSERT_EQUAL(stretch(e, 20000), 256);
	CU_ASSERT_EQUAL(naps, 20000 - 256 + 1);
	CU_ASSERT_EQUAL(nap_ns[0], 20000);
	CU_ASSERT_EQUAL(nap_ns[1], 40000);
	CU_ASSERT_EQUAL(nap_ns[2], 80000);
	CU_ASSERT_EQUAL(nap_ns[3], 160000);
	CU_ASSERT_EQUAL(nap_ns[4], 200000);
	CU_ASSERT_EQUAL(nap_ns[7], 200000);
	CU_ASSERT_EQUAL(naps_long, 20000 - 256 + 1 - 4);
	/* Work between stretches: each starts with the spin again. */
	for (unsigned int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(stretch(e, 255), 0);
	}
	/* ... and its sleeps with the shortest again. */
	CU_ASSERT_EQUAL(stretch(e, 259), 256);
	CU_ASSERT_EQUAL(naps, 4);
	CU_ASSERT_EQUAL(nap_ns[0], 20000);
	CU_ASSERT_EQUAL(nap_ns[3], 160000);
	CU_ASSERT_EQUAL(naps_long, 0);
	/* cores.idle poll: never a sleep. */
	e->conf.idle_poll = true;
	CU_ASSERT_EQUAL(stretch(e, 100000), 0);
	CU_ASSERT_EQUAL(naps, 0);
	free(e);
}

/*
 * A core whose only work waits for the peer (a sender out of credit or window,
 * xf_push_waits_peer) does not spin: it sleeps from its first empty poll, or from the
 * first poll it is found so, with the same doubling sleeps.
 */
static void
test_peer_bound(void)
{
	struct xf_engine *e = calloc(1, sizeof(*e));

	CU_ASSERT_FATAL(e != NULL);
	CU_ASSERT_EQUAL(stretch_bound(e, 1000, 1), 1);
	CU_ASSERT_EQUAL(naps, 1000);
	CU_ASSERT_EQUAL(nap_ns[0], 20000);
	CU_ASSERT_EQUAL(nap_ns[1], 40000);
	CU_ASSERT_EQUAL(nap_ns[3], 160000);
	CU_ASSERT_EQUAL(nap_ns[4], 200000);
	CU_ASSERT_EQUAL(naps_long, 1000 - 4);
	/* Spinning for its own work until poll 100, then waiting for the peer. */
	CU_ASSERT_EQUAL(stretch_bound(e, 102, 100), 100);
	CU_ASSERT_EQUAL(naps, 3);
	CU_ASSERT_EQUAL(nap_ns[0], 20000);
	CU_ASSERT_EQUAL(nap_ns[2], 80000);
	/* Work again (a frame of the peer's): the next wait sleeps at once again, from the
	 * shortest sleep. */
	CU_ASSERT_EQUAL(stretch_bound(e, 2, 1), 1);
	CU_ASSERT_EQUAL(nap_ns[0], 20000);
	CU_ASSERT_EQUAL(nap_ns[1], 40000);
	/* cores.idle poll: never a sleep, peer or not. */
	e->conf.idle_poll = true;
	CU_ASSERT_EQUAL(stretch_bound(e, 1000, 1), 0);
	CU_ASSERT_EQUAL(naps, 0);
	free(e);
}

static const struct xf_test tests[] = {
	{ "spin, sleeps doubling to 200 us; cores.idle poll never sleeps", test_backoff },
	{ "a core waiting for its peer alone sleeps at once", test_peer_bound },
};

int
main(void)
{
	return xf_test_main("idle", NULL, NULL, XF_TESTS(tests));
}
