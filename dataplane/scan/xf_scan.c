/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source tree scan for push jobs (xf_scan.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_filter.h"
#include "xf_scan.h"
#include "xf_xattr.h"

/* One listed entry; path (then target) bytes live in the arena at off. */
struct rec {
	const char *path;    /* in an arena chunk; the target follows its NUL */
	uint64_t size;       /* bytes; target length for symlinks; 0 for directories; a hard
	                      * link's leader's index */
	int64_t mtime_ns;    /* modification time */
	uint16_t path_len;   /* 1..XF_PATH_MAX */
	uint16_t target_len; /* symlinks: 1..XF_PATH_MAX; hard links: the leader's path_len;
	                      * else 0 */
	uint32_t uid, gid;   /* owner and group (sent with XF_HELLO_F_OWNER) */
	uint16_t mode;       /* st_mode & 07777 */
	uint8_t kind;        /* enum xf_file_kind */
};

_Static_assert(sizeof(struct rec) == 40, "one scan record is 40 bytes (xf_scan.h)");

/*
 * Records and path bytes live in fixed-size chunks, never moved once written: growing one
 * array by realloc would copy it (glibc serves blocks under its mmap threshold, up to
 * 32 MiB, from the heap), and the old and new copies together would set the process's
 * peak memory, about 1.5x what is used. Chunks waste less than one chunk each.
 */
#ifndef REC_CHUNK_SHIFT            /* unit-scan-chunks makes both small, to cross many boundaries */
#define REC_CHUNK_SHIFT 16         /* 65,536 records (2 MiB) a chunk */
#define ARENA_CHUNK     (1u << 20) /* 1 MiB: more than the longest path and target */
#endif
#define REC_CHUNK (1u << REC_CHUNK_SHIFT)

_Static_assert(ARENA_CHUNK >= 2 * (XF_PATH_MAX + 1), "an entry's strings fit in a chunk");
/* With its attribute set: the small chunks of unit-scan-chunks take no sets. */
#define SETS_FIT (ARENA_CHUNK >= 2 * (XF_PATH_MAX + 1) + 2 + XF_XATTR_WIRE_MAX)

struct xf_scan {
	struct rec **recs; /* chunks of REC_CHUNK records */
	size_t count, nrec_chunks, rec_chunks_cap;
	char **arenas; /* chunks of ARENA_CHUNK bytes; the last one is being filled */
	size_t narenas, arenas_cap;
	size_t used; /* bytes used in the last arena chunk */
	bool sets;   /* XF_SCAN_F_XATTRS or _ACLS: an attribute set follows each entry's strings */
	uint8_t root_set[XF_XATTR_WIRE_MAX]; /* the root's own (xf_scan_root_xattr()) */
	uint16_t root_set_len;
};

/* A regular file with other names (XF_SCAN_F_HARDLINKS). */
struct link {
	uint64_t dev, ino;
	size_t index; /* in the list */
};

/*
 * Open a directory to read it without touching its access time (O_NOATIME), as the
 * file reads do (xf_storage_noatime_ok()): on XFS with relatime a listing after a change
 * logs a transaction for the new atime. O_NOATIME needs the directory's owner or
 * CAP_FOWNER: on the first EPERM the walk stops asking (one failed call per walk).
 */
static int
dir_open(int dfd, const char *name, int flags, int *noatime)
{
	int fd = openat(dfd, name, flags | *noatime);

	if (fd < 0 && errno == EPERM && *noatime != 0) {
		*noatime = 0;
		fd = openat(dfd, name, flags);
	}
	return fd;
}

/* Walk state shared by every level. */
struct walk {
	struct xf_scan *s;
	struct xf_scan_stats *st;
	const struct xf_filter *filter; /* NULL: every entry is listed */
	size_t rel_off;                 /* where the path relative to the root starts */
	char path[XF_PATH_MAX + 1];     /* relative path of the directory being read */
	char target[XF_PATH_MAX + 1];   /* readlinkat buffer; one byte more detects overlong */
	int err;                        /* ENOMEM: stop the walk */
	bool hardlinks;                 /* XF_SCAN_F_HARDLINKS: note files with nlink > 1 */
	int noatime;                    /* O_NOATIME while directories take it (dir_open()) */
	unsigned int xns;               /* attribute namespaces read (XF_XATTR_NS_*), 0: none */
	uint8_t set[XF_XATTR_WIRE_MAX]; /* the entry's attribute set being added */
	int set_len;
	char xlist[65536];   /* llistxattr: the most a Linux list holds */
	uint8_t xval[65536]; /* one value, the most Linux holds */
	struct link *links;
	size_t nlinks, links_cap;
};

/*
 * Names of one directory in list order, each behind a byte naming its group: regular
 * files first, then symlinks and anything else, then subdirectories, each group sorted
 * bytewise. So a directory's files are consecutive in the list, right after its own
 * entry, and the receiver can create them all in the directory while it is staged
 * (docs/PIPELINE.md, "Staged directories"); in name order, a subdirectory listed among
 * them (its whole subtree follows it) would cut the run short: a copy of /usr/include
 * staged 2,627 of its 8,567 files in name order, 8,452 in this one (docs/DELTA.md).
 */
enum name_group {
	NAME_FILE = '0',
	NAME_OTHER = '1',
	NAME_DIR = '2',
};

struct names {
	char **v; /* group byte, then the NUL-terminated name */
	size_t n, cap;
};

static bool
grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap != 0 ? *cap : first;
	void *np;

	if (need <= *cap) {
		return true;
	}
	while (ncap < need) {
		ncap *= 2;
	}
	np = realloc(*p, ncap * elem);
	if (np == NULL) {
		return false;
	}
	*p = np;
	*cap = ncap;
	return true;
}

