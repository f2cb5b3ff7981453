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
	/* Atomics: with several workers, each calls this from its own thread. */
	if (op == XF_SOP_WRITE && file < uc->l->n) {
		__atomic_fetch_add(&uc->writes, 1, __ATOMIC_RELAXED);
		if (fstatat(uc->dst_fd, uc->l->f[file].path, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			__atomic_fetch_add(&uc->seen, 1, __ATOMIC_RELAXED);
		}
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

	if (o->workers == 0) {
		o->workers = 1;
	}
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
	printf("\n  %u entries, %u workers, window %u%s: %llu staged directories, %llu files "
	       "in them, %llu linked into them, %llu unnamed\n",
	       l->n, o->workers, o->window, o->shuffle ? ", frames shuffled" : "",
	       (unsigned long long)r->times.staged_dirs, (unsigned long long)r->times.staged_files,
	       (unsigned long long)r->times.staged_linked,
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
	/* Linked ones are among the unnamed, and only come from other workers, or from a
	 * file a directory did not take. */
	CU_ASSERT(r->times.staged_linked <= r->times.unnamed_temps);
	CU_ASSERT_EQUAL(r->ms.done_files, l->n);
	CU_ASSERT_EQUAL(verify_tree(dst, l, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
}

static void
staged_dirs_case(const char *tag, unsigned int workers)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64, .workers = workers };
	struct run_result r1, r2, r3;
	char diff[4096], tmp[300], dst2[300];
	int rc;

	mkpaths(tag);
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
	if (workers > 1) {
		/* Files of other workers went into staged directories too. */
		CU_ASSERT(r1.times.staged_linked > 0);
	}
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
		               .workers = workers,
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
	o = (struct run_opts){ .window = 64, .workers = workers };
	run(dst2, &l, &o, &r1);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r1.status[i], 0);
	}
	CU_ASSERT_EQUAL(r1.times.staged_dirs, 1);
	CU_ASSERT_EQUAL(r1.times.staged_files, 0);
	CU_ASSERT_EQUAL(r1.times.staged_linked, 0);
	CU_ASSERT_EQUAL(r1.times.unnamed_temps, 3);
	CU_ASSERT_EQUAL(verify_tree(dst2, &l, NULL), 0);
	result_free(&r1);
	list_free(&l);
}

/*
 * A run broken by a file of another directory (not a scan's order): m, m/f00, m/f01,
 * o/x, m/f02 ... m/f23, with two workers. o/x's commit puts m in place, so the commit
 * worker must not take m/f02 or any later file of m in place (they are not in the run
 * any more): each is written while its final path shows nothing, and linked later.
 */
static void
staged_broken_run(void)
{
	struct list l = { 0 };
	struct run_opts o = { .window = 64, .workers = 2, .max_payload = XF_PAYLOAD_MTU1500 };
	struct run_result r;
	char path[32];

	mkpaths("staged-broken-run");
	add(&l, "m", XF_FILE_DIR);
	for (uint32_t i = 0; i < 24; i++) {
		if (i == 2) {
			add_file(&l, "o/x", 100);
		}
		snprintf(path, sizeof(path), "m/f%02u", i);
		add_file(&l, path, 200000 + i);
	}
	staged_case(dst_dir, &l, &o, &r);
	CU_ASSERT_EQUAL(r.times.staged_dirs, 1);
	/* m/f01 at most (index 2: the commit worker's, in the run). */
	CU_ASSERT(r.times.staged_files <= 1);
	result_free(&r);
	list_free(&l);
}

/* With one worker, then two and three: with several, the commit worker makes every
 * staged directory and writes some of its files, the others' are linked into it; and a
 * run broken by another directory's file. */
void
test_staged_dirs(void)
{
	staged_dirs_case("staged", 1);
	staged_dirs_case("staged-w2", 2);
	staged_dirs_case("staged-w3", 3);
	staged_broken_run();
}

/* Every entry of a push into dst landed but file bad, which failed with status and is not
 * there (nor at its path rel beneath dst). */
