/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delta cases of test_pipeline: a basis at the receiver, DELTA and COPY against it
 * (read and written, or cloned / copied in the kernel with the CRC-64 combined from block
 * CRCs), the basis changed while in use, and checksum mode.
 */
#include <sched.h>
#include <time.h>

#include "xf_pipeline_priv.h"
#include "xf_pipeline_run.h"
#include "xf_storage.h"

static unsigned int
tmp_left(const char *dst)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst);
	return (unsigned int)xh_count_entries(tmp);
}

/* A file of size random bytes, and at the receiver its older version: the same with
 * 4 x 100 B changed (as the `delta` dataset), an mtime 1 s before. */
static struct xf_memsend_file *
add_changed(struct list *l, const char *name, uint64_t size)
{
	struct xf_memsend_file *f = add_file(l, name, size);
	uint8_t *b = malloc(f->size);

	memcpy(b, f->data, f->size);
	for (int k = 0; k < 4; k++) {
		memset(b + rnd() % (f->size - 100), (int)(rnd() & 0xff), 100);
	}
	put_file(dst_dir, name, b, f->size, f->mtime_ns - 1000000000ll);
	free(b);
	return f;
}

/*
 * Older versions of the files at the receiver: DELTA for each, its signatures computed
 * from the basis, COPY applied through io_uring next to DATA, and the whole-file CRC64
 * verified. Bytes changed, a block inserted, a longer basis, an unrelated basis, the
 * same content under an older mtime, and a file with no basis (WHOLE). Frames are
 * shuffled and duplicated, at MTU 1500 so that files span many frames.
 */
