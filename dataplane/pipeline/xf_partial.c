/* SPDX-License-Identifier: BSD-3-Clause */
/* Partial files kept for a resumed push (xf_partial.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "xf_partial.h"
#include "xf_pathset.h"

static const uint8_t magic[4] = { 'X', 'F', 'P', '1' };

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--) {
		v = (v << 8) | p[i];
	}
	return v;
}

int
xf_partial_id_of(struct xf_partial_id *id, const char *name, uint32_t dir_len, uint64_t size,
                 int64_t mtime_ns)
{
	const char *base = name + dir_len + 1;
	size_t blen = strlen(base);
	size_t len = dir_len == 0 ? blen : (size_t)dir_len + 1 + blen;

	if (len == 0 || len > XF_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (dir_len != 0) {
		memcpy(id->path, name, dir_len);
		id->path[dir_len] = '/';
	}
	memcpy(id->path + len - blen, base, blen);
	id->path[len] = '\0';
	id->path_len = (uint32_t)len;
	id->size = size;
	id->mtime_ns = mtime_ns;
	return 0;
}

size_t
xf_partial_encode(const struct xf_partial_id *id, uint8_t *buf)
{
	memcpy(buf, magic, sizeof(magic));
	put64(buf + 4, id->size);
	put64(buf + 12, (uint64_t)id->mtime_ns);
	memcpy(buf + XF_PARTIAL_HDR, id->path, id->path_len);
	return XF_PARTIAL_HDR + id->path_len;
}

int
xf_partial_decode(const uint8_t *buf, size_t len, struct xf_partial_id *id)
{
	if (len <= XF_PARTIAL_HDR || len > XF_PARTIAL_TAG_MAX ||
	    memcmp(buf, magic, sizeof(magic)) != 0 ||
	    memchr(buf + XF_PARTIAL_HDR, '\0', len - XF_PARTIAL_HDR) != NULL) {
		return -EBADMSG;
	}
	id->size = get64(buf + 4);
	id->mtime_ns = (int64_t)get64(buf + 12);
	id->path_len = (uint32_t)(len - XF_PARTIAL_HDR);
	memcpy(id->path, buf + XF_PARTIAL_HDR, id->path_len);
	id->path[id->path_len] = '\0';
	return 0;
}

void
xf_partial_name(const char *path, size_t len, char out[XF_PARTIAL_NAME_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t h = xf_pathset_hash(path, len);

	for (int i = 0; i < 16; i++) {
		out[i] = hex[(h >> (60 - 4 * i)) & 0xfu];
	}
	out[16] = '\0';
}

bool
xf_partial_id_eq(const struct xf_partial_id *a, const struct xf_partial_id *b)
{
	return a->size == b->size && a->mtime_ns == b->mtime_ns && a->path_len == b->path_len &&
	       memcmp(a->path, b->path, a->path_len) == 0;
}

int
xf_partial_tag(int fd, const struct xf_partial_id *id)
{
	uint8_t buf[XF_PARTIAL_TAG_MAX];
	size_t n = xf_partial_encode(id, buf);

	return fsetxattr(fd, XF_PARTIAL_XATTR, buf, n, 0) == 0 ? 0 : -errno;
}

int
xf_partial_read_tag(int fd, struct xf_partial_id *id)
{
	uint8_t buf[XF_PARTIAL_TAG_MAX];
	ssize_t n = fgetxattr(fd, XF_PARTIAL_XATTR, buf, sizeof(buf));

	if (n < 0) {
		return errno == ERANGE ? -EBADMSG : -errno;
	}
	return xf_partial_decode(buf, (size_t)n, id);
}

void
xf_partial_untag(int fd)
{
	fremovexattr(fd, XF_PARTIAL_XATTR);
}

int
xf_partial_open(int dir_fd, const struct xf_partial_id *id)
{
	char name[XF_PARTIAL_NAME_SIZE];
	struct xf_partial_id *got;
	struct stat sb;
	int fd, rc;

	xf_partial_name(id->path, id->path_len, name);
	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	got = malloc(sizeof(*got));
	if (got == NULL) {
		close(fd);
		return -ENOMEM;
	}
	rc = xf_partial_read_tag(fd, got);
	if (rc == 0 && (!xf_partial_id_eq(got, id) || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	                (uint64_t)sb.st_size > id->size)) {
		rc = -ESTALE;
	}
	free(got);
	if (rc == 0) {
		return fd;
	}
	close(fd);
	if (rc == -ESTALE || rc == -ENODATA || rc == -EBADMSG) {
		/* Another version of the source, or not what it claims: never of use. */
		unlinkat(dir_fd, name, 0);
		return -ESTALE;
	}
	return rc;
}

