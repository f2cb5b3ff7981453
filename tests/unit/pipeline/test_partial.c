/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Partial files (xf_partial.c): the tag's encoding and its bounds, names, the open that
 * refuses another version, the keep that does not replace a fuller copy, the eviction
 * order and bounds, and the start-up scan, on a scratch directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "xf_test.h"
#include "xf_test_tree.h"

#include "xf_partial.h"

static char base[256];
static int tmp_fd = -1, part_fd = -1;

static void
scratch(void)
{
	char p[300];

	snprintf(base, sizeof(base), "%s/xf-partial.XXXXXX",
	         getenv("XF_TEST_TMPDIR") != NULL ? getenv("XF_TEST_TMPDIR") : "/tmp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(base));
	snprintf(p, sizeof(p), "%s/tmp", base);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	tmp_fd = open(p, O_RDONLY | O_DIRECTORY);
	snprintf(p, sizeof(p), "%s/partial", base);
	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	part_fd = open(p, O_RDONLY | O_DIRECTORY);
	CU_ASSERT_FATAL(tmp_fd >= 0 && part_fd >= 0);
}

static void
scratch_end(void)
{
	close(tmp_fd);
	close(part_fd);
	CU_ASSERT_EQUAL(xf_test_rm_tree(base), 0);
}

static void
id_set(struct xf_partial_id *id, const char *path, uint64_t size, int64_t mtime)
{
	id->path_len = (uint32_t)strlen(path);
	memcpy(id->path, path, id->path_len + 1);
	id->size = size;
	id->mtime_ns = mtime;
}

/* A temp file name in tmp/ with bytes of data written at offset 0, tagged as id unless
 * id is NULL. @return its fd (open). */
static int
temp(const char *name, size_t bytes, const struct xf_partial_id *id)
{
	int fd = openat(tmp_fd, name, O_RDWR | O_CREAT | O_EXCL, 0600);
	char *buf = malloc(bytes + 1);

	CU_ASSERT_FATAL(fd >= 0 && buf != NULL);
	memset(buf, 'x', bytes + 1);
	CU_ASSERT_EQUAL((size_t)pwrite(fd, buf, bytes, 0), bytes);
	free(buf);
	if (id != NULL) {
		CU_ASSERT_EQUAL_FATAL(xf_partial_tag(fd, id), 0);
	}
	return fd;
}

static bool
present(int dir_fd, const char *name)
{
	struct stat sb;

	return fstatat(dir_fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Entries in dir_fd, . and .. aside. */
static int
count(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY);
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int n = 0;

	CU_ASSERT_FATAL(d != NULL);
	while ((de = readdir(d)) != NULL) {
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	}
	closedir(d);
	return n;
}

static void
test_codec(void)
{
	static struct xf_partial_id id, got;
	uint8_t buf[XF_PARTIAL_TAG_MAX + 8];
	char n1[XF_PARTIAL_NAME_SIZE], n2[XF_PARTIAL_NAME_SIZE];
	size_t len;

	/* A worker's name: "dir NUL base", or NUL base at the root. */
	CU_ASSERT_EQUAL(xf_partial_id_of(&id, "a/b\0c.bin", 3, 7, -5), 0);
	CU_ASSERT_STRING_EQUAL(id.path, "a/b/c.bin");
	CU_ASSERT_EQUAL(id.path_len, 9);
	CU_ASSERT_EQUAL(xf_partial_id_of(&id, "\0top", 0, 1u << 30, 123456789012345678ll), 0);
	CU_ASSERT_STRING_EQUAL(id.path, "top");
	len = xf_partial_encode(&id, buf);
	CU_ASSERT_EQUAL(len, XF_PARTIAL_HDR + 3);
	CU_ASSERT_EQUAL(xf_partial_decode(buf, len, &got), 0);
	CU_ASSERT(xf_partial_id_eq(&id, &got));
	CU_ASSERT_EQUAL(got.mtime_ns, 123456789012345678ll);
	/* Refused: no path, bad magic, a NUL in the path, longer than any path. */
	CU_ASSERT_EQUAL(xf_partial_decode(buf, XF_PARTIAL_HDR, &got), -EBADMSG);
	CU_ASSERT_EQUAL(xf_partial_decode(buf, 3, &got), -EBADMSG);
	buf[0] ^= 1;
	CU_ASSERT_EQUAL(xf_partial_decode(buf, len, &got), -EBADMSG);
	buf[0] ^= 1;
	buf[XF_PARTIAL_HDR + 1] = '\0';
	CU_ASSERT_EQUAL(xf_partial_decode(buf, len, &got), -EBADMSG);
	memset(buf + XF_PARTIAL_HDR, 'p', XF_PATH_MAX + 1);
	CU_ASSERT_EQUAL(xf_partial_decode(buf, XF_PARTIAL_TAG_MAX + 1, &got), -EBADMSG);
	CU_ASSERT_EQUAL(xf_partial_decode(buf, XF_PARTIAL_TAG_MAX, &got), 0);
	CU_ASSERT_EQUAL(got.path_len, XF_PATH_MAX);
	/* A joined path past XF_PATH_MAX is refused. */
	{
		static char name[XF_PATH_MAX + 8];

		memset(name, 'd', XF_PATH_MAX);
		name[XF_PATH_MAX - 1] = '\0';
		memcpy(name + XF_PATH_MAX, "xy", 3);
		CU_ASSERT_EQUAL(xf_partial_id_of(&id, name, XF_PATH_MAX - 1, 1, 1), -ENAMETOOLONG);
	}
	/* Names: 16 hex digits, per path, stable. */
	xf_partial_name("a/b", 3, n1);
	xf_partial_name("a/c", 3, n2);
	CU_ASSERT_EQUAL(strlen(n1), 16);
	CU_ASSERT_EQUAL(strspn(n1, "0123456789abcdef"), 16);
	CU_ASSERT_STRING_NOT_EQUAL(n1, n2);
	xf_partial_name("a/b", 3, n2);
	CU_ASSERT_STRING_EQUAL(n1, n2);
	/* Equality: path, size and mtime all count. */
	id_set(&id, "f", 10, 20);
	id_set(&got, "f", 10, 21);
	CU_ASSERT_FALSE(xf_partial_id_eq(&id, &got));
	id_set(&got, "f", 11, 20);
	CU_ASSERT_FALSE(xf_partial_id_eq(&id, &got));
	id_set(&got, "g", 10, 20);
	CU_ASSERT_FALSE(xf_partial_id_eq(&id, &got));
	id_set(&got, "f", 10, 20);
	CU_ASSERT(xf_partial_id_eq(&id, &got));
}

/* The size of the partial kept for id, or -1 if none can be opened. */
static off_t
partial_size(const struct xf_partial_id *id)
{
	struct stat sb;
	int fd = xf_partial_open(part_fd, id);
	off_t size = fd >= 0 && fstat(fd, &sb) == 0 ? sb.st_size : -1;

	if (fd >= 0) {
		close(fd);
	}
	return size;
}

static void
test_keep_open(void)
{
	static struct xf_partial_id id, other;
	char name[XF_PARTIAL_NAME_SIZE];
	int fd;

	scratch();
	id_set(&id, "dir/big", 1u << 20, 1000);
	xf_partial_name(id.path, id.path_len, name);
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &id), -ENOENT);
	/* Kept: the temp file moves to its path's name. */
	fd = temp("t1", 8192, &id);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t1", fd, part_fd, &id), 1);
	close(fd);
	CU_ASSERT_FALSE(present(tmp_fd, "t1"));
	CU_ASSERT(present(part_fd, name));
	/* A copy of the same version with fewer bytes does not replace it. */
	fd = temp("t2", 100, &id);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t2", fd, part_fd, &id), 0);
	close(fd);
	CU_ASSERT_FALSE(present(tmp_fd, "t2"));
	CU_ASSERT_EQUAL(partial_size(&id), 8192);
	/* One with more bytes does. */
	fd = temp("t3", 65536, &id);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t3", fd, part_fd, &id), 1);
	close(fd);
	CU_ASSERT_EQUAL(partial_size(&id), 65536);
	/* Another version of the source: not used, and removed. */
	id_set(&other, "dir/big", 1u << 20, 1001);
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &other), -ESTALE);
	CU_ASSERT_FALSE(present(part_fd, name));
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &id), -ENOENT);
	/* A newer version replaces a fuller copy of an older one. */
	fd = temp("t4", 65536, &id);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t4", fd, part_fd, &id), 1);
	close(fd);
	fd = temp("t5", 10, &other);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t5", fd, part_fd, &other), 1);
	close(fd);
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &id), -ESTALE);
	/* Untagged, or longer than its file: never used. */
	fd = openat(part_fd, name, O_RDWR | O_CREAT, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &id), -ESTALE);
	CU_ASSERT_FALSE(present(part_fd, name));
	id_set(&other, "dir/big", 100, 1000);
	fd = temp("t6", 200, &other);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t6", fd, part_fd, &other), 1);
	close(fd);
	CU_ASSERT_EQUAL(xf_partial_open(part_fd, &other), -ESTALE);
	/* A DELTA temp file sized first and cut off (xf_worker_delta.c, presize()): kept at
	 * the end of its data, not at the announced size. */
	id_set(&other, "dir/big", 1u << 20, 1002);
	fd = temp("t8", 65536, &other);
	CU_ASSERT_EQUAL(ftruncate(fd, 1 << 20), 0);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t8", fd, part_fd, &other), 1);
	close(fd);
	CU_ASSERT_EQUAL(partial_size(&other), 65536);
	/* Removed by path. */
	fd = temp("t7", 10, &id);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "t7", fd, part_fd, &id), 1);
	close(fd);
	CU_ASSERT(xf_partial_remove(part_fd, id.path, id.path_len));
	CU_ASSERT_FALSE(xf_partial_remove(part_fd, id.path, id.path_len));
	CU_ASSERT_EQUAL(count(part_fd), 0);
	scratch_end();
}