static void
expect_one_failed(const char *dst, const struct list *l, const struct run_result *r, uint32_t bad,
                  uint8_t status, const char *rel)
{
	uint8_t *skip = calloc(l->n, 1);
	char path[400];

	CU_ASSERT_FATAL(skip != NULL);
	for (uint32_t i = 0; i < l->n; i++) {
		CU_ASSERT_EQUAL(r->status[i], i == bad ? status : XF_ST_OK);
		skip[i] = i == bad;
	}
	CU_ASSERT_EQUAL(verify_tree(dst, l, skip), 0);
	snprintf(path, sizeof(path), "%s/%s", dst, rel);
	CU_ASSERT_EQUAL(access(path, F_OK), -1);
	free(skip);
}

/* Once a file of the staged directory `taken` has been written (so the directory was
 * staged, and is not in place: it goes in place after its files commit), something else
 * takes its name. Keyed to a write of its own file, not to another directory's rename,
 * so it does not depend on when the directory's STAT ran; with several workers, to a
 * file of the commit worker's (index % workers == 0), whose STAT came after the
 * directory's on the same ring: another worker may write its file before that. */
struct taken_ctx {
	uint32_t first, last; /* the indices of the files in `taken` */
	uint32_t workers;
	const char *taken; /* its path */
	unsigned int hits;
};

static int32_t
take_name_on_write(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct taken_ctx *tc = arg;

	(void)sid;
	/* Once, whichever worker's thread comes first. */
	if (op == XF_SOP_WRITE && file >= tc->first && file <= tc->last &&
	    file % tc->workers == 0 && res >= 0 &&
	    __atomic_exchange_n(&tc->hits, 1, __ATOMIC_SEQ_CST) == 0) {
		CU_ASSERT(mkdir(tc->taken, 0755) == 0);
	}
	return res;
}

/*
 * A staged directory whose name is taken before it is put in place (RENAME_NOREPLACE):
 * it and the files written in it fail (CONFLICT) and are removed, what took the name
 * stays as it was, the rest of the tree lands. A file that fails in a staged directory
 * (ENOSPC on its write) is not there when its directory is put in place. With several
 * workers, the failed file is another worker's (one linked into the directory), and a
 * file of the taken directory committed after the failed placement (the directory went
 * in place when nothing was left to commit) lands in what took the name, complete, as
 * any file whose parent exists.
 */
static void
staged_failures_case(const char *tag, unsigned int workers)
{
	struct list l = { 0 };
	struct taken_ctx tc = { 0 };
	struct run_opts o = {
		.workers = workers, .window = 64, .fault = take_name_on_write, .fault_arg = &tc
	};
	struct fault_ctx fc = { 0 };
	struct run_result r;
	char taken[400], tmp[300];
	uint8_t *skip;
	uint32_t d03, conflicts = 0, landed = 0;

	mkpaths(tag);
	make_scan_tree(&l, "top", 6, 20, 99);
	d03 = index_of(&l, "top/d03");
	tc.workers = workers;
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

		if (in && workers > 1 && i != d03 && r.status[i] == XF_ST_OK) {
			landed++; /* after the placement: in what took the name (verified below) */
			continue;
		}
		CU_ASSERT_EQUAL(r.status[i], in ? XF_ST_CONFLICT : XF_ST_OK);
		conflicts += in;
		skip[i] = in;
	}
	printf("\n  %u workers: %u of top/d03 failed with it, %u landed after it\n", workers,
	       conflicts, landed);
	CU_ASSERT(conflicts > 1);
	CU_ASSERT_EQUAL(r.status[d03], XF_ST_CONFLICT);
	CU_ASSERT_EQUAL(xh_count_entries(taken), (int)landed); /* as it was made, and those */
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	CU_ASSERT_EQUAL(r.times.staged_failed, 1);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);

	/* Again into a fresh destination: one file of top/d01 fails its write. */
	snprintf(tmp, sizeof(tmp), "%s/again", tag_dir);
	CU_ASSERT_FATAL(mkdir(tmp, 0700) == 0);
	fc.file = index_of(&l, "top/d01/f005");
	if (workers > 1 && fc.file % workers == 0) {
		fc.file++; /* another worker's: f006 */
	}
	o = (struct run_opts){
		.workers = workers, .window = 64, .fault = enospc_on_write, .fault_arg = &fc
	};
	run(tmp, &l, &o, &r);
	CU_ASSERT(fc.hits > 0);
	expect_one_failed(tmp, &l, &r, fc.file, XF_ST_NOSPACE, l.f[fc.file].path);
	CU_ASSERT_EQUAL(r.times.staged_failed, 0);
	CU_ASSERT(r.times.staged_files > 0);
	free(skip);
	result_free(&r);
	list_free(&l);
}

