/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lane split (xf_lanes.c): every entry in exactly one place, directories in the
 * directory pass in list order, each lane in list order and contiguous, hard links with
 * their leaders, and lanes balanced by bytes within one entry's weight of the mean, on
 * skewed mixes of sizes (seeded, so a failure repeats); the sessions' itemized records
 * merged back to their list indices; the Toeplitz hash against Microsoft's vectors and
 * the lanes' source ports under RSS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_lanes.h"
#include "xf_test.h"

#define LIST_MAX 4096

struct list {
	uint32_t n;
	struct xf_flist_entry e[LIST_MAX];
	char path[LIST_MAX][24];
};

static struct list L;

static void
entry_of(void *arg, uint32_t i, struct xf_flist_entry *e)
{
	const struct list *l = arg;

	CU_ASSERT_FATAL(i < l->n);
	*e = l->e[i];
}

static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
add(struct list *l, uint8_t kind, uint64_t size, const char *target)
{
	uint32_t i = l->n++;

	CU_ASSERT_FATAL(i < LIST_MAX);
	snprintf(l->path[i], sizeof(l->path[i]), "p%u", i);
	l->e[i] = (struct xf_flist_entry){
		.kind = kind,
		.size = kind == XF_FILE_DIR ? 0 : size,
		.path = l->path[i],
		.path_len = (uint16_t)strlen(l->path[i]),
		.target = target,
		.target_len = target != NULL ? (uint16_t)strlen(target) : 0,
	};
	if (kind == XF_FILE_HARDLINK || kind == XF_FILE_SYMLINK) {
		l->e[i].size = l->e[i].target_len;
	}
}

/* A scan-shaped tree: a directory, then its files; sizes from a skewed mix (most files
 * a few KiB, some MiB, a few hundred MiB), symlinks now and then. */
static void
make_tree(struct list *l, uint32_t n, uint64_t seed)
{
	rng_state = seed;
	l->n = 0;
	while (l->n < n) {
		uint64_t r = rng();

		if (r % 23 == 0 || l->n == 0) {
			add(l, XF_FILE_DIR, 0, NULL);
		} else if (r % 31 == 0) {
			add(l, XF_FILE_SYMLINK, 0, "somewhere");
		} else if (r % 97 == 0) {
			add(l, XF_FILE_REG, (rng() % 512) << 20, NULL); /* up to 512 MiB */
		} else if (r % 7 == 0) {
			add(l, XF_FILE_REG, rng() % (8u << 20), NULL);
		} else {
			add(l, XF_FILE_REG, rng() % 16384, NULL);
		}
	}
}

static uint64_t
weight(const struct xf_flist_entry *e)
{
	return (e->kind == XF_FILE_REG ? e->size : 0) + XF_LANE_ENTRY_COST;
}

/*
 * Everything the split promises except balance: each entry in exactly one place, the
 * directory pass = the directories in list order, each lane in list order, the lanes'
 * positional entries contiguous runs in lane order, hard links in their leader's lane,
 * and weight[] what the lanes hold.
 */
