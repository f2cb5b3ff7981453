/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive pipeline on EAL lcores: lcore 0 is the RX core (the in-memory sender
 * feeds it frames in rte_mbufs from a mempool), lcores 1 and 2 are workers launched
 * with rte_eal_remote_launch; buffers are released with rte_pktmbuf_free after the
 * worker's write. Lcores 1 and 2 share a CPU on a 2-CPU machine, so idle back-off is
 * what lets it finish.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "xf_base.h"
#include "xf_memsend.h"
#include "xf_pipeline.h"
#include "xf_proto.h"
#include "xf_test.h"

#define NSMALL 2000u
#define NBIG   2u
#define BIG    (4u << 20)

static struct rte_mempool *pool;
static char base_dir[96];

static uint64_t rng_state = 0xC0FFEE1234567ull;

static uint64_t
rnd(void)
{
	return xf_test_rand(&rng_state);
}

static void *
mbuf_alloc(void *arg, uint8_t **buf, uint32_t cap)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *p;

	(void)arg;
	if (m == NULL) {
		return NULL;
	}
	p = rte_pktmbuf_append(m, (uint16_t)cap);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	*buf = (uint8_t *)p;
	return m;
}

static void
mbuf_release(void *arg, void *owner)
{
	(void)arg;
	rte_pktmbuf_free(owner);
}

struct list {
	struct xf_memsend_file *f;
	uint32_t n;
};

static void
make_list(struct list *l)
{
	char path[128];

	l->n = 0;
	l->f = calloc(NSMALL + NBIG + 8, sizeof(*l->f));
	for (uint32_t d = 0; d < 4; d++) {
		struct xf_memsend_file *f = &l->f[l->n++];

		snprintf(path, sizeof(path), "dir %u", d);
		f->path = strdup(path);
		f->kind = XF_FILE_DIR;
		f->mode = 0755;
		f->mtime_ns = 1650000000000000000ll + (int64_t)(rnd() % 1000000000000000ull);
	}
	for (uint32_t i = 0; i < NSMALL + NBIG; i++) {
		struct xf_memsend_file *f = &l->f[l->n++];
		uint8_t *data;

		snprintf(path, sizeof(path), "dir %u/-f\xc3\xa9 %u", i % 4, i);
		f->path = strdup(path);
		f->kind = XF_FILE_REG;
		f->mode = i % 2 != 0 ? 0644 : 0600;
		f->mtime_ns = 1650000000000000000ll + (int64_t)(rnd() % 1000000000000000ull);
		f->size = i < NSMALL ? rnd() % 8193 : BIG;
		data = malloc(f->size + 8);
		for (uint64_t k = 0; k < f->size; k += 8) {
			uint64_t v = rnd();

			memcpy(data + k, &v, 8);
		}
		f->data = data;
	}
}

static void
free_list(struct list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		free((void *)l->f[i].path);
		free((void *)l->f[i].data);
	}
	free(l->f);
}

/* One push of the list into dst on lcores 0 (RX), 1 and 2 (workers). */
static struct xf_memsend *
run(const char *dst, const struct list *l, unsigned int dup_permille)
{
	struct xf_memsend_conf mc = {
		.files = l->f,
		.nfiles = l->n,
		.session = 0xea1,
		.max_payload = XF_PAYLOAD_MAX,
		.window = 256,
		.seed = 7,
		.shuffle = true,
		.dup_permille = dup_permille,
		.alloc = mbuf_alloc,
	};
	struct xf_pipeline_conf pc = {
		.n_rx = 1,
		.n_workers = 2,
		.rx_core = { 0 },
		.worker_core = { 1, 2 },
		.window = 256,
		.max_sessions = 1,
		.fsync = XF_FSYNC_BATCH,
		.fsync_batch = 64,
		.source = { xf_memsend_source },
		.release = mbuf_release,
		.stop_when_done = true,
	};
	struct xf_memsend *ms = xf_memsend_create(&mc);
	struct xf_pipeline *p;
	int root = open(dst, O_RDONLY | O_DIRECTORY);

	CU_ASSERT_FATAL(ms != NULL && root >= 0);
	pc.root_fd = root;
	pc.source_arg[0] = ms;
	p = xf_pipeline_create(&pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xf_pipeline_session_open(
	        p, 0, 0, 0, mc.session, mc.max_payload, 0, xf_memsend_tx, ms));
	CU_ASSERT_EQUAL_FATAL(
	        rte_eal_remote_launch(xf_pipeline_core_loop, xf_pipeline_core_arg(p, 1, 0), 1), 0);
	CU_ASSERT_EQUAL_FATAL(
	        rte_eal_remote_launch(xf_pipeline_core_loop, xf_pipeline_core_arg(p, 1, 1), 2), 0);
	xf_pipeline_core_loop(xf_pipeline_core_arg(p, 0, 0));
	rte_eal_mp_wait_lcore();
	xf_pipeline_destroy(p);
	close(root);
	return ms;
}

