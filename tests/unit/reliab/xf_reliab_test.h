/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the reliability engine's test files share: the callback log, the sender helpers
 * (mk, send_tracked, ack1), and the cases each file contributes to the one program.
 */
#ifndef XF_RELIAB_TEST_H
#define XF_RELIAB_TEST_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_base.h"
#include "xf_proto.h"
#include "xf_reliab.h"

#define MS 1000000ull
#define US 1000ull

/* --- callback log ----------------------------------------------------------------- */

#define LOG_MAX 4096

struct cb_log {
	uint64_t acked[LOG_MAX];
	unsigned int n_acked;
	uint64_t lost[LOG_MAX];
	unsigned int n_lost;
	uint64_t spurious[LOG_MAX];
	unsigned int n_spurious;
};

static inline void
log_acked(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_acked < LOG_MAX) {
		l->acked[l->n_acked++] = f->pn;
	}
}

static inline void
log_lost(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_lost < LOG_MAX) {
		l->lost[l->n_lost++] = f->pn;
	}
}

static inline void
log_spurious(void *arg, const struct xf_reliab_sent *f)
{
	struct cb_log *l = arg;

	if (l->n_spurious < LOG_MAX) {
		l->spurious[l->n_spurious++] = f->pn;
	}
}

static inline struct xf_reliab *
mk(struct xf_reliab_cfg *cfg, struct cb_log *log)
{
	struct xf_reliab *r;

	if (log != NULL) {
		memset(log, 0, sizeof(*log));
		cfg->on_acked = log_acked;
		cfg->on_lost = log_lost;
		cfg->on_spurious = log_spurious;
		cfg->cb_arg = log;
	}
	r = xf_reliab_create(cfg, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

static inline uint64_t
send_tracked(struct xf_reliab *r, uint64_t now, uint64_t tag)
{
	uint64_t pn = UINT64_MAX;

	CU_ASSERT_EQUAL(xf_reliab_on_sent(r, now, 1000, NULL, tag, XF_RELIAB_F_ACK_ELICITING, &pn),
	                0);
	return pn;
}

static inline int
ack1(struct xf_reliab *r, uint64_t now, uint64_t first, uint64_t last, uint32_t delay_us)
{
	struct xf_ack_range a = { .first = first, .last = last };

	return xf_reliab_on_ack(r, now, last, delay_us, &a, 1);
}

/* splitmix64: the seeded stream of the simulations */
static inline uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline uint64_t
absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* Cases defined in the topic files, listed in the table of test_reliab.c. */
void test_loss_thresholds(void);
void test_loss_packet_threshold_burst(void);
void test_spurious_after_reuse(void);
void test_pto_backoff(void);
void test_pto_tail_loss(void);
void test_pto_probe_ack_resets_backoff(void);
void test_pto_acks_too(void);
void test_pto_handshake(void);
void test_rx_duplicates(void);
void test_rx_missing(void);
void test_rx_pn_ahead(void);
void test_initial_pn(void);
void test_ack_ranges_patterns(void);
void test_ack_ranges_random(void);
void test_ack_schedule(void);
void test_pacer(void);
void test_outage_recovers(void);
void test_timers(void);
void test_return_path(void);
void test_keepalive_both_idle(void);
void test_simulation(void);

#endif /* XF_RELIAB_TEST_H */