static struct rec *
rec_at(const struct xf_scan *s, size_t i)
{
	return &s->recs[i >> REC_CHUNK_SHIFT][i & (REC_CHUNK - 1)];
}

static int
add(struct walk *w, uint8_t kind, const struct stat *sb, size_t path_len, const char *target,
    size_t target_len)
{
	struct xf_scan *s = w->s;
	struct rec *r;

	/* Each string is NUL-terminated: readers of the path (a worker's openat) take it as
	 * a C string. */
	size_t strings = path_len + 1 + (target_len > 0 ? target_len + 1 : 0);
	size_t need = strings + (s->sets ? sizeof(uint16_t) + (size_t)w->set_len : 0);
	char *a;

	if (s->count == s->nrec_chunks * REC_CHUNK) {
		if (!grow((void **)&s->recs, &s->rec_chunks_cap, s->nrec_chunks + 1,
		          sizeof(*s->recs), 16) ||
		    (s->recs[s->nrec_chunks] = malloc(REC_CHUNK * sizeof(struct rec))) == NULL) {
			w->err = ENOMEM;
			return -ENOMEM;
		}
		s->nrec_chunks++;
	}
	if (s->narenas == 0 || s->used + need > ARENA_CHUNK) {
		if (!grow((void **)&s->arenas, &s->arenas_cap, s->narenas + 1, sizeof(*s->arenas),
		          16) ||
		    (s->arenas[s->narenas] = malloc(ARENA_CHUNK)) == NULL) {
			w->err = ENOMEM;
			return -ENOMEM;
		}
		s->narenas++;
		s->used = 0;
	}
	a = s->arenas[s->narenas - 1] + s->used;
	r = &s->recs[s->count >> REC_CHUNK_SHIFT][s->count & (REC_CHUNK - 1)];
	s->count++;
	r->path = a;
	r->path_len = (uint16_t)path_len;
	r->target_len = (uint16_t)target_len;
	r->kind = kind;
	r->mode = (uint16_t)(sb->st_mode & 07777);
	r->uid = (uint32_t)sb->st_uid;
	r->gid = (uint32_t)sb->st_gid;
	r->mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
	memcpy(a, w->path, path_len);
	a[path_len] = '\0';
	if (target_len > 0) {
		memcpy(a + path_len + 1, target, target_len);
		a[path_len + 1 + target_len] = '\0';
	}
	if (s->sets) {
		uint16_t sl = (uint16_t)w->set_len;

		memcpy(a + strings, &sl, sizeof(sl));
		memcpy(a + strings + sizeof(sl), w->set, sl);
	}
	s->used += need;
	switch (kind) {
	case XF_FILE_REG:
		r->size = (uint64_t)sb->st_size;
		w->st->files++;
		w->st->bytes += r->size;
		if (w->hardlinks && sb->st_nlink > 1) {
			if (!grow((void **)&w->links, &w->links_cap, w->nlinks + 1,
			          sizeof(*w->links), 64)) {
				w->err = ENOMEM;
				return -ENOMEM;
			}
			w->links[w->nlinks++] = (struct link){
				.dev = (uint64_t)sb->st_dev,
				.ino = (uint64_t)sb->st_ino,
				.index = s->count - 1,
			};
		}
		break;
	case XF_FILE_DIR:
		r->size = 0;
		w->st->dirs++;
		break;
	default:
		r->size = target_len;
		w->st->symlinks++;
		break;
	}
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: bytewise order, independent of the locale. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->v[i]);
	}
	free(nm->v);
}