static void
delta_run(const char *tag, int delta_cache_mb, bool no_clone)
{
	struct list l = { 0 };
	struct run_opts o = { .shuffle = true,
		              .dup_permille = 20,
		              .window = 8,
		              .max_payload = 1472,
		              .delta_cache_mb = delta_cache_mb,
		              .no_clone = no_clone };
	struct run_result r;
	static const uint64_t sizes[] = { 300000, 1u << 20, 5000, 2u << 20, 777777, 100000 };
	enum { CHANGED, INSERTED, LONGER, UNRELATED, SAMEBYTES, NOBASIS, N };
	uint64_t delta_bytes = 0;

	mkpaths(tag);
	for (int i = 0; i < N; i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *b;
		uint64_t bn;

		snprintf(path, sizeof(path), "f%d", i);
		f = add_file(&l, path, sizes[i]);
		b = malloc(f->size + 10000);
		memcpy(b, f->data, f->size);
		bn = f->size;
		switch (i) {
		case CHANGED:
			for (int k = 0; k < 5; k++) {
				b[rnd() % bn] ^= 0xff;
			}
			break;
		case INSERTED: /* the new file has 3000 bytes the basis lacks */
			memmove(b + 1000, b + 4000, bn - 4000);
			bn -= 3000;
			break;
		case LONGER:
			memcpy(b + bn, f->data, 10000 < bn ? 10000 : bn);
			bn += 10000 < bn ? 10000 : bn;
			break;
		case UNRELATED:
			free(b);
			b = random_bytes(bn);
			break;
		default:
			break;
		}
		if (i != NOBASIS) {
			put_file(dst_dir, path, b, bn, f->mtime_ns - 1000000000ll);
		}
		if (i != NOBASIS && i != UNRELATED) {
			delta_bytes += f->size;
		}
		free(b);
	}
	run(dst_dir, &l, &o, &r);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
		CU_ASSERT_EQUAL(r.dec[i], i == NOBASIS ? XF_DEC_WHOLE : XF_DEC_DELTA);
	}
	CU_ASSERT_EQUAL(r.ms.sig_files, N - 1);
	/* Every DELTA temp file had its size before its first COPY (presize()). */
	CU_ASSERT_EQUAL(r.times.temp_presized, N - 1);
	/* Each DELTA file's signature array (and its block CRCs where COPY ops may be cloned)
	 * came from its worker's ring, none from malloc. */
	CU_ASSERT_EQUAL(r.times.sig_leased,
	                r.clone_mode == XF_STORAGE_CLONE_REFLINK ||
	                                (r.clone_mode == XF_STORAGE_CLONE_COPY_RANGE &&
	                                 delta_cache_mb < 0 && !no_clone)
	                        ? 2 * (N - 1)
	                        : N - 1);
	CU_ASSERT_EQUAL(r.times.sig_heap, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	/* Nearly everything of the related files came from their basis. */
	CU_ASSERT(r.ms.matched_bytes > delta_bytes * 9 / 10);
	CU_ASSERT(r.ms.literal_bytes >= sizes[UNRELATED]);
	CU_ASSERT_EQUAL(r.rx.bad_frames, 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	printf("\n  matched %llu, literal %llu bytes\n", (unsigned long long)r.ms.matched_bytes,
	       (unsigned long long)r.ms.literal_bytes);
	/* Kept: every COPY byte came from memory (duplicated frames may add more); not
	 * kept: every one was read from the basis again. */
	if (delta_cache_mb < 0) {
		CU_ASSERT_EQUAL(r.times.copy_kept, 0);
	} else if (r.clone_mode != XF_STORAGE_CLONE_REFLINK) {
		CU_ASSERT(r.times.copy_kept >= r.ms.matched_bytes);
	}
	if (no_clone || r.clone_mode == XF_STORAGE_CLONE_NONE) {
		CU_ASSERT_EQUAL(r.times.copy_cloned + r.times.copy_ranged, 0);
		CU_ASSERT_EQUAL(r.times.crc_combined, 0);
	} else if (delta_cache_mb < 0 || r.clone_mode == XF_STORAGE_CLONE_REFLINK) {
		/* Every COPY byte went without user memory. */
		CU_ASSERT(r.times.copy_cloned + r.times.copy_ranged >= r.ms.matched_bytes);
	}
	result_free(&r);
	list_free(&l);
}

void
test_delta(void)
{
	delta_run("delta", 0, false);
}

/* The same with no basis kept in memory and COPY ops read and written: each COPY reads
 * the basis again. */
void
test_delta_reread(void)
{
	delta_run("delta-reread", -1, true);
}

/*
 * Apply by clone (docs/DELTA.md): no basis kept, frames in order. Where the test's file
 * system can clone or copy_file_range (tmpfs: copy_file_range), every COPY goes so,
 * its CRC-64 comes from the basis's block CRCs, and nothing at all is read back: the
 * whole-file CRC-64 is known from the DATA bytes and the block CRCs alone. Files of
 * several block sizes, short last blocks, COPYs at offsets other than their source.
 * With verify full, every byte of every file is read back instead.
 */
/*
 * Until the coarse clock (the one file times come from) has moved past the ctime of
 * path: a basis changed in the clock's current tick counts as changed (basis_unchanged()
 * in xf_worker_delta.c), and these bases were just written.
 */
static void
wait_ctime_settled(const char *dir, const char *name)
{
	char path[600];
	struct stat sb;
	struct timespec now;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	do {
		sched_yield();
		clock_gettime(CLOCK_REALTIME_COARSE, &now);
	} while (now.tv_sec < sb.st_ctim.tv_sec ||
	         (now.tv_sec == sb.st_ctim.tv_sec && now.tv_nsec <= sb.st_ctim.tv_nsec));
}

static void
direct_run(const char *tag, bool verify_full)
{
	struct list l = { 0 };
	struct run_opts o = {
		.window = 8, .max_payload = 1472, .delta_cache_mb = -1, .verify_full = verify_full
	};
	struct run_result r;
	static const uint64_t sizes[] = { 300001, 1u << 20, 4u << 20, 777777, 70000 };
	uint64_t total = 0;

	mkpaths(tag);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *b;

		snprintf(path, sizeof(path), "c%zu", i);
		f = add_file(&l, path, sizes[i]);
		b = malloc(f->size);
		memcpy(b, f->data, f->size);
		for (int k = 0; k < 4; k++) { /* 4 x 100 B changed, as the `delta` dataset */
			memset(b + rnd() % (f->size - 100), (int)(rnd() & 0xff), 100);
		}
		if (i == 3) { /* 1000 bytes inserted: later COPYs land 1000 bytes off */
			memmove(b + 5000, b + 6000, f->size - 6000);
		}
		put_file(dst_dir, path, b, f->size, f->mtime_ns - 1000000000ll);
		total += f->size;
		free(b);
	}
	wait_ctime_settled(dst_dir, "c4"); /* the last one written */
	run(dst_dir, &l, &o, &r);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
	}
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	CU_ASSERT_EQUAL(r.times.temp_presized, XF_ARRAY_SIZE(sizes));
	printf("\n  COPY by %s: cloned %llu, copy_file_range %llu, CRC combined %llu, read "
	       "back %llu of %llu bytes\n",
	       xf_storage_clone_str((enum xf_storage_clone)r.clone_mode),
	       (unsigned long long)r.times.copy_cloned, (unsigned long long)r.times.copy_ranged,
	       (unsigned long long)r.times.crc_combined, (unsigned long long)r.times.readback_bytes,
	       (unsigned long long)total);
	if (r.clone_mode != XF_STORAGE_CLONE_NONE) {
		CU_ASSERT(r.times.copy_cloned + r.times.copy_ranged >= r.ms.matched_bytes);
		CU_ASSERT_EQUAL(r.times.crc_combined, r.ms.matched_bytes);
		CU_ASSERT_EQUAL(r.times.basis_changed, 0);
		CU_ASSERT_EQUAL(r.times.readback_bytes, verify_full ? total : 0);
	}
	result_free(&r);
	list_free(&l);
}

