/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Attribute sets of file-list entries (xf_xattr.h, docs/PROTOCOL.md 6.20).
 */
#include <errno.h>
#include <string.h>

#include "xf_xattr.h"

/* CRC-64/XZ, reflected polynomial 0xC96C5795D7870F42, four bits a step. */
static const uint64_t nib[16] = {
	0x0000000000000000ull, 0x7d9ba13851336649ull, 0xfb374270a266cc92ull, 0x86ace348f355aadbull,
	0x64b62bcaebc387a1ull, 0x192d8af2baf0e1e8ull, 0x9f8169ba49a54b33ull, 0xe21ac88218962d7aull,
	0xc96c5795d7870f42ull, 0xb4f7f6ad86b4690bull, 0x325b15e575e1c3d0ull, 0x4fc0b4dd24d2a599ull,
	0xadda7c5f3c4488e3ull, 0xd041dd676d77eeaaull, 0x56ed3e2f9e224471ull, 0x2b769f17cf112238ull,
};

uint64_t
xf_xattr_crc64(uint64_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ nib[crc & 0xfu];
		crc = (crc >> 4) ^ nib[crc & 0xfu];
	}
	return ~crc;
}

static uint16_t
ld16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint64_t
ld64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

static bool
prefixed(const char *name, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len > n && memcmp(name, prefix, n) == 0;
}

unsigned int
xf_xattr_ns(const char *name, size_t len)
{
	static const char acc[] = "system.posix_acl_access";
	static const char def[] = "system.posix_acl_default";

	if (prefixed(name, len, "user.")) {
		return XF_XATTR_NS_USER;
	}
	if (prefixed(name, len, "security.")) {
		return XF_XATTR_NS_SECURITY;
	}
	if (prefixed(name, len, "trusted.")) {
		return XF_XATTR_NS_TRUSTED;
	}
	if ((len == sizeof(acc) - 1 && memcmp(name, acc, len) == 0) ||
	    (len == sizeof(def) - 1 && memcmp(name, def, len) == 0)) {
		return XF_XATTR_NS_ACL;
	}
	return 0;
}

/* Bytewise order of two names, the shorter first on a common prefix. */
static int
name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : (an > bn) - (an < bn);
}

enum xf_xattr_reason
xf_xattr_check(const uint8_t *set, size_t len, unsigned int ns)
{
	struct xf_xattr a, prev = { 0 };
	size_t pos = XF_XATTR_HDR_LEN;
	uint16_t count;

	if (len == 0) {
		return XF_XATTR_OK;
	}
	if (len < XF_XATTR_HDR_LEN) {
		return XF_XATTR_R_MALFORMED;
	}
	count = ld16(set + 8);
	if (count == 0) {
		return XF_XATTR_R_MALFORMED;
	}
	/* The structure first, then the CRC-64 (a set that cannot be walked is malformed
	 * whatever its CRC), then the bounds, each with its own reason. */
	for (uint16_t i = 0; i < count; i++) {
		if (len - pos < XF_XATTR_REC_LEN) {
			return XF_XATTR_R_MALFORMED;
		}
		a.name_len = set[pos];
		a.value_len = ld16(set + pos + 1);
		if (len - pos - XF_XATTR_REC_LEN < (size_t)a.name_len + a.value_len) {
			return XF_XATTR_R_MALFORMED;
		}
		pos += XF_XATTR_REC_LEN + (size_t)a.name_len + a.value_len;
	}
	if (pos != len) {
		return XF_XATTR_R_MALFORMED;
	}
	if (xf_xattr_crc64(0, set + 8, len - 8) != ld64(set)) {
		return XF_XATTR_R_CRC;
	}
	if (count > XF_XATTR_COUNT_MAX) {
		return XF_XATTR_R_COUNT;
	}
	if (len > XF_XATTR_SET_MAX) {
		return XF_XATTR_R_TOTAL;
	}
	pos = 0;
	for (uint16_t i = 0; xf_xattr_next(set, len, &pos, &a); i++) {
		if (a.name_len == 0 || memchr(a.name, '\0', a.name_len) != NULL ||
		    (xf_xattr_ns(a.name, a.name_len) & ns) == 0 ||
		    (i > 0 && name_cmp(prev.name, prev.name_len, a.name, a.name_len) >= 0)) {
			return XF_XATTR_R_NAME;
		}
		if (a.value_len > XF_XATTR_VALUE_MAX) {
			return XF_XATTR_R_VALUE;
		}
		prev = a;
	}
	return XF_XATTR_OK;
}

bool
xf_xattr_next(const uint8_t *set, size_t len, size_t *cursor, struct xf_xattr *a)
{
	size_t pos = *cursor < XF_XATTR_HDR_LEN ? XF_XATTR_HDR_LEN : *cursor;

	if (len < XF_XATTR_HDR_LEN || pos + XF_XATTR_REC_LEN > len) {
		return false;
	}
	a->name_len = set[pos];
	a->value_len = ld16(set + pos + 1);
	if (len - pos - XF_XATTR_REC_LEN < (size_t)a->name_len + a->value_len) {
		return false;
	}
	a->name = (const char *)set + pos + XF_XATTR_REC_LEN;
	a->value = set + pos + XF_XATTR_REC_LEN + a->name_len;
	*cursor = pos + XF_XATTR_REC_LEN + a->name_len + a->value_len;
	return true;
}