static void
test_pick(void)
{
	struct xf_partial_ent e[5];

	for (int i = 0; i < 5; i++) {
		snprintf(e[i].name, sizeof(e[i].name), "%016x", i);
		e[i].bytes = 100;
		e[i].age_ns = 1000 - i; /* e[4] is the oldest */
	}
	e[2].bytes = 1000;
	/* Within bounds: nothing goes. */
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 5, 1400), 0);
	/* By count: the two oldest go, oldest first. */
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 3, 1u << 30), 2);
	CU_ASSERT_EQUAL(e[0].age_ns, 996);
	CU_ASSERT_EQUAL(e[1].age_ns, 997);
	/* By bytes: the oldest until the rest fits (1400 -> the big one, third oldest). */
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 100, 399), 3);
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 100, 300), 3);
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 100, 199), 4);
	/* Nothing allowed: everything goes; nothing there: nothing to do. */
	CU_ASSERT_EQUAL(xf_partial_pick(e, 5, 0, 0), 5);
	CU_ASSERT_EQUAL(xf_partial_pick(e, 0, 0, 0), 0);
}

static void
test_evict(void)
{
	static struct xf_partial_id id;
	char path[16];
	int fd;

	scratch();
	for (int i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "f%d", i);
		id_set(&id, path, 1u << 20, i);
		fd = temp(path, 64 * 1024, &id);
		CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, path, fd, part_fd, &id), 1);
		close(fd);
	}
	CU_ASSERT_EQUAL(xf_partial_evict(part_fd, 6, 1u << 30), 0);
	CU_ASSERT_EQUAL(count(part_fd), 6);
	CU_ASSERT_EQUAL(xf_partial_evict(part_fd, 4, 1u << 30), 2);
	CU_ASSERT_EQUAL(count(part_fd), 4);
	/* 64 KiB each (at least: blocks allocated); room for two. */
	CU_ASSERT_EQUAL(xf_partial_evict(part_fd, 4, 2 * 64 * 1024 + 32 * 1024), 2);
	CU_ASSERT_EQUAL(count(part_fd), 2);
	CU_ASSERT_EQUAL(xf_partial_evict(part_fd, 0, 1u << 30), 2);
	CU_ASSERT_EQUAL(count(part_fd), 0);
	scratch_end();
}