/* When the file before it is created in its staged directory, something else takes the
 * name of `file` there (a list naming it twice would do the same). */
struct intrude_ctx {
	uint32_t before, file;
	const char *tmp;  /* the staging directory */
	const char *name; /* the last component of file's path */
	const char *before_name;
	unsigned int made;
};

static int32_t
intrude_on_open(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct intrude_ctx *ic = arg;
	char path[400];
	struct dirent *e;
	DIR *d;

	(void)sid;
	if (op != XF_SOP_OPEN || file != ic->before || res < 0 || ic->made != 0) {
		return res;
	}
	d = opendir(ic->tmp);
	CU_ASSERT_FATAL(d != NULL);
	while ((e = readdir(d)) != NULL) {
		int fd;

		if (e->d_name[0] == '.') {
			continue;
		}
		/* Its directory: the one the file before it was just created in. */
		snprintf(path, sizeof(path), "%s/%s/%s", ic->tmp, e->d_name, ic->before_name);
		if (access(path, F_OK) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s/%s", ic->tmp, e->d_name, ic->name);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0) {
			CU_ASSERT(write(fd, "intruder", 8) == 8);
			close(fd);
			ic->made++;
			break;
		}
	}
	closedir(d);
	return res;
}

/*
 * A name in a staged directory taken before its file is created there: the file fails
 * (CONFLICT), what took the name is left as it was (it goes in place with the directory),
 * the rest lands. A file created at its first data (the inline back end) finds the name
 * taken at its create; one created at its decision (io_uring) was there first.
 */
static void
staged_intruder_case(const char *tag)
{
	struct list l = { 0 };
	struct intrude_ctx ic = { 0 };
	struct run_opts o = {
		.workers = 1, .window = 64, .fault = intrude_on_open, .fault_arg = &ic
	};
	struct run_result r;
	char tmp[300], path[400], got[16] = { 0 };
	uint8_t *skip;
	int fd;

	mkpaths(tag);
	make_scan_tree(&l, "top", 6, 20, 99);
	ic.before = index_of(&l, "top/d02/f004");
	ic.file = index_of(&l, "top/d02/f005");
	CU_ASSERT_FATAL(ic.file == ic.before + 1);
	ic.name = "f005";
	ic.before_name = "f004";
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	ic.tmp = tmp;
	run(dst_dir, &l, &o, &r);
	skip = calloc(l.n, 1);
	CU_ASSERT_FATAL(skip != NULL);
	skip[ic.file] = ic.made != 0;
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r.status[i], skip[i] ? XF_ST_CONFLICT : XF_ST_OK);
	}
	printf("\n  %s: name taken %u, lazy creates %llu\n", tag, ic.made,
	       (unsigned long long)r.times.lazy_creates);
	if (xf_test_io() == XF_STORAGE_IO_INLINE) {
		CU_ASSERT_EQUAL(ic.made, 1u);
		CU_ASSERT(r.times.lazy_creates > 0);
	}
	if (ic.made != 0) {
		snprintf(path, sizeof(path), "%s/top/d02/f005", dst_dir);
		fd = open(path, O_RDONLY);
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT_EQUAL(read(fd, got, sizeof(got)), 8);
		CU_ASSERT_EQUAL(memcmp(got, "intruder", 8), 0);
		close(fd);
	}
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, skip), 0);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	free(skip);
	result_free(&r);
	list_free(&l);
}

