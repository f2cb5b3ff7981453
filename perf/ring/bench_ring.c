/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-ring: the single-producer rule and the fan-in strategy, measured.
 *
 * 1. Single vs multi producer: one producer moving 100K work items through an SP/SC
 *    ring against four producers moving 25K each through one MP/SC ring (the prior
 *    art's decision experiment; a gap of 15% was its line).
 * 2. Fan-in of workers' results: one SP/SC ring per producer polled in turn (ours),
 *    one shared MP/SC ring, a mutex-guarded queue, and per-thread arrays
 *    concatenated at the end; 10K and 100K items; 2, 4, 8, 16 producers.
 *
 * Runs on rte_ring directly and without EAL: rings live in aligned heap memory
 * (rte_ring_get_memsize_elem + rte_ring_init), threads are pthreads. Items are 48-byte
 * records copied by value, like the pipeline's delta work items. Every wait spins
 * briefly and then yields, so threads outnumbering CPUs cannot livelock.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_version.h>

#include "xf_perf.h"

#define RING_SIZE     1024u /* elements per ring, as the pipeline's rings */
#define DEQ_BURST     32u
#define MAX_PRODUCERS 16u
#define NAME          "xf-bench-ring"

/* The shape of a delta work item: who, where, how much, and a payload reference. */
struct work_item {
	uint64_t seq;     /**< 1..N, summed by the consumer to prove nothing was lost */
	uint32_t session; /**< session id */
	uint32_t file;    /**< file index */
	uint64_t offset;  /**< byte offset in the file */
	uint32_t len;     /**< bytes */
	uint32_t flags;   /**< op kind */
	uint64_t mbuf;    /**< stands in for the payload pointer */
	uint64_t csum;    /**< expected checksum */
};
_Static_assert(sizeof(struct work_item) == 48, "work item is 48 bytes");

#define ESIZE ((unsigned int)sizeof(struct work_item))

enum strategy {
	ST_SPSC_EACH, /* (a) one SP/SC ring per producer, polled in turn: ours */
	ST_MPSC,      /* (b) one shared MP/SC ring */
	ST_MPSC_RTS,  /* (b') the same in relaxed-tail-sync mode, built for preemption */
	ST_MUTEX,     /* (c) pthread mutex + circular array */
	ST_CONCAT,    /* (d) per-thread arrays concatenated at the end */
	ST_COUNT,
};

static const char *const strategy_names[ST_COUNT] = {
	[ST_SPSC_EACH] = "spsc-per-producer", [ST_MPSC] = "mpsc-shared",
	[ST_MPSC_RTS] = "mpsc-rts",           [ST_MUTEX] = "mutex-queue",
	[ST_CONCAT] = "per-thread-concat",
};

struct bench {
	enum strategy st;
	unsigned int nprod;
	unsigned int per_prod;
	struct rte_ring *rings[MAX_PRODUCERS]; /* ST_SPSC_EACH */
	struct rte_ring *shared;               /* ST_MPSC */
	pthread_mutex_t mu;                    /* ST_MUTEX */
	struct work_item *q;
	unsigned int qhead, qtail;               /* free-running, guarded by mu */
	struct work_item *arrays[MAX_PRODUCERS]; /* ST_CONCAT */
	struct work_item *all;                   /* ST_CONCAT: the concatenation */
	atomic_uint ready;
	atomic_int go;
	atomic_uint done;
	atomic_int stop;      /* set when a run overruns its budget */
	atomic_uint produced; /* items put, added by each producer as it finishes */
};

struct producer {
	struct bench *b;
	unsigned int id;
	unsigned int count; /* items this producer put */
	pthread_t tid;
};

static struct rte_ring *
ring_new(const char *name, unsigned int flags)
{
	ssize_t sz = rte_ring_get_memsize_elem(ESIZE, RING_SIZE);
	void *mem;

	if (sz < 0) {
		fprintf(stderr, "rte_ring_get_memsize_elem: %zd\n", sz);
		exit(1);
	}
	mem = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)sz, RTE_CACHE_LINE_SIZE));
	if (mem == NULL || rte_ring_init(mem, name, RING_SIZE, flags) != 0) {
		fprintf(stderr, "cannot set up ring %s\n", name);
		exit(1);
	}
	return mem;
}

