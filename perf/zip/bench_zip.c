/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-zip: what --compress costs per DATA frame (docs/PROTOCOL.md 6.16). Frames of
 * 1432 bytes (MTU 1500) and 8932 (jumbo) cut from two data sets: `text`, the files of
 * /usr/include one after the other (what the `compressible` transfer case sends), and
 * `random`. For each: memcpy of the frames (the baseline), igzip's stateless deflate at
 * levels 0 and 1 into a cap of 15/16 of the frame (what the sender tries; a frame that
 * does not fit is a miss), and xf_zip_inflate of the level-1 frames (what the receiver
 * does). Rates are of raw bytes; `size` is the bytes sent per raw byte, misses counted
 * at their raw size. Times are this thread's CPU time. The ratio deflate/memcpy travels
 * between machines.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <isa-l.h>

#include "xf_perf.h"
#include "xf_zip.h"

#define NAME "xf-bench-zip"

static uint8_t *text;
static size_t text_len, text_cap;
static volatile uint64_t sink;

static int
take_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int fd;
	ssize_t r;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode) || text_len >= text_cap) {
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	r = read(fd, text + text_len, text_cap - text_len);
	if (r > 0) {
		text_len += (size_t)r;
	}
	close(fd);
	return 0;
}

enum kind { K_MEMCPY, K_LVL0, K_LVL1, K_INFLATE, K_COUNT };

static const char *const kind_names[K_COUNT] = { "memcpy", "deflate-0", "deflate-1", "inflate" };

struct zrun {
	double mbps;     /* raw MB/s */
	uint64_t sent;   /* bytes sent for the data set (misses at raw size) */
	uint64_t frames; /* frames compressed */
};

/* The data set's frames compressed at level 1 (what the receiver gets), for K_INFLATE. */
struct zset {
	uint8_t *bytes; /* frame i at i * fl, zlen[i] bytes (0: a miss) */
	uint32_t *zlen;
};

static void
zset_make(struct zset *zs, const uint8_t *data, size_t len, uint32_t fl, struct xf_zip *z)
{
	size_t n = len / fl;

	zs->bytes = malloc(n * fl);
	zs->zlen = calloc(n, sizeof(*zs->zlen));
	if (zs->bytes == NULL || zs->zlen == NULL) {
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		int r = xf_zip_deflate(z, data + i * fl, fl, zs->bytes + i * fl, fl - fl / 16);

		zs->zlen[i] = r > 0 ? (uint32_t)r : 0;
	}
}

/* One pass over the data set in frames of fl bytes, timed by this thread's CPU clock
 * (the machine may be shared: wall time would count others' work). */
static struct zrun
pass(enum kind k, const uint8_t *data, size_t len, uint32_t fl, struct xf_zip *z, uint8_t *lvl_buf,
     const struct zset *zs)
{
	static uint8_t out[16384];
	struct zrun res = { 0 };
	uint64_t t0 = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID), ns;
	uint64_t raw = 0;

	for (size_t i = 0; (i + 1) * fl <= len; i++) {
		const uint8_t *in = data + i * fl;
		struct isal_zstream s;
		int n = -1;

		switch (k) {
		case K_MEMCPY:
			memcpy(out, in, fl);
			n = 0;
			break;
		case K_LVL0:
		case K_LVL1:
			isal_deflate_stateless_init(&s);
			s.level = k == K_LVL0 ? 0 : 1;
			s.level_buf = k == K_LVL0 ? NULL : lvl_buf;
			s.level_buf_size = k == K_LVL0 ? 0 : ISAL_DEF_LVL1_SMALL;
			s.end_of_stream = 1;
			s.next_in = (uint8_t *)(uintptr_t)in;
			s.avail_in = fl;
			s.next_out = out;
			s.avail_out = fl - fl / 16;
			n = isal_deflate_stateless(&s) == COMP_OK ? (int)s.total_out : -1;
			raw += fl;
			break;
		case K_INFLATE:
			if (zs->zlen[i] == 0) {
				break; /* a miss: nothing to inflate */
			}
			if (xf_zip_inflate(z, zs->bytes + i * fl, zs->zlen[i], out, fl) != 0) {
				fprintf(stderr, "inflate failed\n");
				exit(1);
			}
			n = (int)zs->zlen[i];
			raw += fl;
			break;
		case K_COUNT:
			abort();
		}
		sink += out[0];
		res.sent += n > 0 ? (uint64_t)n : fl;
		res.frames += n > 0;
	}
	ns = xf_perf_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	if (k == K_MEMCPY) {
		raw = len / fl * fl;
	}
	res.mbps = raw > 0 ? (double)raw * 1e3 / (double)(ns ? ns : 1) : 0;
	return res;
}