void
test_delta_direct(void)
{
	direct_run("delta-direct", false);
}

void
test_delta_verify_full(void)
{
	direct_run("delta-verify-full", true);
}

/* The basis is rewritten in place after its signatures went out, before any COPY. */
struct change_ctx {
	const struct list *l;
	uint32_t file;
	unsigned int hits;
};

static void
change_basis(void *arg, uint32_t file)
{
	struct change_ctx *c = arg;
	char path[512];
	uint8_t junk[4096];
	int fd;

	if (file != c->file) {
		return;
	}
	c->hits++;
	memset(junk, 0xa5, sizeof(junk));
	snprintf(path, sizeof(path), "%s/%s", dst_dir, c->l->f[file].path);
	fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	for (off_t off = 0; off < 65536; off += (off_t)sizeof(junk)) {
		CU_ASSERT_FATAL(pwrite(fd, junk, sizeof(junk), off) == (ssize_t)sizeof(junk));
	}
	close(fd);
}

/*
 * A basis that changes on disk while in use never produces a corrupt commit. Read again
 * for its COPY ops (not kept in memory): the whole-file CRC64 catches it, the file fails
 * with XF_ST_CHECKSUM and the final path keeps the (changed) basis; the next push of it
 * goes WHOLE and lands intact. test_delta_basis_changed_kept has the other case.
 */
/*
 * DELTA temp files get their announced size before any COPY (presize() in
 * xf_worker_delta.c). A file that shrank after it was listed (FILE_END says 5,000 bytes
 * less than the file list, its data ends there) lands at FILE_END's size, not the
 * list's; one as listed keeps its size; one that grew (FILE_END past the announced
 * size) fails SIZE as before, its old version kept.
 */
