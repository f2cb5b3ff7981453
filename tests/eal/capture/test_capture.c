/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL test of the capture tap (drivers/capture): copies stop at the count and land in a
 * pcapng file as written; copies never come from the data pool; a full pool or ring is
 * counted as missed and never blocks; a capture that is off copies nothing.
 */
#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "xf_base.h"
#include "xf_capture.h"
#include "xf_test.h"

#define FRAME_LEN 100u

static struct rte_mempool *pool;
static struct xf_capture *cap;
static char dir[] = "/tmp/xf-eal-capture-XXXXXX";

static int
suite_init(void)
{
	unsigned int core = 0;

	xf_core_set_self(0);
	pool = rte_pktmbuf_pool_create("xf_eal_cap_data", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               SOCKET_ID_ANY);
	cap = xf_capture_create(0, 1, &core, 0, 1518);
	return pool == NULL || cap == NULL || mkdtemp(dir) == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	char path[256];

	xf_capture_free(cap);
	rte_mempool_free(pool);
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, i == 0 ? "count.pcapng" : "full.pcapng");
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* n frames of FRAME_LEN bytes, byte j of frame i = i + j. */
static void
frames(struct rte_mbuf **m, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *p;

		m[i] = rte_pktmbuf_alloc(pool);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]);
		p = (uint8_t *)rte_pktmbuf_append(m[i], FRAME_LEN);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (unsigned int j = 0; j < FRAME_LEN; j++) {
			p[j] = (uint8_t)(i + j);
		}
	}
}

static int
new_file(const char *name, char *path, size_t cap_len)
{
	snprintf(path, cap_len, "%s/%s", dir, name);
	return open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
}

/* pcapng blocks of a file: enhanced packets (type 6) and interface statistics (5). */
static void
read_blocks(const char *path, unsigned int *epb, unsigned int *isb, uint8_t *first, size_t len)
{
	FILE *f = fopen(path, "rb");
	uint32_t h[2];

	*epb = *isb = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fread(h, 4, 2, f) == 2 && h[1] >= 12) {
		long body = (long)h[1] - 8;

		if (h[0] == 6) {
			uint32_t e[5];

			CU_ASSERT_EQUAL_FATAL(fread(e, 4, 5, f), 5);
			if ((*epb)++ == 0) {
				CU_ASSERT_EQUAL(e[3], FRAME_LEN); /* captured length */
				CU_ASSERT_EQUAL(fread(first, 1, len, f), len);
				body -= (long)len;
			}
			body -= 20;
		} else if (h[0] == 5) {
			(*isb)++;
		}
		fseek(f, body, SEEK_CUR);
	}
	fclose(f);
}

static void
test_count_and_file(void)
{
	struct rte_mbuf *m[20];
	struct xf_capture_stats st;
	char path[256];
	uint8_t first[FRAME_LEN];
	unsigned int avail, epb, isb;
	int fd;

	frames(m, 20);
	avail = rte_mempool_avail_count(pool);
	xf_capture_tap(cap, 0, m, 20, false); /* off: nothing copied */
	fd = new_file("count.pcapng", path, sizeof(path));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_capture_begin(cap, fd, 10), 0);
	CU_ASSERT_EQUAL(xf_capture_begin(cap, fd, 10), -EBUSY);
	xf_capture_tap(cap, 0, m, 15, false);
	xf_capture_tap(cap, 0, m + 15, 5, true);
	/* The copies came from the capture's pool, not the data pool. */
	CU_ASSERT_EQUAL(rte_mempool_avail_count(pool), avail);
	CU_ASSERT_EQUAL(xf_capture_drain(cap), 10);
	CU_ASSERT(xf_capture_full(cap));
	xf_capture_stats(cap, &st);
	CU_ASSERT_EQUAL(st.written, 10);
	CU_ASSERT_EQUAL(st.missed, 0);
	CU_ASSERT_FALSE(st.on);
	xf_capture_end(cap);
	read_blocks(path, &epb, &isb, first, sizeof(first));
	CU_ASSERT_EQUAL(epb, 10);
	CU_ASSERT_EQUAL(isb, 1);
	for (unsigned int j = 0; j < FRAME_LEN; j++) {
		CU_ASSERT_EQUAL(first[j], (uint8_t)j);
	}
	rte_pktmbuf_free_bulk(m, 20);
}

static void
test_full_is_missed(void)
{
	static struct rte_mbuf *m[1500];
	struct xf_capture_stats st;
	char path[256];
	unsigned int epb, isb;
	uint8_t first[FRAME_LEN];
	int fd, written = 0, n;

	frames(m, 1500);
	fd = new_file("full.pcapng", path, sizeof(path));
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(xf_capture_begin(cap, fd, 5000), 0);
	/* Nobody drains: the core's pool and ring fill, the rest is missed at once. */
	for (unsigned int i = 0; i < 1500; i += 32) {
		xf_capture_tap(cap, 0, m + i, XF_MIN(32u, 1500u - i), false);
	}
	xf_capture_stats(cap, &st);
	CU_ASSERT(st.missed >= 1500 - XF_CAPTURE_DEPTH);
	CU_ASSERT(st.missed < 1500);
	while ((n = xf_capture_drain(cap)) > 0) {
		written += n;
	}
	CU_ASSERT_EQUAL((uint64_t)written + st.missed, 1500);
	xf_capture_stats(cap, &st);
	CU_ASSERT_EQUAL(st.written, (uint64_t)written);
	CU_ASSERT(st.on);
	xf_capture_end(cap);
	read_blocks(path, &epb, &isb, first, sizeof(first));
	CU_ASSERT_EQUAL(epb, (unsigned int)written);
	/* Off again: taps copy nothing, the pool is whole again. */
	xf_capture_tap(cap, 0, m, 32, false);
	xf_capture_stats(cap, &st);
	CU_ASSERT_EQUAL(st.missed, 1500 - (uint64_t)written);
	rte_pktmbuf_free_bulk(m, 1500);
}

static const struct xf_test tests[] = {
	{ "count and file", test_count_and_file },
	{ "full is missed", test_full_is_missed },
};

int
main(int argc, char **argv)
{
	static char prefix[64];
	static char *eal_args[] = {
		"test_capture",
		"--no-huge",
		"--no-pci",
		"-m",
		"256",
		"--file-prefix",
		prefix,
		"-l",
		"0",
		"--log-level",
		"lib.eal:error",
		"--vdev",
		"net_null0",
		"--no-telemetry",
	};
	int rc;

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "xf-eal-capture-%d", (int)getpid());
	if (rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])), eal_args) < 0) {
		fprintf(stderr, "test_capture: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	rc = xf_test_main("eal-capture", suite_init, suite_clean, XF_TESTS(tests));
	rte_eal_cleanup();
	return rc;
}
