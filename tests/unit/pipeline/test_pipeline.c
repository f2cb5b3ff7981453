/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive pipeline end to end in one process: frames encoded by an in-memory
 * sender, decoded by the RX loop, written by io_uring workers into a temp volume and
 * committed in order. Checked against the source tree with stat, memcmp and rsync.
 * Paths, faults, the rename chain, abort and whole trees here; the delta and staged
 * directory cases in test_pipeline_delta.c and test_pipeline_staged.c, the harness
 * they share in xf_pipeline_run.h.
 *
 * Over 1,000 lines: the whole-file cases (paths, faults, the rename chain, abort, a file
 * sent again whole, partial files, two RX cores and their sessions opened at once) each
 * drive the one pipeline; the delta and staged cases already have files of their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_pipeline_priv.h" /* the sessions' rx and id, in "opened on two RX cores at once" */
#include "xf_pipeline_run.h"

uint64_t rng_state = 0x5DEECE66Dull;

char base_dir[96];
char tag_dir[128], src_dir[256], dst_dir[256], canary_dir[256];

/*
 * 10,000 small files in nested directories with awkward names, 3 x 8 MiB files,
 * symlinks; frames shuffled and duplicated. Then the same list again: all UPTODATE,
 * nothing written.
 */
static void
test_tree_end_to_end(void)
{
	struct list l = { 0 };
	struct run_opts o = { .shuffle = true, .dup_permille = 30, .window = 512 };
	struct run_result r1, r2;
	char diff[4096];
	int64_t *ct1, *ct2;
	unsigned int whole = 0;
	int rc;

	mkpaths("tree");
	make_tree(&l, 10000, 3, 8u << 20);
	materialise(src_dir, &l);
	run(dst_dir, &l, &o, &r1);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r1.status[i], 0);
		CU_ASSERT_EQUAL(r1.dec[i], XF_DEC_WHOLE);
		whole += r1.dec[i] == XF_DEC_WHOLE;
	}
	printf("\n  run 1: %u entries, %u WHOLE, %llu frames (%llu duplicates), %llu stalls, "
	       "%llu late/dup DATA dropped\n",
	       l.n, whole, (unsigned long long)r1.ms.frames, (unsigned long long)r1.ms.dups,
	       (unsigned long long)r1.rx.stalls, (unsigned long long)r1.rx.data_dropped);
	CU_ASSERT(r1.ms.dups > 0);
	CU_ASSERT_EQUAL(r1.ms.done_files, l.n);
	/* Into an empty tree: every regular file new, written unnamed and linked. */
	CU_ASSERT_EQUAL(r1.times.unnamed_temps, 10003u);
	CU_ASSERT_EQUAL(r1.times.link_taken, 0u);
	CU_ASSERT_EQUAL(r1.rx.bad_frames, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	CU_ASSERT_EQUAL(xh_count_entries(canary_dir), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tag_dir), 3); /* src, dst, canary: nothing else */
	{
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
		CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	}
	rc = rsync_diff(src_dir, dst_dir, diff, sizeof(diff));
	if (rc != 0) {
		printf("  rsync differences:\n%s\n", diff);
	}
	CU_ASSERT_EQUAL(rc, 0);
	/* Second run: the quick check finds everything up to date and nothing changes. */
	ct1 = calloc(l.n, sizeof(*ct1));
	ct2 = calloc(l.n, sizeof(*ct2));
	snapshot_ctimes(dst_dir, &l, ct1);
	run(dst_dir, &l, &o, &r2);
	snapshot_ctimes(dst_dir, &l, ct2);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r2.dec[i], XF_DEC_UPTODATE);
		CU_ASSERT_EQUAL(ct1[i], ct2[i]);
	}
	CU_ASSERT_EQUAL(r2.ms.done_files, l.n);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	free(ct1);
	free(ct2);
	result_free(&r1);
	result_free(&r2);
	list_free(&l);
}

/*
 * Hostile entries: "..", "a/../../b", "/abs", a 300-byte component, a path into the
 * staging directory, a path through a symlink in the volume that points outside, a
 * symlink entry then a file beneath it, and a frame whose path is 4096 bytes (over the
 * wire limit). All refused or failed; the good files land; the canary stays empty.
 */
