/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The engine's reloadable parameters (dataplane/engine/xf_engine_params.c): defaults
 * from the engine's conf until the first publication, validation, and that a reader
 * racing a writer never sees a mix of two publications. No EAL needed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_engine_priv.h"

#define PUBLICATIONS 200000u

static struct xf_engine *
engine_new(void)
{
	struct xf_engine *e = calloc(1, sizeof(*e));

	if (e != NULL) {
		e->conf.rate_bps = 5000000;
		e->conf.congestion = 1; /* XF_CC_BBR */
		e->conf.timeout_ms = 10000;
		e->conf.keepalive_ms = 1000;
		e->conf.idle_poll = true;
	}
	return e;
}

static void
test_defaults_and_set(void)
{
	struct xf_engine *e = engine_new();
	struct xf_engine_params p, bad;

	CU_ASSERT_FATAL(e != NULL);
	xf_engine_get_params(e, &p);
	CU_ASSERT_EQUAL(p.rate_bps, e->conf.rate_bps);
	CU_ASSERT_EQUAL(p.congestion, e->conf.congestion);
	CU_ASSERT_EQUAL(p.timeout_ms, e->conf.timeout_ms);
	CU_ASSERT_EQUAL(p.keepalive_ms, e->conf.keepalive_ms);
	CU_ASSERT_EQUAL(p.idle_poll, e->conf.idle_poll);
	CU_ASSERT_EQUAL(xf_engine_idle_poll(e), e->conf.idle_poll);

	/* Refused sets publish nothing. */
	bad = (struct xf_engine_params){ .rate_bps = 1, .timeout_ms = 500, .keepalive_ms = 500 };
	CU_ASSERT_EQUAL(xf_engine_set_params(e, &bad), -EINVAL);
	bad.timeout_ms = 0;
	bad.keepalive_ms = 0;
	CU_ASSERT_EQUAL(xf_engine_set_params(e, &bad), -EINVAL);
	xf_engine_get_params(e, &p);
	CU_ASSERT_EQUAL(p.timeout_ms, e->conf.timeout_ms);

	p = (struct xf_engine_params){ .rate_bps = 25000000,
		                       .congestion = 2, /* XF_CC_SCAVENGER */
		                       .timeout_ms = 300,
		                       .keepalive_ms = 100,
		                       .idle_poll = false };
	CU_ASSERT_EQUAL(xf_engine_set_params(e, &p), 0);
	xf_engine_get_params(e, &bad);
	CU_ASSERT_EQUAL(bad.rate_bps, p.rate_bps);
	CU_ASSERT_EQUAL(bad.congestion, 2);
	CU_ASSERT_EQUAL(bad.timeout_ms, p.timeout_ms);
	CU_ASSERT_EQUAL(bad.keepalive_ms, p.keepalive_ms);
	CU_ASSERT_FALSE(bad.idle_poll);
	CU_ASSERT_FALSE(xf_engine_idle_poll(e));
	/* The conf the engine was created with is not touched. */
	CU_ASSERT_EQUAL(e->conf.timeout_ms, 10000);
	free(e);
}

struct race {
	struct xf_engine *e;
	atomic_bool done;
	unsigned long reads, torn;
};

/* Publication k: timeout k + 2, keepalive k + 1, rate k * 1000, idle k odd. */
static void *
writer(void *arg)
{
	struct race *r = arg;

	for (unsigned int k = 1; k <= PUBLICATIONS; k++) {
		struct xf_engine_params p = {
			.rate_bps = (uint64_t)k * 1000,
			.timeout_ms = k + 2,
			.keepalive_ms = k + 1,
			.idle_poll = (k & 1) != 0,
		};

		xf_engine_set_params(r->e, &p);
	}
	atomic_store(&r->done, true);
	return NULL;
}

static void
test_no_torn_reads(void)
{
	struct race r = { .e = engine_new() };
	pthread_t w;
	unsigned int last = 0;
	bool monotonic = true;

	CU_ASSERT_FATAL(r.e != NULL);
	CU_ASSERT_FATAL(pthread_create(&w, NULL, writer, &r) == 0);
	/* At least one read after the last publication, whenever the writer ends: on a loaded
	 * machine it may finish all of them before this thread first runs. */
	for (bool last_round = false; !last_round;) {
		struct xf_engine_params p;

		last_round = atomic_load(&r.done);
		xf_engine_get_params(r.e, &p);
		r.reads++;
		if (p.timeout_ms == r.e->conf.timeout_ms) {
			continue; /* before the first publication */
		}
		if (p.keepalive_ms + 1 != p.timeout_ms ||
		    p.rate_bps != (p.timeout_ms - 2) * 1000ull ||
		    p.idle_poll != (((p.timeout_ms - 2) & 1) != 0)) {
			r.torn++;
		}
		monotonic &= p.timeout_ms >= last;
		last = p.timeout_ms;
	}
	pthread_join(w, NULL);
	CU_ASSERT(r.reads > 0);
	CU_ASSERT_EQUAL(r.torn, 0);
	CU_ASSERT_TRUE(monotonic);
	free(r.e);
}

static const struct xf_test tests[] = {
	{ "defaults and set", test_defaults_and_set },
	{ "no torn reads", test_no_torn_reads },
};

int
main(void)
{
	return xf_test_main("engine params", NULL, NULL, XF_TESTS(tests));
}
