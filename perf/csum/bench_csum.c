/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf-bench-csum: ISA-L crc32_iscsi (CRC32C) and crc64_ecma_refl, called directly, in
 * GB/s by block size, against memcpy of the same blocks in the same run. The blocks
 * walk a 4 MiB working set (cache-resident on the reference CPU); the last row is one
 * call over a 256 MiB buffer (memory-bound). The ratio crc/memcpy is the figure that
 * travels between machines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l.h>

#include "xf_perf.h"

#define NAME    "xf-bench-csum"
#define WORKSET (4u << 20)
#define BIG     (256ull << 20)

enum kind { K_MEMCPY, K_CRC32C, K_CRC64, K_COUNT };

static const char *const kind_names[K_COUNT] = {
	[K_MEMCPY] = "memcpy",
	[K_CRC32C] = "crc32_iscsi",
	[K_CRC64] = "crc64_ecma_refl",
};

/* Results land here so the compiler cannot drop the work. */
static volatile uint64_t sink;

/* Process `bytes` in `block`-sized calls over a buffer of `span` bytes; returns GB/s. */
static double
measure(enum kind k, unsigned char *src, unsigned char *dst, uint64_t span, uint64_t block,
        uint64_t bytes)
{
	uint64_t off = 0, done = 0, t0, t1;
	uint32_t c32 = 0;
	uint64_t c64 = 0;

	t0 = xf_perf_work_ns();
	while (done < bytes) {
		switch (k) {
		case K_MEMCPY:
			memcpy(dst + off, src + off, block);
			break;
		case K_CRC32C:
			c32 = crc32_iscsi(src + off, (int)block, c32);
			break;
		case K_CRC64:
			c64 = crc64_ecma_refl(c64, src + off, block);
			break;
		case K_COUNT:
			abort();
		}
		done += block;
		off += block;
		if (off + block > span) {
			off = 0;
		}
	}
	t1 = xf_perf_work_ns();
	sink += c32 + c64 + dst[(block - 1) % span];
	return (double)done / (double)(t1 - t0 ? t1 - t0 : 1);
}

static unsigned char *
buffer(uint64_t bytes, unsigned int seed)
{
	unsigned char *p = aligned_alloc(4096, bytes);

	if (p == NULL) {
		fprintf(stderr, "cannot allocate %llu bytes\n", (unsigned long long)bytes);
		exit(1);
	}
	srand(seed);
	for (uint64_t i = 0; i < bytes; i++) {
		p[i] = (unsigned char)rand();
	}
	return p;
}

int
main(int argc, char **argv)
{
	static const uint64_t blocks[] = {
		64, 256, 1024, 2048, 4096, 16384, 65536, 262144, 1048576,
	};
	struct xf_perf_opts o;
	char libs[128];
	uint64_t big, per_run;
	unsigned char *src, *dst;
	FILE *csv;
	int rc;

	rc = xf_perf_parse(argc, argv, NAME,
	                   "ISA-L crc32_iscsi and crc64_ecma_refl GB/s by block size, against "
	                   "memcpy",
	                   5, 2, &o);
	if (rc != 0) {
		return rc > 0 ? 0 : 2;
	}
	big = o.quick ? (32ull << 20) : BIG;
	per_run = o.quick ? (64ull << 20) : (512ull << 20);
	snprintf(libs, sizeof(libs), "ISA-L %d.%d.%d (libisal, multibinary dispatch)",
	         ISAL_MAJOR_VERSION, ISAL_MINOR_VERSION, ISAL_PATCH_VERSION);
	xf_perf_banner(NAME, libs, &o);
	printf("  blocks walk a %u MiB working set, %llu MiB per run; last row: one call over a "
	       "%llu MiB buffer%s\n",
	       WORKSET >> 20, (unsigned long long)(per_run >> 20), (unsigned long long)(big >> 20),
	       o.quick ? " (smaller with --quick)" : "");
	csv = xf_perf_csv_open(&o);
	src = buffer(big, 1);
	dst = buffer(big, 2);

	printf("\n  %-10s %12s %12s %8s %12s %8s\n", "block", "memcpy GB/s", "crc32c GB/s", "ratio",
	       "crc64 GB/s", "ratio");
	for (size_t bi = 0; bi <= XF_PERF_ARRAY_SIZE(blocks); bi++) {
		bool whole = bi == XF_PERF_ARRAY_SIZE(blocks);
		uint64_t block = whole ? big : blocks[bi];
		uint64_t span = whole ? big : WORKSET;
		uint64_t bytes = whole ? big : per_run;
		double v[K_COUNT][o.runs], med[K_COUNT];
		char label[32];

		/* Interleave the kinds so drift hurts all of them alike. */
		for (unsigned int r = 0; r < o.runs; r++) {
			for (int k = 0; k < K_COUNT; k++) {
				v[k][r] = measure((enum kind)k, src, dst, span, block, bytes);
			}
		}
		for (int k = 0; k < K_COUNT; k++) {
			med[k] = xf_perf_median(v[k], o.runs);
			xf_perf_csv_row(csv, "csum", whole ? "buffer" : "block", kind_names[k],
			                block, 1, 1, o.runs, med[k], "GB/s",
			                med[k] / med[K_MEMCPY]);
		}
		if (whole) {
			snprintf(label, sizeof(label), "%llu MiB",
			         (unsigned long long)(block >> 20));
		} else if (block >= 1024) {
			snprintf(label, sizeof(label), "%llu KiB",
			         (unsigned long long)(block >> 10));
		} else {
			snprintf(label, sizeof(label), "%llu B", (unsigned long long)block);
		}
		printf("  %-10s %12.2f %12.2f %7.2fx %12.2f %7.2fx\n", label, med[K_MEMCPY],
		       med[K_CRC32C], med[K_CRC32C] / med[K_MEMCPY], med[K_CRC64],
		       med[K_CRC64] / med[K_MEMCPY]);
	}
	printf("  ratio = checksum GB/s / memcpy GB/s of the same blocks (above 1: checksumming "
	       "is cheaper than copying)\n");
	free(src);
	free(dst);
	if (csv != NULL) {
		fclose(csv);
	}
	return 0;
}
