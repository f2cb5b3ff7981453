/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * White-box tests of the worker's DATA write path (write coalescing), and of the quick
 * check's memo of a missing parent: one worker of a real pipeline driven by hand on the
 * test's thread. Work items go straight onto its
 * ring, so a burst is exactly what a test puts there before the next poll; the
 * completions come back on the ring to the RX core. Every frame is its own buffer and
 * owner: the release callback counts releases and checks that the frame's bytes are in
 * the temp file by then.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_pipeline_test.h"
#include "xf_test.h"

#include "xf_base.h"
#include "xf_csum.h"
#include "xf_pipeline_priv.h"

#define SESS  0x5eedu
#define FLEN  8960u /* a jumbo frame's payload */
#define MAXF  128u
#define NFILE 2u

static char base_dir[96];

struct frame {
	uint32_t file; /* 0 or 1 */
	uint64_t off;
	uint32_t len;
	uint8_t *buf;
	unsigned int released;
};

struct wfault {
	uint32_t file;         /* file index whose writes are touched */
	unsigned int hits;     /* its write completions seen */
	unsigned int fail_at;  /* completion (1-based) turned into -ENOSPC, 0: none */
	int32_t cut[4];        /* completion i+1 reports cut[i] bytes (if > 0) */
	uint64_t pos;          /* file offset where the current write started */
	const char *tmpname;   /* its temp file, scribbled over past a cut */
	struct xf_pipeline *p; /* for the temp directory */
};

