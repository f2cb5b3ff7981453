/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The staged directory cases of test_pipeline: new directories written under a staging
 * name and put in place whole, and what happens when a name is taken or a file fails.
 */
#include "xf_pipeline_run.h"

static uint32_t
index_of(const struct list *l, const char *path)
{
	for (uint32_t i = 0; i < l->n; i++) {
		if (strcmp(l->f[i].path, path) == 0) {
			return i;
		}
	}
	CU_FAIL_FATAL("no such entry");
	return 0;
}

/* Every write of a file lands while its final path shows nothing: a file written in a
 * staged directory is never visible before it is verified. */
struct unseen_ctx {
	const struct list *l;
	int dst_fd;
	unsigned int writes, seen;
};

static int32_t
unseen_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct unseen_ctx *uc = arg;
	struct stat sb;

	(void)sid;
	if (op == XF_SOP_WRITE && file < uc->l->n) {
		uc->writes++;
		uc->seen += fstatat(uc->dst_fd, uc->l->f[file].path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	}
	return res;
}

/* One push of the scan tree into dst; what every staged push must show. */
static void
staged_case(const char *dst, const struct list *l, struct run_opts *o, struct run_result *r)
{
	struct unseen_ctx uc = { .l = l };
	char tmp[300];
	uint32_t nreg = 0;

	o->workers = 1;
	o->fault = unseen_on_write;
	o->fault_arg = &uc;
	uc.dst_fd = open(dst, O_RDONLY | O_DIRECTORY);
	run(dst, l, o, r);
	close(uc.dst_fd);
	CU_ASSERT(uc.writes > 0);
	CU_ASSERT_EQUAL(uc.seen, 0);
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(r->status[i], 0);
		CU_ASSERT_EQUAL(r->dec[i], XF_DEC_WHOLE);
		nreg += l->f[i].kind == XF_FILE_REG;
	}
	printf("\n  %u entries, window %u%s: %llu staged directories, %llu files in them, "
	       "%llu unnamed\n",
	       l->n, o->window, o->shuffle ? ", frames shuffled" : "",
	       (unsigned long long)r->times.staged_dirs, (unsigned long long)r->times.staged_files,
	       (unsigned long long)r->times.unnamed_temps);
	/*
	 * Each file is written one way or the other: in place (at most 20 a directory, the
	 * big one's 60 beyond window / 2, one in each "m sub") or unnamed. How many in place
	 * depends on timing: a directory whose files are all verified when nothing is left
	 * to commit goes in place then, and takes no more; and on the order the STATs come.
	 */
	CU_ASSERT(r->times.staged_dirs > 0);
	CU_ASSERT(r->times.staged_files > 0);
	CU_ASSERT(r->times.staged_files <= 11 * 20 + XF_MIN(60u, o->window / 2) + 4);
	CU_ASSERT_EQUAL(r->times.staged_failed, 0);
	CU_ASSERT_EQUAL(r->times.unnamed_temps, nreg - r->times.staged_files);
	CU_ASSERT_EQUAL(r->ms.done_files, l->n);
	CU_ASSERT_EQUAL(verify_tree(dst, l, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
}

void
test_staged_dirs(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64 };
	struct run_result r1, r2, r3;
	char diff[4096], tmp[300], dst2[300];
	int rc;

	mkpaths("staged");
	make_scan_tree(&l, "top", 12, 20, 5);
	materialise(src_dir, &l);
	/* A staged directory left by a crash, with a file in it: removed at start. */
	snprintf(tmp, sizeof(tmp), "%s/.xferd", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp/0.5eed0001.7", dst_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	put_file(tmp, "f000", (const uint8_t *)"partial", 7, 0);
	/* In order, every directory staged (top, its 12, the 4 "m sub"); the big one takes
	 * no more than window / 2 files. */
	staged_case(dst_dir, &l, &o, &r1);
	CU_ASSERT_EQUAL(r1.times.staged_dirs, 1 + 12 + 4);
	rc = rsync_diff(src_dir, dst_dir, diff, sizeof(diff));
	if (rc != 0) {
		printf("  rsync differences:\n%s\n", diff);
	}
	CU_ASSERT_EQUAL(rc, 0);
	/* Small FLIST frames, shuffled and duplicated with everything else: STATs come out of
	 * order, and a directory listed before what an earlier one took is not staged. */
	snprintf(dst2, sizeof(dst2), "%s/dst2", tag_dir);
	CU_ASSERT_FATAL(mkdir(dst2, 0700) == 0);
	o = (struct run_opts){ .window = 512,
		               .shuffle = true,
		               .dup_permille = 30,
		               .max_payload = XF_PAYLOAD_MTU1500 };
	staged_case(dst2, &l, &o, &r2);
	/* Again: everything up to date, nothing staged. */
	o.fault = NULL;
	run(dst2, &l, &o, &r3);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r3.dec[i], XF_DEC_UPTODATE);
	}
	CU_ASSERT_EQUAL(r3.times.staged_dirs, 0);
	result_free(&r1);
	result_free(&r2);
	result_free(&r3);
	list_free(&l);

	/* Files over 1 MiB are not taken (they would all appear only at the end): the
	 * directory is staged, its files are linked as usual. */
	add(&l, "big", XF_FILE_DIR);
	for (uint32_t i = 0; i < 3; i++) {
		char path[32];

		snprintf(path, sizeof(path), "big/b%u", i);
		add_file(&l, path, (2u << 20) + i);
	}
	snprintf(dst2, sizeof(dst2), "%s/dst3", tag_dir);
	CU_ASSERT_FATAL(mkdir(dst2, 0700) == 0);
	o = (struct run_opts){ .window = 64, .workers = 1 };
	run(dst2, &l, &o, &r1);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r1.status[i], 0);
	}
	CU_ASSERT_EQUAL(r1.times.staged_dirs, 1);
	CU_ASSERT_EQUAL(r1.times.staged_files, 0);
	CU_ASSERT_EQUAL(r1.times.unnamed_temps, 3);
	CU_ASSERT_EQUAL(verify_tree(dst2, &l, NULL), 0);
	result_free(&r1);
	list_free(&l);
}