/* The group of a name from its dirent type; the file system may not say (DT_UNKNOWN): a
 * stat then. A type that changes before the entry's own stat only moves it in the list. */
static char
name_group(DIR *d, const struct dirent *de)
{
	unsigned char type = de->d_type;
	struct stat sb;

	if (type == DT_UNKNOWN && fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		type = S_ISREG(sb.st_mode) ? DT_REG : S_ISDIR(sb.st_mode) ? DT_DIR : DT_LNK;
	}
	return type == DT_REG ? NAME_FILE : type == DT_DIR ? NAME_DIR : NAME_OTHER;
}

/* Read every name of d but "." and "..", in list order (struct names). */
static int
names_read(DIR *d, struct names *nm)
{
	struct dirent *de;

	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		if (!grow((void **)&nm->v, &nm->cap, nm->n + 1, sizeof(*nm->v), 64)) {
			return -ENOMEM;
		}
		size_t len = strlen(de->d_name);

		nm->v[nm->n] = malloc(len + 2);
		if (nm->v[nm->n] == NULL) {
			return -ENOMEM;
		}
		nm->v[nm->n][0] = name_group(d, de);
		memcpy(nm->v[nm->n] + 1, de->d_name, len + 1);
		nm->n++;
	}
	if (errno != 0) {
		return -errno;
	}
	if (nm->n > 1) { /* an empty directory has no array: qsort(NULL) is undefined */
		qsort(nm->v, nm->n, sizeof(*nm->v), cmp_name);
	}
	return 0;
}

static void walk_dir(struct walk *w, int dfd, size_t plen);

/*
 * A volume's staging directory (XF_STAGING_DIR in dataplane/pipeline/xf_work.h): its
 * temp files and its signature cache (docs/DELTA.md) are the appliance's own, and a
 * receiver refuses any path with a component of this name, in any case. So a source
 * that is (or holds) a volume never lists it: not sent, not counted as failed.
 */
#define SCAN_STAGING_NAME ".xferd"

/* One name in the directory dfd, whose relative path is w->path[0..plen). */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The attribute set of name in directory dfd (name NULL: dfd itself) in the namespaces
 * w->xns, encoded into buf (cap bytes): its length (0: none), -E2BIG (more than
 * XF_XATTR_LIST_MAX attributes, or more than cap bytes), or -errno. An entry through
 * /proc/self/fd/DFD/NAME with the l*xattr calls: they take a path, one component under an
 * open directory never leaves it, and the last is not followed; a file system without
 * attributes has none.
 */