struct tcase {
	struct xf_pipeline *p;
	int root;
	char dir[128];
	uint64_t size[NFILE];
	uint8_t *content[NFILE];
	char tmpname[NFILE][XF_TMPNAME_SIZE];
	char name[NFILE][16];
	struct frame fr[MAXF];
	unsigned int nfr;
	bool check_on_release; /* bytes must be in the temp file at release */
	unsigned int early;    /* releases before the frame's bytes were written */
	struct wfault fault;
	struct xf_done seen[8]; /* completions that came while waiting for another */
	unsigned int nseen;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
on_release(void *arg, void *owner)
{
	struct tcase *tc = arg;
	struct frame *f = owner;
	uint8_t got[FLEN];
	int fd;

	f->released++;
	if (!tc->check_on_release) {
		return;
	}
	fd = openat(tc->p->tmp_fd, tc->tmpname[f->file], O_RDONLY);
	if (fd < 0 || pread(fd, got, f->len, (off_t)f->off) != (ssize_t)f->len ||
	    memcmp(got, f->buf, f->len) != 0) {
		tc->early++;
	}
	if (fd >= 0) {
		close(fd);
	}
}

/*
 * Storage fault hook on the file's write completions: the n-th becomes -ENOSPC, or
 * reports fewer bytes than were written. After a cut, the bytes past it are overwritten
 * with garbage, so the file is right only if the rest really is written again, at the
 * right offsets, from the right buffers.
 */
static int32_t
write_fault(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct wfault *fl = arg;
	unsigned int k;

	(void)sid;
	if (op != XF_SOP_WRITE || file != fl->file || res <= 0) {
		return res;
	}
	k = fl->hits++;
	if (fl->fail_at != 0 && k + 1 == fl->fail_at) {
		return -ENOSPC;
	}
	if (k < XF_ARRAY_SIZE(fl->cut) && fl->cut[k] > 0 && fl->cut[k] < res) {
		int fd = openat(fl->p->tmp_fd, fl->tmpname, O_WRONLY);
		uint32_t junk = (uint32_t)(res - fl->cut[k]);
		uint8_t *g = malloc(junk);

		memset(g, 0xa5, junk);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(pwrite(fd, g, junk, (off_t)(fl->pos + (uint64_t)fl->cut[k])),
		                (ssize_t)junk);
		close(fd);
		free(g);
		fl->pos += (uint64_t)fl->cut[k];
		return fl->cut[k];
	}
	fl->pos += (uint64_t)res;
	return res;
}

static void
tc_open(struct tcase *tc, const char *tag)
{
	/* Named temps: the checks read a temp file back by its name. */
	struct xf_pipeline_conf pc = {
		.window = 8, .release = on_release, .release_arg = tc, .named_temps = true
	};

	memset(tc, 0, sizeof(*tc));
	tc->p = xf_pt_open(&pc, base_dir, tag, tc->dir, sizeof(tc->dir), &tc->root);
	tc->fault.p = tc->p;
	tc->fault.file = UINT32_MAX;
}

static void
tc_close(struct tcase *tc)
{
	xf_pipeline_destroy(tc->p);
	close(tc->root);
	for (unsigned int i = 0; i < tc->nfr; i++) {
		free(tc->fr[i].buf);
	}
	for (unsigned int i = 0; i < NFILE; i++) {
		free(tc->content[i]);
	}
}

static void
put(struct tcase *tc, const struct xf_work *it, unsigned int n)
{
	CU_ASSERT_EQUAL_FATAL(xf_ring_enqueue_burst(tc->p->to_w[0][0], it, n), n);
}

/* Poll the worker until a completion of the given type arrives for file (or time
 * runs out: then the test fails, it does not hang). Others are kept for later. */
static struct xf_done
pump(struct tcase *tc, uint8_t type, uint32_t file)
{
	struct timespec t0;
	struct xf_done d;

	for (unsigned int k = 0; k < tc->nseen; k++) {
		if (tc->seen[k].type == type && tc->seen[k].file == file) {
			d = tc->seen[k];
			tc->seen[k] = tc->seen[--tc->nseen];
			return d;
		}
	}
	xf_pt_start(&t0);
	for (;;) {
		xf_worker_poll(tc->p->w[0]);
		while (xf_ring_dequeue_burst(tc->p->to_rx[0][0], &d, 1) == 1) {
			if (d.type == type && d.file == file) {
				return d;
			}
			CU_ASSERT_FATAL(tc->nseen < XF_ARRAY_SIZE(tc->seen));
			tc->seen[tc->nseen++] = d;
		}
		if (xf_pt_expired(&t0)) {
			CU_FAIL_FATAL("no completion from the worker");
		}
	}
}

/* STAT of file i (a new name at the root): decided WHOLE, temp file created. */
static void
start_file(struct tcase *tc, uint32_t i, uint64_t size)
{
	struct xf_work it = {
		.type = XF_WORK_STAT,
		.kind = XF_FILE_REG,
		.sid = 0,
		.rx = 0,
		.file = i,
		.len = 0, /* parent: the root */
		.mode = 0644,
		.fd = -1,
		.sess_id = SESS,
		.off = size,
		.val = 1700000000000000000ull,
	};
	struct xf_done d;

	/* "" NUL base NUL target NUL */
	tc->name[i][0] = '\0';
	snprintf(tc->name[i] + 1, sizeof(tc->name[i]) - 2, "f%u", i);
	tc->name[i][strlen(tc->name[i] + 1) + 2] = '\0';
	it.ptr = tc->name[i];
	tc->size[i] = size;
	tc->content[i] = malloc(size);
	for (uint64_t k = 0; k < size; k++) {
		tc->content[i][k] = (uint8_t)rnd();
	}
	xf_work_tmpname(tc->tmpname[i], 0, SESS, i);
	put(tc, &it, 1);
	d = pump(tc, XF_DONE_STAT, i);
	CU_ASSERT_EQUAL_FATAL(d.decision, XF_DEC_WHOLE);
	CU_ASSERT_EQUAL_FATAL(d.status, XF_ST_OK);
}

/* A frame of file i: bytes [off, off + len) of its content, in a buffer of its own. */
static void
frame(struct tcase *tc, uint32_t i, uint64_t off, uint32_t len)
{
	struct frame *f = &tc->fr[tc->nfr++];

	CU_ASSERT_FATAL(tc->nfr <= MAXF);
	f->file = i;
	f->off = off;
	f->len = len;
	f->buf = malloc(len);
	memcpy(f->buf, tc->content[i] + off, len);
}

/* Frames of file i, FLEN each, covering it in offset order. */
static void
frames_in_order(struct tcase *tc, uint32_t i)
{
	for (uint64_t off = 0; off < tc->size[i]; off += FLEN) {
		frame(tc, i, off, tc->size[i] - off < FLEN ? (uint32_t)(tc->size[i] - off) : FLEN);
	}
}

static struct xf_work
data_item(const struct frame *f)
{
	return (struct xf_work){
		.type = XF_WORK_DATA,
		.sid = 0,
		.rx = 0,
		.file = f->file,
		.len = f->len,
		.fd = -1,
		.off = f->off,
		.ptr = f->buf,
		.owner = (void *)(uintptr_t)f,
	};
}

static struct xf_work
file_end_item(const struct tcase *tc, uint32_t i)
{
	return (struct xf_work){
		.type = XF_WORK_FILE_END,
		.sid = 0,
		.rx = 0,
		.file = i,
		.fd = -1,
		.off = tc->size[i],
		.val = xf_csum_crc64(0, tc->content[i], tc->size[i]),
	};
}

/* Put the frames (in tc->fr order) and then the FILE_ENDs of the files used on the
 * ring in one go: one burst while they fit one. */
static void
send_all(struct tcase *tc, unsigned int nfiles)
{
	struct xf_work it[MAXF + NFILE];
	unsigned int n = 0;

	for (unsigned int k = 0; k < tc->nfr; k++) {
		it[n++] = data_item(&tc->fr[k]);
	}
	for (uint32_t i = 0; i < nfiles; i++) {
		it[n++] = file_end_item(tc, i);
	}
	put(tc, it, n);
}

/* Wait for file i's verdict; a verified file's temp must hold exactly its content. */
static void
expect_file(struct tcase *tc, uint32_t i, uint8_t status)
{
	struct xf_done d = pump(tc, XF_DONE_FILE, i);
	uint8_t *got;

	CU_ASSERT_EQUAL(d.status, status);
	if (status != XF_ST_OK) {
		CU_ASSERT_EQUAL(d.fd, -1);
		CU_ASSERT_EQUAL(faccessat(tc->p->tmp_fd, tc->tmpname[i], F_OK, 0), -1);
		return;
	}
	CU_ASSERT_FATAL(d.fd >= 0);
	got = malloc(tc->size[i] + 1);
	CU_ASSERT_EQUAL(pread(d.fd, got, tc->size[i] + 1, 0), (ssize_t)tc->size[i]);
	CU_ASSERT_EQUAL(memcmp(got, tc->content[i], tc->size[i]), 0);
	free(got);
	close(d.fd);
}

static void
expect_released_once(const struct tcase *tc)
{
	unsigned int bad = 0;

	for (unsigned int k = 0; k < tc->nfr; k++) {
		bad += tc->fr[k].released != 1;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(tc->early, 0);
}

static struct xf_pipeline_times
times(const struct tcase *tc)
{
	struct xf_pipeline_times t;

	xf_pipeline_times(tc->p, &t);
	return t;
}

/* A file's frames in order in one burst: one write, every frame counted. */
static void
test_in_order(void)
{
	struct tcase tc;
	struct xf_pipeline_times t;

	tc_open(&tc, "in-order");
	tc.check_on_release = true;
	start_file(&tc, 0, 24u * FLEN - 1234u);
	frames_in_order(&tc, 0);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	t = times(&tc);
	CU_ASSERT_EQUAL(t.data_writes, 1);
	CU_ASSERT_EQUAL(t.data_items, tc.nfr);
	CU_ASSERT_EQUAL(t.data_bytes, tc.size[0]);
	tc_close(&tc);
}

/* More frames than one burst holds: several writes, fewer than frames. */
static void
test_many_bursts(void)
{
	struct tcase tc;
	struct xf_pipeline_times t;

	tc_open(&tc, "many-bursts");
	tc.check_on_release = true;
	start_file(&tc, 0, 100u * FLEN + 17u);
	frames_in_order(&tc, 0);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	t = times(&tc);
	CU_ASSERT(t.data_writes > 1 && t.data_writes < tc.nfr);
	CU_ASSERT_EQUAL(t.data_items, tc.nfr);
	CU_ASSERT_EQUAL(t.data_bytes, tc.size[0]);
	tc_close(&tc);
}

/* Reversed: nothing is contiguous with what came before, one write per frame; the
 * CRC is read back from the temp file. */
static void
test_reversed(void)
{
	struct tcase tc;

	tc_open(&tc, "reversed");
	tc.check_on_release = true;
	start_file(&tc, 0, 20u * FLEN);
	for (uint32_t k = 20; k-- > 0;) {
		frame(&tc, 0, (uint64_t)k * FLEN, FLEN);
	}
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(times(&tc).data_writes, tc.nfr);
	tc_close(&tc);
}

/* 0-4, 6-9, then 5 in the same burst: three runs, three writes. */
static void
test_gap(void)
{
	struct tcase tc;

	tc_open(&tc, "gap");
	tc.check_on_release = true;
	start_file(&tc, 0, 10u * FLEN - 100u);
	for (uint32_t k = 0; k < 10; k++) {
		if (k != 5) {
			frame(&tc, 0, (uint64_t)k * FLEN, k == 9 ? FLEN - 100u : FLEN);
		}
	}
	frame(&tc, 0, 5u * FLEN, FLEN);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(times(&tc).data_writes, 3);
	tc_close(&tc);
}

/*
 * Overlaps and duplicates (a retransmission cut differently, or the same frame twice):
 * a frame that does not start where the run ends starts a new write; the content and
 * the running CRC stay right.
 */
static void
test_overlap(void)
{
	struct tcase tc;

	tc_open(&tc, "overlap");
	tc.check_on_release = true;
	start_file(&tc, 0, 8u * FLEN);
	frame(&tc, 0, 0, FLEN);                        /* A */
	frame(&tc, 0, FLEN, FLEN);                     /* A */
	frame(&tc, 0, FLEN + FLEN / 2, FLEN);          /* B: overlaps A's end */
	frame(&tc, 0, 2u * FLEN + FLEN / 2, FLEN / 2); /* B */
	frame(&tc, 0, 3u * FLEN, FLEN);                /* B */
	frame(&tc, 0, 3u * FLEN, FLEN);                /* C: a duplicate */
	frame(&tc, 0, 4u * FLEN, FLEN);                /* C */
	frame(&tc, 0, 2u * FLEN, FLEN);                /* D: inside what came */
	for (uint32_t k = 5; k < 8; k++) {
		frame(&tc, 0, (uint64_t)k * FLEN, FLEN); /* E */
	}
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(times(&tc).data_writes, 5);
	tc_close(&tc);
}

/* Two files in one burst: interleaved frames do not merge; each file's own run does. */
static void
test_two_files(void)
{
	struct tcase tc;

	tc_open(&tc, "two-files");
	tc.check_on_release = true;
	start_file(&tc, 0, 6u * FLEN);
	start_file(&tc, 1, 6u * FLEN - 5u);
	for (uint32_t k = 0; k < 3; k++) { /* interleaved: 0 1 0 1 0 1 */
		frame(&tc, 0, (uint64_t)k * FLEN, FLEN);
		frame(&tc, 1, (uint64_t)k * FLEN, FLEN);
	}
	for (uint32_t k = 3; k < 6; k++) { /* then 0 0 0, then 1 1 1 */
		frame(&tc, 0, (uint64_t)k * FLEN, FLEN);
	}
	for (uint32_t k = 3; k < 6; k++) {
		frame(&tc, 1, (uint64_t)k * FLEN, k == 5 ? FLEN - 5u : FLEN);
	}
	send_all(&tc, 2);
	expect_file(&tc, 0, XF_ST_OK);
	expect_file(&tc, 1, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(times(&tc).data_writes, 6 + 2);
	tc_close(&tc);
}

/*
 * Short writes in the middle of a coalesced write: the first completion reports 2.5
 * frames (cut inside a frame), the resubmitted rest reports up to a frame boundary,
 * the next is cut again inside a frame. Past each cut the file is scribbled over, so
 * only a correct resubmission (iovecs advanced across their boundaries) restores it;
 * no frame is released before its bytes are written.
 */
static void
test_short_write(void)
{
	struct tcase tc;
	struct xf_pipeline_times t;

	tc_open(&tc, "short");
	tc.check_on_release = true;
	start_file(&tc, 0, 24u * FLEN - 999u);
	frames_in_order(&tc, 0);
	tc.fault.file = 0;
	tc.fault.tmpname = tc.tmpname[0];
	tc.fault.cut[0] = (int32_t)(2u * FLEN + FLEN / 2);
	tc.fault.cut[1] = (int32_t)(FLEN / 2 + 3u * FLEN); /* ends at 6 frames */
	tc.fault.cut[2] = (int32_t)(1u);                   /* one byte */
	tc.fault.cut[3] = (int32_t)(FLEN + 7u);
	xf_pipeline_set_fault(tc.p, write_fault, &tc.fault);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(tc.fault.hits, 5); /* four cuts, then the rest */
	t = times(&tc);
	CU_ASSERT_EQUAL(t.data_writes, 1);
	CU_ASSERT_EQUAL(t.data_bytes, tc.size[0]);
	CU_ASSERT_EQUAL(t.data_items, tc.nfr);
	tc_close(&tc);
}

/* Cut short so that the rest lies in the last frame alone (sent as a plain write),
 * and that one cut short again. */
static void
test_short_tail(void)
{
	struct tcase tc;

	tc_open(&tc, "short-tail");
	tc.check_on_release = true;
	start_file(&tc, 0, 3u * FLEN - 11u);
	frames_in_order(&tc, 0);
	tc.fault.file = 0;
	tc.fault.tmpname = tc.tmpname[0];
	tc.fault.cut[0] = (int32_t)(2u * FLEN + 10u);
	tc.fault.cut[1] = 100;
	xf_pipeline_set_fault(tc.p, write_fault, &tc.fault);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(tc.fault.hits, 3);
	CU_ASSERT_EQUAL(times(&tc).data_bytes, tc.size[0]);
	tc_close(&tc);
}

/* A coalesced write fails: the file fails with the error's status, its temp is gone,
 * every frame released once (those of the failed write included). */
static void
test_error(void)
{
	struct tcase tc;

	tc_open(&tc, "error");
	start_file(&tc, 0, 20u * FLEN);
	frames_in_order(&tc, 0);
	tc.fault.file = 0;
	tc.fault.fail_at = 1;
	xf_pipeline_set_fault(tc.p, write_fault, &tc.fault);
	send_all(&tc, 1);
	expect_file(&tc, 0, XF_ST_NOSPACE);
	expect_released_once(&tc);
	CU_ASSERT_EQUAL(tc.fault.hits, 1);
	tc_close(&tc);
}

/* The second of several writes fails (and one of a second file in the same bursts
 * succeeds): frames queued after the failure are dropped, released once all the same;
 * the other file is unaffected. */
static void
test_error_later(void)
{
	struct tcase tc;

	tc_open(&tc, "error-later");
	start_file(&tc, 0, 90u * FLEN);
	start_file(&tc, 1, 10u * FLEN);
	frames_in_order(&tc, 0);
	frames_in_order(&tc, 1);
	tc.fault.file = 0;
	tc.fault.fail_at = 2;
	xf_pipeline_set_fault(tc.p, write_fault, &tc.fault);
	send_all(&tc, 2);
	expect_file(&tc, 0, XF_ST_NOSPACE);
	expect_file(&tc, 1, XF_ST_OK);
	expect_released_once(&tc);
	CU_ASSERT(tc.fault.hits >= 2);
	tc_close(&tc);
}

/* STAT items of files in directory dir (names "dir NUL fN NUL NUL" in names[]). */
static void
stat_items(struct tcase *tc, uint32_t sess, const char *dir, uint32_t first, uint32_t n,
           char names[][32])
{
	struct xf_work it[8];

	CU_ASSERT_FATAL(n <= XF_ARRAY_SIZE(it));
	for (uint32_t k = 0; k < n; k++) {
		size_t dl = strlen(dir);
		char *nm = names[first + k];

		memset(nm, 0, 32);
		memcpy(nm, dir, dl);
		snprintf(nm + dl + 1, 32 - dl - 2, "f%u", first + k);
		it[k] = (struct xf_work){ .type = XF_WORK_STAT,
			                  .kind = XF_FILE_REG,
			                  .file = first + k,
			                  .len = (uint32_t)dl,
			                  .mode = 0644,
			                  .fd = -1,
			                  .sess_id = sess,
			                  .off = 100,
			                  .val = 1700000000000000000ull,
			                  .ptr = nm };
	}
	put(tc, it, n);
}

/*
 * Quick check: once a parent was found missing, the session's next files beneath it go
 * WHOLE without a lookup each; another directory, or another session, is looked up.
 * Files of one directory in one burst wait for the first one's lookup: one lookup if
 * the directory is missing, their own lookups once it exists.
 */
static void
test_missing_parent(void)
{
	static char names[8][32];
	struct xf_pipeline_times t;
	struct tcase tc;

	tc_open(&tc, "nodir");
	stat_items(&tc, SESS, "dx", 0, 1, names);
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 0).decision, XF_DEC_WHOLE);
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 1u);
	CU_ASSERT_EQUAL(t.stat_nodir, 0u);
	/* Three more in dx: no lookup, WHOLE. */
	stat_items(&tc, SESS, "dx", 1, 3, names);
	for (uint32_t i = 1; i < 4; i++) {
		struct xf_done d = pump(&tc, XF_DONE_STAT, i);

		CU_ASSERT_EQUAL(d.decision, XF_DEC_WHOLE);
		CU_ASSERT_EQUAL(d.status, XF_ST_OK);
	}
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 1u);
	CU_ASSERT_EQUAL(t.stat_nodir, 3u);
	/* "d" is a prefix of "dx", not the same directory: looked up. */
	stat_items(&tc, SESS, "d", 4, 1, names);
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 4).decision, XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(times(&tc).stat_lookups, 2u);
	/* Another session, same directory: looked up again. */
	stat_items(&tc, SESS + 1, "d", 5, 1, names);
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 5).decision, XF_DEC_WHOLE);
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 3u);
	CU_ASSERT_EQUAL(t.stat_nodir, 3u);
	tc_close(&tc);

	/* One burst in a missing directory: one lookup, the others follow it. */
	tc_open(&tc, "follow");
	stat_items(&tc, SESS, "dz", 0, 5, names);
	for (uint32_t i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, i).decision, XF_DEC_WHOLE);
	}
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 1u);
	CU_ASSERT_EQUAL(t.stat_nodir, 4u);
	/* One burst in a directory that exists (one file of it too): each is looked up. */
	CU_ASSERT_FATAL(mkdirat(tc.root, "de", 0755) == 0);
	{
		int fd = openat(tc.root, "de/f6", O_WRONLY | O_CREAT, 0644);

		CU_ASSERT_FATAL(fd >= 0);
		close(fd);
	}
	stat_items(&tc, SESS, "de", 5, 3, names);
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 5).decision, XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 6).decision, XF_DEC_WHOLE); /* size differs */
	CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, 7).decision, XF_DEC_WHOLE);
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 4u);
	CU_ASSERT_EQUAL(t.stat_nodir, 4u);
	tc_close(&tc);
}

