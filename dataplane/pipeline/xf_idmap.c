/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Owners and groups by name: the receiver's cached name -> id map and the sender's
 * id -> name table (xf_idmap.h, docs/PROTOCOL.md 6.21).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_idmap.h"

/* getpw*_r and getgr*_r need a buffer for the entry's strings; 16 KiB holds a group of
 * about a thousand members; a larger one answers ERANGE and counts as unknown. */
#define NSS_BUF 16384u

int
xf_idmap_nss_byname(void *arg, enum xf_name_kind kind, const char *name, uint32_t *id)
{
	char buf[NSS_BUF];
	int rc;

	(void)arg;
	if (kind == XF_NAME_USER) {
		struct passwd pw, *res = NULL;

		rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		if (rc == 0 && res != NULL) {
			*id = (uint32_t)pw.pw_uid;
		}
		return rc != 0 ? -rc : res == NULL ? -ENOENT : 0;
	}
	struct group gr, *res = NULL;

	rc = getgrnam_r(name, &gr, buf, sizeof(buf), &res);
	if (rc == 0 && res != NULL) {
		*id = (uint32_t)gr.gr_gid;
	}
	return rc != 0 ? -rc : res == NULL ? -ENOENT : 0;
}

int
xf_idmap_nss_byid(void *arg, enum xf_name_kind kind, uint32_t id,
                  char name[XF_ACCOUNT_NAME_MAX + 1])
{
	char buf[NSS_BUF];
	const char *n = NULL;
	int rc;

	(void)arg;
	if (kind == XF_NAME_USER) {
		struct passwd pw, *res = NULL;

		rc = getpwuid_r((uid_t)id, &pw, buf, sizeof(buf), &res);
		n = rc == 0 && res != NULL ? pw.pw_name : NULL;
	} else {
		struct group gr, *res = NULL;

		rc = getgrgid_r((gid_t)id, &gr, buf, sizeof(buf), &res);
		n = rc == 0 && res != NULL ? gr.gr_name : NULL;
	}
	if (rc != 0) {
		return -rc;
	}
	/* A name the wire cannot carry goes as the number alone. */
	if (n == NULL || !xf_proto_name_ok(n, strlen(n))) {
		return -ENOENT;
	}
	memcpy(name, n, strlen(n) + 1);
	return 0;
}

void
xf_idmap_init(struct xf_idmap *m, xf_idmap_byname_fn fn, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->byname = fn != NULL ? fn : xf_idmap_nss_byname;
	m->arg = arg;
}

/* FNV-1a of the kind and the name. */
static uint32_t
slot_of(enum xf_name_kind kind, const char *name)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;

	for (const char *p = name; *p != '\0'; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
	}
	return h % XF_IDMAP_SLOTS;
}

uint32_t
xf_idmap_map(struct xf_idmap *m, enum xf_name_kind kind, const char *name, uint32_t id,
             uint64_t now_ns, bool *unmapped)
{
	struct xf_idmap_slot *s;
	size_t len;
	int rc;

	*unmapped = false;
	if (id == XF_ID_NONE || name == NULL || name[0] == '\0') {
		return id;
	}
	len = strnlen(name, XF_ACCOUNT_NAME_MAX + 1);
	if (!xf_proto_name_ok(name, len)) {
		*unmapped = true;
		return id;
	}
	s = &m->slot[slot_of(kind, name)];
	if (s->kind != kind || strcmp(s->name, name) != 0 || now_ns >= s->until_ns) {
		uint32_t local = 0;

		m->lookups++;
		rc = m->byname(m->arg, kind, name, &local);
		memcpy(s->name, name, len + 1);
		s->kind = (uint8_t)kind;
		s->found = rc == 0;
		s->id = local;
		/* A failed lookup (not "no such account") is asked again at the next entry. */
		s->until_ns = rc == 0 || rc == -ENOENT ? now_ns + XF_IDMAP_TTL_NS : now_ns;
	}
	if (!s->found) {
		*unmapped = true;
		return id;
	}
	return s->id;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Sorted distinct ids of v[0..n) other than XF_ID_NONE, in a new array; -ENOMEM. */
static int
distinct(const uint32_t *v, size_t n, uint32_t **out, size_t *k)
{
	uint32_t *d = malloc((n > 0 ? n : 1) * sizeof(*d));
	size_t j = 0;

	if (d == NULL) {
		return -ENOMEM;
	}
	if (n > 0) { /* v may be NULL then */
		memcpy(d, v, n * sizeof(*d));
		qsort(d, n, sizeof(*d), cmp_u32);
	}
	for (size_t i = 0; i < n; i++) {
		if (d[i] != XF_ID_NONE && (j == 0 || d[j - 1] != d[i])) {
			d[j++] = d[i];
		}
	}
	*out = d;
	*k = j;
	return 0;
}

int
xf_idnames_build(struct xf_idnames *t, const uint32_t *uids, const uint32_t *gids, size_t n,
                 xf_idmap_byid_fn fn, void *arg)
{
	uint32_t *ids[2] = { NULL, NULL };
	size_t k[2] = { 0, 0 }, total;
	int rc;

	memset(t, 0, sizeof(*t));
	fn = fn != NULL ? fn : xf_idmap_nss_byid;
	rc = distinct(uids, n, &ids[0], &k[0]);
	if (rc == 0) {
		rc = distinct(gids, n, &ids[1], &k[1]);
	}
	total = k[0] + k[1];
	if (rc == 0) {
		t->rec = calloc(total > 0 ? total : 1, sizeof(*t->rec));
		t->buf = malloc((total > 0 ? total : 1) * (XF_ACCOUNT_NAME_MAX + 1));
		rc = t->rec == NULL || t->buf == NULL ? -ENOMEM : 0;
	}
	/* Users first, then groups, each by id: the order the wire wants. */
	for (unsigned int kind = 0; rc == 0 && kind < 2; kind++) {
		for (size_t i = 0; i < k[kind]; i++) {
			char *name = t->buf + (size_t)t->n * (XF_ACCOUNT_NAME_MAX + 1);
			enum xf_name_kind nk = kind == 0 ? XF_NAME_USER : XF_NAME_GROUP;

			if (fn(arg, nk, ids[kind][i], name) != 0 ||
			    !xf_proto_name_ok(name, strnlen(name, XF_ACCOUNT_NAME_MAX + 1))) {
				continue;
			}
			t->rec[t->n++] = (struct xf_name_rec){
				.kind = (uint8_t)nk,
				.len = (uint8_t)strlen(name),
				.id = ids[kind][i],
				.name = name,
			};
		}
	}
	free(ids[0]);
	free(ids[1]);
	if (rc != 0) {
		xf_idnames_free(t);
	}
	return rc;
}

const struct xf_name_rec *
xf_idnames_find(const struct xf_idnames *t, enum xf_name_kind kind, uint32_t id)
{
	uint32_t lo = 0, hi = t->n;
	uint64_t key = ((uint64_t)kind << 32) | id;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t k = ((uint64_t)t->rec[mid].kind << 32) | t->rec[mid].id;

		if (k == key) {
			return &t->rec[mid];
		}
		if (k < key) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

void
xf_idnames_free(struct xf_idnames *t)
{
	free(t->rec);
	free(t->buf);
	memset(t, 0, sizeof(*t));
}