static int
read_set(struct walk *w, int dfd, const char *name, uint8_t *buf, size_t cap)
{
	const char *names[XF_XATTR_LIST_MAX];
	char path[64 + XF_NAME_MAX];
	struct xf_xattr_enc e;
	unsigned int n = 0;
	ssize_t ll;

	if (name != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dfd, name);
	}
	ll = name != NULL ? llistxattr(path, w->xlist, sizeof(w->xlist))
	                  : flistxattr(dfd, w->xlist, sizeof(w->xlist));
	if (ll < 0) {
		return errno == ENOTSUP || errno == ENODATA ? 0 : -errno;
	}
	for (ssize_t i = 0; i < ll; i += (ssize_t)strlen(w->xlist + i) + 1) {
		if ((xf_xattr_ns(w->xlist + i, strlen(w->xlist + i)) & w->xns) == 0) {
			continue;
		}
		if (n == XF_XATTR_LIST_MAX) {
			return -E2BIG;
		}
		names[n++] = w->xlist + i;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	xf_xattr_enc_init(&e, buf, cap);
	for (unsigned int i = 0; i < n; i++) {
		ssize_t vl = name != NULL ? lgetxattr(path, names[i], w->xval, sizeof(w->xval))
		                          : fgetxattr(dfd, names[i], w->xval, sizeof(w->xval));

		if (vl < 0) {
			if (errno == ENODATA) {
				continue; /* removed since the list */
			}
			return -errno;
		}
		if (xf_xattr_enc_add(&e, names[i], strlen(names[i]), w->xval, (size_t)vl) != 0) {
			return -E2BIG;
		}
	}
	return xf_xattr_enc_finish(&e);
}

/* The set of entry name into w->set: true to list the entry, false if it is skipped. */
static bool
entry_set(struct walk *w, int dfd, const char *name, size_t len, bool has_set)
{
	w->set_len = 0;
	if (w->xns == 0 || !has_set) {
		return true;
	}
	w->set_len = read_set(w, dfd, name, w->set, sizeof(w->set));
	if (w->set_len == -E2BIG) {
		w->set_len = 0;
		w->st->skipped_xattr++;
		XF_LOG(WARNING, "scan",
		       "skipped %.*s: extended attributes over %u bytes or %u attributes", (int)len,
		       w->path, XF_XATTR_WIRE_MAX, XF_XATTR_LIST_MAX);
		return false;
	}
	if (w->set_len < 0) {
		w->st->errors++;
		XF_LOG(WARNING, "scan", "skipped %.*s: extended attributes: %s", (int)len, w->path,
		       strerror(-w->set_len));
		w->set_len = 0;
		return false;
	}
	return true;
}

static void
walk_entry(struct walk *w, int dfd, size_t plen, const char *name)
{
	size_t nlen = strlen(name);
	size_t len = plen == 0 ? nlen : plen + 1 + nlen;
	struct stat sb;
	ssize_t tl;
	int cfd;

	if (strcasecmp(name, SCAN_STAGING_NAME) == 0) {
		w->st->skipped_staging++;
		return;
	}

	if (nlen > XF_NAME_MAX || len > XF_PATH_MAX) {
		w->st->skipped_long++;
		XF_LOG(WARNING, "scan", "skipped %.*s/%s: path longer than %u bytes", (int)plen,
		       w->path, name, XF_PATH_MAX);
		return;
	}
	if (plen > 0) {
		w->path[plen] = '/';
	}
	memcpy(w->path + len - nlen, name, nlen);
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		w->st->errors++;
		XF_LOG(WARNING, "scan", "skipped %.*s: stat: %s", (int)len, w->path,
		       strerror(errno));
		return;
	}
	/* After the stat: a rule ending in '/' needs to know a directory, and d_type may not
	 * say. An excluded directory is not opened: nothing below it is read. */
	if (w->filter != NULL && xf_filter_match(w->filter, w->path + w->rel_off, len - w->rel_off,
	                                         S_ISDIR(sb.st_mode)) == XF_FILTER_EXCLUDED) {
		w->st->filtered++;
		return;
	}
	/* Symlinks carry none: Linux keeps no user.* attribute on one. */
	if (!entry_set(w, dfd, name, len, S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode))) {
		return;
	}
	switch (sb.st_mode & S_IFMT) {
	case S_IFREG:
		(void)add(w, XF_FILE_REG, &sb, len, NULL, 0);
		return;
	case S_IFLNK:
		tl = readlinkat(dfd, name, w->target, sizeof(w->target));
		if (tl <= 0) {
			w->st->errors++;
			XF_LOG(WARNING, "scan", "skipped %.*s: readlink: %s", (int)len, w->path,
			       tl < 0 ? strerror(errno) : "empty target");
			return;
		}
		if ((size_t)tl > XF_PATH_MAX) {
			w->st->skipped_long++;
			XF_LOG(WARNING, "scan", "skipped %.*s: symlink target longer than %u bytes",
			       (int)len, w->path, XF_PATH_MAX);
			return;
		}
		(void)add(w, XF_FILE_SYMLINK, &sb, len, w->target, (size_t)tl);
		return;
	case S_IFDIR:
		if (add(w, XF_FILE_DIR, &sb, len, NULL, 0) != 0) {
			return;
		}
		/* O_NOFOLLOW: a directory swapped for a symlink since the stat is not entered. */
		cfd = dir_open(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		               &w->noatime);
		if (cfd < 0) {
			w->st->errors++;
			XF_LOG(WARNING, "scan", "cannot read directory %.*s: %s", (int)len, w->path,
			       strerror(errno));
			return;
		}
		walk_dir(w, cfd, len);
		return;
	default:
		w->st->skipped_special++;
		XF_LOG(WARNING, "scan", "skipped %.*s: not a regular file, directory or symlink",
		       (int)len, w->path);
		return;
	}
}