void
test_delta_presized(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472, .delta_cache_mb = -1 };
	struct run_result r;
	static const uint64_t sizes[] = { 300000, 1u << 20, 1u << 20 };
	enum { SHRANK, SAME, GREW, N };
	struct stat sb;
	char path[600];

	mkpaths("delta-presized");
	for (int i = 0; i < N; i++) {
		char name[32];

		snprintf(name, sizeof(name), "p%d", i);
		add_changed(&l, name, sizes[i]);
	}
	l.f[SHRANK].list_extra = 5000;
	l.f[GREW].end_shift = 4096;
	run(dst_dir, &l, &o, &r);
	for (int i = 0; i < N; i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], i == GREW ? XF_ST_SIZE : XF_ST_OK);
	}
	CU_ASSERT_EQUAL(r.times.temp_presized, N);
	for (int i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "%s/p%d", dst_dir, i);
		CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_size, (off_t)sizes[i]);
	}
	l.f[GREW].end_shift = 0; /* its old version is there: only the others compare */
	l.n = GREW;
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	l.n = N;
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}

/*
 * A hostile sender's COPY far past the announced size (2^40): nothing is written there
 * (no terabyte sparse temp), the file fails with XF_ST_SIZE, its old version stays.
 */
void
test_delta_copy_past_size(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472 };
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *b;
	struct stat sb;
	char path[600];

	mkpaths("copy-past");
	f = add_file(&l, "victim", 200000);
	f->copy_shift = 1ull << 40;
	b = malloc(f->size);
	memcpy(b, f->data, f->size);
	b[1000] ^= 0xff; /* a basis that differs a little: DELTA, mostly COPY */
	put_file(dst_dir, "victim", b, f->size, f->mtime_ns - 1000000000ll);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.status[0], XF_ST_SIZE);
	/* Only the literal around the changed byte was written, no COPY (at 2^40 or at all). */
	CU_ASSERT(r.times.data_bytes < f->size / 4);
	snprintf(path, sizeof(path), "%s/victim", dst_dir);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_size, (off_t)f->size); /* the old version, intact */
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	free(b);
	result_free(&r);
	list_free(&l);
}

