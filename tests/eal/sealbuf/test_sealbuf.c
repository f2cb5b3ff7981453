/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_sealbuf (dataplane/engine/xf_engine_sealbuf.h) on a real mbuf pool (EAL without
 * hugepages or devices): a copy is written into a slot's mbuf again only once the TX
 * path has dropped its reference, it comes back reset, a copy still in flight is never
 * handed out twice, an empty pool fails cleanly, and every mbuf goes back to the pool.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "xf_test.h"

#include "xf_engine_sealbuf.h"

#define POOL 127u

static struct rte_mempool *mp;

static int
suite_init(void)
{
	/* --no-shconf: no runtime files, nothing shared with another EAL process. */
	char *argv[] = {
		"test_sealbuf",   "--no-huge",   "--no-pci",      "--no-shconf", "-m", "64",
		"--no-telemetry", "--log-level", "lib.eal:error", "-l",          "0"
	};

	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		return -1;
	}
	mp = rte_pktmbuf_pool_create("sealbuf", POOL, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                             SOCKET_ID_ANY);
	return mp == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}

/* What the TX path does with a frame once it is on the wire: drop its reference. */
static void
tx_done(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

/* One copy per slot, each with the caller's reference and the ring's. */
static void
fill(struct xf_sealbuf *sb, struct rte_mbuf **out)
{
	for (unsigned int i = 0; i < XF_SEALBUF_SLOTS; i++) {
		out[i] = xf_sealbuf_get(sb, mp);
		CU_ASSERT_PTR_NOT_NULL_FATAL(out[i]);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(out[i]), 2);
	}
}

/* The ring's references dropped last: every mbuf is back in the pool. */
static void
fini_all_back(struct xf_sealbuf *sb, unsigned int avail)
{
	xf_sealbuf_fini(sb);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), avail);
}

static void
test_reuse_after_tx(void)
{
	struct xf_sealbuf sb = { 0 };
	struct rte_mbuf *first[XF_SEALBUF_SLOTS], *m;
	unsigned int avail = rte_mempool_avail_count(mp);

	fill(&sb, first);
	for (unsigned int i = 0; i < XF_SEALBUF_SLOTS; i++) {
		first[i]->data_len = first[i]->pkt_len = 9000; /* as a sent frame has */
		first[i]->ol_flags = RTE_MBUF_F_TX_IPV4;
		tx_done(first[i]);
	}
	CU_ASSERT_EQUAL(sb.fresh, XF_SEALBUF_SLOTS);
	CU_ASSERT_EQUAL(sb.reused, 0);
	/* Round two: the same mbufs, in the same order, reset. */
	for (unsigned int i = 0; i < XF_SEALBUF_SLOTS; i++) {
		m = xf_sealbuf_get(&sb, mp);
		CU_ASSERT_PTR_EQUAL(m, first[i]);
		CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 2);
		CU_ASSERT_EQUAL(m->data_len, 0);
		CU_ASSERT_EQUAL(m->pkt_len, 0);
		CU_ASSERT_EQUAL(m->ol_flags, 0);
		CU_ASSERT_EQUAL(m->data_off, RTE_MIN(RTE_PKTMBUF_HEADROOM, m->buf_len));
		tx_done(m);
	}
	CU_ASSERT_EQUAL(sb.reused, XF_SEALBUF_SLOTS);
	CU_ASSERT_EQUAL(rte_mempool_avail_count(mp), avail - XF_SEALBUF_SLOTS);
	fini_all_back(&sb, avail);
}

static void
test_in_flight_not_reused(void)
{
	struct xf_sealbuf sb = { 0 };
	struct rte_mbuf *held[XF_SEALBUF_SLOTS], *m;
	unsigned int avail = rte_mempool_avail_count(mp);

	fill(&sb, held);
	/* Slot 0 still queued (its TX reference held), slot 1 sent. */
	tx_done(held[1]);
	m = xf_sealbuf_get(&sb, mp);
	CU_ASSERT_PTR_NOT_EQUAL(m, held[0]);               /* never written while it may be read */
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(held[0]), 1); /* the TX path's alone now */
	CU_ASSERT_EQUAL(sb.fresh, XF_SEALBUF_SLOTS + 1);
	CU_ASSERT_PTR_EQUAL(xf_sealbuf_get(&sb, mp), held[1]);
	CU_ASSERT_EQUAL(sb.reused, 1);
	/* Everything back: the TX references, then the ring's. */
	tx_done(held[0]);
	tx_done(m);
	tx_done(held[1]);
	for (unsigned int i = 2; i < XF_SEALBUF_SLOTS; i++) {
		tx_done(held[i]);
	}
	fini_all_back(&sb, avail);
}

static void
test_pool_empty(void)
{
	struct xf_sealbuf sb = { 0 };
	struct rte_mbuf *all[POOL], *m;
	unsigned int avail = rte_mempool_avail_count(mp), n = 0;

	m = xf_sealbuf_get(&sb, mp); /* slot 0, kept in flight */
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	while (n < POOL && (all[n] = rte_pktmbuf_alloc(mp)) != NULL) {
		n++;
	}
	sb.next = 0; /* back to the busy slot: it needs a new mbuf, and none is left */
	CU_ASSERT_PTR_NULL(xf_sealbuf_get(&sb, mp));
	CU_ASSERT_PTR_EQUAL(sb.slot[0], m);
	CU_ASSERT_EQUAL(rte_mbuf_refcnt_read(m), 2);
	for (unsigned int i = 0; i < n; i++) {
		rte_pktmbuf_free(all[i]);
	}
	tx_done(m);
	fini_all_back(&sb, avail);
}

int
main(void)
{
	static const struct xf_test tests[] = {
		{ "a copy is reused once sent, reset", test_reuse_after_tx },
		{ "a copy in flight is never handed out again", test_in_flight_not_reused },
		{ "an empty pool fails and keeps the slot", test_pool_empty },
	};

	return xf_test_main("sealbuf", suite_init, suite_clean, XF_TESTS(tests));
}