static void
test_hostile_paths(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64, .fsync = XF_FSYNC_FILE };
	struct run_result r;
	char longname[301], target[300], path[8];
	static uint8_t raw[XF_PAYLOAD_MAX];
	const void *rawp[1] = { raw };
	uint32_t rawlen[1];
	enum { GOOD1, DOTDOT, UPUP, ABS, LONGC, STAGING, EVIL, LNK, UNDERLNK, GOOD2, N };
	struct xf_memsend_file *f;

	mkpaths("hostile");
	/* A symlink already in the volume, pointing at the canary outside it. */
	CU_ASSERT_FATAL(symlinkat(canary_dir, open(dst_dir, O_RDONLY | O_DIRECTORY), "evil") == 0);
	memset(longname, 'n', 300);
	longname[300] = '\0';
	add(&l, "good one", XF_FILE_REG);
	add(&l, "..", XF_FILE_REG);
	add(&l, "a/../../b", XF_FILE_REG);
	add(&l, "/abs", XF_FILE_REG);
	add(&l, longname, XF_FILE_REG);
	add(&l, ".xferd/tmp/0.5eed0001.0", XF_FILE_REG);
	add(&l, "evil/x", XF_FILE_REG);
	f = add(&l, "lnk", XF_FILE_SYMLINK);
	f->target = strdup(canary_dir);
	add(&l, "lnk/y", XF_FILE_REG);
	add(&l, "good two", XF_FILE_REG);
	for (uint32_t i = 0; i < l.n; i++) {
		if (l.f[i].kind == XF_FILE_REG) {
			l.f[i].size = 1000 + i;
			l.f[i].data = random_bytes(l.f[i].size);
		}
	}
	/* The 4096-byte path: encode 4095 bytes, then make it one longer by hand. */
	{
		struct xf_proto_builder b;
		struct xf_msg m = { .hdr = { .version = XF_PROTO_VERSION,
			                     .type = XF_MSG_FLIST,
			                     .session = 0x5eed0001,
			                     .pn = 1u << 20 } };
		static char p4095[4096];
		struct xf_flist_entry e = { .kind = XF_FILE_REG,
			                    .mode = 0644,
			                    .size = 1,
			                    .path = p4095,
			                    .path_len = 4095 };
		int n;

		for (int i = 0; i < 4095; i++) {
			p4095[i] = i % 200 == 199 ? '/' : 'p';
		}
		m.flist.first_index = N;
		CU_ASSERT_FATAL(xf_proto_build_begin(&b, raw, sizeof(raw), &m) == 0);
		CU_ASSERT_FATAL(xf_proto_build_flist(&b, &e) == 0);
		n = xf_proto_build_finish(&b);
		CU_ASSERT_FATAL(n > 0);
		raw[XF_HDR_LEN + 8 + 2] = 0x10; /* path_len 4096 */
		raw[XF_HDR_LEN + 8 + 3] = 0x00;
		raw[n] = 'p';
		raw[6] = (uint8_t)((n + 1 - XF_HDR_LEN) >> 8);
		raw[7] = (uint8_t)(n + 1 - XF_HDR_LEN);
		rawlen[0] = (uint32_t)n + 1;
	}
	o.raw = rawp;
	o.raw_len = rawlen;
	o.nraw = 1;
	(void)target;
	(void)path;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.status[GOOD1], 0);
	CU_ASSERT_EQUAL(r.status[GOOD2], 0);
	CU_ASSERT_EQUAL(r.status[LNK], 0);
	CU_ASSERT_EQUAL(r.status[DOTDOT], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[UPUP], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[ABS], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[LONGC], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[STAGING], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(r.status[EVIL], XF_ST_ESCAPE);
	/* Stat may run before or after "lnk" exists: refused at stat, or failed at commit. */
	CU_ASSERT_EQUAL(r.status[UNDERLNK], XF_ST_ESCAPE);
	CU_ASSERT_EQUAL(r.dec[DOTDOT], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(r.rx.bad_frames, 1); /* the 4096-byte path */
	CU_ASSERT_EQUAL(r.ms.done_files, (uint32_t)N);
	CU_ASSERT_EQUAL(xh_count_entries(canary_dir), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tag_dir), 3);
	{
		uint8_t skip[N] = { 0 };

		for (int i = DOTDOT; i <= UNDERLNK; i++) {
			skip[i] = i != LNK;
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	}
	/* good one, good two, evil, lnk and the staging dir: nothing else in the volume. */
	CU_ASSERT_EQUAL(xh_count_entries(dst_dir), 5);
	result_free(&r);
	list_free(&l);
}

/* Puts a file in the way of file `file`: where its named temp file is about to be
 * created (named), or at its final path just after its quick check found none there. */
struct leftover_ctx {
	const char *tmp_dir;
	const char *dst_dir;
	bool named;
	uint32_t file;
	uint32_t session;
	unsigned int hits;
};

static int32_t
leftover_on_stat(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct leftover_ctx *lc = arg;

	if (op == XF_SOP_STATX && file == lc->file && lc->hits++ == 0) {
		char name[XF_TMPNAME_SIZE], path[600];
		int fd;

		xf_work_tmpname(name, sid, lc->session, file);
		if (lc->named) {
			snprintf(path, sizeof(path), "%s/%s", lc->tmp_dir, name);
		} else {
			snprintf(path, sizeof(path), "%s/m%02u", lc->dst_dir, file);
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		CU_ASSERT(fd >= 0 && write(fd, "stale bytes", 11) == 11);
		close(fd);
	}
	return res;
}

/*
 * Modes: a file whose mode survives creation under the umask is created with it and gets
 * no fchmod; any other (bits the umask takes away, set-id, sticky) is set by fchmod.
 * Every mode must land exactly, under three umasks, with named and unnamed temp files.
 * Named: a leftover file where a temp file goes is removed first, so the new file has
 * its own mode and bytes, not the leftover's. Unnamed: a file that appears at the final
 * path after the quick check is replaced (the link finds the name taken), as a rename
 * would have.
 */
static void
test_modes(void)
{
	static const uint32_t modes[] = { 0644, 0600,  0755,  0664,  0666, 0777, 0700, 0000,
		                          0444, 04755, 02750, 01777, 0640, 0511, 0007 };
	static const mode_t umasks[] = { 022, 077, 0 };
	mode_t saved = umask(022);

	for (unsigned int u = 0; u < 2 * XF_ARRAY_SIZE(umasks); u++) {
		bool named = u < XF_ARRAY_SIZE(umasks);
		mode_t um = umasks[u % XF_ARRAY_SIZE(umasks)];
		struct list l = { 0 };
		struct run_opts o = { .window = 64, .named_temps = named };
		struct leftover_ctx lc = { .file = 2, .session = 0x5eed0001, .named = named };
		struct run_result r;
		uint64_t expect_set = 0;
		char tag[32], tmp_dir[600];

		snprintf(tag, sizeof(tag), "modes-%s-%03o", named ? "named" : "unnamed",
		         (unsigned int)um);
		mkpaths(tag);
		snprintf(tmp_dir, sizeof(tmp_dir), "%s/.xferd/tmp", dst_dir);
		lc.tmp_dir = tmp_dir;
		lc.dst_dir = dst_dir;
		o.fault = leftover_on_stat;
		o.fault_arg = &lc;
		for (uint32_t i = 0; i < 3 * XF_ARRAY_SIZE(modes); i++) {
			struct xf_memsend_file *f;
			char path[32];

			snprintf(path, sizeof(path), "m%02u", i);
			f = add_file(&l, path, 1 + rnd() % 3000);
			f->mode = modes[i % XF_ARRAY_SIZE(modes)];
			expect_set += f->mode <= 0777 && (f->mode & ~um) == f->mode;
		}
		umask(um);
		run(dst_dir, &l, &o, &r);
		umask(022);
		for (uint32_t i = 0; i < l.n; i++) {
			CU_ASSERT_EQUAL(r.status[i], 0);
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
		CU_ASSERT_EQUAL(r.times.files_done, l.n);
		CU_ASSERT_EQUAL(r.times.modes_at_create, expect_set);
		CU_ASSERT_EQUAL(lc.hits, 1);
		CU_ASSERT_EQUAL(r.times.tmp_leftovers, named ? 1 : 0);
		CU_ASSERT_EQUAL(r.times.unnamed_temps, named ? 0 : l.n);
		CU_ASSERT_EQUAL(r.times.link_taken, named ? 0 : 1);
		CU_ASSERT_EQUAL(xh_count_entries(tmp_dir), 0);
		printf("\n  %s temps, umask %03o: %llu of %u modes set at creation",
		       named ? "named" : "unnamed", (unsigned int)um,
		       (unsigned long long)r.times.modes_at_create, l.n);
		result_free(&r);
		list_free(&l);
	}
	umask(saved);
}

/*
 * One file with a wrong CRC in FILE_END, one whose writes fail with ENOSPC. Both had a
 * previous version at the final path: it stays. A third meets a directory at its final
 * path (conflict; the directory stays). Everything else is committed, and no temp file
 * is left. Batched fsync, and small frames so the big files span many.
 */
static void
test_failures(void)
{
	struct list l = { 0 };
	struct fault_ctx fc;
	struct run_opts o = { .shuffle = true,
		              .window = 32,
		              .fsync = XF_FSYNC_BATCH,
		              .batch = 8,
		              .max_payload = XF_PAYLOAD_MTU1500,
		              .fault = enospc_on_write,
		              .fault_arg = &fc };
	struct run_result r;
	const uint32_t bad_crc = 17, no_space = 42, conflict = 99;
	uint8_t skip[300] = { 0 };
	struct list old = { 0 };
	char tmp[300];

	mkpaths("fail");
	for (uint32_t i = 0; i < 200; i++) {
		char path[64];

		snprintf(path, sizeof(path), "dir %u/file-%u", i % 5, i);
		add_file(&l, path, i == bad_crc || i == no_space ? 100000 : rnd() % 20000);
		if (i == bad_crc || i == no_space) {
			/* The previous version, a different size and time. */
			struct xf_memsend_file *of = add(&old, path, XF_FILE_REG);

			of->size = 777;
			of->data = random_bytes(of->size);
		}
	}
	l.f[bad_crc].crc_xor = 1;
	fc.file = no_space;
	fc.hits = 0;
	for (uint32_t d = 0; d < 5; d++) {
		snprintf(tmp, sizeof(tmp), "%s/dir %u", dst_dir, d);
		mkdir(tmp, 0755);
	}
	materialise(dst_dir, &old);
	/* A non-empty directory where file 99 should go: its commit is a conflict. */
	block_with_dir(dst_dir, l.f[conflict].path);
	run(dst_dir, &l, &o, &r);
	for (uint32_t i = 0; i < l.n; i++) {
		if (i == bad_crc) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_CHECKSUM);
		} else if (i == no_space) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_NOSPACE);
		} else if (i == conflict) {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_CONFLICT);
		} else {
			CU_ASSERT_EQUAL(r.status[i], XF_ST_OK);
		}
	}
	CU_ASSERT(fc.hits > 0);
	CU_ASSERT_EQUAL(r.ms.done_files, l.n);
	skip[bad_crc] = skip[no_space] = skip[conflict] = 1;
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	snprintf(tmp, sizeof(tmp), "%s/%s/keep", dst_dir, l.f[conflict].path);
	CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
	/* The old versions are intact at the final paths. */
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &old, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);
	list_free(&l);
	list_free(&old);
}