static void
test_recover(void)
{
	static struct xf_partial_id id, a, b;
	struct xf_partial_start st = { 0 };
	char na[XF_PARTIAL_NAME_SIZE], nb[XF_PARTIAL_NAME_SIZE];
	int fd;

	scratch();
	id_set(&a, "x/a", 1u << 20, 1);
	id_set(&b, "x/b", 1u << 20, 2);
	xf_partial_name(a.path, a.path_len, na);
	xf_partial_name(b.path, b.path_len, nb);
	/* A valid partial of a; in tmp/: a temp file of b (a killed run's), one of a with
	 * fewer bytes, an untagged one, one longer than its announced size. */
	fd = temp("pa", 4096, &a);
	CU_ASSERT_EQUAL(xf_partial_keep(tmp_fd, "pa", fd, part_fd, &a), 1);
	close(fd);
	fd = temp("0.00000001.7", 8192, &b);
	CU_ASSERT_EQUAL(ftruncate(fd, 1 << 20), 0); /* sized first, as a DELTA temp file */
	close(fd);
	close(temp("0.00000001.8", 100, &a));
	close(temp("0.00000001.9", 100, NULL));
	id_set(&id, "x/c", 10, 3);
	close(temp("0.00000001.10", 100, &id));
	/* In partial/: a tagged file under another path's name, an untagged one, a symlink,
	 * a directory. */
	fd = openat(part_fd, "0123456789abcdef", O_RDWR | O_CREAT, 0600);
	CU_ASSERT_EQUAL(xf_partial_tag(fd, &b), 0);
	close(fd);
	close(openat(part_fd, "junk", O_RDWR | O_CREAT, 0600));
	CU_ASSERT_EQUAL(symlinkat("/etc/passwd", part_fd, "link"), 0);
	CU_ASSERT_EQUAL(mkdirat(part_fd, "dir", 0700), 0);
	xf_partial_recover(tmp_fd, part_fd, &st);
	CU_ASSERT_EQUAL(st.kept, 1);
	CU_ASSERT_EQUAL(st.recovered, 1);
	CU_ASSERT_EQUAL(st.discarded, 5); /* 4 in partial/, and the smaller copy of a */
	CU_ASSERT(present(part_fd, na));
	CU_ASSERT(present(part_fd, nb));
	CU_ASSERT_EQUAL(count(part_fd), 2);
	CU_ASSERT_FALSE(present(tmp_fd, "0.00000001.7"));
	CU_ASSERT_FALSE(present(tmp_fd, "0.00000001.8"));
	/* Left for the caller to empty: the untagged and the bad one. */
	CU_ASSERT(present(tmp_fd, "0.00000001.9"));
	CU_ASSERT(present(tmp_fd, "0.00000001.10"));
	fd = xf_partial_open(part_fd, &b);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_END), 8192); /* its trailing hole cut off */
	close(fd);
	scratch_end();
}

static const struct xf_test tests[] = {
	{ "tag: encoding, bounds, names, equality", test_codec },
	{ "keep and open: fuller copy kept, other version refused and removed", test_keep_open },
	{ "eviction order: oldest first, by count and bytes", test_pick },
	{ "eviction on a directory", test_evict },
	{ "start-up scan: killed run's temp files kept, the unprovable removed", test_recover },
};

int
main(void)
{
	return xf_test_main("partial", NULL, NULL, XF_TESTS(tests));
}