static void
test_eal_pipeline(void)
{
	struct list l;
	char dst[128];
	struct xf_memsend *ms;
	int dfd;
	unsigned int bad = 0;

	snprintf(dst, sizeof(dst), "%s/dst", base_dir);
	CU_ASSERT_FATAL(mkdir(dst, 0700) == 0);
	make_list(&l);
	ms = run(dst, &l, 20);
	CU_ASSERT_TRUE(xf_memsend_done(ms));
	CU_ASSERT_EQUAL(xf_memsend_stats(ms)->done_files, l.n);
	CU_ASSERT(xf_memsend_stats(ms)->dups > 0);
	dfd = open(dst, O_RDONLY | O_DIRECTORY);
	for (uint32_t i = 0; i < l.n; i++) {
		const struct xf_memsend_file *f = &l.f[i];
		struct stat sb;

		CU_ASSERT_EQUAL(xf_memsend_decision(ms, i), XF_DEC_WHOLE);
		CU_ASSERT_EQUAL(xf_memsend_status(ms, i), 0);
		if (fstatat(dfd, f->path, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			bad++;
			continue;
		}
		bad += (sb.st_mode & 07777) != f->mode;
		bad += (int64_t)sb.st_mtim.tv_sec * 1000000000ll + sb.st_mtim.tv_nsec !=
		       f->mtime_ns;
		if (f->kind == XF_FILE_REG) {
			uint8_t *got = malloc(f->size + 1);
			int fd = openat(dfd, f->path, O_RDONLY);

			bad += pread(fd, got, f->size + 1, 0) != (ssize_t)f->size ||
			       memcmp(got, f->data, f->size) != 0;
			close(fd);
			free(got);
		}
	}
	close(dfd);
	CU_ASSERT_EQUAL(bad, 0);
	/* Every mbuf came back (released by the workers or the RX core). */
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(pool), 0);
	xf_memsend_destroy(ms);
	/* Again: everything is up to date. */
	ms = run(dst, &l, 0);
	CU_ASSERT_TRUE(xf_memsend_done(ms));
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(xf_memsend_decision(ms, i), XF_DEC_UPTODATE);
	}
	xf_memsend_destroy(ms);
	free_list(&l);
}

static const struct xf_test tests[] = {
	{ "pipeline on lcores", test_eal_pipeline },
};

int
main(int argc, char **argv)
{
	/* Three lcores on whatever CPUs exist: 0 on CPU 0, 1 and 2 on CPU 1 (or 0). */
	char lcores[64], prefix[64];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *eal_argv[] = {
		argv[0], "--no-huge", "--no-pci", "-m",          "512",           "--file-prefix",
		prefix,  "--lcores",  lcores,     "--log-level", "lib.eal:error", NULL,
	};
	char cmd[160];
	int rc;

	(void)argc;
	snprintf(lcores, sizeof(lcores), "0@0,1@%d,2@%d", ncpu > 1 ? 1 : 0, ncpu > 1 ? 1 : 0);
	/* Per process: builds running their tests at once must not share an EAL runtime. */
	snprintf(prefix, sizeof(prefix), "xf-eal-pipeline-%d", (int)getpid());
	if (rte_eal_init((int)XF_ARRAY_SIZE(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pool = rte_pktmbuf_pool_create("xf_eal_pipe", 4095, 128, 0,
	                               RTE_PKTMBUF_HEADROOM + XF_PAYLOAD_MAX, (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	snprintf(base_dir, sizeof(base_dir), "%s/xf-eal-pipeline-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(base_dir) == NULL) {
		return 1;
	}
	rc = xf_test_main("eal-pipeline", NULL, NULL, XF_TESTS(tests));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cleanup of %s failed\n", base_dir);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return rc;
}