/*
 * A directory found missing answers for everything beneath it too, and files beneath
 * the directory of a lookup in flight wait for it: a push into a destination that does
 * not exist yet (a directory's entry, whose parent lookup is in flight, then the files
 * of that directory, in one burst) makes one lookup, not one per directory and burst.
 * When the awaited directory exists, files beneath it look up their own directory once.
 */
static void
test_missing_ancestor(void)
{
	static char names[16][32];
	struct xf_pipeline_times t;
	struct tcase tc;

	tc_open(&tc, "ancestor");
	/* One burst: a file in "m" (its lookup leads), then files in "m/a" and "m/a/b". */
	stat_items(&tc, SESS, "m", 0, 1, names);
	stat_items(&tc, SESS, "m/a", 1, 3, names);
	stat_items(&tc, SESS, "m/a/b", 4, 2, names);
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, i).decision, XF_DEC_WHOLE);
	}
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 1u);
	CU_ASSERT_EQUAL(t.stat_nodir, 5u);
	/* Later bursts beneath "m": still no lookup. "mx" is not beneath "m": looked up. */
	stat_items(&tc, SESS, "m/c/d", 6, 1, names); /* (8 file slots in this window) */
	stat_items(&tc, SESS, "mx", 7, 1, names);
	for (uint32_t i = 6; i < 8; i++) {
		CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, i).decision, XF_DEC_WHOLE);
	}
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 2u);
	CU_ASSERT_EQUAL(t.stat_nodir, 6u);
	tc_close(&tc);

	/* "e" exists, "e/s" does not: the files beneath wait for "e", then look up "e/s"
	 * once between them; a file in "e" itself gets its own lookup (it needs the fd). */
	tc_open(&tc, "ancestor-exists");
	CU_ASSERT_FATAL(mkdirat(tc.root, "e", 0755) == 0);
	stat_items(&tc, SESS, "e", 0, 1, names);
	stat_items(&tc, SESS, "e/s", 1, 4, names);
	stat_items(&tc, SESS, "e", 5, 1, names);
	for (uint32_t i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(pump(&tc, XF_DONE_STAT, i).decision, XF_DEC_WHOLE);
	}
	t = times(&tc);
	CU_ASSERT_EQUAL(t.stat_lookups, 3u); /* e, e/s, and e again for file 5 */
	CU_ASSERT_EQUAL(t.stat_nodir, 3u);
	tc_close(&tc);
}