/* List the directory open at dfd (consumed), whose relative path is w->path[0..plen). */
static void
walk_dir(struct walk *w, int dfd, size_t plen)
{
	struct names nm = { 0 };
	DIR *d = fdopendir(dfd);
	int rc;

	if (d == NULL) {
		w->st->errors++;
		XF_LOG(WARNING, "scan", "cannot read directory %.*s: %s", (int)plen, w->path,
		       strerror(errno));
		close(dfd);
		return;
	}
	rc = names_read(d, &nm);
	if (rc == -ENOMEM) {
		w->err = ENOMEM;
	} else if (rc != 0) {
		w->st->errors++;
		XF_LOG(WARNING, "scan", "reading directory %.*s: %s", (int)plen, w->path,
		       strerror(-rc));
	}
	for (size_t i = 0; i < nm.n && w->err == 0; i++) {
		walk_entry(w, dirfd(d), plen, nm.v[i] + 1);
	}
	names_free(&nm);
	closedir(d);
}

static int
cmp_link(const void *a, const void *b)
{
	const struct link *x = a, *y = b;

	if (x->dev != y->dev) {
		return x->dev < y->dev ? -1 : 1;
	}
	if (x->ino != y->ino) {
		return x->ino < y->ino ? -1 : 1;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * After the walk: the files noted in w->links that share (dev, ino) form a group; the
 * first in list order leads it, and every later one becomes a hard link to it (its size
 * field then holds the leader's index, its target_len the leader's path length).
 */
static void
group_links(struct walk *w)
{
	size_t lead = 0;

	if (w->nlinks > 1) {
		qsort(w->links, w->nlinks, sizeof(*w->links), cmp_link);
	}
	for (size_t i = 1; i < w->nlinks; i++) {
		const struct link *l = &w->links[i];

		if (l->dev != w->links[lead].dev || l->ino != w->links[lead].ino) {
			lead = i;
			continue;
		}
		struct rec *r = rec_at(w->s, l->index);
		const struct rec *ld = rec_at(w->s, w->links[lead].index);

		w->st->files--;
		w->st->bytes -= r->size;
		w->st->hardlinks++;
		r->kind = XF_FILE_HARDLINK;
		r->size = w->links[lead].index;
		r->target_len = ld->path_len;
	}
}

struct xf_scan *
xf_scan_tree(const char *root, const char *prefix, const struct xf_filter *filter,
             unsigned int flags, struct xf_scan_stats *st)
{
	struct xf_scan_stats dummy;
	size_t prefix_len = prefix != NULL ? strlen(prefix) : 0;
	struct walk *w;
	struct xf_scan *s;
	int noatime = O_NOATIME;
	int fd, err;

	if (st == NULL) {
		st = &dummy;
	}
	memset(st, 0, sizeof(*st));
	if (prefix_len >= XF_PATH_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = dir_open(AT_FDCWD, root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, &noatime);
	if (fd < 0) {
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	w = calloc(1, sizeof(*w));
	if (s == NULL || w == NULL) {
		err = ENOMEM;
		goto err_free;
	}
	w->s = s;
	w->st = st;
	w->noatime = noatime;
	w->filter = filter;
	w->hardlinks = (flags & XF_SCAN_F_HARDLINKS) != 0;
	w->xns = ((flags & XF_SCAN_F_XATTRS) != 0
	                  ? XF_XATTR_NS_USER | XF_XATTR_NS_SECURITY | XF_XATTR_NS_TRUSTED
	                  : 0u) |
	         ((flags & XF_SCAN_F_ACLS) != 0 ? XF_XATTR_NS_ACL : 0u);
	s->sets = w->xns != 0;
	if (s->sets && !SETS_FIT) {
		err = EINVAL;
		close(fd);
		fd = -1;
		goto err_free;
	}
	if (s->sets) {
		int rl = read_set(w, fd, NULL, s->root_set, sizeof(s->root_set));

		if (rl < 0) {
			/* The root's own set cannot be sent: the push would not copy it. */
			err = rl == -E2BIG ? E2BIG : -rl;
			close(fd);
			fd = -1;
			goto err_free;
		}
		s->root_set_len = (uint16_t)rl;
	}
	w->rel_off = prefix_len > 0 ? prefix_len + 1 : 0;
	/* The walk extends w->path from the prefix: each entry is "prefix/rel" as stored. */
	if (prefix_len > 0) {
		memcpy(w->path, prefix, prefix_len);
	}
	walk_dir(w, fd, prefix_len);
	err = w->err;
	if (err != 0) {
		goto err_free;
	}
	group_links(w);
	free(w->links);
	free(w);
	return s;

err_free:
	if (w == NULL || s == NULL) {
		close(fd);
	}
	if (w != NULL) {
		free(w->links);
	}
	free(w);
	xf_scan_free(s);
	errno = err;
	return NULL;
}

size_t
xf_scan_count(const struct xf_scan *s)
{
	return s->count;
}

void
xf_scan_get(const struct xf_scan *s, size_t i, struct xf_flist_entry *e)
{
	const struct rec *r = rec_at(s, i);

	e->kind = r->kind;
	e->mode = r->mode;
	e->uid = r->uid;
	e->gid = r->gid;
	e->size = r->size;
	e->mtime_ns = r->mtime_ns;
	e->path = r->path;
	e->path_len = r->path_len;
	e->target = r->target_len > 0 ? r->path + r->path_len + 1 : NULL;
	e->target_len = r->target_len;
	e->xattr = NULL;
	e->xattr_len = 0;
	if (s->sets && (r->kind == XF_FILE_REG || r->kind == XF_FILE_DIR)) {
		/* After the path's NUL (neither kind stores a target). */
		const uint8_t *x = (const uint8_t *)r->path + r->path_len + 1;

		memcpy(&e->xattr_len, x, sizeof(e->xattr_len));
		e->xattr = e->xattr_len != 0 ? x + sizeof(e->xattr_len) : NULL;
	}
	if (r->kind == XF_FILE_HARDLINK) {
		e->target = rec_at(s, r->size)->path;
		e->size = r->target_len;
	}
}

const uint8_t *
xf_scan_root_xattr(const struct xf_scan *s, uint16_t *len)
{
	*len = s->root_set_len;
	return s->root_set_len != 0 ? s->root_set : NULL;
}

void
xf_scan_free(struct xf_scan *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nrec_chunks; i++) {
		free(s->recs[i]);
	}
	free(s->recs);
	for (size_t i = 0; i < s->narenas; i++) {
		free(s->arenas[i]);
	}
	free(s->arenas);
	free(s);
}
