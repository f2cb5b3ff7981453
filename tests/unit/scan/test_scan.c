/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_scan on a temporary tree: nested and empty directories, an empty file, symlinks
 * to a file, to nothing and to a directory (listed, not followed), a fifo and a
 * socket (skipped and counted), entries named like the staging directory (skipped and
 * counted), names with spaces, UTF-8 and a leading dash, and a
 * chain of long names that crosses XF_PATH_MAX. The exact order is the spec; every
 * field is compared with fstatat/readlinkat results taken by the test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_base.h"
#include "xf_scan.h"

#define LONG_LEVELS 17u /* "long" + 17 names of 250 bytes: the 17th is over XF_PATH_MAX */
#define LONG_NAME   250u

static char root[64];
static int root_fd = -1;

/* Expected entries, in order. */
struct want {
	char path[XF_PATH_MAX + 1];
	uint8_t kind;
};

static struct want *wants;
static size_t n_wants;

static void
expect(const char *path, uint8_t kind)
{
	int n = snprintf(wants[n_wants].path, sizeof(wants[n_wants].path), "%s", path);

	if (n < 0 || (size_t)n >= sizeof(wants[n_wants].path)) {
		fprintf(stderr, "test_scan: expected path too long: %s\n", path);
		exit(1);
	}
	wants[n_wants].kind = kind;
	n_wants++;
}