static void
check_structure(const struct list *l, const struct xf_lanes *s)
{
	static uint8_t seen[LIST_MAX];
	static int lane_of[LIST_MAX];
	uint32_t prev_last = 0;
	bool any = false;

	CU_ASSERT_EQUAL_FATAL(s->n, l->n);
	CU_ASSERT_EQUAL(s->start[0], s->ndirs);
	CU_ASSERT_EQUAL(s->start[s->nlanes], l->n);
	memset(seen, 0, sizeof(seen));
	for (uint32_t p = 0; p < l->n; p++) {
		CU_ASSERT_FATAL(s->order[p] < l->n);
		seen[s->order[p]]++;
	}
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(seen[i], 1);
	}
	for (uint32_t p = 0; p < s->ndirs; p++) {
		CU_ASSERT_EQUAL(l->e[s->order[p]].kind, XF_FILE_DIR);
		CU_ASSERT(p == 0 || s->order[p] > s->order[p - 1]);
	}
	for (unsigned int k = 0; k < s->nlanes; k++) {
		uint64_t w = 0;
		uint32_t first = UINT32_MAX, last = 0;

		for (uint32_t p = s->start[k]; p < s->start[k + 1]; p++) {
			const struct xf_flist_entry *e = &l->e[s->order[p]];

			CU_ASSERT_NOT_EQUAL(e->kind, XF_FILE_DIR);
			CU_ASSERT(p == s->start[k] || s->order[p] > s->order[p - 1]);
			lane_of[s->order[p]] = (int)k;
			w += e->kind == XF_FILE_HARDLINK ? XF_LANE_ENTRY_COST : weight(e);
			if (e->kind != XF_FILE_HARDLINK) {
				first = first < s->order[p] ? first : s->order[p];
				last = s->order[p];
			}
		}
		CU_ASSERT_EQUAL(w, s->weight[k]);
		if (first != UINT32_MAX) {
			CU_ASSERT(!any || first > prev_last); /* contiguous, in lane order */
			prev_last = last;
			any = true;
		}
	}
	for (uint32_t i = 0; i < l->n; i++) {
		if (l->e[i].kind != XF_FILE_HARDLINK) {
			continue;
		}
		for (uint32_t j = 0; j < i; j++) {
			if (l->e[j].kind == XF_FILE_REG &&
			    strcmp(l->path[j], l->e[i].target) == 0) {
				CU_ASSERT_EQUAL(lane_of[i], lane_of[j]);
			}
		}
	}
}

/* Balance: no lane over the mean by more than the heaviest entry; with lanes enough
 * entries to go round, none under it by more either. */
static void
check_balance(const struct list *l, const struct xf_lanes *s, bool lower)
{
	uint64_t total = 0, wmax = 0, sum = 0;

	for (uint32_t i = 0; i < l->n; i++) {
		if (l->e[i].kind != XF_FILE_DIR) {
			total += weight(&l->e[i]);
			wmax = weight(&l->e[i]) > wmax ? weight(&l->e[i]) : wmax;
		}
	}
	for (unsigned int k = 0; k < s->nlanes; k++) {
		sum += s->weight[k];
		CU_ASSERT(s->weight[k] <= total / s->nlanes + wmax);
		if (lower) {
			CU_ASSERT(s->weight[k] + wmax >= total / s->nlanes);
		}
	}
	CU_ASSERT_EQUAL(sum, total);
}

static void
test_bad_args(void)
{
	L.n = 0;
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_lanes_split(0, 0, entry_of, &L));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_lanes_split(0, XF_LANES_MAX + 1, entry_of, &L));
	CU_ASSERT_EQUAL(errno, EINVAL);
}

static void
test_empty_and_dirs_only(void)
{
	struct xf_lanes *s;

	L.n = 0;
	s = xf_lanes_split(0, 4, entry_of, &L);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (unsigned int k = 0; k < 4; k++) {
		CU_ASSERT_EQUAL(xf_lanes_count(s, k), 0);
	}
	xf_lanes_free(s);
	for (int i = 0; i < 5; i++) {
		add(&L, XF_FILE_DIR, 0, NULL);
	}
	s = xf_lanes_split(L.n, 3, entry_of, &L);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->ndirs, 5);
	CU_ASSERT_EQUAL(xf_lanes_count(s, 0) + xf_lanes_count(s, 1) + xf_lanes_count(s, 2), 0);
	CU_ASSERT_EQUAL(xf_lanes_count(s, 3), 0); /* past nlanes */
	check_structure(&L, s);
	xf_lanes_free(s);
}

/* Seeded skewed trees, every lane count: structure and both bounds. */
static void
test_skewed_mixes(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		make_tree(&L, LIST_MAX, seed * 0x9e3779b97f4a7c15ull);
		for (unsigned int n = 1; n <= XF_LANES_MAX; n++) {
			struct xf_lanes *s = xf_lanes_split(L.n, n, entry_of, &L);

			CU_ASSERT_PTR_NOT_NULL_FATAL(s);
			check_structure(&L, s);
			check_balance(&L, s, false);
			xf_lanes_free(s);
		}
	}
}

/* By bytes, not by count: 100 files of 1 MiB then 100 of 1 byte, two lanes. A split by
 * count would give lane 0 every MiB file; by bytes each lane holds about 50 of them. */