void
test_delta_basis_changed(void)
{
	struct list l = { 0 };
	struct change_ctx cc = { .l = &l, .file = 0 };
	struct reuse ru = { 0 };
	struct run_opts o = { .window = 8,
		              .max_payload = 1472,
		              .on_sigs = change_basis,
		              .on_sigs_arg = &cc,
		              .delta_cache_mb = -1,
		              .reuse = &ru };
	struct run_result r1, r2;
	uint8_t *after;
	char g0[300];
	int fd;

	mkpaths("basis-changed");
	for (int i = 0; i < 2; i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *d;

		snprintf(path, sizeof(path), "g%d", i);
		f = add(&l, path, XF_FILE_REG);
		f->size = 400000;
		f->data = d = random_bytes(f->size);
		d[1000] ^= 1; /* the basis below differs in one byte */
		put_file(dst_dir, path, d, f->size, f->mtime_ns - 5);
		d[1000] ^= 1;
	}
	run(dst_dir, &l, &o, &r1);
	CU_ASSERT_EQUAL(cc.hits, 1);
	CU_ASSERT_EQUAL(r1.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r1.status[0], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(r1.status[1], 0);
	/* A sender without XF_HELLO_F_REDO is not asked for it again. */
	CU_ASSERT_EQUAL(r1.times.redone, 0);
	CU_ASSERT_EQUAL(r1.ms.redone, 0);
	if (r1.clone_mode != XF_STORAGE_CLONE_NONE) {
		/* Seen before its COPY ops, which then read (and do not clone) the basis. */
		CU_ASSERT(r1.times.basis_changed >= 1);
	}
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	/* What is at g0 is the basis as the test changed it: not a mix, not the new file. */
	after = malloc(l.f[0].size);
	snprintf(g0, sizeof(g0), "%s/g0", dst_dir);
	fd = open(g0, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, after, l.f[0].size, 0), (ssize_t)l.f[0].size);
	close(fd);
	CU_ASSERT_EQUAL(after[0], 0xa5);
	CU_ASSERT_EQUAL(after[65535], 0xa5);
	CU_ASSERT_EQUAL(memcmp(after + 65536, l.f[0].data + 65536, l.f[0].size - 65536), 0);
	free(after);
	{
		uint8_t skip[2] = { 1, 0 };

		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	}
	/* Again, through the same pipeline (the set of failed DELTA files is its own): g0
	 * goes whole this time, g1 is up to date. */
	run(dst_dir, &l, &o, &r2);
	CU_ASSERT_EQUAL(r2.dec[0], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(r2.status[0], 0);
	CU_ASSERT_EQUAL(r2.dec[1], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	xf_pipeline_destroy(ru.p);
	result_free(&r1);
	result_free(&r2);
	list_free(&l);
}

/* Three files whose bases differ from them in one byte: DELTA, mostly COPY. */
static void
redo_files(struct list *l)
{
	for (int i = 0; i < 3; i++) {
		char path[32];
		struct xf_memsend_file *f;
		uint8_t *d;

		snprintf(path, sizeof(path), "g%d", i);
		f = add(l, path, XF_FILE_REG);
		f->size = 400000;
		f->data = d = random_bytes(f->size);
		d[1000] ^= 1;
		put_file(dst_dir, path, d, f->size, f->mtime_ns - 5);
		d[1000] ^= 1;
	}
}

/*
 * With XF_HELLO_F_REDO, a DELTA file whose basis changed between its signatures and its
 * COPY ops (read again, not kept) fails its CRC-64, is decided WHOLE again (XF_ST_REDO)
 * and sent again whole in the same session: it commits identical, in its place (the
 * files after it wait in the window). The first attempt's COPY, DATA and FILE_END that
 * come after the redo decision are dropped and counted, not written into the new temp.
 */
void
test_delta_redo(void)
{
	struct list l = { 0 };
	struct change_ctx cc = { .l = &l, .file = 1 };
	struct run_opts o = { .window = 8,
		              .max_payload = 1472,
		              .on_sigs = change_basis,
		              .on_sigs_arg = &cc,
		              .delta_cache_mb = -1,
		              .flags = XF_HELLO_F_REDO,
		              .redo_stale = true };
	struct run_result r;

	mkpaths("redo");
	redo_files(&l);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(cc.hits, 1);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT_EQUAL(r.ms.redone, 1);
	CU_ASSERT_EQUAL(r.times.redone, 1);
	CU_ASSERT_EQUAL(r.ms.committed, 3);
	CU_ASSERT_EQUAL(r.ms.done_files, 3);
	CU_ASSERT_EQUAL(r.rx.redo_stale, 3); /* COPY, DATA and FILE_END of attempt 1 */
	CU_ASSERT_EQUAL(r.rx.redo_unasked, 0);
	CU_ASSERT_EQUAL(r.rx.redo_no_room, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0); /* g1 as the sender has it */
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}

/*
 * Sent again whole only once: a file whose second attempt fails too (here every FILE_END
 * of it carries a wrong CRC-64) fails with XF_ST_CHECKSUM as without the flag, its old
 * version stays, and the files around it commit.
 */
void
test_delta_redo_fails_again(void)
{
	struct list l = { 0 };
	struct run_opts o = {
		.window = 8, .max_payload = 1472, .delta_cache_mb = -1, .flags = XF_HELLO_F_REDO
	};
	struct run_result r;
	uint8_t *after;
	char path[300];
	int fd;

	mkpaths("redo-again");
	redo_files(&l);
	l.f[1].crc_xor = 1;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.dec[1], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.status[0], 0);
	CU_ASSERT_EQUAL(r.status[1], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(r.status[2], 0);
	CU_ASSERT_EQUAL(r.ms.redone, 1);
	CU_ASSERT_EQUAL(r.times.redone, 1);
	CU_ASSERT_EQUAL(r.ms.done_files, 3);
	CU_ASSERT_EQUAL(r.rx.redo_stale, 0);
	/* g1 is its old version: the new data with byte 1000 flipped. */
	after = malloc(l.f[1].size);
	snprintf(path, sizeof(path), "%s/g1", dst_dir);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, after, l.f[1].size, 0), (ssize_t)l.f[1].size);
	close(fd);
	after[1000] ^= 1;
	CU_ASSERT_EQUAL(memcmp(after, l.f[1].data, l.f[1].size), 0);
	free(after);
	{
		uint8_t skip[3] = { 0, 1, 0 };

		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	}
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}