/* A file of size zeros with random extents {offset, length}: a sparse source's bytes. */
static struct xf_memsend_file *
add_sparse(struct list *l, const char *path, uint64_t size, const uint64_t (*ext)[2],
           unsigned int n)
{
	struct xf_memsend_file *f = add(l, path, XF_FILE_REG);
	uint8_t *d = calloc(1, size != 0 ? size : 1);

	for (unsigned int k = 0; k < n; k++) {
		uint8_t *r = random_bytes(ext[k][1]);

		memcpy(d + ext[k][0], r, ext[k][1]);
		free(r);
	}
	f->size = size;
	f->data = d;
	f->sparse = true;
	return f;
}

/*
 * Sparse files (docs/PROTOCOL.md 6.8): the sender leaves out DATA for holes; the
 * receiver writes what arrives, gives a file that ends in a hole its FILE_END size, and
 * verifies the whole file with holes as zeros. The copies are identical and sparse. A
 * frame with data that never came (not a hole: the sender had bytes there) fails the
 * file with CHECKSUM; a FILE_END size past the announced one fails it with SIZE. Once
 * with the running CRC and read-back, once with every file read back (verify_full).
 */
static void
test_sparse_files(void)
{
	static const uint64_t ends_hole[][2] = { { 0, 5000 }, { (1u << 20) + 7, 3000 } };
	static const uint64_t ends_data[][2] = { { 12345, 100 }, { (1u << 20) - 4096, 4096 } };
	static const uint64_t dense[][2] = { { 0, 200000 } };
	const uint64_t mib = 1u << 20;
	enum { HOLE_END, ALL_HOLE, DATA_END, LOST, TOO_LONG, N_SPARSE };

	for (int full = 0; full < 2; full++) {
		struct list l = { 0 };
		struct run_opts o = { .shuffle = true,
			              .dup_permille = 50,
			              .window = 16,
			              .verify_full = full != 0,
			              .max_payload = XF_PAYLOAD_MTU1500 };
		struct run_result r;
		uint8_t skip[N_SPARSE] = { 0 };

		mkpaths(full ? "sparse-full" : "sparse");
		add_sparse(&l, "hole-end", 3 * mib, ends_hole, 2);
		add_sparse(&l, "all-hole", 2 * mib, NULL, 0);
		add_sparse(&l, "data-end", mib, ends_data, 2);
		add_sparse(&l, "lost", 200000, dense, 1)->omit_at =
		        1 + 2 * (XF_PAYLOAD_MTU1500 - XF_DATA_OVERHEAD);
		l.f[LOST].sparse = false;
		add_sparse(&l, "too-long", mib, ends_hole, 1)->end_shift = 4096;
		run(dst_dir, &l, &o, &r);
		CU_ASSERT_EQUAL(r.status[HOLE_END], XF_ST_OK);
		CU_ASSERT_EQUAL(r.status[ALL_HOLE], XF_ST_OK);
		CU_ASSERT_EQUAL(r.status[DATA_END], XF_ST_OK);
		CU_ASSERT_EQUAL(r.status[LOST], XF_ST_CHECKSUM);
		CU_ASSERT_EQUAL(r.status[TOO_LONG], XF_ST_SIZE);
		skip[LOST] = skip[TOO_LONG] = 1;
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
		for (uint32_t i = HOLE_END; i <= DATA_END; i++) {
			char path[700];
			struct stat st;

			snprintf(path, sizeof(path), "%s/%s", dst_dir, l.f[i].path);
			CU_ASSERT_FATAL(stat(path, &st) == 0);
			CU_ASSERT_EQUAL((uint64_t)st.st_size, l.f[i].size);
			/* Sparse: what arrived, rounded to blocks, not the size. */
			CU_ASSERT((uint64_t)st.st_blocks * 512 < 256 * 1024);
		}
		result_free(&r);
		list_free(&l);
	}
}

