/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-delta: the delta algorithms (dataplane/delta) in GB/s, against memcpy and
 * ISA-L's CRC-64 over the same buffer in the same run:
 *   - signatures of a basis (weak rolling sum + CRC-64 per block),
 *   - matching a new file against them: identical (every block matches, the best case),
 *     4 runs of 100 bytes changed (the `delta` dataset of BENCHMARKS.md), and unrelated
 *     data (nothing matches: the rolling sum runs at every byte, the worst case),
 *   - the sender's reader of a DELTA file over the 4x100 B change, from a memfd (tmpfs,
 *     where the benchmark's sources are) at a 4 KiB block (XFS's): per read request of
 *     32 frames' data (1,400 bytes at MTU 1500, 8,932 at the dev pair's MTU 9000) one
 *     preadv, the whole-file CRC-64 and the matcher. "frame pieces": the request read
 *     into 32 buffers 776 bytes more than a frame's data apart (as into mbufs: headroom,
 *     headers, the mbuf itself), CRC-64 and matcher fed frame by frame; "request
 *     pieces": read into one contiguous buffer and fed in one piece, as the engine's
 *     reader does (docs/DELTA.md, "Integration"). "request mapped": the request's range
 *     mapped (mmap MAP_POPULATE, munmap after) instead of read, no copy out of the page
 *     cache; "4 MiB mapped": 4 MiB at a time (a file of the `large` set at once). The
 *     mapping costs about what the copy does (docs/DELTA.md, "What bounds the delta
 *     push"), so the engine reads.
 * The ratio to memcpy is the figure that travels between machines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <isa-l.h>

#include "xf_delta.h"
#include "xf_perf.h"

#define NAME  "xf-bench-delta"
#define CHUNK (256u << 10) /* what a worker feeds the matcher per read */
#define FRAME 1400u        /* a frame's data at MTU 1500 */
#define JUMBO 8932u        /* at MTU 9000 (XF_DATA_RAW_MAX) */
#define GAP   776u         /* between two mbufs' data areas */
#define BURST 32u          /* frames per read request */

static volatile uint64_t sink;

static unsigned char *
random_buffer(uint64_t bytes, uint64_t seed)
{
	unsigned char *p = malloc(bytes);
	uint64_t x = seed | 1;

	if (p == NULL) {
		fprintf(stderr, NAME ": cannot allocate %llu bytes\n", (unsigned long long)bytes);
		exit(1);
	}
	for (uint64_t i = 0; i < bytes; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
	return p;
}

static double
gbps(uint64_t bytes, uint64_t t0, uint64_t t1)
{
	return (double)bytes / (double)(t1 > t0 ? t1 - t0 : 1);
}

static struct xf_sig_rec *
signatures(const unsigned char *basis, uint64_t size, uint32_t bs, uint64_t *n, double *rate)
{
	uint64_t count = xf_delta_block_count(size, bs), got = 0, t0;
	struct xf_sig_rec *sigs = calloc(count + 1, sizeof(*sigs));
	struct xf_delta_sig g;

	if (sigs == NULL || xf_delta_sig_begin(&g, bs) != 0) {
		fprintf(stderr, NAME ": signature setup failed\n");
		exit(1);
	}
	t0 = xf_perf_work_ns();
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t len = (size_t)(size - off < CHUNK ? size - off : CHUNK);
		int k = xf_delta_sig_update(&g, basis + off, len, sigs + got, count + 1 - got);

		got += (uint64_t)(k > 0 ? k : 0);
	}
	got += (uint64_t)xf_delta_sig_finish(&g, sigs + got);
	*rate = gbps(size, t0, xf_perf_work_ns());
	*n = got;
	return sigs;
}

static int
count_op(void *arg, const struct xf_delta_op *op)
{
	*(uint64_t *)arg += op->len;
	return 0;
}

/* A matcher over sigs whose ops add their lengths to *bytes; exits if it cannot be made. */
static struct xf_delta_match *
matcher(const struct xf_sig_rec *sigs, uint64_t n, uint32_t bs, uint32_t max_literal,
        uint64_t *bytes)
{
	struct xf_delta_params p = {
		.block_size = bs,
		.block_count = (uint32_t)n,
		.max_literal = max_literal,
		.sigs = sigs,
	};
	struct xf_delta_match *m = xf_delta_match_create(&p, count_op, bytes);

	if (m == NULL) {
		fprintf(stderr, NAME ": matcher setup failed\n");
		exit(1);
	}
	return m;
}

static double
match(const unsigned char *data, uint64_t size, const struct xf_sig_rec *sigs, uint64_t n,
      uint32_t bs, uint64_t *literal)
{
	uint64_t bytes = 0, t0;
	struct xf_delta_match *m = matcher(sigs, n, bs, 8932 /* a jumbo DATA frame */, &bytes);

	t0 = xf_perf_work_ns();
	for (uint64_t off = 0; off < size; off += CHUNK) {
		xf_delta_match_feed(m, data + off,
		                    (size_t)(size - off < CHUNK ? size - off : CHUNK));
	}
	xf_delta_match_finish(m);
	t0 = xf_perf_work_ns() - t0;
	*literal = xf_delta_match_stats(m)->literal_bytes;
	sink += bytes;
	xf_delta_match_free(m);
	return (double)size / (double)(t0 ? t0 : 1);
}

/* The sender's reader: preadv, CRC-64 and matcher, request by request (GB/s). */
static double
reader(int fd, uint64_t size, const struct xf_sig_rec *sigs, uint64_t n, uint32_t bs,
       uint32_t frame, bool contiguous, unsigned char *bufs)
{
	uint64_t bytes = 0, crc = 0, t0;
	struct xf_delta_match *m = matcher(sigs, n, bs, frame, &bytes);
	struct iovec iov[BURST];

	t0 = xf_perf_work_ns();
	for (uint64_t off = 0; off < size;) {
		ssize_t got;

		if (contiguous) {
			iov[0] = (struct iovec){ bufs, BURST * frame };
			got = preadv(fd, iov, 1, (off_t)off);
		} else {
			for (unsigned int k = 0; k < BURST; k++) {
				iov[k] = (struct iovec){ bufs + k * (frame + GAP), frame };
			}
			got = preadv(fd, iov, (int)BURST, (off_t)off);
		}
		if (got <= 0) {
			break;
		}
		for (size_t at = 0; at < (size_t)got;) {
			size_t left = (size_t)got - at;
			size_t len = contiguous || left < frame ? left : frame;
			const unsigned char *d =
			        contiguous ? bufs : bufs + (at / frame) * (frame + GAP);

			crc = crc64_ecma_refl(crc, d, len);
			xf_delta_match_feed(m, d, len);
			at += len;
		}
		off += (uint64_t)got;
	}
	xf_delta_match_finish(m);
	t0 = xf_perf_work_ns() - t0;
	sink += bytes + crc;
	xf_delta_match_free(m);
	return (double)size / (double)(t0 ? t0 : 1);
}

/*
 * The same reader with the request's range mapped instead of read (mmap MAP_POPULATE of
 * the page-aligned range, CRC-64 and matcher over the mapping, munmap): no copy out of
 * the page cache. window: bytes mapped at once (a request's, or more).
 */
static double
reader_mapped(int fd, uint64_t size, const struct xf_sig_rec *sigs, uint64_t n, uint32_t bs,
              uint32_t frame, uint64_t window)
{
	uint64_t bytes = 0, crc = 0, t0;
	struct xf_delta_match *m = matcher(sigs, n, bs, frame, &bytes);

	t0 = xf_perf_work_ns();
	for (uint64_t off = 0; off < size;) {
		uint64_t len = size - off < window ? size - off : window;
		uint64_t skew = off & 4095u;
		unsigned char *map = mmap(NULL, (size_t)(len + skew), PROT_READ,
		                          MAP_SHARED | MAP_POPULATE, fd, (off_t)(off - skew));

		if (map == MAP_FAILED) {
			perror(NAME ": mmap");
			exit(1);
		}
		crc = crc64_ecma_refl(crc, map + skew, len);
		xf_delta_match_feed(m, map + skew, len);
		munmap(map, (size_t)(len + skew));
		off += len;
	}
	xf_delta_match_finish(m);
	t0 = xf_perf_work_ns() - t0;
	sink += bytes + crc;
	xf_delta_match_free(m);
	return (double)size / (double)(t0 ? t0 : 1);
}

int
main(int argc, char **argv)
{
	struct xf_perf_opts o;
	uint64_t size;
	FILE *csv;

	if (xf_perf_parse(argc, argv, NAME, "delta signatures and matching against memcpy", 5, 1,
	                  &o) != 0) {
		return 2;
	}
	size = o.quick ? (4ull << 20) : (64ull << 20);
	xf_perf_banner(NAME, "dataplane/delta, ISA-L", &o);
	csv = xf_perf_csv_open(&o);
	{
		unsigned char *basis = random_buffer(size, 1), *other = random_buffer(size, 2);
		unsigned char *changed = malloc(size), *dst = malloc(size);
		uint32_t bs = xf_delta_block_size(size);
		uint32_t bs4 =
		        xf_delta_block_size_aligned(4ull << 20, 4096); /* a 4 MiB file on XFS */
		double v_memcpy[16], v_crc[16], v_crc32[16], v_sig[16], v_same[16], v_delta[16],
		        v_none[16], v_rframe[16], v_rreq[16], v_jframe[16], v_jreq[16], v_jmap[16],
		        v_jmap4[16];
		uint64_t lit_same = 0, lit_delta = 0, lit_none = 0;
		const char *names[] = { "memcpy",
			                "crc64_ecma_refl",
			                "crc32_iscsi",
			                "signatures",
			                "match identical",
			                "match 4x100 B changed",
			                "match unrelated",
			                "reader 1500, frame pieces",
			                "reader 1500, request pieces",
			                "reader 9000, frame pieces",
			                "reader 9000, request pieces",
			                "reader 9000, request mapped",
			                "reader 9000, 4 MiB mapped" };
		double *vals[] = { v_memcpy, v_crc,  v_crc32,  v_sig,  v_same, v_delta, v_none,
			           v_rframe, v_rreq, v_jframe, v_jreq, v_jmap, v_jmap4 };
		unsigned int runs = o.runs > 16 ? 16 : o.runs;

		unsigned char *rbufs = malloc(BURST * (JUMBO + GAP));
		int mfd = memfd_create("xf-bench-delta", 0);

		if (changed == NULL || dst == NULL || rbufs == NULL || mfd < 0) {
			return 1;
		}
		memcpy(changed, basis, size);
		for (unsigned int i = 0; i < 4; i++) { /* 4 runs of 100 bytes, spread out */
			memset(changed + (size / 5) * (i + 1), 0xa5 ^ (int)i, 100);
		}
		memcpy(dst, basis, size); /* fault the pages in before anything is timed */
		memset(rbufs, 0, BURST * (JUMBO + GAP));
		if (pwrite(mfd, changed, size, 0) != (ssize_t)size) {
			return 1;
		}
		for (unsigned int r = 0; r < runs; r++) {
			uint64_t t0 = xf_perf_work_ns(), n;
			double rate4;
			struct xf_sig_rec *sigs;

			memcpy(dst, basis, size);
			v_memcpy[r] = gbps(size, t0, xf_perf_work_ns());
			t0 = xf_perf_work_ns();
			sink += crc64_ecma_refl(0, basis, size);
			v_crc[r] = gbps(size, t0, xf_perf_work_ns());
			t0 = xf_perf_work_ns();
			sink += crc32_iscsi(basis, (int)size, 0);
			v_crc32[r] = gbps(size, t0, xf_perf_work_ns());
			sigs = signatures(basis, size, bs, &n, &v_sig[r]);
			v_same[r] = match(basis, size, sigs, n, bs, &lit_same);
			v_delta[r] = match(changed, size, sigs, n, bs, &lit_delta);
			v_none[r] = match(other, size, sigs, n, bs, &lit_none);
			free(sigs);
			sigs = signatures(basis, size, bs4, &n, &rate4);
			v_rframe[r] = reader(mfd, size, sigs, n, bs4, FRAME, false, rbufs);
			v_rreq[r] = reader(mfd, size, sigs, n, bs4, FRAME, true, rbufs);
			v_jframe[r] = reader(mfd, size, sigs, n, bs4, JUMBO, false, rbufs);
			v_jreq[r] = reader(mfd, size, sigs, n, bs4, JUMBO, true, rbufs);
			v_jmap[r] = reader_mapped(mfd, size, sigs, n, bs4, JUMBO,
			                          (uint64_t)BURST * JUMBO);
			v_jmap4[r] = reader_mapped(mfd, size, sigs, n, bs4, JUMBO, 4ull << 20);
			free(sigs);
		}
		printf("file %llu MiB, block %u bytes, %u run(s), medians\n",
		       (unsigned long long)(size >> 20), bs, runs);
		printf("%-28s %10s %12s\n", "what", "GB/s", "x memcpy");
		for (unsigned int k = 0; k < XF_PERF_ARRAY_SIZE(names); k++) {
			double med = xf_perf_median(vals[k], runs);
			double base = xf_perf_median(v_memcpy, runs);

			printf("%-28s %10.2f %12.3f\n", names[k], med, base > 0 ? med / base : 0);
			xf_perf_csv_row(csv, "delta", names[k], "", size, 1, 1, runs, med, "GB/s",
			                base > 0 ? med / base : 0);
		}
		printf("literal bytes: identical %llu, 4x100 B changed %llu (%.1f blocks), "
		       "unrelated %llu\n",
		       (unsigned long long)lit_same, (unsigned long long)lit_delta,
		       (double)lit_delta / bs, (unsigned long long)lit_none);
		free(basis);
		free(other);
		free(changed);
		free(dst);
		free(rbufs);
		close(mfd);
	}
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
