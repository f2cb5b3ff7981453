/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-pipeline: N files of S bytes through the in-process receive pipeline
 * (in-memory sender -> RX core -> workers -> in-order commit) into a directory
 * (tmpfs by default, so the figures are the pipeline's, not a disk's).
 *
 *   xf-bench-pipeline [-n FILES] [-s BYTES] [-w WORKERS] [-W WINDOW] [-d DIR] [-f none|file|batch]
 * [-D] [-C] [-E]
 *
 * Prints per stage items/s and GB/s (enumeration, worker write+crc, commit) and end to
 * end, next to memcpy and ISA-L CRC64 throughput measured in the same run, as ratios.
 * The sender runs on the RX core thread and encodes every DATA frame (one memcpy of
 * the payload), so the end-to-end figure includes the sender's work. Also prints the
 * CPU time of the first run (process and its io-wq threads) and the DATA frames per
 * write operation (the worker coalesces a burst's contiguous frames of a file).
 *
 * -C runs the RX core and worker 0 (the commit worker) in one polling thread, as the
 * engine's combined mode does on the dev pair (config/dev); the other workers keep a
 * thread each. A commit that blocks the worker then stalls the RX core too.
 *
 * -E creates every temp file at its decision (xf_pipeline_conf.eager_temps), not a new
 * file's at its first data (docs/PIPELINE.md, "Created at the first data"): for A/B runs.
 *
 * -D adds a third run in which every file differs by one byte and goes DELTA: the
 * receiver copies all the rest from the basis (COPY items).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_csum.h"
#include "xf_ftable.h"
#include "xf_memsend.h"
#include "xf_pipeline.h"
#include "xf_proto.h"

#ifndef XF_BUILDTYPE
#define XF_BUILDTYPE "unknown"
#endif

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reference throughputs over a 64 MiB buffer, best of three. */
static double
memcpy_gbs(const uint8_t *src, uint8_t *dst, size_t len)
{
	double best = 0;

	for (int r = 0; r < 3; r++) {
		double t0 = now_s();

		memcpy(dst, src, len);
		__asm__ volatile("" : : "r"(dst) : "memory");
		best = XF_MAX(best, (double)len / (now_s() - t0) / 1e9);
	}
	return best;
}

static double
crc_gbs(const uint8_t *src, size_t len, uint64_t *sink)
{
	double best = 0;

	for (int r = 0; r < 3; r++) {
		double t0 = now_s();

		*sink ^= xf_csum_crc64(0, src, len);
		best = XF_MAX(best, (double)len / (now_s() - t0) / 1e9);
	}
	return best;
}

/*
 * The receiver's file table for a 1M-file push: bytes resident per entry, paths
 * included (issue 2 sets the limit at 256: a 1M-file push in 256 MiB), and the rate at
 * which enumeration fills it.
 */
static void
ftable_cost(uint32_t n)
{
	struct xf_ftable ft;
	char path[64];
	double t0 = now_s(), secs;

	if (xf_ftable_reserve(&ft, n, n / 64u + 64u) != 0) {
		fprintf(stderr, "file table: cannot reserve %u entries\n", n);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct xf_flist_entry e = {
			.kind = XF_FILE_REG,
			.mode = 0644,
			.size = 4096,
			.mtime_ns = 1700000000000000000ll,
			.path = path,
		};

		e.path_len =
		        (uint16_t)snprintf(path, sizeof(path), "data/d%04u/sub%02u/file-%07u.dat",
		                           i / 1000, i % 100, i);
		if (xf_ftable_add(&ft, i, &e, n) < 0) {
			fprintf(stderr, "file table: add %u failed\n", i);
			break;
		}
	}
	secs = now_s() - t0;
	printf("file table: %u entries (paths of ~33 bytes), %.1f bytes per entry resident "
	       "(limit 256), %.0f entries/s\n",
	       n, (double)ft.mem / n, n / (secs > 0 ? secs : 1e-9));
	xf_ftable_release(&ft);
}

struct result {
	double wall;
	double cpu_user, cpu_sys; /* the whole process, io_uring's io-wq threads included */
	struct xf_pipeline_times t;
	uint32_t uptodate, whole, delta;
};

static double
tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static bool combined; /* -C */
static bool eager;    /* -E */

static void *
worker_thread(void *arg)
{
	xf_pipeline_core_loop(arg);
	return NULL;
}

/* -C: the RX core and worker 0 polled in turn on this thread, other workers on theirs. */
static void
run_combined(struct xf_pipeline *p, const struct xf_session *s, unsigned int workers)
{
	pthread_t th[XF_PIPELINE_MAX_WORKERS];
	struct timespec nap = { .tv_nsec = 20000 }; /* the pipeline's own idle back-off */
	unsigned int idle = 0, nth = 0;

	for (unsigned int w = 1; w < workers; w++) {
		if (pthread_create(&th[nth], NULL, worker_thread, xf_pipeline_core_arg(p, 1, w)) ==
		    0) {
			nth++;
		}
	}
	xf_core_set_self(0);
	while (!xf_session_is_done(s)) {
		int busy = xf_pipeline_rx_poll(p, 0);

		busy |= xf_pipeline_worker_poll(p, 0);
		if (busy) {
			idle = 0;
		} else if (++idle > 64) {
			nanosleep(&nap, NULL);
		}
	}
	xf_pipeline_stop(p);
	for (unsigned int i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
	}
}

static int
run_once(int root, struct xf_memsend_file *files, uint32_t n, unsigned int workers, uint32_t window,
         enum xf_fsync_policy fsync, struct result *res)
{
	struct xf_memsend_conf mc = {
		.files = files,
		.nfiles = n,
		.session = 0xbe9c,
		.max_payload = XF_PAYLOAD_MAX,
		.window = window,
		.seed = 1,
	};
	struct xf_pipeline_conf pc = {
		.n_rx = 1,
		.n_workers = workers,
		.rx_core = { 0 },
		.root_fd = root,
		.window = window,
		.max_sessions = 1,
		.fsync = fsync,
		.fsync_batch = 64,
		.source = { xf_memsend_source },
		.release = xf_memsend_release,
		.stop_when_done = true,
		.eager_temps = eager,
	};
	struct xf_memsend *ms = xf_memsend_create(&mc);
	struct xf_pipeline *p;
	struct xf_session *s;
	struct rusage ru0, ru1;
	double t0;

	for (unsigned int w = 0; w < workers; w++) {
		pc.worker_core[w] = combined ? w : 1 + w;
	}
	if (ms == NULL) {
		return -errno;
	}
	pc.source_arg[0] = ms;
	p = xf_pipeline_create(&pc);
	s = p != NULL ? xf_pipeline_session_open(p, 0, 0, 0, mc.session, mc.max_payload, 0,
	                                         xf_memsend_tx, ms)
	              : NULL;
	if (s == NULL) {
		fprintf(stderr, "pipeline: %s\n", strerror(errno));
		return -1;
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_s();
	if (combined) {
		run_combined(p, s, workers);
	} else {
		xf_pipeline_run_threads(p);
	}
	res->wall = now_s() - t0;
	getrusage(RUSAGE_SELF, &ru1);
	res->cpu_user = tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime);
	res->cpu_sys = tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
	xf_pipeline_times(p, &res->t);
	res->uptodate = res->whole = res->delta = 0;
	for (uint32_t i = 0; i < n; i++) {
		res->uptodate += xf_memsend_decision(ms, i) == XF_DEC_UPTODATE;
		res->whole += xf_memsend_decision(ms, i) == XF_DEC_WHOLE;
		res->delta += xf_memsend_decision(ms, i) == XF_DEC_DELTA;
	}
	if (!xf_memsend_done(ms) || xf_memsend_stats(ms)->done_files != n) {
		fprintf(stderr, "transfer incomplete\n");
		return -1;
	}
	xf_pipeline_destroy(p);
	xf_memsend_destroy(ms);
	return 0;
}

static void
row(const char *stage, uint64_t items, uint64_t bytes, double secs, double mgbs, double cgbs)
{
	double gbs = secs > 0 ? (double)bytes / secs / 1e9 : 0;

	printf("%-22s %10llu %12.0f %9.3f %9.3f %9.3f %9.4f\n", stage, (unsigned long long)items,
	       secs > 0 ? (double)items / secs : 0, secs, gbs, gbs / mgbs, gbs / cgbs);
}

int
main(int argc, char **argv)
{
	uint32_t n = 10000, window = 1024;
	uint64_t size = 4096;
	unsigned int workers = 2;
	enum xf_fsync_policy fsync = XF_FSYNC_NONE;
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char root_path[512], cmd[600];
	struct xf_memsend_file *files;
	struct result r1, r2, r3;
	bool delta = false;
	size_t reflen = 64u << 20;
	uint8_t *data, *a, *b;
	double mg, cg, t0;
	uint64_t sink = 0;
	int opt, root;

	while ((opt = getopt(argc, argv, "n:s:w:W:d:f:DCE")) != -1) {
		switch (opt) {
		case 'n':
			n = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 's':
			size = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			workers = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'W':
			window = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			dir = optarg;
			break;
		case 'D':
			delta = true;
			break;
		case 'C':
			combined = true;
			break;
		case 'E':
			eager = true;
			break;
		case 'f':
			fsync = strcmp(optarg, "file") == 0    ? XF_FSYNC_FILE
			        : strcmp(optarg, "batch") == 0 ? XF_FSYNC_BATCH
			                                       : XF_FSYNC_NONE;
			break;
		default:
			fprintf(stderr,
			        "usage: %s [-n files] [-s bytes] [-w workers] [-W window] [-d dir] "
			        "[-f none|file|batch] [-D] [-C] [-E]\n",
			        argv[0]);
			return 2;
		}
	}
	if (n == 0 || workers == 0 || workers > XF_PIPELINE_MAX_WORKERS) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	a = malloc(reflen);
	b = malloc(reflen);
	data = malloc(size != 0 ? size : 1);
	files = calloc(n, sizeof(*files));
	if (a == NULL || b == NULL || data == NULL || files == NULL) {
		return 1;
	}
	for (size_t i = 0; i < reflen; i++) {
		a[i] = (uint8_t)(i * 2654435761u >> 13);
	}
	memset(b, 0, reflen);
	for (uint64_t i = 0; i < size; i++) {
		data[i] = (uint8_t)(i * 40503u >> 7);
	}
	mg = memcpy_gbs(a, b, reflen);
	cg = crc_gbs(a, reflen, &sink);
	/* All files share one buffer: the sender reads it, the receiver writes copies. */
	for (uint32_t i = 0; i < n; i++) {
		char path[64];

		/* Scan order: 64 files per directory, directory after directory. */
		snprintf(path, sizeof(path), "d%05u/f%07u", i / 64, i);
		files[i].path = strdup(path);
		files[i].kind = XF_FILE_REG;
		files[i].mode = 0644;
		files[i].mtime_ns = 1700000000000000000ll + i;
		files[i].size = size;
		files[i].data = data;
	}
	snprintf(root_path, sizeof(root_path), "%s/xf-bench-pipeline-XXXXXX", dir);
	if (mkdtemp(root_path) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	root = open(root_path, O_RDONLY | O_DIRECTORY);
	printf("xf-bench-pipeline: N=%u files x S=%llu bytes, 1 RX core + %u workers (threads%s), "
	       "window %u, fsync %s, build %s, %ld CPUs online, dest %s\n",
	       n, (unsigned long long)size, workers,
	       combined ? "; RX core and worker 0 on one: -C" : "", window,
	       fsync == XF_FSYNC_NONE   ? "none"
	       : fsync == XF_FSYNC_FILE ? "file"
	                                : "batch",
	       XF_BUILDTYPE, sysconf(_SC_NPROCESSORS_ONLN), root_path);
	printf("reference (same run): memcpy %.2f GB/s, ISA-L crc64 %.2f GB/s (64 MiB, best of 3)\n",
	       mg, cg);
	t0 = now_s();
	if (run_once(root, files, n, workers, window, fsync, &r1) != 0) {
		return 1;
	}
	(void)t0;
	if (run_once(root, files, n, workers, window, fsync, &r2) != 0) {
		return 1;
	}
	printf("%-22s %10s %12s %9s %9s %9s %9s\n", "stage", "items", "items/s", "seconds", "GB/s",
	       "/memcpy", "/crc64");
	row("enumeration (stat)", r1.t.stat_items, 0,
	    (double)(r1.t.stat_last - r1.t.stat_first) / 1e9, mg, cg);
	row("write+crc (DATA)", r1.t.data_items, r1.t.data_bytes,
	    (double)(r1.t.data_last - r1.t.data_first) / 1e9, mg, cg);
	row("commit (rename)", r1.t.commits, 0,
	    (double)(r1.t.commit_last - r1.t.commit_first) / 1e9, mg, cg);
	row("end to end (files)", n, (uint64_t)n * size, r1.wall, mg, cg);
	row("rerun, all up to date", n, 0, r2.wall, mg, cg);
	printf("run 1 CPU (process and its io-wq threads): user %.3f s, sys %.3f s\n", r1.cpu_user,
	       r1.cpu_sys);
	printf("DATA: %llu frames in %llu write operations (%.1f frames per write)\n",
	       (unsigned long long)r1.t.data_items, (unsigned long long)r1.t.data_writes,
	       r1.t.data_writes != 0 ? (double)r1.t.data_items / (double)r1.t.data_writes : 0);
	printf("quick checks: run 1 %llu parent lookups, %llu answered by a parent just found "
	       "missing; rerun %llu lookups\n",
	       (unsigned long long)r1.t.stat_lookups, (unsigned long long)r1.t.stat_nodir,
	       (unsigned long long)r2.t.stat_lookups);
	printf("run 1: %u WHOLE, %llu files verified; rerun: %u UPTODATE; commit worker busy %.3f s\n",
	       r1.whole, (unsigned long long)r1.t.files_done, r2.uptodate, r1.t.busy_commit_s);
	if (delta && size > 0) {
		/* One byte changed in the middle and a new mtime: every file goes DELTA, and
		 * the receiver copies all of it but one block from the basis (COPY items). */
		data[size / 2] ^= 0x5a;
		for (uint32_t i = 0; i < n; i++) {
			files[i].mtime_ns += 1000;
		}
		if (run_once(root, files, n, workers, window, fsync, &r3) != 0) {
			return 1;
		}
		row("delta rerun (COPY)", n, (uint64_t)n * size, r3.wall, mg, cg);
		printf("delta rerun: %u DELTA, %llu COPY/DATA items, %llu COPY bytes from kept bases, "
		       "CPU user %.3f s, sys %.3f s\n",
		       r3.delta, (unsigned long long)r3.t.data_items,
		       (unsigned long long)r3.t.copy_kept, r3.cpu_user, r3.cpu_sys);
	}
	ftable_cost(1000000);
	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root_path);
	if (system(cmd) != 0) {
		fprintf(stderr, "cleanup of %s failed\n", root_path);
	}
	for (uint32_t i = 0; i < n; i++) {
		free((void *)files[i].path);
	}
	free(files);
	free(data);
	free(a);
	free(b);
	return sink == 1 ? 3 : 0;
}