/* Once a file of the staged directory `taken` has been written (so the directory was
 * staged, and is not in place: it goes in place after its files commit), something else
 * takes its name. Keyed to a write of its own file, not to another directory's rename,
 * so it does not depend on when the directory's STAT ran. */
struct taken_ctx {
	uint32_t first, last; /* the indices of the files in `taken` */
	const char *taken;    /* its path */
	unsigned int hits;
};

static int32_t
take_name_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct taken_ctx *tc = arg;

	(void)sid;
	if (op == XF_SOP_WRITE && file >= tc->first && file <= tc->last && res >= 0 &&
	    tc->hits == 0) {
		tc->hits++;
		CU_ASSERT(mkdir(tc->taken, 0755) == 0);
	}
	return res;
}

/*
 * A staged directory whose name is taken before it is put in place (RENAME_NOREPLACE):
 * it and the files written in it fail (CONFLICT) and are removed, what took the name
 * stays as it was, the rest of the tree lands. A file that fails in a staged directory
 * (ENOSPC on its write) is not there when its directory is put in place.
 */
void
test_staged_failures(void)
{
	struct list l = { 0 };
	struct taken_ctx tc = { 0 };
	struct run_opts o = {
		.workers = 1, .window = 64, .fault = take_name_on_write, .fault_arg = &tc
	};
	struct fault_ctx fc = { 0 };
	struct run_result r;
	char taken[400], tmp[300];
	uint8_t *skip;
	uint32_t d03;

	mkpaths("staged-fail");
	make_scan_tree(&l, "top", 6, 20, 99);
	d03 = index_of(&l, "top/d03");
	tc.first = d03 + 1;
	tc.last = d03;
	while (tc.last + 1 < l.n && strncmp(l.f[tc.last + 1].path, "top/d03/", 8) == 0) {
		tc.last++;
	}
	CU_ASSERT_FATAL(tc.last > d03);
	snprintf(taken, sizeof(taken), "%s/top/d03", dst_dir);
	tc.taken = taken;
	run(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(tc.hits, 1);
	skip = calloc(l.n, 1);
	for (uint32_t i = 0; i < l.n; i++) {
		bool in = strncmp(l.f[i].path, "top/d03", 7) == 0;

		CU_ASSERT_EQUAL(r.status[i], in ? XF_ST_CONFLICT : XF_ST_OK);
		skip[i] = in;
	}
	CU_ASSERT_EQUAL(r.status[d03], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(xh_count_entries(taken), 0); /* as it was made */
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	CU_ASSERT_EQUAL(r.times.staged_failed, 1);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);

	/* Again into a fresh destination: one file of top/d01 fails its write. */
	snprintf(tmp, sizeof(tmp), "%s/again", tag_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	fc.file = index_of(&l, "top/d01/f005");
	o = (struct run_opts){
		.workers = 1, .window = 64, .fault = enospc_on_write, .fault_arg = &fc
	};
	run(tmp, &l, &o, &r);
	CU_ASSERT(fc.hits > 0);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r.status[i], i == fc.file ? XF_ST_NOSPACE : XF_ST_OK);
		skip[i] = i == fc.file;
	}
	CU_ASSERT_EQUAL(verify_tree(tmp, &l, skip), 0);
	snprintf(taken, sizeof(taken), "%s/top/d01/f005", tmp);
	CU_ASSERT_EQUAL(access(taken, F_OK), -1);
	CU_ASSERT_EQUAL(r.times.staged_failed, 0);
	CU_ASSERT(r.times.staged_files > 0);
	free(skip);
	result_free(&r);
	list_free(&l);
}