/* Opens of the temp file of one file seen by the storage; fail_all turns them into
 * -ENOSPC. */
struct ofault {
	uint32_t file;
	unsigned int opens;
	bool fail_all;
};

static int32_t
open_fault(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct ofault *o = arg;

	(void)sid;
	if (op != XF_SOP_OPEN || file != o->file) {
		return res;
	}
	o->opens++;
	return o->fail_all ? -ENOSPC : res;
}

/*
 * The realtime clock's tick (what file timestamps are taken from) two after the current
 * one: every timestamp taken before the call is below it, every one taken after at or
 * above it. One tick is not enough for the first half. The kernel advances the coarse
 * clock by whole tick intervals, so a late tick can publish a time up to an interval
 * older than the moment it runs, and a file created just before it may carry a later,
 * fine-grained time (multigrain timestamps, Linux 6.13 on): with one tick, 8 of 150 runs
 * on ext4 failed that way while other tests loaded the machine. The second tick is at
 * least an interval past the first.
 */
static struct timespec
next_tick(void)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_REALTIME_COARSE, &t0);
	for (int ticks = 0; ticks < 2; ticks++) {
		do {
			clock_gettime(CLOCK_REALTIME_COARSE, &t);
		} while (t.tv_sec == t0.tv_sec && t.tv_nsec == t0.tv_nsec);
		t0 = t;
	}
	return t;
}