/* Rename completions as the commit worker sees them, and one rename to fail. */
struct chain_ctx {
	uint32_t fail;      /* file whose commit step reports -ENOSPC */
	uint32_t seen[256]; /* files whose commit step completed, in completion order */
	unsigned int nseen;
	unsigned int links; /* of those steps, links of unnamed temps */
};

/* The commit steps: renames of named temp files, links of unnamed ones. */
static int32_t
record_commits(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct chain_ctx *cc = arg;

	(void)sid;
	if (op != XF_SOP_RENAME && op != XF_SOP_LINK) {
		return res;
	}
	cc->links += op == XF_SOP_LINK;
	if (cc->nseen < XF_ARRAY_SIZE(cc->seen)) {
		cc->seen[cc->nseen] = file;
	}
	cc->nseen++;
	return file == cc->fail ? -ENOSPC : res;
}

/*
 * The commit steps of a batch (renames, or links of new files' unnamed temps) go out as
 * one linked chain. They must complete in file-list order (each starts after the one
 * before it), and each result must reach its own file: in one directory, one file is
 * refused at its decision (a directory with an entry is in the way, and no --delete:
 * CONFLICT, no step, the directory stays) and one step is reported failed by the fault
 * hook (NOSPACE); the files before, between and after them
 * are committed. Runs of files already up to date (no step) sit among them, so a batch's
 * k-th step is not its k-th item. Under no fsync (batches of up to 512) and batched
 * fsync (batches of 16), with unnamed temp files and with named ones only.
 */