static void
fill(struct work_item *it, uint64_t seq, unsigned int pid)
{
	it->seq = seq;
	it->session = pid;
	it->file = (uint32_t)(seq >> 4);
	it->offset = seq * 4096u;
	it->len = 4096;
	it->flags = 1;
	it->mbuf = seq ^ 0x5a5a5a5au;
	it->csum = seq * 0x9e3779b97f4a7c15ull;
}

static void
put(struct bench *b, unsigned int pid, unsigned int i, const struct work_item *it)
{
	unsigned int spins = 0;
	int ok;

	switch (b->st) {
	case ST_SPSC_EACH:
		while (rte_ring_sp_enqueue_elem(b->rings[pid], (void *)(uintptr_t)it, ESIZE) != 0) {
			xf_perf_relax(&spins);
		}
		break;
	case ST_MPSC:
		while (rte_ring_mp_enqueue_elem(b->shared, (void *)(uintptr_t)it, ESIZE) != 0) {
			xf_perf_relax(&spins);
		}
		break;
	case ST_MPSC_RTS:
		/* The ring's sync type (RTS) picks the multi-producer path. */
		while (rte_ring_enqueue_elem(b->shared, (void *)(uintptr_t)it, ESIZE) != 0) {
			xf_perf_relax(&spins);
		}
		break;
	case ST_MUTEX:
		for (;;) {
			pthread_mutex_lock(&b->mu);
			ok = b->qtail - b->qhead < RING_SIZE;
			if (ok) {
				b->q[b->qtail++ & (RING_SIZE - 1)] = *it;
			}
			pthread_mutex_unlock(&b->mu);
			if (ok) {
				break;
			}
			xf_perf_relax(&spins);
		}
		break;
	case ST_CONCAT:
		b->arrays[pid][i] = *it;
		break;
	case ST_COUNT:
		abort();
	}
}

static void *
producer_main(void *arg)
{
	struct producer *p = arg;
	struct bench *b = p->b;
	struct work_item it;
	unsigned int spins = 0;
	uint64_t base = (uint64_t)p->id * b->per_prod;

	/* CPU 0 belongs to the consumer; producers spread over the others first. */
	xf_perf_pin(1 + p->id);
	atomic_fetch_add(&b->ready, 1);
	while (!atomic_load_explicit(&b->go, memory_order_acquire)) {
		xf_perf_relax(&spins);
	}
	unsigned int i;

	for (i = 0; i < b->per_prod; i++) {
		if (unlikely(atomic_load_explicit(&b->stop, memory_order_relaxed))) {
			break;
		}
		fill(&it, base + i + 1, p->id);
		put(b, p->id, i, &it);
	}
	p->count = i;
	atomic_fetch_add(&b->produced, i);
	atomic_fetch_add_explicit(&b->done, 1, memory_order_release);
	return NULL;
}

static uint64_t
consume(const struct work_item *v, unsigned int n)
{
	uint64_t s = 0;

	for (unsigned int i = 0; i < n; i++) {
		s += v[i].seq;
	}
	return s;
}

/*
 * The consumer's side, on the calling thread. Returns the sum of the seq fields and the
 * count in *got. Past the deadline it asks the producers to stop, then drains what they
 * put: a multi-producer rte_ring is not preemptible (a producer descheduled between
 * reserving and publishing its slot holds up every producer behind it), and with more
 * threads than CPUs that convoy can cost a time slice per item.
 */