/*
 * A new file's temp file (unnamed, here) is created at its first DATA when the worker
 * opens inline, not at its decision: no open between the decision and the data, the
 * file born after the decision's clock tick (so that on XFS its first write logs no
 * timestamp update of its own), its content and verdict as before. An empty file (no
 * DATA) is created at its FILE_END. With eager_temps, or on io_uring, at the decision.
 */
static void
lazy_case(int io, bool eager)
{
	struct xf_pipeline_conf pc = { .window = 8, .eager_temps = eager };
	bool lazy = io == XF_STORAGE_IO_INLINE && !eager;
	struct ofault of = { .file = 0 };
	struct xf_pipeline_times t;
	struct timespec tick;
	struct statx x;
	struct tcase tc;
	struct xf_done d;
	struct xf_work end;

	memset(&tc, 0, sizeof(tc));
	pc.release = on_release;
	pc.release_arg = &tc;
	tc.p = xf_pt_open_io(&pc, base_dir,
	                     eager                        ? "lazy-eager"
	                     : io == XF_STORAGE_IO_INLINE ? "lazy-inline"
	                                                  : "lazy-uring",
	                     tc.dir, sizeof(tc.dir), &tc.root, io);
	xf_pipeline_set_fault(tc.p, open_fault, &of);
	start_file(&tc, 0, 3 * FLEN + 100);
	CU_ASSERT_EQUAL(of.opens, lazy ? 0u : 1u);
	CU_ASSERT_EQUAL(times(&tc).lazy_creates, 0u);
	tick = next_tick();
	frames_in_order(&tc, 0);
	send_all(&tc, 1);
	d = pump(&tc, XF_DONE_FILE, 0);
	CU_ASSERT_EQUAL(d.status, XF_ST_OK);
	CU_ASSERT_EQUAL(of.opens, 1u);
	CU_ASSERT_FATAL(d.fd >= 0);
	CU_ASSERT_EQUAL_FATAL(statx(d.fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &x),
	                      0);
	CU_ASSERT_EQUAL(x.stx_size, tc.size[0]);
	CU_ASSERT_EQUAL(x.stx_nlink, 0u); /* unnamed either way */
	/* Born in the tick the data came in or later, not before (its ctime moves with
	 * the writes; its birth time does not). The test volumes keep birth times. */
	CU_ASSERT_FATAL((x.stx_mask & STATX_BTIME) != 0);
	CU_ASSERT_EQUAL(x.stx_btime.tv_sec > tick.tv_sec ||
	                        (x.stx_btime.tv_sec == tick.tv_sec &&
	                         x.stx_btime.tv_nsec >= (uint32_t)tick.tv_nsec),
	                lazy);
	close(d.fd);
	expect_released_once(&tc);
	/* An empty file: no DATA, created at its FILE_END. */
	of.file = 1;
	of.opens = 0;
	start_file(&tc, 1, 0);
	CU_ASSERT_EQUAL(of.opens, lazy ? 0u : 1u);
	end = file_end_item(&tc, 1);
	put(&tc, &end, 1);
	d = pump(&tc, XF_DONE_FILE, 1);
	CU_ASSERT_EQUAL(d.status, XF_ST_OK);
	CU_ASSERT_EQUAL(of.opens, 1u);
	CU_ASSERT_FATAL(d.fd >= 0);
	CU_ASSERT_EQUAL(statx(d.fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &x), 0);
	CU_ASSERT_EQUAL(x.stx_size, 0u);
	close(d.fd);
	t = times(&tc);
	CU_ASSERT_EQUAL(t.lazy_creates, lazy ? 2u : 0u);
	CU_ASSERT_EQUAL(t.unnamed_temps, 2u);
	CU_ASSERT_EQUAL(t.files_done, 2u);
	tc_close(&tc);
}