/*
 * A basis kept in memory since its signatures, then rewritten on disk before any COPY:
 * the COPY ops take the bytes the signatures described, so the file is rebuilt as the
 * sender has it, verified and committed (the change on disk is replaced, as it would
 * be a moment later by any push). Never a mix of the two.
 */
void
test_delta_basis_changed_kept(void)
{
	struct list l = { 0 };
	struct change_ctx cc = { .l = &l, .file = 0 };
	struct run_opts o = {
		.window = 8, .max_payload = 1472, .on_sigs = change_basis, .on_sigs_arg = &cc
	};
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *d;

	mkpaths("basis-changed-kept");
	f = add(&l, "g0", XF_FILE_REG);
	f->size = 400000;
	f->data = d = random_bytes(f->size);
	d[1000] ^= 1; /* the basis differs in one byte */
	put_file(dst_dir, "g0", d, f->size, f->mtime_ns - 5);
	d[1000] ^= 1;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(cc.hits, 1);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.status[0], 0);
	CU_ASSERT(r.times.copy_kept >= f->size - 4096);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}

/*
 * A hostile sender's COPY from past the end of the basis: the file fails with
 * XF_ST_CHECKSUM (what a read of a shorter basis gives), its old version stays, and no
 * byte comes from beyond the kept basis. Kept in memory and read again alike.
 */
void
test_delta_copy_beyond_basis(void)
{
	for (int keep = 0; keep < 2; keep++) {
		struct list l = { 0 };
		struct run_opts o = { .window = 8,
			              .max_payload = 1472,
			              .delta_cache_mb = keep ? 0 : -1 };
		struct run_result r;
		struct xf_memsend_file *f;
		uint8_t *b;
		struct stat sb;
		char path[600];

		mkpaths(keep ? "copy-beyond-kept" : "copy-beyond");
		f = add_file(&l, "victim", 200000);
		f->copy_src_shift = f->size; /* every COPY starts at or past the basis end */
		b = malloc(f->size);
		memcpy(b, f->data, f->size);
		b[1000] ^= 0xff;
		put_file(dst_dir, "victim", b, f->size, f->mtime_ns - 1000000000ll);
		run(dst_dir, &l, &o, &r);
		CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[0], XF_ST_CHECKSUM);
		CU_ASSERT_EQUAL(r.times.copy_kept, 0);
		CU_ASSERT_EQUAL(r.times.crc_combined, 0);
		snprintf(path, sizeof(path), "%s/victim", dst_dir);
		CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_size, (off_t)f->size);
		CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
		free(b);
		result_free(&r);
		list_free(&l);
	}
}

/*
 * Checksum mode: a file with the same size and mtime but other bytes is found and
 * fixed (the quick check by size and mtime would call it up to date); an identical
 * one is rebuilt from its basis alone (all COPY); two empty files are up to date.
 */