static uint64_t
collect(struct bench *b, uint64_t total, uint64_t deadline, uint64_t *got_out)
{
	struct work_item buf[DEQ_BURST];
	uint64_t got = 0, sum = 0;
	unsigned int spins = 0, n, p = 0;

	while (got < total) {
		if (unlikely(b->st != ST_CONCAT && !atomic_load(&b->stop) &&
		             xf_perf_now_ns() > deadline)) {
			atomic_store(&b->stop, 1);
		}
		if (unlikely(atomic_load(&b->stop)) && atomic_load(&b->done) == b->nprod) {
			/* Everyone stopped: the target is what they managed to put. */
			total = atomic_load(&b->produced);
		}
		n = 0;
		switch (b->st) {
		case ST_SPSC_EACH:
			/* One pass over every producer's ring. */
			for (unsigned int k = 0; k < b->nprod; k++, p = (p + 1) % b->nprod) {
				unsigned int m = rte_ring_sc_dequeue_burst_elem(
				        b->rings[p], buf, ESIZE, DEQ_BURST, NULL);
				sum += consume(buf, m);
				n += m;
			}
			break;
		case ST_MPSC:
		case ST_MPSC_RTS:
			n = rte_ring_dequeue_burst_elem(b->shared, buf, ESIZE, DEQ_BURST, NULL);
			sum += consume(buf, n);
			break;
		case ST_MUTEX:
			pthread_mutex_lock(&b->mu);
			while (n < DEQ_BURST && b->qhead != b->qtail) {
				buf[n++] = b->q[b->qhead++ & (RING_SIZE - 1)];
			}
			pthread_mutex_unlock(&b->mu);
			sum += consume(buf, n);
			break;
		case ST_CONCAT:
			while (atomic_load_explicit(&b->done, memory_order_acquire) < b->nprod) {
				xf_perf_relax(&spins);
			}
			for (unsigned int k = 0; k < b->nprod; k++) {
				memcpy(b->all + (uint64_t)k * b->per_prod, b->arrays[k],
				       b->per_prod * sizeof(*b->all));
			}
			sum = consume(b->all, (unsigned int)total);
			n = (unsigned int)total;
			break;
		case ST_COUNT:
			abort();
		}
		got += n;
		if (n == 0) {
			xf_perf_relax(&spins);
		}
	}
	*got_out = got;
	return sum;
}

/* Budget per run before the producers are asked to stop (see collect()). */
static uint64_t run_budget_ns = 3000000000ull;

static void *
alloc_touched(size_t bytes)
{
	void *p = malloc(bytes);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	memset(p, 0, bytes); /* fault the pages in before the clock starts */
	return p;
}

/*
 * One timed run; returns items per second and sets *stalled when the run hit its
 * budget (the figure then covers the items delivered before the stop).
 */