static void
test_bytes_not_count(void)
{
	struct xf_lanes *s;
	uint32_t big0 = 0;

	L.n = 0;
	add(&L, XF_FILE_DIR, 0, NULL);
	for (int i = 0; i < 100; i++) {
		add(&L, XF_FILE_REG, 1u << 20, NULL);
	}
	for (int i = 0; i < 100; i++) {
		add(&L, XF_FILE_REG, 1, NULL);
	}
	s = xf_lanes_split(L.n, 2, entry_of, &L);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_structure(&L, s);
	check_balance(&L, s, true);
	for (uint32_t p = s->start[0]; p < s->start[1]; p++) {
		big0 += L.e[s->order[p]].size == 1u << 20;
	}
	CU_ASSERT(big0 >= 49 && big0 <= 52);
	CU_ASSERT(xf_lanes_count(s, 1) > 140); /* the rest of the big ones and every small one */
	xf_lanes_free(s);
}

/* Many files of one size: every lane within one file of the mean, both ways. */
static void
test_uniform(void)
{
	L.n = 0;
	for (int i = 0; i < 1000; i++) {
		add(&L, i % 50 == 0 ? XF_FILE_DIR : XF_FILE_REG, 65536, NULL);
	}
	for (unsigned int n = 1; n <= XF_LANES_MAX; n++) {
		struct xf_lanes *s = xf_lanes_split(L.n, n, entry_of, &L);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		check_structure(&L, s);
		check_balance(&L, s, true);
		xf_lanes_free(s);
	}
}

/* One file of most of the bytes: alone, or nearly, in its lane; the others share the
 * rest; no lane over the mean by more than that file. */
static void
test_one_giant(void)
{
	struct xf_lanes *s;

	L.n = 0;
	add(&L, XF_FILE_DIR, 0, NULL);
	for (int i = 0; i < 300; i++) {
		add(&L, XF_FILE_REG, i == 150 ? 10ull << 30 : 100000, NULL);
	}
	s = xf_lanes_split(L.n, 4, entry_of, &L);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	check_structure(&L, s);
	check_balance(&L, s, false);
	for (unsigned int k = 0; k < 4; k++) {
		for (uint32_t p = s->start[k]; p < s->start[k + 1]; p++) {
			if (s->order[p] == 151) { /* the giant (index 0 is the directory) */
				CU_ASSERT(xf_lanes_count(s, k) <= 2);
			}
		}
	}
	xf_lanes_free(s);
}

/* Hard links go with their leaders, wherever they are listed; one whose leader is not
 * listed fails the split. */
static void
test_hard_links(void)
{
	struct xf_lanes *s;

	make_tree(&L, 2000, 42);
	/* Links, at the end of the list, to files all over it. */
	for (uint32_t i = 1; i < 2000; i += 97) {
		if (L.e[i].kind == XF_FILE_REG) {
			add(&L, XF_FILE_HARDLINK, 0, L.path[i]);
			add(&L, XF_FILE_HARDLINK, 0, L.path[i]);
		}
	}
	for (unsigned int n = 1; n <= 8; n++) {
		s = xf_lanes_split(L.n, n, entry_of, &L);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		check_structure(&L, s);
		xf_lanes_free(s);
	}
	add(&L, XF_FILE_HARDLINK, 0, "no-such-leader");
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_lanes_split(L.n, 2, entry_of, &L));
	CU_ASSERT_EQUAL(errno, ENOENT);
	/* A directory is no leader either. */
	L.n--;
	add(&L, XF_FILE_HARDLINK, 0, L.path[0]);
	CU_ASSERT_EQUAL(L.e[0].kind, XF_FILE_DIR);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_lanes_split(L.n, 2, entry_of, &L));
	CU_ASSERT_EQUAL(errno, ENOENT);
}

/* The queue rules send a frame to; -1: none matches; -2: more than one does. */
static int
rules_queue(const struct xf_lanes_rule *r, int n, uint16_t src, uint16_t dst)
{
	int q = -1;

	for (int i = 0; i < n; i++) {
		if (r[i].dst_port == dst && (r[i].src_port == 0 || r[i].src_port == src)) {
			q = q == -1 ? r[i].queue : -2;
		}
	}
	return q;
}

/* Every lane of a push from A to B lands on queue k % nq on both sides, and so do the
 * answers to A's sessions on its own port; nothing else is claimed twice. */