void
test_staged_failures(void)
{
	staged_failures_case("staged-fail", 1);
	staged_failures_case("staged-fail-w2", 2);
	staged_failures_case("staged-fail-w3", 3);
	staged_intruder_case("staged-intruder");
}

/* Every storage operation's completion, in order, as the fault hook sees it; one file's
 * fsync may be made to fail. */
struct oplog {
	uint32_t n, cap; /* cap entries allocated up front: workers' threads append at once */
	uint32_t *file;
	uint8_t *op;
	uint32_t fail_fsync; /* a file index whose fsync fails with EIO, or UINT32_MAX */
	unsigned int failed;
};

static int32_t
oplog_hook(void *arg, unsigned int sid, uint32_t file, enum xf_storage_op op, int32_t res)
{
	struct oplog *ol = arg;

	uint32_t k;

	(void)sid;
	/* Only the first fsync logged under the file's index fails: that is the file's own.
	 * A directory's fsync at the end of a batch may be logged under the index of the file
	 * that closed the batch (which file does depends on the workers' timing); failing it
	 * too would fail more than the one file this case is about. */
	if (op == XF_SOP_FSYNC && file == ol->fail_fsync && res >= 0) {
		unsigned int none = 0;

		if (__atomic_compare_exchange_n(&ol->failed, &none, 1, false, __ATOMIC_RELAXED,
		                                __ATOMIC_RELAXED)) {
			res = -EIO;
		}
	}
	/* The commit worker's operations (fsyncs, renames, links) are in its own order. */
	k = __atomic_fetch_add(&ol->n, 1, __ATOMIC_RELAXED);
	if (k < ol->cap) {
		ol->file[k] = file;
		ol->op[k] = (uint8_t)op;
	}
	return res;
}

/* Position of the first (or last) completion of op for file at or after from, or -1. */
static long
oplog_find(const struct oplog *ol, uint32_t file, enum xf_storage_op op, uint32_t from, bool last)
{
	long at = -1;

	for (uint32_t k = from; k < ol->n; k++) {
		if (ol->file[k] == file && ol->op[k] == op) {
			at = k;
			if (!last) {
				break;
			}
		}
	}
	return at;
}

/*
 * fsync file and batch: directories are staged as under none, and durably. For each
 * directory put in place (its rename): before it, its own fsync (the names in it) and the
 * fsync of every file written in it; after it, its new parent's fsync. Every regular file
 * is fsynced. A file whose fsync fails is not there, the rest lands.
 */