static void
test_lazy(void)
{
	lazy_case(XF_STORAGE_IO_INLINE, false);
	lazy_case(XF_STORAGE_IO_INLINE, true);
	lazy_case(XF_STORAGE_IO_URING, false);
}

/* A lazy create that fails (unnamed, then named): the file fails at its FILE_END with
 * the create's status, its frames released once each, nothing left in the staging
 * directory; the next file is created and verified. */
static void
test_lazy_fails(void)
{
	struct xf_pipeline_conf pc = { .window = 8 };
	struct ofault of = { .file = 0, .fail_all = true };
	struct tcase tc;
	struct xf_done d;
	DIR *dir;
	struct dirent *e;
	unsigned int left = 0;

	memset(&tc, 0, sizeof(tc));
	pc.release = on_release;
	pc.release_arg = &tc;
	tc.p = xf_pt_open_io(&pc, base_dir, "lazy-fails", tc.dir, sizeof(tc.dir), &tc.root,
	                     XF_STORAGE_IO_INLINE);
	xf_pipeline_set_fault(tc.p, open_fault, &of);
	start_file(&tc, 0, 2 * FLEN);
	start_file(&tc, 1, FLEN + 7);
	frames_in_order(&tc, 0);
	frames_in_order(&tc, 1);
	send_all(&tc, 2);
	d = pump(&tc, XF_DONE_FILE, 0);
	CU_ASSERT_EQUAL(d.status, XF_ST_NOSPACE);
	CU_ASSERT_EQUAL(d.fd, -1);
	CU_ASSERT_EQUAL(of.opens, 2u); /* unnamed, then named: once each, not per frame */
	expect_file(&tc, 1, XF_ST_OK);
	expect_released_once(&tc);
	dir = fdopendir(dup(tc.p->tmp_fd));
	CU_ASSERT_FATAL(dir != NULL);
	while ((e = readdir(dir)) != NULL) {
		left += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	}
	closedir(dir);
	CU_ASSERT_EQUAL(left, 0u);
	CU_ASSERT_EQUAL(times(&tc).lazy_creates, 1u);
	tc_close(&tc);
}

static const struct xf_test tests[] = {
	{ "in order, one burst: one write", test_in_order },
	{ "in order, many bursts", test_many_bursts },
	{ "reversed", test_reversed },
	{ "gap", test_gap },
	{ "overlap and duplicates", test_overlap },
	{ "two files in one burst", test_two_files },
	{ "short writes inside a coalesced write", test_short_write },
	{ "short writes down to the last frame", test_short_tail },
	{ "error on a coalesced write", test_error },
	{ "error on a later write", test_error_later },
	{ "a parent found missing is not looked up again", test_missing_parent },
	{ "nor is anything beneath it", test_missing_ancestor },
	{ "a new file is created at its first data", test_lazy },
	{ "a create at the first data that fails", test_lazy_fails },
};

int
main(void)
{
	xf_core_set_self(0); /* the RX core and the worker: both rings' ends */
	return xf_pt_main("pipeline-write", base_dir, sizeof(base_dir), XF_TESTS(tests));
}