/* -i over lanes: records written by each session at its entries' place in the split
 * land at their list indices, whatever the split: directories, lanes, hard links. */
static void
test_items_merge(void)
{
	static uint16_t split_items[LIST_MAX], items[LIST_MAX];

	for (unsigned int nlanes = 1; nlanes <= XF_LANES_MAX; nlanes += 5) {
		struct xf_lanes *s;

		make_tree(&L, 1000, 7 + nlanes);
		s = xf_lanes_split(L.n, nlanes, entry_of, &L);
		CU_ASSERT_FATAL(s != NULL);
		/* Each session's records, as it writes them: its own entry i at map[i]. */
		for (unsigned int k = 0; k <= nlanes; k++) {
			uint32_t from = k == 0 ? 0 : s->start[k - 1];
			uint32_t to = k == 0 ? s->ndirs : s->start[k];
			uint16_t *mine = split_items + from;

			for (uint32_t i = 0; i < to - from; i++) {
				mine[i] = (uint16_t)(s->order[from + i] ^ 0x5a5a);
			}
		}
		memset(items, 0xff, sizeof(items));
		xf_lanes_items_merge(s, split_items, items);
		for (uint32_t i = 0; i < L.n; i++) {
			CU_ASSERT_EQUAL_FATAL(items[i], (uint16_t)(i ^ 0x5a5a));
		}
		CU_ASSERT_EQUAL(items[L.n], 0xffff); /* nothing past the list */
		xf_lanes_free(s);
	}
}

/* Microsoft's RSS verification suite: its key, and the IPv4 and IPv4-with-ports hashes of
 * its five flows (the ports' hash is the same for UDP as for TCP). */
static const uint8_t ms_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void
test_toeplitz_vectors(void)
{
	static const struct {
		uint32_t src, dst;
		uint16_t sport, dport;
		uint32_t ip, ports;
	} v[] = {
		{ IP4(66, 9, 149, 187), IP4(161, 142, 100, 80), 2794, 1766, 0x323e8fc2,
		  0x51ccc178 },
		{ IP4(199, 92, 111, 2), IP4(65, 69, 140, 83), 14230, 4739, 0xd718262a, 0xc626b0ea },
		{ IP4(24, 19, 198, 95), IP4(12, 22, 207, 184), 12898, 38024, 0xd2d0a5de,
		  0x5c2b394a },
		{ IP4(38, 27, 205, 30), IP4(209, 142, 163, 6), 48228, 2217, 0x82989176,
		  0xafc7327f },
		{ IP4(153, 39, 163, 191), IP4(202, 188, 127, 2), 44251, 1303, 0x5d1809c5,
		  0x10e828a2 },
	};
	uint16_t reta[128];
	struct xf_lanes_rss rss = { ms_key, sizeof(ms_key), reta, XF_ARRAY_SIZE(reta) };

	for (unsigned int i = 0; i < XF_ARRAY_SIZE(reta); i++) {
		reta[i] = (uint16_t)i; /* the queue is the hash's low 7 bits */
	}
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(v); i++) {
		uint8_t in[12];

		for (unsigned int b = 0; b < 4; b++) {
			in[b] = (uint8_t)(v[i].src >> (24 - 8 * b));
			in[4 + b] = (uint8_t)(v[i].dst >> (24 - 8 * b));
		}
		in[8] = (uint8_t)(v[i].sport >> 8);
		in[9] = (uint8_t)v[i].sport;
		in[10] = (uint8_t)(v[i].dport >> 8);
		in[11] = (uint8_t)v[i].dport;
		CU_ASSERT_EQUAL(xf_lanes_toeplitz(ms_key, sizeof(ms_key), in, 8), v[i].ip);
		CU_ASSERT_EQUAL(xf_lanes_toeplitz(ms_key, sizeof(ms_key), in, 12), v[i].ports);
		CU_ASSERT_EQUAL(
		        xf_lanes_rss_queue(&rss, v[i].src, v[i].dst, v[i].sport, v[i].dport),
		        v[i].ports % 128);
	}
	CU_ASSERT_EQUAL(xf_lanes_toeplitz(ms_key, 15, (const uint8_t *)"twelve bytes", 12), 0);
}

