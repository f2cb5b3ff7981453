/* SPDX-License-Identifier: BSD-3-Clause */
/* Deletion of what a file list lacks, step by step (xf_delete.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "xf_base.h"
#include "xf_delete.h"
#include "xf_filter.h"
#include "xf_path.h"
#include "xf_proto.h"
#include "xf_work.h"

#define NOPATH UINT16_MAX /* a directory whose path does not fit XF_PATH_MAX */

struct del_dir {
	DIR *dir;
	uint16_t plen; /* bytes of its path in d->path, or NOPATH */
	bool extra;    /* not in the list: deleted once emptied */
	bool held;     /* holds an entry the protect rules keep: never emptied */
	char name[XF_NAME_MAX + 1];
};

struct xf_delete {
	struct xf_delete_conf c;
	struct xf_delete_result r;
	unsigned int depth;
	bool cancelled;
	char path[XF_PATH_MAX + 1 + XF_NAME_MAX + 1];
	struct del_dir st[XF_DELETE_DEPTH];
};

static void
fail(struct xf_delete *d)
{
	d->r.status = XF_DEL_ERROR;
}

/* Remove name (a directory with flags AT_REMOVEDIR) from dfd, within the limit. */
static void
remove_one(struct xf_delete *d, int dfd, const char *name, int flags, uint16_t plen)
{
	if (d->r.deleted >= d->c.max_delete) {
		d->r.kept++;
		if (d->r.status == XF_DEL_OK) {
			d->r.status = XF_DEL_LIMIT;
		}
		return;
	}
	if (!d->c.dry && unlinkat(dfd, name, flags) != 0) {
		if (errno != ENOENT) {
			d->r.kept++;
			fail(d);
		}
		return;
	}
	d->r.deleted++;
	if (d->c.item != NULL) {
		d->c.item(d->c.item_arg, plen != NOPATH ? d->path : NULL, plen != NOPATH ? plen : 0,
		          flags == AT_REMOVEDIR);
	}
}

/* Enter directory name of the top one. @return false if it could not be entered. */
static bool
push(struct xf_delete *d, const char *name, uint16_t plen, bool extra)
{
	struct del_dir *top = &d->st[d->depth - 1];
	struct del_dir *n;
	int fd;

	if (d->depth == XF_DELETE_DEPTH) {
		fail(d);
		d->r.kept += extra;
		return true; /* neither entered nor to remove */
	}
	fd = openat(dirfd(top->dir), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/* Swapped for a symlink or a file since it was listed: that is what it is now. */
		return errno != ELOOP && errno != ENOTDIR ? (fail(d), d->r.kept += extra, true)
		                                          : false;
	}
	n = &d->st[d->depth];
	n->dir = fdopendir(fd);
	if (n->dir == NULL) {
		close(fd);
		fail(d);
		d->r.kept += extra;
		return true;
	}
	n->plen = plen;
	n->extra = extra;
	n->held = false;
	memcpy(n->name, name, strlen(name) + 1);
	d->depth++;
	return true;
}

/* Leave the top directory; an extraneous one is removed now that it is empty. */
static void
pop(struct xf_delete *d)
{
	struct del_dir *top = &d->st[d->depth - 1];

	closedir(top->dir);
	top->dir = NULL;
	d->depth--;
	if (top->held) {
		/* Not empty, nor is its parent: kept, as rsync keeps it ("cannot delete
		 * non-empty directory"), without an error. */
		if (d->depth > 0) {
			d->st[d->depth - 1].held = true;
		}
		d->r.protected_n += top->extra;
		return;
	}
	if (top->extra && d->depth > 0 && !d->cancelled) {
		if (top->plen != NOPATH) {
			d->path[top->plen] = '\0';
		}
		remove_one(d, dirfd(d->st[d->depth - 1].dir), top->name, AT_REMOVEDIR, top->plen);
	}
}

struct xf_delete *
xf_delete_start(const struct xf_delete_conf *conf)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct xf_delete *d = calloc(1, sizeof(*d));
	int fd;

	if (d == NULL) {
		return NULL;
	}
	d->c = *conf;
	if (conf->dest_len > XF_PATH_MAX) {
		fail(d);
		return d;
	}
	memcpy(d->path, conf->dest, conf->dest_len);
	d->path[conf->dest_len] = '\0';
	fd = (int)syscall(SYS_openat2, conf->root_fd, conf->dest_len != 0 ? d->path : ".", &how,
	                  sizeof(how));
	if (fd < 0) {
		if (errno != ENOENT) {
			fail(d);
		}
		return d;
	}
	d->st[0].dir = fdopendir(fd);
	if (d->st[0].dir == NULL) {
		close(fd);
		fail(d);
		return d;
	}
	d->st[0].plen = (uint16_t)conf->dest_len;
	d->st[0].held = false;
	d->depth = 1;
	return d;
}