int
main(int argc, char **argv)
{
	static const uint32_t frames[] = { 1432, 8932 };
	struct xf_perf_opts o;
	struct xf_zip *z = xf_zip_create();
	uint8_t *lvl_buf = malloc(ISAL_DEF_LVL1_SMALL);
	uint8_t *rnd;
	char libs[128];
	size_t rnd_len;
	FILE *csv;
	int rc;

	rc = xf_perf_parse(argc, argv, NAME,
	                   "igzip deflate (levels 0, 1) and inflate per DATA frame, text and "
	                   "random, against memcpy",
	                   5, 2, &o);
	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	if (z == NULL || lvl_buf == NULL) {
		return 1;
	}
	text_cap = o.quick ? (4u << 20) : (32u << 20);
	text = malloc(text_cap);
	if (text == NULL || nftw("/usr/include", take_file, 32, FTW_PHYS) != 0 ||
	    text_len < (1u << 20)) {
		fprintf(stderr, NAME ": cannot read 1 MiB of /usr/include\n");
		return 77;
	}
	rnd_len = text_len;
	rnd = malloc(rnd_len);
	if (rnd == NULL) {
		return 1;
	}
	srand(1);
	for (size_t i = 0; i < rnd_len; i++) {
		rnd[i] = (uint8_t)rand();
	}
	snprintf(libs, sizeof(libs), "ISA-L %d.%d.%d (igzip, stateless)", ISAL_MAJOR_VERSION,
	         ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
	xf_perf_banner(NAME, libs, &o);
	printf("  text: %zu bytes of /usr/include's files in walk order; random: as many from "
	       "rand(); cap 15/16 of the frame\n",
	       text_len);
	csv = xf_perf_csv_open(&o);
	printf("\n  %-7s %-6s %-10s %10s %8s %8s %10s\n", "data", "frame", "what", "MB/s",
	       "vs copy", "size", "frames zip");
	for (int d = 0; d < 2; d++) {
		const uint8_t *data = d == 0 ? text : rnd;
		const char *dname = d == 0 ? "text" : "random";

		for (size_t fi = 0; fi < XF_PERF_ARRAY_SIZE(frames); fi++) {
			double v[K_COUNT][o.runs], med[K_COUNT];
			struct zrun last[K_COUNT];
			uint64_t nframes = text_len / frames[fi];
			struct zset zs;

			zset_make(&zs, data, text_len, frames[fi], z);
			for (unsigned int r = 0; r < o.runs; r++) {
				for (int k = 0; k < K_COUNT; k++) {
					last[k] = pass((enum kind)k, data, text_len, frames[fi], z,
					               lvl_buf, &zs);
					v[k][r] = last[k].mbps;
				}
			}
			free(zs.bytes);
			free(zs.zlen);
			for (int k = 0; k < K_COUNT; k++) {
				med[k] = xf_perf_median(v[k], o.runs);
				xf_perf_csv_row(csv, "zip", dname, kind_names[k], frames[fi], 1, 1,
				                o.runs, med[k], "MB/s", med[k] / med[K_MEMCPY]);
				printf("  %-7s %-6u %-10s %10.0f %7.3fx %8.3f %5llu/%llu\n", dname,
				       frames[fi], kind_names[k], med[k], med[k] / med[K_MEMCPY],
				       (double)last[k].sent / (double)(nframes * frames[fi]),
				       (unsigned long long)last[k].frames,
				       (unsigned long long)nframes);
			}
		}
	}
	printf("  size = bytes sent per raw byte (a miss goes as is); deflate's rate is of the "
	       "bytes tried, inflate's of the bytes it writes (0: no frame compressed); CPU time "
	       "of this thread\n");
	free(text);
	free(rnd);
	free(lvl_buf);
	xf_zip_free(z);
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
