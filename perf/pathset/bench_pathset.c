/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-pathset: the per-path structures a receive session fills on its RX core, filled
 * as FLIST frames fill them, for 10^4, 10^5 and 10^6 paths:
 *
 *   pathset  --delete's keep set (and -H's linkable set, the same structure): one add per
 *            path, on a set made ready as a session's is (xf_pathset.h);
 *   ftable   the file table: one xf_ftable_add() per entry and, a window (1024) behind,
 *            xf_ftable_settled(), as commits let paths go (xf_ftable.h); reserved
 *            before each fill, outside the timed part, as the pipeline reserves a
 *            slot's: every page of it is first touched by the adds timed (a slot's
 *            first session, the dearest).
 *
 * For each: the total and the worst single add (the pause: the RX core polls nothing
 * meanwhile), beside memcpy of the same bytes in add-sized pieces (8 per path for the
 * set, the entry and its path for the table) timed the same way in the same run: its
 * worst piece is the floor of a single timed operation here (clock reads, interrupts, a
 * page fault), so a worst add near it has no pause of its own. Medians of --runs runs
 * (5 by default); the set is reserved once for 10^6 paths, as a session slot's is.
 * With XF_PERF_CLOCK=thread the clock is this thread's CPU time (page faults included,
 * preemption by other work on a shared machine not), which is how the figures in
 * docs/PIPELINE.md were taken.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_ftable.h"
#include "xf_pathset.h"
#include "xf_perf.h"

#define NAME   "xf-bench-pathset"
#define WINDOW 1024u

/* The paths of one list: 64 files a directory, as a tree walk sends them. */
struct list {
	char *buf;
	uint32_t *off;
	uint16_t *len;
	size_t n, bytes;
};

static volatile uint64_t sink;