/* The staging directory's name: never deleted nor entered, at any depth. */
static bool
is_staging(const char *name)
{
	return strcasecmp(name, XF_STAGING_DIR) == 0;
}

static bool
is_dir(int dfd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type != DT_UNKNOWN) {
		return de->d_type == DT_DIR;
	}
	return fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Does the protect filter keep the extraneous entry at d->path (plen bytes, NOPATH: too
 * long to name, so kept too: a rule might have matched it)?
 */
static bool
protected_entry(const struct xf_delete *d, uint16_t plen, bool dir)
{
	size_t skip = d->c.dest_len != 0 ? d->c.dest_len + 1 : 0;

	if (d->c.protect == NULL) {
		return false;
	}
	return plen == NOPATH || plen <= skip ||
	       xf_filter_match(d->c.protect, d->path + skip, plen - skip, dir) ==
	               XF_FILTER_EXCLUDED;
}

bool
xf_delete_step(struct xf_delete *d, unsigned int budget)
{
	while (d->depth > 0 && budget-- > 0) {
		struct del_dir *top = &d->st[d->depth - 1];
		uint16_t plen = NOPATH;
		struct dirent *de;
		size_t nl;
		bool extra, dir;

		if (d->cancelled) {
			pop(d);
			continue;
		}
		errno = 0;
		de = readdir(top->dir);
		if (de == NULL) {
			if (errno != 0) {
				fail(d);
			}
			pop(d);
			continue;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (!d->c.all && is_staging(de->d_name))) {
			continue;
		}
		nl = strlen(de->d_name);
		if (top->plen != NOPATH && top->plen + 1u + nl <= XF_PATH_MAX) {
			size_t at = top->plen;

			if (at != 0) {
				d->path[at++] = '/';
			}
			memcpy(d->path + at, de->d_name, nl + 1);
			plen = (uint16_t)(at + nl);
		}
		/* A path that does not fit was never in the list. */
		extra = d->c.all || top->extra || plen == NOPATH ||
		        !xf_pathset_has(d->c.keep, d->path, plen);
		dir = is_dir(dirfd(top->dir), de);
		if (extra && protected_entry(d, plen, dir)) {
			d->r.protected_n++;
			top->held = true;
			continue;
		}
		if (dir && push(d, de->d_name, plen, extra)) {
			continue; /* its contents first; an extraneous one goes when left */
		}
		if (extra) {
			remove_one(d, dirfd(top->dir), de->d_name, 0, plen);
		}
	}
	return d->depth == 0;
}

void
xf_delete_cancel(struct xf_delete *d)
{
	d->cancelled = true;
}

void
xf_delete_result(const struct xf_delete *d, struct xf_delete_result *r)
{
	*r = d->r;
}

void
xf_delete_free(struct xf_delete *d)
{
	if (d == NULL) {
		return;
	}
	while (d->depth > 0) {
		closedir(d->st[--d->depth].dir);
	}
	free(d);
}

void
xf_delete_list_add(void *arg, const char *path, size_t len, bool dir)
{
	struct xf_delete_list *l = arg;
	size_t rlen;

	if (path == NULL || len <= l->skip || len - l->skip > XF_PATH_MAX) {
		l->dropped++;
		return;
	}
	path += l->skip;
	len -= l->skip;
	rlen = 3 + len;
	if (l->len + rlen > XF_DELETE_LIST_MAX) {
		l->dropped++;
		return;
	}
	if (l->len + rlen > l->cap) {
		size_t cap = XF_MAX(XF_MAX(l->cap * 2, (size_t)4096), l->len + rlen);
		uint8_t *nb = realloc(l->buf, XF_MIN(cap, (size_t)XF_DELETE_LIST_MAX));

		if (nb == NULL) {
			l->dropped++;
			return;
		}
		l->buf = nb;
		l->cap = XF_MIN(cap, (size_t)XF_DELETE_LIST_MAX);
	}
	l->buf[l->len] = dir ? 1 : 0;
	l->buf[l->len + 1] = (uint8_t)(len >> 8);
	l->buf[l->len + 2] = (uint8_t)len;
	memcpy(l->buf + l->len + 3, path, len);
	l->len += rlen;
	l->n++;
}

bool
xf_delete_list_next(const struct xf_delete_list *l, size_t *off, const char **path, uint16_t *len,
                    bool *dir)
{
	if (*off + 3 > l->len) {
		return false;
	}
	*dir = l->buf[*off] != 0;
	*len = (uint16_t)(l->buf[*off + 1] << 8 | l->buf[*off + 2]);
	*path = (const char *)l->buf + *off + 3;
	*off += 3u + *len;
	return true;
}

void
xf_delete_list_free(struct xf_delete_list *l)
{
	free(l->buf);
	memset(l, 0, sizeof(*l));
}