static double
run_once(enum strategy st, unsigned int nprod, unsigned int per_prod, bool *stalled)
{
	struct bench b = { .st = st, .nprod = nprod, .per_prod = per_prod };
	struct producer prods[MAX_PRODUCERS];
	uint64_t total = (uint64_t)nprod * per_prod, expect = 0, sum, got, t0, t1;
	unsigned int spins = 0;
	char name[RTE_RING_NAMESIZE];

	atomic_init(&b.ready, 0);
	atomic_init(&b.go, 0);
	atomic_init(&b.done, 0);
	atomic_init(&b.stop, 0);
	atomic_init(&b.produced, 0);
	switch (st) {
	case ST_SPSC_EACH:
		for (unsigned int k = 0; k < nprod; k++) {
			snprintf(name, sizeof(name), "spsc%u", k);
			b.rings[k] = ring_new(name, RING_F_SP_ENQ | RING_F_SC_DEQ);
		}
		break;
	case ST_MPSC:
		b.shared = ring_new("mpsc", RING_F_SC_DEQ);
		break;
	case ST_MPSC_RTS:
		b.shared = ring_new("mpsc-rts", RING_F_MP_RTS_ENQ | RING_F_SC_DEQ);
		break;
	case ST_MUTEX:
		pthread_mutex_init(&b.mu, NULL);
		b.q = alloc_touched(RING_SIZE * sizeof(*b.q));
		break;
	case ST_CONCAT:
		for (unsigned int k = 0; k < nprod; k++) {
			b.arrays[k] = alloc_touched(per_prod * sizeof(struct work_item));
		}
		b.all = alloc_touched(total * sizeof(struct work_item));
		break;
	case ST_COUNT:
		abort();
	}

	xf_perf_pin(0);
	for (unsigned int k = 0; k < nprod; k++) {
		prods[k].b = &b;
		prods[k].id = k;
		prods[k].count = 0;
		if (pthread_create(&prods[k].tid, NULL, producer_main, &prods[k]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	while (atomic_load(&b.ready) < nprod) {
		xf_perf_relax(&spins);
	}
	t0 = xf_perf_now_ns();
	atomic_store_explicit(&b.go, 1, memory_order_release);
	sum = collect(&b, total, t0 + run_budget_ns, &got);
	t1 = xf_perf_now_ns();
	for (unsigned int k = 0; k < nprod; k++) {
		uint64_t base = (uint64_t)k * per_prod, c;

		/* The consumer can hold every item before a producer has stored its count:
		 * read the count only once the producer has ended. */
		pthread_join(prods[k].tid, NULL);
		c = prods[k].count;
		expect += c * base + c * (c + 1) / 2;
	}
	*stalled = atomic_load(&b.stop) != 0;
	if (sum != expect || got != atomic_load(&b.produced)) {
		fprintf(stderr,
		        "%s: lost or duplicated items (sum %" PRIu64 ", expected %" PRIu64 ")\n",
		        strategy_names[st], sum, expect);
		exit(1);
	}

	for (unsigned int k = 0; k < nprod; k++) {
		free(b.rings[k]);
		free(b.arrays[k]);
	}
	free(b.shared);
	free(b.q);
	free(b.all);
	if (st == ST_MUTEX) {
		pthread_mutex_destroy(&b.mu);
	}
	return (double)got * 1e9 / (double)(t1 - t0 ? t1 - t0 : 1);
}

static void
oversub_note(char *buf, size_t len, unsigned int threads, unsigned int cpus)
{
	if (threads > cpus) {
		snprintf(buf, len, "oversubscribed: %u threads on %u CPUs", threads, cpus);
	} else {
		buf[0] = '\0';
	}
}

static void
single_vs_multi(const struct xf_perf_opts *o, FILE *csv, unsigned int items)
{
	double sp[o->runs], mp[o->runs], msp, mmp, gap;
	bool st1, st4, any_stall = false;
	unsigned int cpus = xf_perf_online_cpus();
	char note[64];

	/* Interleave so a noisy neighbour hurts both sides alike. */
	for (unsigned int r = 0; r < o->runs; r++) {
		sp[r] = run_once(ST_SPSC_EACH, 1, items, &st1);
		mp[r] = run_once(ST_MPSC, 4, items / 4, &st4);
		any_stall |= st1 || st4;
	}
	msp = xf_perf_median(sp, o->runs);
	mmp = xf_perf_median(mp, o->runs);
	gap = (msp - mmp) / msp * 100.0;

	printf("\n[single vs multi producer] %u items of %u bytes, ring of %u, consumer "
	       "dequeues bursts of %u\n",
	       items, ESIZE, RING_SIZE, DEQ_BURST);
	oversub_note(note, sizeof(note), 2, cpus);
	printf("  SP/SC ring, 1 producer x %-7u %12.0f items/s  %s\n", items, msp, note);
	oversub_note(note, sizeof(note), 5, cpus);
	printf("  MP/SC ring, 4 producers x %-6u %12.0f items/s  %s\n", items / 4, mmp, note);
	printf("  gap: multi-producer is %.1f%% %s than single-producer\n", gap < 0 ? -gap : gap,
	       gap < 0 ? "faster" : "slower");
	printf("  design rule: keep SP rings unless the gap is under 15%% -> %s\n",
	       gap < 15.0 ? "gap under 15% here: multi-producer would be affordable on this "
	                    "machine"
	                  : "keep SP rings");
	if (cpus < 5) {
		printf("  caution: 4 producers and a consumer on %u CPUs measure the scheduler as "
		       "much as the ring (and on a busy machine more threads get a larger share); "
		       "decide on a machine with 5 free cores\n",
		       cpus);
	}
	if (any_stall) {
		printf("  * some runs hit the %.0f s budget (multi-producer convoy, see "
		       "perf/README.md)\n",
		       (double)run_budget_ns / 1e9);
	}
	xf_perf_csv_row(csv, "ring", "spmp", "sp-sc", items, 1, 2, o->runs, msp, "items/s", 1.0);
	xf_perf_csv_row(csv, "ring", "spmp", "mp-sc", items, 4, 5, o->runs, mmp, "items/s",
	                mmp / msp);
	xf_perf_csv_row(csv, "ring", "spmp", "gap", items, 4, 5, o->runs, gap, "%", 0.0);
}

static void
fan_in(const struct xf_perf_opts *o, FILE *csv)
{
	static const unsigned int full_sizes[] = { 10000, 100000 };
	static const unsigned int quick_sizes[] = { 10000 };
	static const unsigned int full_prods[] = { 2, 4, 8, 16 };
	static const unsigned int quick_prods[] = { 2, 4 };
	const unsigned int *sizes = o->quick ? quick_sizes : full_sizes;
	const unsigned int *prods = o->quick ? quick_prods : full_prods;
	unsigned int nsizes = o->quick ? 1 : 2, nprods = o->quick ? 2 : 4;
	unsigned int cpus = xf_perf_online_cpus();
	char note[64];

	bool any_stall = false;

	printf("\n[fan-in] workers' results to one consumer: M items/s, median of %u "
	       "(ratio to spsc-per-producer, ours)\n",
	       o->runs);
	printf("  %-7s %-4s", "items", "prod");
	for (int s = 0; s < ST_COUNT; s++) {
		printf(" %19s", strategy_names[s]);
	}
	printf("\n");
	for (unsigned int zi = 0; zi < nsizes; zi++) {
		for (unsigned int pi = 0; pi < nprods; pi++) {
			unsigned int np = prods[pi], per = sizes[zi] / np;
			double v[ST_COUNT][o->runs], med[ST_COUNT];
			unsigned int stalls[ST_COUNT] = { 0 };
			bool stalled;

			for (unsigned int r = 0; r < o->runs; r++) {
				for (int s = 0; s < ST_COUNT; s++) {
					uint64_t t = xf_perf_now_ns();

					v[s][r] = run_once((enum strategy)s, np, per, &stalled);
					stalls[s] += stalled;
					if (getenv("XF_PERF_TRACE") != NULL) {
						fprintf(stderr, "  trace: %s %u x %u: %.1f ms\n",
						        strategy_names[s], np, per,
						        (double)(xf_perf_now_ns() - t) / 1e6);
					}
				}
			}
			printf("  %-7u %-4u", per * np, np);
			for (int s = 0; s < ST_COUNT; s++) {
				med[s] = xf_perf_median(v[s], o->runs);
				printf(" %9.2f%c (%5.2fx)", med[s] / 1e6, stalls[s] ? '*' : ' ',
				       med[s] / med[0]);
				xf_perf_csv_row(csv, "ring", "fanin", strategy_names[s], per * np,
				                np, np + 1, o->runs, med[s], "items/s",
				                med[s] / med[0]);
				if (stalls[s]) {
					any_stall = true;
					xf_perf_csv_row(csv, "ring", "fanin-stalled",
					                strategy_names[s], per * np, np, np + 1,
					                o->runs, stalls[s], "runs", 0.0);
				}
			}
			oversub_note(note, sizeof(note), np + 1, cpus);
			printf("  %s\n", note);
		}
	}
	if (any_stall) {
		printf("  * some runs hit the %.0f s budget: the figure counts the items "
		       "delivered until then (multi-producer convoy, see perf/README.md)\n",
		       (double)run_budget_ns / 1e9);
	}
	printf("  per-thread-concat holds every result until all producers finish, so it "
	       "cannot feed a pipeline: it is the upper bound, not a candidate\n");
}

int
main(int argc, char **argv)
{
	struct xf_perf_opts o;
	char libs[128];
	FILE *csv;
	int rc;

	rc = xf_perf_parse(argc, argv, NAME,
	                   "rte_ring (no EAL): single vs multi producer, and fan-in strategies", 5,
	                   2, &o);
	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	snprintf(libs, sizeof(libs), "%s (rte_ring without EAL, %u-byte items by value)",
	         rte_version(), ESIZE);
	xf_perf_banner(NAME, libs, &o);
	if (o.quick) {
		run_budget_ns = 1000000000ull;
	}
	printf("  ring of %u elements; producers pinned to CPUs 1, 2, ... (mod online CPUs), "
	       "consumer on CPU 0; a run stops after %.0f s\n",
	       RING_SIZE, (double)run_budget_ns / 1e9);
	csv = xf_perf_csv_open(&o);
	single_vs_multi(&o, csv, o.quick ? 20000 : 100000);
	fan_in(&o, csv);
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