/* Under RSS each lane's source port is one whose answers hash to its RX core's queue:
 * the ports distinct and in range, each lane's queue the hash's; lanes spread over as
 * many queues as the 16 ports reach (Toeplitz is linear, so a key can leave some queue
 * out of reach: Microsoft's, which ixgbe uses by default, sends these 16 ports to queue
 * 0 of 2), with lane k on queue k where it is reachable (a seeded key); a table that
 * names a queue we lack refused. */
static void
check_rss_ports(const struct xf_lanes_rss *rss, uint16_t nq, bool own)
{
	const uint32_t us = IP4(10, 99, 0, 1), peer = IP4(10, 99, 0, 2);
	uint16_t port[XF_LANES_MAX], queue[XF_LANES_MAX];
	bool reach[XF_LANES_MAX] = { false };
	unsigned int nreach = 0;

	for (unsigned int j = 0; j < XF_LANES_MAX; j++) {
		uint16_t q = xf_lanes_rss_queue(rss, peer, us, 7000, (uint16_t)(7000 + j));

		nreach += !reach[q];
		reach[q] = true;
	}
	for (unsigned int nlanes = 1; nlanes <= XF_LANES_MAX; nlanes++) {
		bool used[XF_LANES_MAX] = { false };
		unsigned int distinct = 0;

		CU_ASSERT_EQUAL_FATAL(
		        xf_lanes_rss_ports(rss, us, peer, 7000, 7000, nq, nlanes, port, queue), 0);
		for (unsigned int k = 0; k < nlanes; k++) {
			CU_ASSERT(port[k] >= 7000 && port[k] < 7000 + XF_LANES_MAX);
			CU_ASSERT_EQUAL(queue[k], xf_lanes_rss_queue(rss, peer, us, 7000, port[k]));
			for (unsigned int m = 0; m < k; m++) {
				CU_ASSERT_NOT_EQUAL(port[m], port[k]);
			}
			distinct += !used[queue[k]];
			used[queue[k]] = true;
			if (own && k < nq) {
				CU_ASSERT_EQUAL(queue[k], k);
			}
		}
		CU_ASSERT_EQUAL(distinct, XF_MIN(nlanes, nreach));
	}
	if (own) {
		CU_ASSERT_EQUAL(nreach, nq);
	}
}

static void
test_rss_ports(void)
{
	uint16_t reta[512], port[XF_LANES_MAX], queue[XF_LANES_MAX];
	uint8_t key[52];
	struct xf_lanes_rss rss = { ms_key, sizeof(ms_key), reta, XF_ARRAY_SIZE(reta) };
	const uint32_t us = IP4(10, 99, 0, 1), peer = IP4(10, 99, 0, 2);

	for (uint16_t nq = 1; nq <= 4; nq++) {
		for (unsigned int i = 0; i < XF_ARRAY_SIZE(reta); i++) {
			reta[i] = (uint16_t)(i % nq); /* the usual default table */
		}
		rss.key = ms_key;
		rss.key_len = sizeof(ms_key);
		check_rss_ports(&rss, nq, nq == 1);
		rng_state = 0x9e3779b97f4a7c15ull + nq; /* a key as random as ice's default */
		for (unsigned int i = 0; i < sizeof(key); i++) {
			key[i] = (uint8_t)rng();
		}
		rss.key = key;
		rss.key_len = sizeof(key);
		check_rss_ports(&rss, nq, true);
	}
	/* Ports near the top: only those below 65536. */
	CU_ASSERT_EQUAL(xf_lanes_rss_ports(&rss, us, peer, 7000, 65530, 4, 6, port, queue), 0);
	CU_ASSERT(port[5] >= 65530);
	CU_ASSERT_EQUAL(xf_lanes_rss_ports(&rss, us, peer, 7000, 65530, 4, 7, port, queue),
	                -EINVAL);
	for (unsigned int i = 0; i < XF_ARRAY_SIZE(reta); i++) {
		reta[i] = 4;
	}
	CU_ASSERT_EQUAL(xf_lanes_rss_ports(&rss, us, peer, 7000, 7000, 4, 2, port, queue), -EINVAL);
	rss.reta_size = 0;
	CU_ASSERT_EQUAL(xf_lanes_rss_ports(&rss, us, peer, 7000, 7000, 4, 2, port, queue), -EINVAL);
}

