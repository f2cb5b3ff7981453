/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker: an entry's extended attributes and ACLs (docs/PROTOCOL.md 6.20). A regular
 * file gets its set on the verified temp file, before its mode, mtime and rename, so it
 * appears with them or not at all; a directory at its commit. In the namespaces the
 * entry carries and its volume keeps (user.*, the ACLs, and security.* and trusted.*
 * where volumes[].xattr_namespaces names them): every attribute of the set is set, every
 * other one there is removed (a new directory inherits its parent's default ACL), then
 * they are all read back, encoded in the canonical order, and the CRC-64 compared with
 * that of the set: verified like the file's data. Short blocking calls on the worker
 * (no io_uring opcode sets an attribute); the set was bounded by the session
 * (xf_xattr_check()), so every buffer here has a fixed size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "xf_worker_priv.h"
#include "xf_xattr.h"

/* Names listed by the kernel: XF_XATTR_COUNT_MAX kept ones, and room for others. */
#define LIST_MAX 16384u
#define ENC_MAX  (XF_XATTR_SET_MAX + XF_XATTR_NAME_MAX + 8u)

/* Namespaces item flags and the volume ask for. */
static unsigned int
managed(const struct xf_worker *w, uint32_t flags)
{
	unsigned int ns = 0;

	if ((flags & XF_WORK_F_XATTRS) != 0) {
		ns |= XF_XATTR_NS_USER |
		      (w->p->conf.xattr_ns & (XF_XATTR_NS_SECURITY | XF_XATTR_NS_TRUSTED));
	}
	if ((flags & XF_WORK_F_ACLS) != 0) {
		ns |= XF_XATTR_NS_ACL;
	}
	return ns;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Is name (NUL-terminated) in the set? */
static bool
in_set(const uint8_t *set, uint16_t len, const char *name)
{
	struct xf_xattr a;
	size_t cur = 0, n = strlen(name);

	while (xf_xattr_next(set, len, &cur, &a)) {
		if (a.name_len == n && memcmp(a.name, name, n) == 0) {
			return true;
		}
	}
	return false;
}

/* The CRC-64 and length of the set's attributes in namespaces ns, encoded alone. */
static int
expected(const uint8_t *set, uint16_t len, unsigned int ns, uint8_t *buf)
{
	struct xf_xattr_enc e;
	struct xf_xattr a;
	size_t cur = 0;

	xf_xattr_enc_init(&e, buf, ENC_MAX);
	while (xf_xattr_next(set, len, &cur, &a)) {
		if ((xf_xattr_ns(a.name, a.name_len) & ns) != 0) {
			xf_xattr_enc_add(&e, a.name, a.name_len, a.value, a.value_len);
		}
	}
	return xf_xattr_enc_finish(&e);
}

/* Read fd's attributes in namespaces ns back, encoded; -errno, or -EMSGSIZE when they
 * exceed what a set may hold (they cannot equal the set then). */
static int
read_back(int fd, unsigned int ns, uint8_t *buf, char *list)
{
	const char *names[XF_XATTR_COUNT_MAX];
	unsigned int n = 0;
	struct xf_xattr_enc e;
	uint8_t value[XF_XATTR_VALUE_MAX];
	ssize_t ll = flistxattr(fd, list, LIST_MAX);

	if (ll < 0) {
		return -errno;
	}
	for (ssize_t i = 0; i < ll; i += (ssize_t)strlen(list + i) + 1) {
		if ((xf_xattr_ns(list + i, strlen(list + i)) & ns) == 0) {
			continue;
		}
		if (n == XF_XATTR_COUNT_MAX) {
			return -EMSGSIZE;
		}
		names[n++] = list + i;
	}
	qsort(names, n, sizeof(names[0]), cmp_str);
	xf_xattr_enc_init(&e, buf, ENC_MAX);
	for (unsigned int i = 0; i < n; i++) {
		ssize_t vl = fgetxattr(fd, names[i], value, sizeof(value));

		if (vl < 0) {
			return errno == ERANGE ? -EMSGSIZE : -errno;
		}
		if (xf_xattr_enc_add(&e, names[i], strlen(names[i]), value, (size_t)vl) != 0) {
			return -EMSGSIZE;
		}
	}
	return xf_xattr_enc_finish(&e);
}

/* Remove fd's attributes in namespaces ns that the set lacks. */
static int
remove_others(int fd, unsigned int ns, const uint8_t *set, uint16_t len, char *list)
{
	ssize_t ll = flistxattr(fd, list, LIST_MAX);

	if (ll < 0) {
		return -errno;
	}
	for (ssize_t i = 0; i < ll; i += (ssize_t)strlen(list + i) + 1) {
		const char *name = list + i;

		if ((xf_xattr_ns(name, strlen(name)) & ns) != 0 && !in_set(set, len, name) &&
		    fremovexattr(fd, name) != 0 && errno != ENODATA) {
			return -errno;
		}
	}
	return 0;
}

static uint8_t
failed(struct xf_worker *w, const char *what, const char *name, int err)
{
	w->t.xattrs_failed++;
	XF_LOG(WARNING, MODULE, "attributes of %s: %s: %s", name, what, strerror(err));
	return XF_ST_XATTR;
}

uint8_t
xattr_apply(struct xf_worker *w, int fd, const char *name, uint32_t flags)
{
	unsigned int ns = managed(w, flags);
	const char *label = name + strlen(name) + 1; /* the last component, for the log */
	char aname[XF_XATTR_NAME_MAX + 1];
	uint8_t want[ENC_MAX], got[ENC_MAX];
	struct xf_xattr a;
	size_t cur = 0;
	uint16_t len;
	const uint8_t *set;
	char *list;
	int nw, ng, rc;

	if (ns == 0) {
		return XF_ST_OK;
	}
	set = xf_fname_xattr(name, &len);
	while (xf_xattr_next(set, len, &cur, &a)) {
		if ((xf_xattr_ns(a.name, a.name_len) & ns) == 0) {
			w->t.xattrs_skipped++; /* a namespace the volume does not keep */
			continue;
		}
		memcpy(aname, a.name, a.name_len);
		aname[a.name_len] = '\0';
		if (fsetxattr(fd, aname, a.value, a.value_len, 0) != 0) {
			return failed(w, aname, label, errno);
		}
	}
	list = malloc(LIST_MAX);
	if (list == NULL) {
		return failed(w, "listing", label, ENOMEM);
	}
	rc = remove_others(fd, ns, set, len, list);
	if (rc < 0) {
		free(list);
		return failed(w, "removing others", label, -rc);
	}
	nw = expected(set, len, ns, want);
	ng = read_back(fd, ns, got, list);
	free(list);
	if (ng < 0) {
		return failed(w, "reading back", label, -ng);
	}
	/* Equal lengths and CRC-64s (the first 8 bytes of a non-empty set). */
	if (nw != ng || (nw > 0 && memcmp(want, got, 8) != 0)) {
		return failed(w, "read back differs from the set sent", label, EIO);
	}
	w->t.xattrs_set++;
	return XF_ST_OK;
}

/* Does what fd holds in the managed namespaces differ from the set? (Also when it
 * cannot be read: the apply then says why.) */
static bool
differs(struct xf_worker *w, int fd, const char *name, uint32_t flags)
{
	unsigned int ns = managed(w, flags);
	uint8_t want[ENC_MAX], got[ENC_MAX];
	const uint8_t *set;
	uint16_t len;
	char *list = malloc(LIST_MAX);
	int nw, ng;

	if (list == NULL) {
		return true;
	}
	set = xf_fname_xattr(name, &len);
	nw = expected(set, len, ns, want);
	ng = read_back(fd, ns, got, list);
	free(list);
	return ng < 0 || nw != ng || (nw > 0 && memcmp(want, got, 8) != 0);
}

/* Does the ACL named aname (system.posix_acl_access or _default) on fd differ from the
 * set's, as rsync -A tells them apart (xf_xattr_acl_differs())? Unreadable: it differs. */
static bool
acl_differs(int fd, const uint8_t *set, uint16_t len, const char *aname, bool access)
{
	uint8_t got[XF_XATTR_VALUE_MAX];
	struct xf_xattr a = { 0 };
	size_t cur = 0, n = strlen(aname);
	ssize_t gl = fgetxattr(fd, aname, got, sizeof(got));

	if (gl < 0 && errno != ENODATA) {
		return true;
	}
	while (xf_xattr_next(set, len, &cur, &a) &&
	       (a.name_len != n || memcmp(a.name, aname, n) != 0)) {
		a = (struct xf_xattr){ 0 };
	}
	return xf_xattr_acl_differs(a.value, a.value_len, got, gl < 0 ? 0 : (size_t)gl, access);
}

uint16_t
xattr_items(struct xf_worker *w, int dirfd, const char *base, const char *name, uint32_t flags,
            bool dir)
{
	uint16_t items = 0;
	const uint8_t *set;
	uint16_t len;
	int fd;

	if (managed(w, flags) == 0) {
		return 0;
	}
	fd = openat(dirfd, base,
	            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (dir ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0) {
		/* Unreadable: it cannot be told equal (the apply says why it fails). */
		return ((flags & XF_WORK_F_XATTRS) != 0 ? XF_ITEM_XATTR : 0u) |
		       ((flags & XF_WORK_F_ACLS) != 0 ? XF_ITEM_ACL : 0u);
	}
	if ((flags & XF_WORK_F_XATTRS) != 0 && differs(w, fd, name, XF_WORK_F_XATTRS)) {
		items |= XF_ITEM_XATTR;
	}
	if ((flags & XF_WORK_F_ACLS) != 0) {
		set = xf_fname_xattr(name, &len);
		if (acl_differs(fd, set, len, "system.posix_acl_access", true) ||
		    (dir && acl_differs(fd, set, len, "system.posix_acl_default", false))) {
			items |= XF_ITEM_ACL;
		}
	}
	close(fd);
	return items;
}

uint8_t
xattr_apply_at(struct xf_worker *w, int dirfd, const char *base, const char *name, uint32_t flags,
               bool dir)
{
	uint8_t st = XF_ST_OK;
	int fd;

	if (managed(w, flags) == 0) {
		return XF_ST_OK;
	}
	/* O_NONBLOCK: the statx said regular file; should it have become a FIFO, the open
	 * does not wait for a writer. */
	fd = openat(dirfd, base,
	            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (dir ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0) {
		return failed(w, "opening", base, errno);
	}
	/* An up-to-date file is written only when its attributes differ. */
	if (dir || differs(w, fd, name, flags)) {
		st = xattr_apply(w, fd, name, flags);
	}
	close(fd);
	return st;
}