void
xf_xattr_enc_init(struct xf_xattr_enc *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = XF_XATTR_HDR_LEN;
	e->count = 0;
	e->overflow = cap < XF_XATTR_HDR_LEN;
}

int
xf_xattr_enc_add(struct xf_xattr_enc *e, const char *name, size_t name_len, const void *value,
                 size_t value_len)
{
	size_t n = XF_XATTR_REC_LEN + name_len + value_len;
	uint8_t *p;

	if (name_len == 0 || name_len > XF_XATTR_NAME_MAX || value_len > UINT16_MAX ||
	    e->count == UINT16_MAX) {
		return -EINVAL;
	}
	if (e->overflow || e->cap - e->len < n) {
		e->overflow = true;
		return -ENOSPC;
	}
	p = e->buf + e->len;
	p[0] = (uint8_t)name_len;
	p[1] = (uint8_t)(value_len >> 8);
	p[2] = (uint8_t)value_len;
	memcpy(p + XF_XATTR_REC_LEN, name, name_len);
	if (value_len != 0) {
		memcpy(p + XF_XATTR_REC_LEN + name_len, value, value_len);
	}
	e->len += n;
	e->count++;
	return 0;
}

int
xf_xattr_enc_finish(struct xf_xattr_enc *e)
{
	uint64_t crc;

	if (e->overflow) {
		return -ENOSPC;
	}
	if (e->count == 0) {
		return 0;
	}
	e->buf[8] = (uint8_t)(e->count >> 8);
	e->buf[9] = (uint8_t)e->count;
	crc = xf_xattr_crc64(0, e->buf + 8, e->len - 8);
	for (int i = 0; i < 8; i++) {
		e->buf[i] = (uint8_t)(crc >> (56 - 8 * i));
	}
	return (int)e->len;
}

const char *
xf_xattr_reason_name(enum xf_xattr_reason r)
{
	static const char *const names[XF_XATTR_R_MAX] = {
		[XF_XATTR_OK] = "ok",         [XF_XATTR_R_MALFORMED] = "malformed",
		[XF_XATTR_R_CRC] = "crc",     [XF_XATTR_R_NAME] = "name",
		[XF_XATTR_R_VALUE] = "value", [XF_XATTR_R_COUNT] = "count",
		[XF_XATTR_R_TOTAL] = "total",
	};

	return (unsigned int)r < XF_XATTR_R_MAX ? names[r] : "?";
}

/* POSIX ACL entry tags (linux/posix_acl.h) and sizes (linux/posix_acl_xattr.h). */
#define ACL_HDR       4u
#define ACL_ENT       8u
#define ACL_USER_OBJ  0x01u
#define ACL_GROUP_OBJ 0x04u
#define ACL_MASK      0x10u
#define ACL_OTHER     0x20u

/* The tag of an access ACL entry, and its permissions as rsync compares them: the owner's,
 * the mask's and others' are the mode's (ignored), the owning group's only count under a
 * mask (without one they are the mode's group bits). */
static uint32_t
acl_entry_key(const uint8_t *e, bool masked)
{
	uint16_t tag = (uint16_t)(e[0] | e[1] << 8);
	uint16_t perm = (uint16_t)(e[2] | e[3] << 8);

	if (tag == ACL_USER_OBJ || tag == ACL_MASK || tag == ACL_OTHER ||
	    (tag == ACL_GROUP_OBJ && !masked)) {
		perm = 0;
	}
	return (uint32_t)tag << 16 | perm;
}

static bool
acl_masked(const uint8_t *v, size_t len)
{
	for (size_t i = ACL_HDR; i + ACL_ENT <= len; i += ACL_ENT) {
		if ((v[i] | v[i + 1] << 8) == ACL_MASK) {
			return true;
		}
	}
	return false;
}

/* Entries but the mode's own: a mask, or a named user or group. */
static size_t
acl_extended(const uint8_t *v, size_t len)
{
	size_t n = 0;

	for (size_t i = ACL_HDR; i + ACL_ENT <= len; i += ACL_ENT) {
		uint16_t tag = (uint16_t)(v[i] | v[i + 1] << 8);

		n += tag != ACL_USER_OBJ && tag != ACL_GROUP_OBJ && tag != ACL_OTHER;
	}
	return n;
}

bool
xf_xattr_acl_differs(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, bool access)
{
	bool am, bm;

	if (!access || (a_len != 0 && (a_len < ACL_HDR || (a_len - ACL_HDR) % ACL_ENT != 0)) ||
	    (b_len != 0 && (b_len < ACL_HDR || (b_len - ACL_HDR) % ACL_ENT != 0))) {
		return a_len != b_len || (a_len != 0 && memcmp(a, b, a_len) != 0);
	}
	/* A minimal ACL (the owner, the group, others) is the mode alone: as no ACL. */
	if (acl_extended(a, a_len) == 0 || acl_extended(b, b_len) == 0) {
		return acl_extended(a, a_len) != acl_extended(b, b_len);
	}
	if (a_len != b_len || memcmp(a, b, ACL_HDR) != 0) {
		return true;
	}
	am = acl_masked(a, a_len);
	bm = acl_masked(b, b_len);
	if (am != bm) {
		return true;
	}
	for (size_t i = ACL_HDR; i < a_len; i += ACL_ENT) {
		if (acl_entry_key(a + i, am) != acl_entry_key(b + i, bm) ||
		    memcmp(a + i + 4, b + i + 4, 4) != 0) {
			return true;
		}
	}
	return false;
}