/*
 * Cut a trailing hole off fd. A DELTA file's temp file has its announced size from its
 * signature pass on (docs/DELTA.md, "Apply by clone"), so one cut off ends in a hole
 * where nothing came yet. Kept at that size it would claim to hold the whole file: it
 * would be the next push's basis instead of the old version at the final path (a push
 * stopped after it only signed files would send them whole the next time), and it would
 * win over a copy of the same version that holds more. Its size is the end of its last
 * data instead, as for a temp file written in order. Left as it is if the file system
 * cannot say where its data is.
 * @return 0, or -errno when the cut failed (the caller then keeps nothing).
 */
static int
trim_hole(int fd)
{
	off_t end = 0, d;
	struct stat sb;

	while ((d = lseek(fd, end, SEEK_DATA)) >= 0) {
		off_t h = lseek(fd, d, SEEK_HOLE);

		if (h <= d) {
			return 0;
		}
		end = h;
	}
	if (errno == ENXIO && fstat(fd, &sb) == 0 && end < sb.st_size && ftruncate(fd, end) != 0) {
		return -errno;
	}
	return 0;
}

int
xf_partial_keep(int tmp_fd, const char *tmpname, int fd, int dir_fd, const struct xf_partial_id *id)
{
	char name[XF_PARTIAL_NAME_SIZE];
	struct stat mine, old;
	int ofd;

	xf_partial_name(id->path, id->path_len, name);
	/* Not cut: not kept, rather than a partial that claims more than it holds. */
	if (trim_hole(fd) != 0 || fstat(fd, &mine) != 0) {
		unlinkat(tmp_fd, tmpname, 0);
		return -errno;
	}
	ofd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (ofd >= 0) {
		struct xf_partial_id *oid = malloc(sizeof(*oid));
		bool better = oid != NULL && fstat(ofd, &old) == 0 &&
		              xf_partial_read_tag(ofd, oid) == 0 && xf_partial_id_eq(oid, id) &&
		              (old.st_blocks > mine.st_blocks ||
		               (old.st_blocks == mine.st_blocks && old.st_size > mine.st_size));

		free(oid);
		close(ofd);
		if (better) {
			unlinkat(tmp_fd, tmpname, 0);
			return 0;
		}
	}
	if (renameat(tmp_fd, tmpname, dir_fd, name) != 0) {
		int err = -errno;

		unlinkat(tmp_fd, tmpname, 0);
		return err;
	}
	return 1;
}

bool
xf_partial_remove(int dir_fd, const char *path, size_t len)
{
	char name[XF_PARTIAL_NAME_SIZE];

	xf_partial_name(path, len, name);
	return unlinkat(dir_fd, name, 0) == 0;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct xf_partial_ent *x = a, *y = b;

	if (x->age_ns != y->age_ns) {
		return x->age_ns < y->age_ns ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

size_t
xf_partial_pick(struct xf_partial_ent *ents, size_t n, uint32_t max_count, uint64_t max_bytes)
{
	uint64_t bytes = 0;
	size_t out = 0;

	if (n == 0) {
		return 0; /* qsort's base may not be NULL, and ents is when there are none */
	}
	qsort(ents, n, sizeof(*ents), ent_cmp);
	for (size_t i = 0; i < n; i++) {
		bytes += ents[i].bytes;
	}
	while (out < n && (n - out > max_count || bytes > max_bytes)) {
		bytes -= ents[out].bytes;
		out++;
	}
	return out;
}

/* Open dir_fd for reading its entries (a dup: the caller's fd stays open). */
static DIR *
dir_of(int dir_fd)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d == NULL && fd >= 0) {
		close(fd);
	}
	return d;
}