static void
list_make(struct list *l, size_t n)
{
	size_t at = 0;

	l->buf = malloc(n * 32);
	l->off = malloc(n * sizeof(*l->off));
	l->len = malloc(n * sizeof(*l->len));
	if (l->buf == NULL || l->off == NULL || l->len == NULL) {
		fprintf(stderr, NAME ": out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(l->buf + at, 32, "d%05zu/file-%07zu.dat", i / 64, i);

		l->off[i] = (uint32_t)at;
		l->len[i] = (uint16_t)w;
		at += (size_t)w;
	}
	l->n = n;
	l->bytes = at;
}

static void
list_free(struct list *l)
{
	free(l->buf);
	free(l->off);
	free(l->len);
}

struct fig {
	double total_ms; /**< all adds */
	double worst_us; /**< the slowest single add */
	double mem_mib;  /**< bytes the structure holds at the end */
};

/* Fill a set with the list; per_add: time each add (worst), else the whole (total). */
static struct fig
fill_pathset(struct xf_pathset *ps, const struct list *l, bool per_add)
{
	struct fig f = { 0 };
	uint64_t worst = 0, t0 = xf_perf_work_ns();

	xf_pathset_reset(ps);
	for (size_t i = 0; i < l->n; i++) {
		uint64_t a = per_add ? xf_perf_work_ns() : 0;

		if (xf_pathset_add(ps, l->buf + l->off[i], l->len[i]) < 0) {
			fprintf(stderr, NAME ": pathset add %zu failed\n", i);
			exit(1);
		}
		if (per_add) {
			uint64_t d = xf_perf_work_ns() - a;

			worst = d > worst ? d : worst;
		}
	}
	f.total_ms = (double)(xf_perf_work_ns() - t0) / 1e6;
	f.worst_us = (double)worst / 1e3;
	f.mem_mib = (double)xf_pathset_mem(ps) / (1024.0 * 1024.0);
	sink += xf_pathset_has(ps, l->buf, l->len[0]);
	return f;
}

static struct fig
fill_ftable(const struct list *l, bool per_add)
{
	struct fig f = { 0 };
	struct xf_ftable ft;
	uint64_t worst = 0, t0;

	/* As the pipeline does when it is built, outside the timed part. */
	if (xf_ftable_reserve(&ft, (uint32_t)l->n, WINDOW) != 0) {
		fprintf(stderr, NAME ": cannot reserve a file table of %zu entries\n", l->n);
		exit(1);
	}
	t0 = xf_perf_work_ns();
	for (size_t i = 0; i < l->n; i++) {
		struct xf_flist_entry e = {
			.kind = XF_FILE_REG,
			.mode = 0644,
			.size = 4096,
			.mtime_ns = 1700000000000000000ll,
			.path = l->buf + l->off[i],
			.path_len = l->len[i],
			.uid = XF_ID_NONE,
			.gid = XF_ID_NONE,
		};
		uint64_t a = per_add ? xf_perf_work_ns() : 0;
		int rc = xf_ftable_add(&ft, (uint32_t)i, &e, UINT32_MAX);

		if (rc < 0) {
			fprintf(stderr, NAME ": ftable add %zu: %s\n", i, strerror(-rc));
			exit(1);
		}
		/* Commits let the paths of settled entries go, a window behind. */
		if (i >= WINDOW) {
			xf_ftable_settled(&ft, (uint32_t)(i - WINDOW), false);
		}
		if (per_add) {
			uint64_t d = xf_perf_work_ns() - a;

			worst = d > worst ? d : worst;
		}
	}
	f.total_ms = (double)(xf_perf_work_ns() - t0) / 1e6;
	f.worst_us = (double)worst / 1e3;
	f.mem_mib = (double)xf_ftable_mem(&ft) / (1024.0 * 1024.0);
	xf_ftable_release(&ft);
	return f;
}

/* memcpy of bytes, in chunks of chunk (one add's worth), into a fresh buffer; per_op: time
 * each chunk, the worst in *worst (the floor a single timed add cannot go below: clock
 * reads, interrupts, page faults of the fresh buffer). */
static double
memcpy_ms(size_t bytes, size_t chunk, bool per_op, double *worst)
{
	char *src = malloc(bytes), *dst = malloc(bytes);
	uint64_t t0, w = 0;

	if (src == NULL || dst == NULL) {
		fprintf(stderr, NAME ": out of memory\n");
		exit(1);
	}
	memset(src, 0x5a, bytes);
	t0 = xf_perf_work_ns();
	for (size_t at = 0; at < bytes; at += chunk) {
		uint64_t a = per_op ? xf_perf_work_ns() : 0;

		memcpy(dst + at, src + at, chunk <= bytes - at ? chunk : bytes - at);
		if (per_op) {
			uint64_t d = xf_perf_work_ns() - a;

			w = d > w ? d : w;
		}
	}
	sink += (uint8_t)dst[bytes / 2];
	t0 = xf_perf_work_ns() - t0;
	free(src);
	free(dst);
	if (worst != NULL) {
		*worst = (double)w / 1e3;
	}
	return (double)t0 / 1e6;
}

static void
row(FILE *csv, const char *what, size_t n, unsigned int runs, double *total, double *worst,
    double mem, double *base, double *base_worst)
{
	double t = xf_perf_median(total, runs), w = xf_perf_median(worst, runs);
	double b = xf_perf_median(base, runs), bw = xf_perf_median(base_worst, runs);

	printf("  %-8s %9zu %10.3f %10.3f %6.1f %10.1f %10.1f %9.2f\n", what, n, t, b, t / b, w, bw,
	       mem);
	xf_perf_csv_row(csv, "pathset", what, "total", n, 1, 1, runs, t, "ms", t / b);
	xf_perf_csv_row(csv, "pathset", what, "worst_add", n, 1, 1, runs, w, "us", w / bw);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 10000, 100000, 1000000 };
	struct xf_perf_opts o;
	struct xf_pathset ps;
	FILE *csv;
	int rc;

	rc = xf_perf_parse(argc, argv, NAME,
	                   "worst single add and total filling the RX core's path set and file "
	                   "table, against memcpy of the same bytes",
	                   5, 2, &o);
	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	xf_perf_banner(NAME, "", &o);
	rc = xf_pathset_reserve(&ps, sizes[XF_PERF_ARRAY_SIZE(sizes) - 1]);
	if (rc < 0) {
		fprintf(stderr, NAME ": reserve: %s\n", strerror(-rc));
		return 1;
	}
	printf("  paths \"dNNNNN/file-NNNNNNN.dat\" (64 per directory); ftable settles a window "
	       "of %u behind\n",
	       WINDOW);
	csv = xf_perf_csv_open(&o);
	printf("\n  %-8s %9s %10s %10s %6s %10s %10s %9s\n", "what", "paths", "total ms",
	       "memcpy ms", "ratio", "worst us", "memcpy us", "MiB held");
	for (size_t si = 0; si < XF_PERF_ARRAY_SIZE(sizes); si++) {
		size_t n = o.quick ? sizes[si] / 10 : sizes[si];
		double pt[o.runs], pw[o.runs], pb[o.runs], pbw[o.runs];
		double ft[o.runs], fw[o.runs], fb[o.runs], fbw[o.runs];
		double pmem = 0, fmem = 0;
		struct list l;

		list_make(&l, n);
		for (unsigned int r = 0; r < o.runs; r++) {
			struct fig f;

			f = fill_pathset(&ps, &l, false);
			pt[r] = f.total_ms;
			f = fill_pathset(&ps, &l, true);
			pw[r] = f.worst_us;
			pmem = f.mem_mib;
			pb[r] = memcpy_ms(n * sizeof(uint64_t), sizeof(uint64_t), false, NULL);
			memcpy_ms(n * sizeof(uint64_t), sizeof(uint64_t), true, &pbw[r]);
			f = fill_ftable(&l, false);
			ft[r] = f.total_ms;
			f = fill_ftable(&l, true);
			fw[r] = f.worst_us;
			fmem = f.mem_mib;
			fb[r] = memcpy_ms(n * sizeof(struct xf_fentry) + l.bytes,
			                  sizeof(struct xf_fentry) + l.bytes / n, false, NULL);
			memcpy_ms(n * sizeof(struct xf_fentry) + l.bytes,
			          sizeof(struct xf_fentry) + l.bytes / n, true, &fbw[r]);
		}
		row(csv, "pathset", n, o.runs, pt, pw, pmem, pb, pbw);
		row(csv, "ftable", n, o.runs, ft, fw, fmem, fb, fbw);
		list_free(&l);
	}
	xf_pathset_release(&ps);
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