static void
test_steering_rules(void)
{
	static const struct {
		uint16_t a, b, nqa, nqb;
	} cases[] = { { 7000, 7000, 2, 2 },
		      { 7000, 9100, 4, 3 },
		      { 40000, 7000, 8, 1 },
		      { 7000, 7008, 3, 5 } };
	struct xf_lanes_rule ra[XF_LANES_RULES_MAX(2)], rb[XF_LANES_RULES_MAX(2)];

	for (unsigned int c = 0; c < XF_ARRAY_SIZE(cases); c++) {
		uint16_t pa[2] = { cases[c].b, cases[c].b }; /* listed twice: one set */
		uint16_t pb[2] = { 0, cases[c].a };          /* 0: skipped */
		int na = xf_lanes_rules(cases[c].a, pa, 2, cases[c].nqa, ra, XF_ARRAY_SIZE(ra));
		int nb = xf_lanes_rules(cases[c].b, pb, 2, cases[c].nqb, rb, XF_ARRAY_SIZE(rb));

		CU_ASSERT_EQUAL(na, (int)(XF_LANES_MAX - 1 + XF_LANES_MAX));
		CU_ASSERT_EQUAL(nb, (int)(XF_LANES_MAX - 1 + XF_LANES_MAX));
		for (unsigned int k = 0; k < XF_LANES_MAX; k++) {
			uint16_t src = (uint16_t)(cases[c].a + k);

			/* B takes lane k's frames on k % nqb; A its answers on k % nqa. */
			CU_ASSERT_EQUAL(rules_queue(rb, nb, src, cases[c].b),
			                (int)(k % cases[c].nqb));
			CU_ASSERT_EQUAL(rules_queue(ra, na, cases[c].b, src),
			                (int)(k % cases[c].nqa));
		}
		/* Another host's sessions to our port are left to the hash. */
		CU_ASSERT_EQUAL(rules_queue(rb, nb, 5555, cases[c].b), -1);
		for (int i = 0; i < na; i++) {
			CU_ASSERT(ra[i].queue < cases[c].nqa);
			CU_ASSERT_EQUAL(rules_queue(ra, na,
			                            ra[i].src_port != 0 ? ra[i].src_port : 1,
			                            ra[i].dst_port),
			                ra[i].queue);
		}
	}
	/* Ports past 65535 get no rule. */
	{
		uint16_t peer = 65530;
		int n = xf_lanes_rules(65533, &peer, 1, 2, ra, XF_ARRAY_SIZE(ra));

		CU_ASSERT_EQUAL(n, 2 + 6);
		for (int i = 0; i < n; i++) {
			CU_ASSERT(ra[i].dst_port >= 65533);
			CU_ASSERT(ra[i].src_port == 0 || ra[i].src_port >= 65530);
		}
	}
	CU_ASSERT_EQUAL(xf_lanes_rules(7000, NULL, 0, 2, ra, XF_LANES_MAX - 2), -ENOSPC);
	CU_ASSERT_EQUAL(xf_lanes_rules(0, NULL, 0, 2, ra, XF_ARRAY_SIZE(ra)), -EINVAL);
	CU_ASSERT_EQUAL(xf_lanes_rules(7000, NULL, 0, 0, ra, XF_ARRAY_SIZE(ra)), -EINVAL);
}

static const struct xf_test tests[] = {
	{ "bad arguments", test_bad_args },
	{ "an empty list, a list of directories", test_empty_and_dirs_only },
	{ "skewed mixes: structure and balance, 1..16 lanes", test_skewed_mixes },
	{ "balanced by bytes, not by count", test_bytes_not_count },
	{ "uniform sizes: within one file of the mean", test_uniform },
	{ "one giant file", test_one_giant },
	{ "hard links with their leaders", test_hard_links },
	{ "itemized records merged to their list indices", test_items_merge },
	{ "Toeplitz hash: Microsoft's verification vectors", test_toeplitz_vectors },
	{ "RSS: each lane's port hashes to its queue", test_rss_ports },
	{ "steering rules: each lane on queue k % nq on both sides", test_steering_rules },
};

int
main(void)
{
	return xf_test_main("lanes", NULL, NULL, XF_TESTS(tests));
}