static void
staged_fsync_case(const char *tag, enum xf_fsync_policy fsync, unsigned int batch,
                  unsigned int workers)
{
	struct list l = { 0 };
	struct oplog ol = { .cap = 1u << 20, .fail_fsync = UINT32_MAX };
	struct run_opts o = { .workers = workers,
		              .window = 64,
		              .fsync = fsync,
		              .batch = batch,
		              .fault = oplog_hook,
		              .fault_arg = &ol };
	struct run_result r;
	char dst[300], tmp[340];
	unsigned int placed = 0, inplace = 0, linked = 0;

	ol.file = malloc(ol.cap * sizeof(*ol.file));
	ol.op = malloc(ol.cap);
	CU_ASSERT_FATAL(ol.file != NULL && ol.op != NULL);
	mkpaths(tag);
	make_scan_tree(&l, "top", 8, 12, 99);
	materialise(src_dir, &l);
	run(dst_dir, &l, &o, &r);
	for (uint32_t i = 0; i < l.n; i++) {
		CU_ASSERT_EQUAL(r.status[i], XF_ST_OK);
		if (l.f[i].kind == XF_FILE_REG) {
			CU_ASSERT(oplog_find(&ol, i, XF_SOP_FSYNC, 0, false) >= 0);
		}
		if (l.f[i].kind != XF_FILE_DIR) {
			continue;
		}
		long ren = oplog_find(&ol, i, XF_SOP_RENAME, 0, false);
		size_t plen = strlen(l.f[i].path);

		if (ren < 0) {
			continue; /* not staged: made by mkdir */
		}
		placed++;
		/* Its own fsync before the rename, the parent's after it. */
		CU_ASSERT(oplog_find(&ol, i, XF_SOP_FSYNC, 0, false) < ren);
		CU_ASSERT(oplog_find(&ol, i, XF_SOP_FSYNC, (uint32_t)ren, false) > ren);
		for (uint32_t j = i + 1; j < l.n; j++) {
			const char *p = l.f[j].path;

			if (strncmp(p, l.f[i].path, plen) != 0 || p[plen] != '/' ||
			    strchr(p + plen + 1, '/') != NULL || l.f[j].kind != XF_FILE_REG) {
				continue;
			}
			long lk = oplog_find(&ol, j, XF_SOP_LINK, 0, false);

			if (lk >= 0 && lk < ren) {
				/* Linked into it before its rename: fsynced before that (its
				 * first fsync; a directory's at the end of its batch may be
				 * logged under its index too). */
				long fs = oplog_find(&ol, j, XF_SOP_FSYNC, 0, false);

				linked++;
				CU_ASSERT(fs >= 0 && fs < lk);
				continue;
			}
			if (oplog_find(&ol, j, XF_SOP_RENAME, 0, false) >= 0 || lk >= 0) {
				continue; /* not in place: linked or renamed on its own */
			}
			inplace++;
			CU_ASSERT(oplog_find(&ol, j, XF_SOP_FSYNC, 0, true) < ren);
		}
	}
	printf("\n  %s: %llu staged directories (%u renames seen), %llu files in them (%u), "
	       "%llu linked into them (%u)\n",
	       tag, (unsigned long long)r.times.staged_dirs, placed,
	       (unsigned long long)r.times.staged_files, inplace,
	       (unsigned long long)r.times.staged_linked, linked);
	CU_ASSERT_FATAL(ol.n <= ol.cap);
	CU_ASSERT(r.times.staged_dirs > 0);
	CU_ASSERT_EQUAL(placed, r.times.staged_dirs);
	CU_ASSERT_EQUAL(inplace, r.times.staged_files);
	CU_ASSERT_EQUAL(linked, r.times.staged_linked);
	if (workers > 1) {
		CU_ASSERT(linked > 0);
	}
	CU_ASSERT(r.times.staged_files > 0);
	CU_ASSERT_EQUAL(r.times.staged_failed, 0);
	CU_ASSERT_EQUAL(verify_tree(dst_dir, &l, NULL), 0);
	snprintf(tmp, sizeof(tmp), "%s/.xferd/tmp", dst_dir);
	CU_ASSERT_EQUAL(xh_count_entries(tmp), 0);
	result_free(&r);

	/* Again into a fresh destination: the fsync of a file in top/d02 fails. */
	ol.n = 0;
	ol.fail_fsync = index_of(&l, "top/d02/f003");
	snprintf(dst, sizeof(dst), "%s/again", tag_dir);
	CU_ASSERT_FATAL(mkdir(dst, 0700) == 0);
	run(dst, &l, &o, &r);
	CU_ASSERT_EQUAL(ol.failed, 1);
	expect_one_failed(dst, &l, &r, ol.fail_fsync, XF_ST_IO, "top/d02/f003");
	CU_ASSERT(r.times.staged_files > 0);
	free(ol.file);
	free(ol.op);
	result_free(&r);
	list_free(&l);
}

void
test_staged_fsync(void)
{
	staged_fsync_case("staged-fsync-file", XF_FSYNC_FILE, 0, 1);
	staged_fsync_case("staged-fsync-batch", XF_FSYNC_BATCH, 8, 1);
	staged_fsync_case("staged-fsync-file-w2", XF_FSYNC_FILE, 0, 2);
	staged_fsync_case("staged-fsync-batch-w3", XF_FSYNC_BATCH, 8, 3);
}