void
test_checksum_mode(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472, .flags = XF_HELLO_F_CHECKSUM };
	struct run_result r;
	struct xf_memsend_file *f;
	uint8_t *b;

	mkpaths("checksum");
	f = add_file(&l, "sneaky", 200000);
	b = malloc(f->size);
	memcpy(b, f->data, f->size);
	b[123456] ^= 0x10;
	put_file(dst_dir, "sneaky", b, f->size, f->mtime_ns);
	free(b);
	f = add_file(&l, "same", 150000);
	put_file(dst_dir, "same", f->data, f->size, f->mtime_ns);
	f = add(&l, "empty", XF_FILE_REG);
	put_file(dst_dir, "empty", (const uint8_t *)"", 0, f->mtime_ns);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.dec[1], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(r.dec[2], XF_DEC_UPTODATE);
	for (int i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT(r.ms.literal_bytes < 5000); /* one block of sneaky */
	CU_ASSERT_EQUAL(r.ms.literal_bytes + r.ms.matched_bytes, 350000);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	result_free(&r);
	list_free(&l);
}

/* Replace a file's bytes with junk from off0 on (same size), mtime put back: `touch -d`. */
static void
rewrite_keep_mtime(const char *name, size_t len)
{
	char path[600];
	struct stat sb;
	struct timespec ts[2];
	uint8_t junk[100];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dst_dir, name);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	memset(junk, 0x5a, sizeof(junk));
	for (size_t off = 0; off + sizeof(junk) <= len; off += 10000) {
		CU_ASSERT_FATAL(pwrite(fd, junk, sizeof(junk), (off_t)off) ==
		                (ssize_t)sizeof(junk));
	}
	ts[0] = sb.st_atim;
	ts[1] = sb.st_mtim;
	CU_ASSERT_EQUAL(futimens(fd, ts), 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
	CU_ASSERT_EQUAL((uint64_t)sb.st_size, (uint64_t)len);
}

/*
 * The signature cache (docs/DELTA.md, "Signature cache"), each run a new pipeline over
 * the same volume, so the cache also goes through its file. Run 1 signs three bases and
 * fails every file (a sender whose COPYs land past the size: the bases stay); one base
 * is then rewritten with its size and mtime kept. Run 2 takes the two unchanged ones from
 * the cache (hits, not read) and finds the third stale by its ctime: signed again, and
 * every file lands exactly. Run 3 finds both cache files damaged: counted, ignored.
 */
void
test_sig_cache(void)
{
	static const uint64_t sizes[] = { 300001, 1u << 20, 777777 };
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472, .sig_cache_mb = 4 };
	struct run_result r;

	mkpaths("sig-cache");
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		char path[32];

		snprintf(path, sizeof(path), "s%zu", i);
		add_changed(&l, path, sizes[i])->copy_shift = 1ull << 40;
	}
	wait_ctime_settled(dst_dir, "s2");
	run(dst_dir, &l, &o, &r);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], XF_ST_SIZE);
		l.f[i].copy_shift = 0;
	}
	CU_ASSERT_EQUAL(r.times.sc_misses, 3);
	CU_ASSERT_EQUAL(r.times.sc_stored, 3);
	CU_ASSERT_EQUAL(r.times.sc_hits, 0);
	result_free(&r);

	rewrite_keep_mtime("s1", sizes[1]);
	wait_ctime_settled(dst_dir, "s1");
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.times.sc_loaded, 3);
	CU_ASSERT_EQUAL(r.times.sc_hits, 2);
	CU_ASSERT_EQUAL(r.times.sc_stale, 1);
	CU_ASSERT_EQUAL(r.times.sc_corrupt, 0);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	/* s1's new signatures describe the junk: more literal than the others. */
	CU_ASSERT(r.ms.matched_bytes > (sizes[0] + sizes[2]) * 9 / 10);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);

	for (int w = 0; w < 2; w++) {
		char path[600];
		int fd;

		snprintf(path, sizeof(path), "%s/.xferd/sigcache.%d", dst_dir, w);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(write(fd, "XFSIGC\r\n\1\0\0\0\7\0\0\0junk", 20), 20);
		close(fd);
	}
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.times.sc_corrupt, 2);
	CU_ASSERT_EQUAL(r.times.sc_loaded, 0);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_UPTODATE);
	}
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	result_free(&r);
	list_free(&l);
}