static void
chain_case(const char *tag, enum xf_fsync_policy fsync, unsigned int batch, bool named)
{
	struct list l = { 0 };
	struct list pre = { 0 };
	struct chain_ctx cc = { .fail = 77 };
	struct run_opts o = { .window = 64,
		              .fsync = fsync,
		              .batch = batch,
		              .fault = record_commits,
		              .fault_arg = &cc,
		              .named_temps = named };
	struct run_result r;
	const uint32_t conflict = 40;
	uint8_t skip[128] = { 0 };
	uint32_t renamed = 0;
	char tmp[300];

	mkpaths(tag);
	add(&l, "batch", XF_FILE_DIR);
	for (uint32_t i = 1; i < 121; i++) {
		struct xf_memsend_file *f;
		char path[64];

		snprintf(path, sizeof(path), "batch/f%03u", i);
		f = add_file(&l, path, rnd() % 3000);
		if ((i >= 20 && i < 30) || (i >= 60 && i < 66) || i == 90) {
			struct xf_memsend_file *u = add(&pre, path, XF_FILE_REG);

			u->size = f->size;
			u->data = malloc(f->size + 1);
			memcpy((void *)u->data, f->data, f->size);
			u->mode = f->mode;
			u->mtime_ns = f->mtime_ns;
		} else if (i != conflict) {
			renamed++;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s/batch", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0755) == 0);
	materialise(dst_dir, &pre);
	block_with_dir(dst_dir, l.f[conflict].path);
	run(dst_dir, &l, &o, &r);
	for (uint32_t i = 0; i < l.n; i++) {
		uint8_t want = i == conflict  ? XF_ST_CONFLICT
		               : i == cc.fail ? XF_ST_NOSPACE
		                              : XF_ST_OK;

		CU_ASSERT_EQUAL(r.status[i], want);
	}
	CU_ASSERT_EQUAL(r.ms.done_files, l.n);
	CU_ASSERT_EQUAL(r.dec[25], XF_DEC_UPTODATE);
	/* One step per file not up to date and not refused, completed in list order: links
	 * for the new files unless the temps are named. */
	CU_ASSERT_EQUAL(r.dec[conflict], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL_FATAL(cc.nseen, renamed);
	CU_ASSERT_EQUAL(cc.links, named ? 0 : renamed);
	CU_ASSERT_EQUAL(r.times.unnamed_temps, named ? 0 : renamed); /* verified ones */
	for (unsigned int k = 1; k < cc.nseen; k++) {
		CU_ASSERT(cc.seen[k - 1] < cc.seen[k]);
	}
	skip[conflict] = skip[cc.fail] = 1;
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	snprintf(tmp, sizeof(tmp), "%s/%s/keep", dst_dir, l.f[conflict].path);
	CU_ASSERT_EQUAL(access(tmp, F_OK), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);
	list_free(&l);
	list_free(&pre);
}

static void
test_rename_chain(void)
{
	chain_case("chain-none", XF_FSYNC_NONE, 0, false);
	chain_case("chain-batch", XF_FSYNC_BATCH, 16, false);
	chain_case("chain-named", XF_FSYNC_NONE, 0, true);
	chain_case("chain-named-batch", XF_FSYNC_BATCH, 16, true);
}

struct abort_src {
	struct xf_memsend *ms;
	struct xf_session *s;
	uint64_t frames, limit;
};

/* Forward the sender's frames until the limit, then abort the session (on the RX
 * core, like the session layer on an ABORT frame) and go quiet. */
static unsigned int
abort_source(void *arg, struct xf_frame *out, unsigned int max)
{
	struct abort_src *as = arg;
	unsigned int n;

	if (as->frames >= as->limit) {
		xf_session_abort(as->s);
		return 0;
	}
	n = xf_memsend_source(as->ms, out, max);
	as->frames += n;
	return n;
}

/*
 * Run the list through a pipeline whose sender stops at as->limit frames (abort_source),
 * into root, to the end of its session. @return the pipeline (the caller's to close).
 */
static struct xf_pipeline *
run_aborted(struct xf_pipeline_conf *pc, struct xf_memsend_conf *mc,
            const struct xf_memsend_file *files, uint32_t n, int root, struct abort_src *as)
{
	struct xf_pipeline *p;

	mc->files = files;
	mc->nfiles = n;
	as->ms = xf_memsend_create(mc);
	pc->root_fd = root;
	pc->source_arg[0] = as;
	p = xf_pipeline_create(pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	as->s = xf_pipeline_session_open(p, 0, 0, 0, mc->session, mc->max_payload, 0, xf_memsend_tx,
	                                 as->ms);
	CU_ASSERT_PTR_NOT_NULL_FATAL(as->s);
	CU_ASSERT_EQUAL_FATAL(xf_pipeline_run_threads(p), 0);
	CU_ASSERT_TRUE(xf_session_is_done(as->s));
	return p;
}

static void
abort_case(const char *tag, struct list *l, unsigned int workers, uint64_t limit)
{
	struct xf_memsend_conf mc = { .session = 0xab047,
		                      .max_payload = XF_PAYLOAD_MTU1500,
		                      .window = 64,
		                      .seed = 3,
		                      .shuffle = true };
	struct xf_pipeline_conf pc = { .n_rx = 1,
		                       .n_workers = workers,
		                       .rx_core = { 1 },
		                       .worker_core = { 2, 3 },
		                       .io = xf_test_io(),
		                       .window = 64,
		                       .max_sessions = 1,
		                       .source = { abort_source },
		                       .release = xf_memsend_release,
		                       .stop_when_done = true };
	struct abort_src as = { .limit = limit };
	struct xf_pipeline *p;
	struct run_opts o = { .window = 64, .workers = workers };
	struct run_result r;
	uint32_t complete = 0, absent = 0;
	char tmp[300];
	int root, fds;

	mkpaths(tag);
	fds = xh_fds();
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	p = run_aborted(&pc, &mc, l->f, l->n, root, &as);
	CU_ASSERT_FALSE(xf_memsend_done(as.ms)); /* no DONE after an abort */
	CU_ASSERT(xf_session_committed(as.s) < l->n);
	CU_ASSERT_EQUAL(xf_pipeline_session_close(p, as.s), 0);
	/* Cleaned up by the abort itself, not only when the pipeline goes. */
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	xf_pipeline_destroy(p);
	xf_memsend_destroy(as.ms);
	close(root);
	CU_ASSERT_EQUAL(xh_fds(), fds);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	for (uint32_t i = 0; i < l->n; i++) {
		struct list one = { .f = &l->f[i], .n = 1 };

		if (l->f[i].kind != XF_FILE_REG) {
			continue; /* a directory's time is set at the end */
		}
		snprintf(tmp, sizeof(tmp), "%s/%s", dst_dir, l->f[i].path);
		if (access(tmp, F_OK) != 0) {
			absent++;
		} else {
			CU_ASSERT_EQUAL(verify_tree(dst_dir, &one, NULL), 0);
			complete++;
		}
	}
	printf("\n  abort after %llu frames: %u files complete, %u absent\n",
	       (unsigned long long)as.frames, complete, absent);
	CU_ASSERT(absent > 0);
	/* Resume: the rest arrives, what was committed is up to date. */
	run(dst_dir, l, &o, &r);
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(r.status[i], 0);
	}
	CU_ASSERT_EQUAL(verify_tree(dst_dir, l, NULL), 0);
	result_free(&r);
}

/*
 * Partial files (docs/PIPELINE.md, "Partial files"): an 8 MiB file whose session is
 * aborted about half way keeps its temp file as .xferd/partial/HASH, nothing at its final
 * path. The next push of the same version takes it as its basis: what it holds comes as
 * COPY (counted in partial_saved), the rest as DATA, the file is identical and the
 * partial gone. With new_version, the file's mtime changes before the next push: the
 * partial is removed unused (partial_stale) and the whole file is sent.
 */
static void
partial_case(const char *tag, bool new_version)
{
	const uint64_t size = 8u << 20;
	struct xf_memsend_conf mc = {
		.session = 0xab048, .max_payload = XF_PAYLOAD_MTU1500, .window = 64, .seed = 3
	};
	struct xf_pipeline_conf pc = { .n_rx = 1,
		                       .n_workers = 2,
		                       .rx_core = { 1 },
		                       .worker_core = { 2, 3 },
		                       .io = xf_test_io(),
		                       .window = 64,
		                       .max_sessions = 1,
		                       .partial_max_files = 4,
		                       .partial_max_bytes = 1u << 30,
		                       .source = { abort_source },
		                       .release = xf_memsend_release,
		                       .stop_when_done = true };
	/* About half of the file's 5,992 DATA frames (the list and FILE_END aside). */
	struct abort_src as = { .limit = 3000 };
	struct run_opts o = { .window = 64, .partial_max_files = 4, .partial_max_bytes = 1u << 30 };
	struct xf_pipeline_times t;
	struct run_result r;
	struct list l = { 0 };
	struct xf_pipeline *p;
	char tmp[300], part[300], fin[300];
	int root;

	mkpaths(tag);
	add_file(&l, "small", 1000);
	add_file(&l, "d/big", size);
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	p = run_aborted(&pc, &mc, l.f, l.n, root, &as);
	CU_ASSERT_EQUAL(xf_pipeline_session_close(p, as.s), 0);
	xf_pipeline_times(p, &t);
	CU_ASSERT_EQUAL(t.partial_kept, 1);
	CU_ASSERT_EQUAL(t.partial_untagged, 0);
	xf_pipeline_destroy(p);
	xf_memsend_destroy(as.ms);
	close(root);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	snprintf(part, sizeof(part), "%s/.xferd/partial", dst_dir);
	snprintf(fin, sizeof(fin), "%s/d/big", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	CU_ASSERT_EQUAL(xh_count_entries(part), 1);
	CU_ASSERT_NOT_EQUAL(access(fin, F_OK), 0);
	if (new_version) {
		l.f[1].mtime_ns += 1000000000ll;
	}
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.status[0], 0);
	CU_ASSERT_EQUAL(r.status[1], 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	printf("\n  %s: partial used %llu, stale %llu, COPY %llu B, DATA %llu B\n", tag,
	       (unsigned long long)r.times.partial_used, (unsigned long long)r.times.partial_stale,
	       (unsigned long long)r.ms.matched_bytes, (unsigned long long)r.ms.literal_bytes);
	if (new_version) {
		CU_ASSERT_EQUAL(r.times.partial_used, 0);
		CU_ASSERT_EQUAL(r.times.partial_stale, 1);
		CU_ASSERT_EQUAL(r.ms.matched_bytes, 0);
	} else {
		CU_ASSERT_EQUAL(r.times.partial_used, 1);
		CU_ASSERT_EQUAL(r.times.partial_stale, 0);
		CU_ASSERT(r.ms.matched_bytes >= size / 4);
		CU_ASSERT(r.ms.literal_bytes <= size * 3 / 4);
		CU_ASSERT_EQUAL(r.ms.matched_bytes + r.ms.literal_bytes, size);
		CU_ASSERT_EQUAL(r.times.partial_saved, r.ms.matched_bytes);
	}
	CU_ASSERT_EQUAL(xh_count_entries(part), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);
	list_free(&l);
}

static void
test_abort_partial(void)
{
	partial_case("partial", false);
	partial_case("partial-stale", true);
}

/*
 * Abort in the middle of a transfer: the session finishes without DONE, every temp
 * file (and staged directory) is removed, no fd is left open, and each final path holds
 * the complete file or nothing. A second push then completes the tree (committed files
 * are UPTODATE). With two workers, then with one (new directories staged).
 */
static void
test_abort(void)
{
	struct list l = { 0 };

	for (uint32_t i = 0; i < 400; i++) {
		char path[64];

		snprintf(path, sizeof(path), "a%u/f%u", i % 7, i);
		add_file(&l, path, rnd() % 30000);
	}
	abort_case("abort", &l, 2, 1500);
	list_free(&l);
	make_scan_tree(&l, "top", 12, 20, 5);
	abort_case("abort-staged", &l, 1, 300);
	abort_case("abort-staged-w3", &l, 3, 300);
	list_free(&l);
}

/*
 * xf_pipeline_rx_stats_add() over two RX cores: each word is the sum of the cores'
 * (frames: every frame the senders sent), a second call adds again, and each name is
 * that of the field at its word (what `xferctl stats` prints as volumes[].pipeline_*).
 */
static void
rx_sum_check(const struct xf_pipeline *p, uint64_t frames)
{
	static const struct {
		size_t off;
		const char *name;
	} fields[] = {
#define F(x) { offsetof(struct xf_pipeline_rx_stats, x), #x }
		F(frames),
		F(bad_frames),
		F(no_session),
		F(proto_err),
		F(stalls),
		F(data_dropped),
		F(dry_dropped),
		F(entries_dup),
		F(proto_aborts),
		F(stale_done),
		F(links_refused),
		F(zip_refused),
		F(delete_rules_refused),
		F(delete_protected),
		F(redo_stale),
		F(redo_unasked),
		F(redo_no_room),
		F(names_refused),
		F(xattr_malformed),
		F(xattr_crc),
		F(xattr_name),
		F(xattr_value),
		F(xattr_count),
		F(xattr_total),
		F(entries_given_up),
		F(paths_over),
		F(entries_over),
		F(data_ends),
#undef F
	};
	struct xf_pipeline_rx_stats sum = { 0 };
	const uint64_t *w = (const uint64_t *)&sum;

	xf_pipeline_rx_stats_add(p, &sum);
	CU_ASSERT_EQUAL(sum.frames, frames);
	for (size_t i = 0; i < XF_PIPELINE_RX_STATS_N; i++) {
		CU_ASSERT_EQUAL(w[i], ((const uint64_t *)xf_pipeline_rx_stats(p, 0))[i] +
		                              ((const uint64_t *)xf_pipeline_rx_stats(p, 1))[i]);
	}
	xf_pipeline_rx_stats_add(p, &sum);
	CU_ASSERT_EQUAL(sum.frames, 2 * frames);
	CU_ASSERT_EQUAL_FATAL(XF_ARRAY_SIZE(fields), XF_PIPELINE_RX_STATS_N);
	for (size_t i = 0; i < XF_ARRAY_SIZE(fields); i++) {
		CU_ASSERT_EQUAL(fields[i].off, i * sizeof(uint64_t));
		CU_ASSERT_STRING_EQUAL(xf_pipeline_rx_stats_names[i], fields[i].name);
	}
}

/*
 * Two RX cores, one session each, sharing the workers and the commit worker: both
 * trees complete, each in its own order, through rings from both RX cores. With two
 * workers (fsync batch, files in directories the list does not name); then trees as the
 * scan lists them (scan) with one worker and with two (fsync none: new directories are
 * staged, one session's at a time, while the other's go the usual way).
 */
static void
two_rx_case(const char *tag, unsigned int workers, enum xf_fsync_policy fsync, bool scan)
{
	struct list l[2] = { { 0 }, { 0 } };
	struct xf_memsend *ms[2];
	struct xf_pipeline_conf pc = { .n_rx = 2,
		                       .n_workers = workers,
		                       .rx_core = { 1, 6 },
		                       .worker_core = { 2, 3 },
		                       .io = xf_test_io(),
		                       .window = 48,
		                       .max_sessions = 4,
		                       .fsync = fsync,
		                       .fsync_batch = 5,
		                       .source = { xf_memsend_source, xf_memsend_source },
		                       .release = xf_memsend_release,
		                       .stop_when_done = true };
	struct xf_pipeline_times t;
	struct xf_pipeline *p;
	char tmp[300];
	int root;

	mkpaths(tag);
	for (int k = 0; k < 2; k++) {
		struct xf_memsend_conf mc = { .session = 0x7000u + (uint32_t)k,
			                      .max_payload = XF_PAYLOAD_MTU1500,
			                      .window = 48,
			                      .seed = 11u + (uint64_t)k,
			                      .shuffle = workers > 1,
			                      .dup_permille = 20 };

		if (!scan) {
			for (uint32_t i = 0; i < 600; i++) {
				char path[64];

				snprintf(path, sizeof(path), "s%d/d%u/f%u", k, i % 9, i);
				add_file(&l[k], path, rnd() % 6000);
			}
		} else {
			make_scan_tree(&l[k], k == 0 ? "s0" : "s1", 10, 20, 99);
		}
		mc.files = l[k].f;
		mc.nfiles = l[k].n;
		ms[k] = xf_memsend_create(&mc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ms[k]);
		pc.source_arg[k] = ms[k];
	}
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	pc.root_fd = root;
	p = xf_pipeline_create(&pc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(
		        xf_pipeline_session_open(p, (unsigned int)k, 0, 0, 0x7000u + (uint32_t)k,
		                                 XF_PAYLOAD_MTU1500, 0, xf_memsend_tx, ms[k]));
	}
	CU_ASSERT_EQUAL_FATAL(xf_pipeline_run_threads(p), 0);
	rx_sum_check(p, xf_memsend_stats(ms[0])->frames + xf_memsend_stats(ms[1])->frames);
	for (int k = 0; k < 2; k++) {
		CU_ASSERT_TRUE(xf_memsend_done(ms[k]));
		CU_ASSERT_EQUAL(xf_memsend_stats(ms[k])->done_files, l[k].n);
		for (uint32_t i = 0; i < l[k].n; i++) {
			CU_ASSERT_EQUAL(xf_memsend_status(ms[k], i), 0);
		}
		CU_ASSERT_EQUAL(verify_tree(dst_dir, &l[k], NULL), 0);
		CU_ASSERT_EQUAL(xf_pipeline_rx_stats(p, (unsigned int)k)->frames,
		                xf_memsend_stats(ms[k])->frames);
		xf_memsend_destroy(ms[k]);
		list_free(&l[k]);
	}
	xf_pipeline_times(p, &t);
	CU_ASSERT_EQUAL(t.staged_failed, 0);
	if (scan) {
		printf("\n  %u workers: %llu staged directories, %llu files in them, %llu linked\n",
		       workers, (unsigned long long)t.staged_dirs,
		       (unsigned long long)t.staged_files, (unsigned long long)t.staged_linked);
		CU_ASSERT(t.staged_dirs > 0);
	} else {
		CU_ASSERT_EQUAL(t.staged_dirs, 0);
	}
	xf_pipeline_destroy(p);
	close(root);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
}

static void
test_two_rx_cores(void)
{
	two_rx_case("two-rx", 2, XF_FSYNC_BATCH, false);
	two_rx_case("two-rx-one-worker", 1, XF_FSYNC_NONE, true);
	two_rx_case("two-rx-staged-w2", 2, XF_FSYNC_NONE, true);
}

/* Two RX cores opening sessions in one pipeline at the same moment (a job's lanes, whose
 * HELLOs are answered on two cores at once) each get slots of their own: every slot
 * goes to one session, and each core's sessions are the ones it opened. */
struct open_race {
	struct xf_pipeline *p;
	pthread_barrier_t *start;
	unsigned int rx;
	unsigned int n;
	struct xf_session *got[64];
};

static void
no_tx(void *arg, const void *frame, unsigned int len)
{
	(void)arg;
	(void)frame;
	(void)len;
}

static void *
open_race_core(void *arg)
{
	struct open_race *o = arg;
	struct xf_session *s;

	pthread_barrier_wait(o->start);
	while (o->n < XF_ARRAY_SIZE(o->got) &&
	       (s = xf_pipeline_session_open(o->p, o->rx, 0, 0, 0x100u * (o->rx + 1) + o->n,
	                                     XF_PAYLOAD_MTU1500, 0, no_tx, NULL)) != NULL) {
		o->got[o->n++] = s;
	}
	return NULL;
}

static void
test_open_race(void)
{
	struct xf_pipeline_conf pc = { .n_rx = 2,
		                       .n_workers = 1,
		                       .rx_core = { 1, 6 },
		                       .worker_core = { 2 },
		                       .io = xf_test_io(),
		                       .window = 48,
		                       .max_sessions = 64,
		                       .source = { xf_memsend_source, xf_memsend_source },
		                       .release = xf_memsend_release };
	unsigned int dup = 0, wrong = 0, total_bad = 0;
	int root;

	mkpaths("open-race");
	root = open(dst_dir, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(root >= 0);
	pc.root_fd = root;
	for (int round = 0; round < 100; round++) {
		struct open_race o[2] = { { .rx = 0 }, { .rx = 1 } };
		pthread_barrier_t start;
		pthread_t t[2];
		struct xf_pipeline *p = xf_pipeline_create(&pc);

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		pthread_barrier_init(&start, NULL, 2);
		for (int k = 0; k < 2; k++) {
			o[k].p = p;
			o[k].start = &start;
			CU_ASSERT_EQUAL_FATAL(pthread_create(&t[k], NULL, open_race_core, &o[k]),
			                      0);
		}
		for (int k = 0; k < 2; k++) {
			pthread_join(t[k], NULL);
		}
		pthread_barrier_destroy(&start);
		/* 64 slots in all, whoever won each. */
		total_bad += o[0].n + o[1].n != pc.max_sessions;
		for (unsigned int i = 0; i < o[0].n; i++) {
			for (unsigned int j = 0; j < o[1].n; j++) {
				dup += o[0].got[i] == o[1].got[j];
			}
		}
		for (int k = 0; k < 2; k++) {
			for (unsigned int i = 0; i < o[k].n; i++) {
				wrong += o[k].got[i]->rx != o[k].rx ||
				         o[k].got[i]->id != 0x100u * (o[k].rx + 1) + i;
			}
		}
		xf_pipeline_destroy(p);
	}
	close(root);
	CU_ASSERT_EQUAL(dup, 0);
	CU_ASSERT_EQUAL(wrong, 0);
	CU_ASSERT_EQUAL(total_bad, 0);
}

/* The hand-made temp name is what "%u.%08x.%u" prints, at the edges of each field. */
static void
test_tmpname(void)
{
	static const uint32_t v[] = { 0,           1,           9,           10,
		                      99,          100,         65535,       999999999u,
		                      1000000000u, 0x0000abcdu, 0x80000000u, UINT32_MAX };

	for (size_t i = 0; i < XF_ARRAY_SIZE(v); i++) {
		for (size_t j = 0; j < XF_ARRAY_SIZE(v); j++) {
			char want[XF_TMPNAME_SIZE], got[XF_TMPNAME_SIZE];
			unsigned int sid = (unsigned int)(v[(i + j) % XF_ARRAY_SIZE(v)]);

			snprintf(want, sizeof(want), "%u.%08x.%u", sid, v[i], v[j]);
			memset(got, 0x55, sizeof(got));
			xf_work_tmpname(got, sid, v[i], v[j]);
			CU_ASSERT_STRING_EQUAL(got, want);
		}
	}
}

static const struct xf_test tests[] = {
	{ "temp names", test_tmpname },
	{ "hostile paths", test_hostile_paths },
	{ "failures", test_failures },
	{ "sparse files: holes stay holes, lost data and a long end fail", test_sparse_files },
	{ "rename chain: order and one result per file", test_rename_chain },
	{ "abort", test_abort },
	{ "abort keeps a large file's partial; the next push resumes from it", test_abort_partial },
	{ "two RX cores", test_two_rx_cores },
	{ "sessions opened on two RX cores at once", test_open_race },
	{ "tree end to end", test_tree_end_to_end },
	{ "staged directories", test_staged_dirs },
	{ "staged directories: a name taken, a file failed", test_staged_failures },
	{ "staged directories under fsync file and batch", test_staged_fsync },
	{ "delta", test_delta },
	{ "delta, basis read again for COPY", test_delta_reread },
	{ "delta, COPY by clone or copy_file_range, CRC combined", test_delta_direct },
	{ "delta, verify full reads every file back", test_delta_verify_full },
	{ "delta, basis changed in use", test_delta_basis_changed },
	{ "delta, basis changed in use, kept in memory", test_delta_basis_changed_kept },
	{ "delta, basis changed in use, sent again whole", test_delta_redo },
	{ "delta, sent again whole, fails again", test_delta_redo_fails_again },
	{ "delta, COPY beyond the basis", test_delta_copy_beyond_basis },
	{ "delta, COPY past the announced size", test_delta_copy_past_size },
	{ "delta, temp files sized first: shrank, same, grew", test_delta_presized },
	{ "checksum mode", test_checksum_mode },
	{ "signature cache: hit, ctime catches a changed basis, damaged file", test_sig_cache },
	{ "signature cache: entries made at commit, hit next push, stale by ctime",
	  test_sig_cache_commit },
	{ "modes set at creation or by fchmod, under three umasks", test_modes },
};

int
main(void)
{
	return xf_pt_main("pipeline", base_dir, sizeof(base_dir), XF_TESTS(tests));
}