static int
write_file(int dfd, const char *name, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char buf[1000];
	int rc = 0;

	if (fd < 0) {
		return -1;
	}
	memset(buf, 'x', sizeof(buf));
	if (len > sizeof(buf) || write(fd, buf, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
		rc = -1;
	}
	close(fd);
	return rc;
}

static int
set_mtime(int dfd, const char *name, time_t sec, long nsec)
{
	struct timespec ts[2] = { { sec, nsec }, { sec, nsec } };

	return utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

static int
make_socket(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	int rc;

	if (fd < 0) {
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return rc;
}

/* "long/ddd.../ddd..." with LONG_LEVELS levels; the deepest level that fits holds "f",
 * a name that makes the path exactly XF_PATH_MAX bytes and one a byte longer. */
static int
make_long_chain(void)
{
	char name[LONG_NAME + 1], path[XF_PATH_MAX + 1];
	int fd, nfd;
	size_t plen;

	memset(name, 'd', LONG_NAME);
	name[LONG_NAME] = '\0';
	if (mkdirat(root_fd, "long", 0755) != 0) {
		return -1;
	}
	expect("long", XF_FILE_DIR);
	fd = openat(root_fd, "long", O_RDONLY | O_DIRECTORY);
	strcpy(path, "long");
	plen = strlen(path);
	for (unsigned int k = 1; k <= LONG_LEVELS && fd >= 0; k++) {
		if (mkdirat(fd, name, 0755) != 0) {
			close(fd);
			return -1;
		}
		if (plen + 1 + LONG_NAME <= XF_PATH_MAX) {
			snprintf(path + plen, sizeof(path) - plen, "/%s", name);
			plen += 1 + LONG_NAME;
			expect(path, XF_FILE_DIR);
		} else {
			break; /* this level is over the limit: the scan skips it */
		}
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = nfd;
	}
	if (fd < 0) {
		return -1;
	}
	/* fd is the deepest listed directory, path its relative path. */
	{
		char exact[XF_NAME_MAX + 1], over[XF_NAME_MAX + 1];
		size_t ne = XF_PATH_MAX - plen - 1;
		char p2[XF_PATH_MAX + XF_NAME_MAX + 3];

		memset(exact, 'x', ne);
		exact[ne] = '\0';
		memset(over, 'y', ne + 1);
		over[ne + 1] = '\0';
		if (write_file(fd, "f", 1, 0644) != 0 || write_file(fd, exact, 2, 0600) != 0 ||
		    write_file(fd, over, 3, 0600) != 0) {
			close(fd);
			return -1;
		}
		/* Sorted: "ddd..." (skipped, too long), "f", "xxx...", "yyy..." (skipped). */
		snprintf(p2, sizeof(p2), "%s/f", path);
		expect(p2, XF_FILE_REG);
		snprintf(p2, sizeof(p2), "%s/%s", path, exact);
		if (strlen(p2) != XF_PATH_MAX) {
			close(fd);
			return -1; /* the boundary case would not be tested */
		}
		expect(p2, XF_FILE_REG);
	}
	close(fd);
	return 0;
}

static int
suite_init(void)
{
	int rc = 0;

	strcpy(root, "/tmp/xf_scan_XXXXXX");
	if (mkdtemp(root) == NULL) {
		return -1;
	}
	root_fd = open(root, O_RDONLY | O_DIRECTORY);
	wants = calloc(64, sizeof(*wants));
	if (root_fd < 0 || wants == NULL) {
		return -1;
	}
	/* In the order the scan must list them: in each directory its regular files, then
	 * its symlinks (and what is skipped), then its subdirectories, each with everything
	 * below it; bytewise within each group. */
	rc |= write_file(root_fd, "-dash file", 5, 0640);
	expect("-dash file", XF_FILE_REG);
	rc |= write_file(root_fd, "empty_file", 0, 0644);
	expect("empty_file", XF_FILE_REG);
	rc |= write_file(root_fd,
	                 "\xc3\xbcn\xc3\xaf"
	                 "c\xc3\xb8"
	                 "d\xc3\xa9.txt",
	                 3, 0600);
	expect("\xc3\xbcn\xc3\xaf"
	       "c\xc3\xb8"
	       "d\xc3\xa9.txt",
	       XF_FILE_REG);
	rc |= symlinkat("does/not/exist", root_fd, "dangling");
	expect("dangling", XF_FILE_SYMLINK);
	rc |= mkfifoat(root_fd, "fifo", 0644); /* skipped */
	rc |= symlinkat("a b", root_fd, "link_to_dir");
	expect("link_to_dir", XF_FILE_SYMLINK);
	rc |= symlinkat("-dash file", root_fd, "link_to_file");
	expect("link_to_file", XF_FILE_SYMLINK);
	rc |= make_socket(root, "sock"); /* skipped */
	rc |= mkdirat(root_fd, "a b", 0750);
	expect("a b", XF_FILE_DIR);
	rc |= mkdirat(root_fd, "a b/nested", 0700);
	expect("a b/nested", XF_FILE_DIR);
	rc |= write_file(root_fd, "a b/nested/deep.txt", 1000, 04711);
	expect("a b/nested/deep.txt", XF_FILE_REG);
	/* a file whose name sorts after the subdirectory's is still listed before it */
	rc |= write_file(root_fd, "a b/nested/zz-file", 1, 0644);
	expect("a b/nested/zz-file", XF_FILE_REG);
	rc |= mkdirat(root_fd, "a b/nested/sub", 0755);
	expect("a b/nested/sub", XF_FILE_DIR);
	rc |= mkdirat(root_fd, "empty_dir", 0755);
	rc |= fchmodat(root_fd, "empty_dir", 01777, 0);
	expect("empty_dir", XF_FILE_DIR);
	rc |= make_long_chain();
	rc |= mkdirat(root_fd, "z", 0755);
	expect("z", XF_FILE_DIR);
	rc |= write_file(root_fd, "z/zz", 0, 0444);
	expect("z/zz", XF_FILE_REG);
	/* A volume's staging directory (temp files, signature cache) and anything named
	 * like it, in any case, at any depth: never listed. */
	rc |= mkdirat(root_fd, ".xferd", 0700);
	rc |= write_file(root_fd, ".xferd/sigcache.0", 10, 0600);
	rc |= write_file(root_fd, "z/.XFerD", 1, 0644);
	/* Nanosecond mtimes, set after the contents so nothing changes them again. */
	rc |= set_mtime(root_fd, "-dash file", 1700000000, 123456789);
	rc |= set_mtime(root_fd, "dangling", 1600000000, 1);
	rc |= set_mtime(root_fd, "a b/nested", 1500000000, 999999999);
	return rc != 0 ? -1 : 0;
}

/* Remove name in dfd and everything below it; no symlink is followed. */
static void
rm_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	struct dirent *de;
	DIR *d;

	if (fd < 0) {
		unlinkat(dfd, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (de->d_type == DT_DIR) {
			rm_tree(dirfd(d), de->d_name);
		} else {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static int
suite_clean(void)
{
	rm_tree(AT_FDCWD, root);
	if (root_fd >= 0) {
		close(root_fd);
	}
	free(wants);
	return 0;
}

static void
test_tree(void)
{
	struct xf_scan_stats st;
	struct xf_scan *s = xf_scan_tree(root, NULL, NULL, 0, &st);
	uint64_t files = 0, dirs = 0, links = 0, bytes = 0;
	size_t n;

	CU_ASSERT_FATAL(s != NULL);
	n = xf_scan_count(s);
	CU_ASSERT_EQUAL(n, n_wants);
	for (size_t i = 0; i < n && i < n_wants; i++) {
		struct xf_flist_entry e;
		char path[XF_PATH_MAX + 1], target[XF_PATH_MAX + 1];
		struct stat sb;
		ssize_t tl;

		xf_scan_get(s, i, &e);
		CU_ASSERT_EQUAL(e.path_len, strlen(wants[i].path));
		CU_ASSERT(e.path_len == strlen(wants[i].path) &&
		          memcmp(e.path, wants[i].path, e.path_len) == 0);
		CU_ASSERT_EQUAL(e.kind, wants[i].kind);
		memcpy(path, e.path, e.path_len);
		path[e.path_len] = '\0';
		CU_ASSERT_FATAL(fstatat(root_fd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0);
		CU_ASSERT_EQUAL(e.mode, sb.st_mode & 07777);
		CU_ASSERT_EQUAL(e.mtime_ns,
		                (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec);
		switch (e.kind) {
		case XF_FILE_REG:
			files++;
			bytes += (uint64_t)sb.st_size;
			CU_ASSERT(S_ISREG(sb.st_mode));
			CU_ASSERT_EQUAL(e.size, (uint64_t)sb.st_size);
			CU_ASSERT_PTR_NULL(e.target);
			CU_ASSERT_EQUAL(e.target_len, 0);
			break;
		case XF_FILE_DIR:
			dirs++;
			CU_ASSERT(S_ISDIR(sb.st_mode));
			CU_ASSERT_EQUAL(e.size, 0);
			CU_ASSERT_PTR_NULL(e.target);
			break;
		case XF_FILE_SYMLINK:
			links++;
			CU_ASSERT(S_ISLNK(sb.st_mode));
			tl = readlinkat(root_fd, path, target, sizeof(target));
			CU_ASSERT_FATAL(tl > 0);
			CU_ASSERT_EQUAL(e.target_len, (uint16_t)tl);
			CU_ASSERT_EQUAL(e.size, (uint64_t)tl);
			CU_ASSERT(e.target != NULL && memcmp(e.target, target, (size_t)tl) == 0);
			break;
		default:
			CU_FAIL("unknown kind");
		}
	}
	/* The symlink to a directory was not followed. */
	for (size_t i = 0; i < n; i++) {
		struct xf_flist_entry e;

		xf_scan_get(s, i, &e);
		CU_ASSERT(e.path_len < 12 || memcmp(e.path, "link_to_dir/", 12) != 0);
	}
	CU_ASSERT_EQUAL(st.files, files);
	CU_ASSERT_EQUAL(st.dirs, dirs);
	CU_ASSERT_EQUAL(st.symlinks, links);
	CU_ASSERT_EQUAL(st.bytes, bytes);
	CU_ASSERT_EQUAL(st.skipped_special, 2); /* fifo, socket */
	CU_ASSERT_EQUAL(st.skipped_staging, 2); /* .xferd, z/.XFerD */
	CU_ASSERT_EQUAL(st.skipped_long, 2);    /* the 17th level, the 1-byte-too-long name */
	CU_ASSERT_EQUAL(st.errors, 0);
#ifdef XF_SCAN_SMALL_CHUNKS
	CU_ASSERT(s->nrec_chunks > 1 && s->narenas > 1); /* the tree crossed chunks */
#endif
	xf_scan_free(s);
}

/* With a prefix every path is "prefix/relative", each path and target NUL-terminated (a
 * worker opens the path as a C string), and the length limit counts the prefix. */
static void
test_prefix(void)
{
	struct xf_scan_stats st, plain_st;
	struct xf_scan *plain = xf_scan_tree(root, NULL, NULL, 0, &plain_st);
	struct xf_scan *s = xf_scan_tree(root, "dest/sub", NULL, 0, &st);
	char longp[XF_PATH_MAX + 1];

	CU_ASSERT_FATAL(plain != NULL && s != NULL);
	/* The prefix (9 bytes with its '/') pushes the two deepest entries over the limit. */
	CU_ASSERT(xf_scan_count(s) < xf_scan_count(plain));
	CU_ASSERT(st.skipped_long > plain_st.skipped_long);
	for (size_t i = 0, k = 0; i < xf_scan_count(s); i++, k++) {
		struct xf_flist_entry e, pe;

		xf_scan_get(s, i, &e);
		xf_scan_get(plain, k, &pe);
		while (pe.path_len + 9u > XF_PATH_MAX) { /* skipped with the prefix */
			xf_scan_get(plain, ++k, &pe);
		}
		CU_ASSERT_EQUAL_FATAL(e.path_len, pe.path_len + 9);
		CU_ASSERT(memcmp(e.path, "dest/sub/", 9) == 0);
		CU_ASSERT(memcmp(e.path + 9, pe.path, pe.path_len) == 0);
		CU_ASSERT_EQUAL(e.path[e.path_len], '\0');
		CU_ASSERT_EQUAL(e.kind, pe.kind);
		if (e.kind == XF_FILE_SYMLINK) {
			CU_ASSERT(e.target_len == pe.target_len &&
			          memcmp(e.target, pe.target, e.target_len) == 0);
			CU_ASSERT_EQUAL(e.target[e.target_len], '\0');
		}
	}
	xf_scan_free(s);
	xf_scan_free(plain);
	/* A prefix that alone reaches the limit leaves no room for any entry. */
	memset(longp, 'p', XF_PATH_MAX);
	longp[XF_PATH_MAX] = '\0';
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_scan_tree(root, longp, NULL, 0, &st));
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
}

static void
test_nanoseconds(void)
{
	struct xf_scan *s = xf_scan_tree(root, NULL, NULL, 0, NULL);
	struct xf_flist_entry e;

	CU_ASSERT_FATAL(s != NULL && xf_scan_count(s) > 0);
	xf_scan_get(s, 0, &e); /* "-dash file" */
	CU_ASSERT_EQUAL(e.mtime_ns, 1700000000LL * 1000000000 + 123456789);
	xf_scan_free(s);
}

/*
 * The walk leaves the access times of the directories it lists alone (O_NOATIME) where it
 * may (the owner, or CAP_FOWNER): with an access time before the modification, relatime
 * would update it on the read.
 */
static void
test_noatime(void)
{
	struct timespec ts[2] = { { .tv_sec = 1000 }, { .tv_nsec = UTIME_OMIT } };
	char sub[128];
	struct stat sb;
	struct xf_scan *s;

	snprintf(sub, sizeof(sub), "%s/atime-dir", root);
	CU_ASSERT_FATAL(mkdir(sub, 0755) == 0);
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, sub, ts, 0) == 0);
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, root, ts, 0) == 0);
	s = xf_scan_tree(root, NULL, NULL, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(s);
	xf_scan_free(s);
	CU_ASSERT_EQUAL(stat(sub, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_atim.tv_sec, 1000);
	CU_ASSERT_EQUAL(stat(root, &sb), 0);
	CU_ASSERT_EQUAL(sb.st_atim.tv_sec, 1000);
	CU_ASSERT_EQUAL(rmdir(sub), 0);
}

static void
test_errors(void)
{
	char path[128];
	struct xf_scan *s;
	struct xf_scan_stats st;

	snprintf(path, sizeof(path), "%s/no-such-dir", root);
	errno = 0;
	CU_ASSERT_PTR_NULL(xf_scan_tree(path, NULL, NULL, 0, &st));
	CU_ASSERT_EQUAL(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/empty_file", root);
	CU_ASSERT_PTR_NULL(xf_scan_tree(path, NULL, NULL, 0, &st));
	CU_ASSERT_EQUAL(errno, ENOTDIR);
	/* An empty directory lists nothing. */
	snprintf(path, sizeof(path), "%s/empty_dir", root);
	s = xf_scan_tree(path, NULL, NULL, 0, &st);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(xf_scan_count(s), 0);
	CU_ASSERT_EQUAL(st.files + st.dirs + st.symlinks, 0);
	xf_scan_free(s);
	xf_scan_free(NULL);
}

/* Write a small file at dir/name. */
static void
put(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, name, strlen(name)), (ssize_t)strlen(name));
	close(fd);
}

static void
hardlink(const char *dir, const char *from, const char *to)
{
	char a[256], b[256];

	snprintf(a, sizeof(a), "%s/%s", dir, from);
	snprintf(b, sizeof(b), "%s/%s", dir, to);
	CU_ASSERT_FATAL(link(a, b) == 0);
}

/* Entry i of s, its path as a string. */
static const char *
path_at(const struct xf_scan *s, size_t i, struct xf_flist_entry *e)
{
	xf_scan_get(s, i, e);
	return e->path;
}

static size_t
index_of(const struct xf_scan *s, const char *path)
{
	struct xf_flist_entry e;

	for (size_t i = 0; i < xf_scan_count(s); i++) {
		if (strcmp(path_at(s, i, &e), path) == 0) {
			return i;
		}
	}
	CU_FAIL("path not listed");
	return SIZE_MAX;
}

/*
 * XF_SCAN_F_HARDLINKS: each group of names of one inode is led by its first name in list
 * order, and every later one is a hard link to it (target = the leader's path, with the
 * prefix, size = its length), even across directories and many entries (and, in
 * unit-scan-chunks, record and arena chunks); a file whose other name is outside the
 * tree stays a file; the counters move the links out of files and
 * bytes. Without the flag, every name is a regular file.
 */
static void
test_hardlinks(void)
{
	static const struct {
		const char *path, *leader; /* leader NULL: a regular file */
	} want[] = {
		{ "p/a", NULL },          { "p/b", "p/a" },         { "p/lone", NULL },
		{ "p/m/f00", NULL },      { "p/m/f19", "p/m/f00" }, { "p/sub/c", "p/a" },
		{ "p/sub/z", "p/m/f00" },
	};
	char dir[96], path[160], name[16];
	struct xf_scan_stats st, plain_st;
	struct xf_scan *s, *plain;
	struct xf_flist_entry e;

	snprintf(dir, sizeof(dir), "%s/links", root);
	CU_ASSERT_FATAL(mkdir(dir, 0755) == 0);
	snprintf(path, sizeof(path), "%s/m", dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/sub", dir);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	put(dir, "a");
	hardlink(dir, "a", "b");
	hardlink(dir, "a", "sub/c");
	put(dir, "lone");
	snprintf(path, sizeof(path), "%s/lone-outside", root);
	{
		char in[160];

		snprintf(in, sizeof(in), "%s/lone", dir);
		CU_ASSERT_FATAL(link(in, path) == 0); /* its other name is not in the tree */
	}
	for (int i = 0; i < 19; i++) {
		snprintf(name, sizeof(name), "m/f%02d", i);
		put(dir, name);
	}
	hardlink(dir, "m/f00", "m/f19");
	hardlink(dir, "m/f00", "sub/z");

	s = xf_scan_tree(dir, "p", NULL, XF_SCAN_F_HARDLINKS, &st);
	plain = xf_scan_tree(dir, "p", NULL, 0, &plain_st);
	CU_ASSERT_FATAL(s != NULL && plain != NULL);
	CU_ASSERT_EQUAL(xf_scan_count(s), xf_scan_count(plain));
	CU_ASSERT_EQUAL(st.hardlinks, 4);
	CU_ASSERT_EQUAL(plain_st.hardlinks, 0);
	CU_ASSERT_EQUAL(st.files + st.hardlinks, plain_st.files);
	/* b and sub/c: 1 byte ("a"); m/f19 and sub/z: 5 ("m/f00") */
	CU_ASSERT_EQUAL(st.bytes + 1 + 1 + 5 + 5, plain_st.bytes);
	for (size_t k = 0; k < XF_ARRAY_SIZE(want); k++) {
		size_t i = index_of(s, want[k].path);

		if (i == SIZE_MAX) {
			continue;
		}
		xf_scan_get(s, i, &e);
		if (want[k].leader == NULL) {
			CU_ASSERT_EQUAL(e.kind, XF_FILE_REG);
			CU_ASSERT_EQUAL(e.target_len, 0);
			CU_ASSERT_PTR_NULL(e.target);
			continue;
		}
		CU_ASSERT_EQUAL(e.kind, XF_FILE_HARDLINK);
		CU_ASSERT_EQUAL(e.target_len, strlen(want[k].leader));
		CU_ASSERT_EQUAL(e.size, e.target_len);
		CU_ASSERT(e.target != NULL && strcmp(e.target, want[k].leader) == 0);
		CU_ASSERT(index_of(s, want[k].leader) < i); /* the leader comes first */
	}
	for (size_t i = 0; i < xf_scan_count(plain); i++) {
		xf_scan_get(plain, i, &e);
		CU_ASSERT(e.kind != XF_FILE_HARDLINK);
	}
	xf_scan_free(s);
	xf_scan_free(plain);
	unlink(path);
}

static const struct xf_test tests[] = {
	{ "order and fields", test_tree },
	{ "prefix", test_prefix },
	{ "nanosecond mtime", test_nanoseconds },
	{ "directories keep their access time", test_noatime },
	{ "errors", test_errors },
	{ "hard links", test_hardlinks },
};

int
main(void)
{
	xf_log_threshold = XF_LOG_ERR; /* the skips' warnings are expected */
	return xf_test_main("scan", suite_init, suite_clean, XF_TESTS(tests));
}