/* Does a chmod right after a read of the ctime move it in dir? The pipeline's own
 * probe, which decides whether it makes entries at commit. */
static bool
ctime_fine(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool fine = fd >= 0 && xf_pipeline_probe_ctime_fine(fd);

	if (fd >= 0) {
		close(fd);
	}
	return fine;
}

/* The source changes: 4 x 100 bytes of each file, and its mtime. */
static void
change_sources(struct list *l)
{
	for (uint32_t i = 0; i < l->n; i++) {
		struct xf_memsend_file *f = &l->f[i];
		uint8_t *b = (uint8_t *)(uintptr_t)f->data;

		for (int k = 0; k < 4; k++) {
			memset(b + rnd() % (f->size - 100), (int)(rnd() & 0xff), 100);
		}
		f->mtime_ns += 1000000000ll;
		wait_ctime_settled(dst_dir, f->path);
	}
}

/*
 * Entries made at commit (docs/DELTA.md, "Signature cache"): run 1 writes four files
 * whole, signing the three from 64 KiB on as they are written, and their commits give
 * the entries their keys. One committed file is then rewritten with its size and mtime
 * put back, and the sources change. Run 2 (a new pipeline: the entries went through the
 * cache file) finds the two others in the cache and reads neither basis, finds the
 * rewritten one stale by its ctime and signs it again, and every file lands exactly.
 * On a volume whose ctime is coarse no entry is made at commit.
 */
void
test_sig_cache_commit(void)
{
	static const uint64_t sizes[] = { 300001, 1u << 20, 777777, 65535 };
	struct list l = { 0 };
	struct run_opts o = { .window = 8, .max_payload = 1472, .sig_cache_mb = 4 };
	struct run_result r;
	bool fine;

	mkpaths("sig-cache-commit");
	fine = ctime_fine(dst_dir);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		char path[32];

		snprintf(path, sizeof(path), "c%zu", i);
		add_file(&l, path, sizes[i]);
	}
	run(dst_dir, &l, &o, &r);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_WHOLE);
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	/* The 65535-byte file is below the size that is signed while written. */
	CU_ASSERT_EQUAL(r.times.sc_committed, fine ? 3 : 0);
	CU_ASSERT_EQUAL(r.times.sc_notes_lost, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	result_free(&r);

	rewrite_keep_mtime("c1", sizes[1]);
	change_sources(&l);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.times.sc_loaded, fine ? 3 : 0);
	CU_ASSERT_EQUAL(r.times.sc_hits, fine ? 2 : 0);
	CU_ASSERT_EQUAL(r.times.sc_stale, fine ? 1 : 0);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	/* c1's new signatures describe the junk: less matched than the others. */
	CU_ASSERT(r.ms.matched_bytes > (sizes[0] + sizes[2]) * 9 / 10);
	/* Built by DELTA, each signed too: c1 from its bytes (its basis kept in memory), the
	 * others with their COPY ops' records taken from their bases' (kernel copies). */
	CU_ASSERT_EQUAL(r.times.sc_committed, fine ? 3 : 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);

	/* Run 3: every changed file's signatures from the entries run 2's commits made. */
	change_sources(&l);
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.times.sc_hits, fine ? 3 : 0);
	CU_ASSERT_EQUAL(r.times.sc_stale, 0);
	CU_ASSERT_EQUAL(r.times.sc_committed, fine ? 3 : 0);
	for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
		CU_ASSERT_EQUAL(r.dec[i], XF_DEC_DELTA);
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT(r.ms.matched_bytes > (sizes[0] + sizes[1] + sizes[2]) * 9 / 10);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(tmp_left(dst_dir), 0);
	result_free(&r);
	list_free(&l);
}