static bool
dot(const char *name)
{
	return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int
xf_partial_evict(int dir_fd, uint32_t max_count, uint64_t max_bytes)
{
	struct xf_partial_ent *ents = NULL;
	size_t n = 0, cap = 0, out;
	struct dirent *de;
	int removed = 0;
	DIR *d = dir_of(dir_fd);

	if (d == NULL) {
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (dot(de->d_name) || strlen(de->d_name) != XF_PARTIAL_NAME_SIZE - 1 ||
		    fstatat(dir_fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			continue;
		}
		if (n == cap) {
			size_t nc = cap == 0 ? 16 : 2 * cap;
			struct xf_partial_ent *ne = realloc(ents, nc * sizeof(*ents));

			if (ne == NULL) {
				break; /* evict among those seen so far */
			}
			ents = ne;
			cap = nc;
		}
		memcpy(ents[n].name, de->d_name, XF_PARTIAL_NAME_SIZE);
		ents[n].bytes = (uint64_t)sb.st_blocks * 512u;
		ents[n].age_ns = (int64_t)sb.st_ctim.tv_sec * 1000000000ll + sb.st_ctim.tv_nsec;
		n++;
	}
	closedir(d);
	out = xf_partial_pick(ents, n, max_count, max_bytes);
	for (size_t i = 0; i < out; i++) {
		if (unlinkat(dir_fd, ents[i].name, 0) == 0) {
			removed++;
		}
	}
	free(ents);
	return removed;
}

/*
 * Whether name in dir_fd is a regular file tagged validly (into *id), without following
 * a symlink.
 */
static bool
tagged(int dir_fd, const char *name, struct xf_partial_id *id)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat sb;
	bool ok;

	if (fd < 0) {
		return false;
	}
	ok = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && xf_partial_read_tag(fd, id) == 0 &&
	     (uint64_t)sb.st_size <= id->size;
	close(fd);
	return ok;
}

void
xf_partial_recover(int tmp_fd, int dir_fd, struct xf_partial_start *st)
{
	struct xf_partial_id *id = malloc(sizeof(*id));
	struct dirent *de;
	DIR *d;

	if (id == NULL) {
		return;
	}
	/* The partials there first, so that a recovered temp file is compared with them. */
	d = dir_of(dir_fd);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char want[XF_PARTIAL_NAME_SIZE];

		if (dot(de->d_name)) {
			continue;
		}
		if (tagged(dir_fd, de->d_name, id)) {
			xf_partial_name(id->path, id->path_len, want);
			if (strcmp(want, de->d_name) == 0) {
				st->kept++;
				continue;
			}
		}
		if (unlinkat(dir_fd, de->d_name, 0) == 0 ||
		    (errno == EISDIR && unlinkat(dir_fd, de->d_name, AT_REMOVEDIR) == 0)) {
			st->discarded++;
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	d = dir_of(tmp_fd);
	while (d != NULL && (de = readdir(d)) != NULL) {
		int fd;

		if (dot(de->d_name) || !tagged(tmp_fd, de->d_name, id)) {
			continue; /* not a partial's: the caller empties the directory */
		}
		/* Writable: xf_partial_keep() may cut a trailing hole off. */
		fd = openat(tmp_fd, de->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			continue;
		}
		if (xf_partial_keep(tmp_fd, de->d_name, fd, dir_fd, id) == 1) {
			st->recovered++;
		} else {
			st->discarded++; /* a partial of the same version there holds more */
		}
		close(fd);
	}
	if (d != NULL) {
		closedir(d);
	}
	free(id);
}
