/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the wire codec: the wire lengths, the big-endian loads and stores, the
 * record checks and the record parsers that the decoder (xf_proto.c) and the encoder
 * and builders (xf_proto_encode.c) share, so that the encoder refuses exactly what the
 * decoder rejects. They are static inline: the decoder runs them per frame on RX cores.
 *
 * Which file owns what:
 *   xf_proto.c         decoding a frame into struct xf_msg, the record accessors, the
 *                      names of reasons and types;
 *   xf_proto_encode.c  encoding a struct xf_msg, the DATA header, the record builders
 *                      (struct xf_proto_builder: buf, cap, len, count) and the in-place
 *                      setters of a built frame.
 */
#ifndef XF_PROTO_PRIV_H
#define XF_PROTO_PRIV_H

#include <endian.h>
#include <stdbool.h>
#include <string.h>

#include "xf_base.h"
#include "xf_proto.h"

/* Fixed parts and records on the wire (docs/PROTOCOL.md). */
#define HELLO_LEN        28u
#define FLIST_LEN        8u
#define FLIST_ENTRY_LEN  24u
#define DECISION_LEN     4u
#define DECISION_REC_LEN 16u
#define SIG_LEN          16u
#define SIG_REC_LEN      8u
#define DATA_LEN         16u
#define COPY_LEN         24u
#define FILE_END_LEN     24u
#define COMMIT_LEN       12u
#define COMMIT_REC_LEN   8u
#define ACK_LEN          16u
#define ACK_REC_LEN      16u
#define DONE_LEN         8u
#define DONE_DEL_LEN     20u /* with the deletion's outcome */
#define ABORT_LEN        4u

/* Largest payload after the header. */
#define BODY_MAX (XF_PAYLOAD_MAX - XF_HDR_LEN)
/* Offsets and sizes must stay valid as off_t (pwrite, copy_file_range). */
#define OFF_MAX ((uint64_t)INT64_MAX)

_Static_assert(XF_DATA_OVERHEAD == XF_HDR_LEN + DATA_LEN, "DATA layout");
_Static_assert(XF_FLIST_OVERHEAD == XF_HDR_LEN + FLIST_LEN + FLIST_ENTRY_LEN, "FLIST layout");
_Static_assert(XF_FLIST_OVERHEAD + XF_FLIST_OWNER_LEN + 2u * XF_PATH_MAX <= XF_PAYLOAD_MAX,
               "largest entry fits");
_Static_assert(XF_HDR_LEN + ACK_LEN + XF_ACK_RANGES * ACK_REC_LEN <= XF_PAYLOAD_MTU1500,
               "a full ACK fits MTU 1500");
_Static_assert(XF_HDR_LEN + ABORT_LEN + XF_ABORT_MSG_MAX <= XF_PAYLOAD_MIN, "ABORT always fits");
_Static_assert(XF_HDR_LEN + HELLO_LEN <= XF_PAYLOAD_MIN, "HELLO_ACK always fits");

/* Big-endian loads and stores through memcpy: frames are not aligned. */
static inline uint16_t
ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t
ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void
st16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
st32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
st64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

/* ---- Checks shared by the decoder, the encoder and the builders ---- */

static inline enum xf_proto_reason
check_hdr(const struct xf_hdr *h)
{
	if (h->type == 0 || h->type > XF_MSG_TYPE_MAX) {
		return XF_R_TYPE;
	}
	if (!xf_proto_hdr_flags_ok(h->type, h->flags)) {
		return XF_R_RESERVED;
	}
	if (h->session == 0) {
		return XF_R_FIELD;
	}
	return XF_R_OK;
}

/* A HELLO's fixed fields (ack: a HELLO_ACK's); inner: the options of a sealed block
 * (xf_proto_hello_unseal), which the clear HELLO's rule for them does not apply to. */
static inline enum xf_proto_reason
check_hello_opts(const struct xf_msg_hello *m, bool ack, bool inner)
{
	if ((m->flags & ~(uint32_t)XF_HELLO_F_ALL) != 0 ||
	    (ack && (m->flags & XF_HELLO_F_HELLO_ONLY) != 0) ||
	    (!ack && (m->flags & XF_HELLO_F_DATA_END) != 0)) {
		return XF_R_RESERVED;
	}
	if ((m->flags & XF_HELLO_F_OWNER_NAMES) != 0 && (m->flags & XF_HELLO_F_OWNER) == 0) {
		return XF_R_FIELD;
	}
	if ((m->flags & XF_HELLO_F_AEAD) == 0) {
		if (m->auth_len != 0 ||
		    (m->flags & (XF_HELLO_F_SEALED_DEST | XF_HELLO_F_SEALED_OPTS)) != 0) {
			return XF_R_FIELD;
		}
	} else if (ack) {
		if (m->auth_len != XF_HELLO_ACK_AUTH_LEN) {
			return XF_R_FIELD;
		}
	} else if ((m->flags & XF_HELLO_F_SEALED_DEST) == 0 || m->dest_len != 0 ||
	           (m->flags & XF_HELLO_F_SEALED_OPTS) == 0 || m->auth_len < XF_HELLO_AUTH_LEN ||
	           m->auth_len > XF_HELLO_AUTH_MAX) {
		/* With AEAD the destination field and the options are message 1's payload,
		 * never in clear (an earlier build's HELLO, with either in clear, is refused
		 * here). */
		return XF_R_FIELD;
	} else if (!inner && (m->flags != XF_HELLO_F_CLEAR_AEAD || m->window != 0)) {
		return XF_R_FIELD; /* an option in clear beside the sealed ones */
	}
	if (ack) {
		/* The destination is the initiator's to name; the answer carries none. */
		if (m->dest_len != 0) {
			return XF_R_RESERVED;
		}
		if (m->status > XF_ABORT_MAX) {
			return XF_R_FIELD;
		}
		/* A volume's ask for compressed DATA, and a receiver's word that it takes a
		 * file's end in its DATA frame, are answers to an accepted session. */
		if (m->status != 0 &&
		    (m->flags & (XF_HELLO_F_COMPRESS | XF_HELLO_F_DATA_END)) != 0) {
			return XF_R_FIELD;
		}
		/* An accepted session with no credit could never send a file. */
		if (m->status == 0 && m->window == 0) {
			return XF_R_FIELD;
		}
	} else if (m->status != 0 || ((m->flags & XF_HELLO_F_DELETE) == 0 && m->window != 0)) {
		return XF_R_RESERVED;
	} else if ((m->flags & (XF_HELLO_F_FILTERS | XF_HELLO_F_DELETE)) == XF_HELLO_F_FILTERS) {
		/* Rules only protect from a deletion. */
		return XF_R_FIELD;
	} else if ((m->flags & XF_HELLO_F_NO_COMPRESS) != 0 &&
	           (m->flags & (XF_HELLO_F_PULL | XF_HELLO_F_COMPRESS)) != XF_HELLO_F_PULL) {
		/* A pull's word on the push it asks for; --compress and --no-compress at once
		 * is no word. */
		return XF_R_FIELD;
	}
	if (m->min_version == 0 || m->min_version > m->max_version) {
		return XF_R_FIELD;
	}
	if (m->max_payload < XF_PAYLOAD_MIN || m->max_payload > XF_PAYLOAD_MAX) {
		return XF_R_FIELD;
	}
	if (m->dest_len > XF_PATH_MAX) {
		return XF_R_FIELD;
	}
	return XF_R_OK;
}

static inline enum xf_proto_reason
check_hello(const struct xf_msg_hello *m, bool ack)
{
	return check_hello_opts(m, ack, false);
}

static inline enum xf_proto_reason
check_entry(const struct xf_flist_entry *e)
{
	if (e->mode > 07777) {
		return XF_R_FIELD;
	}
	if (e->path_len == 0 || e->path_len > XF_PATH_MAX) {
		return XF_R_FIELD;
	}
	if (e->size > OFF_MAX) {
		return XF_R_FIELD;
	}
	switch (e->kind) {
	case XF_FILE_REG:
		return e->target_len == 0 ? XF_R_OK : XF_R_FIELD;
	case XF_FILE_DIR:
		return e->target_len == 0 && e->size == 0 ? XF_R_OK : XF_R_FIELD;
	case XF_FILE_SYMLINK:
	case XF_FILE_HARDLINK:
		if (e->target_len == 0 || e->target_len > XF_PATH_MAX || e->size != e->target_len) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	default:
		return XF_R_FIELD;
	}
}

static inline enum xf_proto_reason
check_decision(const struct xf_decision_rec *r)
{
	if ((r->items & ~XF_ITEM_ALL) != 0) {
		return XF_R_RESERVED;
	}
	/* A new entry has nothing to differ from. */
	if ((r->items & XF_ITEM_NEW) != 0 && r->items != XF_ITEM_NEW) {
		return XF_R_FIELD;
	}
	switch (r->decision) {
	case XF_DEC_UPTODATE:
	case XF_DEC_WHOLE:
		/* WHOLE may carry XF_ST_REDO: the file again, whole (docs/PROTOCOL.md 6.19). */
		if ((r->status != 0 && (r->decision != XF_DEC_WHOLE || r->status != XF_ST_REDO)) ||
		    r->block_size != 0 || r->block_count != 0) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	case XF_DEC_DELTA:
		if (r->status != 0 || r->block_size == 0 || r->block_size > XF_BLOCK_MAX ||
		    r->block_count == 0) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	case XF_DEC_REFUSED:
		if (r->status == 0 || r->status > XF_ST_MAX || r->status == XF_ST_REDO ||
		    r->block_size != 0 || r->block_count != 0 || r->items != 0) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	default:
		return XF_R_FIELD;
	}
}

/* prev is the previous range, NULL for the first (whose last must be largest). */
static inline enum xf_proto_reason
check_ack_range(const struct xf_ack_range *r, const struct xf_ack_range *prev, uint64_t largest)
{
	if (r->first > r->last) {
		return XF_R_RANGE;
	}
	if (prev == NULL) {
		return r->last == largest ? XF_R_OK : XF_R_RANGE;
	}
	/* Descending with a gap of at least one number: r->last + 1 < prev->first. */
	if (prev->first < 2 || r->last > prev->first - 2) {
		return XF_R_RANGE;
	}
	return XF_R_OK;
}

/* prev_file is the previous failure's file, or -1 for the first. */
static inline enum xf_proto_reason
check_commit_fail(const struct xf_commit_fail *f, int64_t prev_file, uint32_t committed)
{
	if (f->status == 0 || f->status > XF_ST_MAX || f->status == XF_ST_REDO) {
		return XF_R_FIELD;
	}
	/* Failures are settled files, listed once, in file-list order. */
	if (f->file >= committed || (int64_t)f->file <= prev_file) {
		return XF_R_RANGE;
	}
	return XF_R_OK;
}

static inline bool
printable(const char *s, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

/* ---- Record parsers (callers have checked the bytes are there) ---- */

static inline void
rd_decision(const uint8_t *p, struct xf_decision_rec *r)
{
	r->file = ld32(p);
	r->decision = p[4];
	r->status = p[5];
	r->items = ld16(p + 6);
	r->block_size = ld32(p + 8);
	r->block_count = ld32(p + 12);
}

static inline void
rd_commit_fail(const uint8_t *p, struct xf_commit_fail *f, uint16_t *rsv)
{
	f->file = ld32(p);
	f->status = ld16(p + 4);
	*rsv = ld16(p + 6);
}

static inline void
rd_ack_range(const uint8_t *p, struct xf_ack_range *r)
{
	r->first = ld64(p);
	r->last = ld64(p + 8);
}

/*
 * Parse the FLIST entry at b[*pos], n bytes in all; owner: the frame has XF_FLIST_F_OWNER
 * (uid and gid follow the fixed fields); xattr: the frame has XF_HDR_F_XATTR (a 16-bit
 * length and the attribute set end the entry; the set's own checks are the receiver's,
 * xf_xattr_check(), which refuses the entry, not the frame). On success *pos moves past it.
 * Only the decoder calls this on untrusted bytes; the accessor relies on its checks.
 */
static inline enum xf_proto_reason
rd_entry(const uint8_t *b, uint32_t n, uint32_t *pos, struct xf_flist_entry *e, bool owner,
         bool xattr)
{
	const uint8_t *p = b + *pos;
	uint32_t fixed = FLIST_ENTRY_LEN + (owner ? XF_FLIST_OWNER_LEN : 0u);
	uint32_t var;
	enum xf_proto_reason r;

	if (n - *pos < fixed) {
		return XF_R_TRUNCATED;
	}
	e->uid = owner ? ld32(p + FLIST_ENTRY_LEN) : XF_ID_NONE;
	e->gid = owner ? ld32(p + FLIST_ENTRY_LEN + 4) : XF_ID_NONE;
	e->kind = p[0];
	e->path_len = ld16(p + 2);
	e->target_len = ld16(p + 4);
	e->mode = ld16(p + 6);
	e->size = ld64(p + 8);
	e->mtime_ns = (int64_t)ld64(p + 16);
	if (p[1] != 0) {
		return XF_R_RESERVED;
	}
	r = check_entry(e);
	if (r != XF_R_OK) {
		return r;
	}
	var = (uint32_t)e->path_len + e->target_len;
	if (n - *pos - fixed < var) {
		return XF_R_TRUNCATED;
	}
	e->path = (const char *)p + fixed;
	e->target = e->target_len != 0 ? e->path + e->path_len : NULL;
	e->xattr = NULL;
	e->xattr_len = 0;
	if (xattr) {
		const uint8_t *x = p + fixed + var;

		if (n - *pos - fixed - var < 2u) {
			return XF_R_TRUNCATED;
		}
		e->xattr_len = ld16(x);
		if (n - *pos - fixed - var - 2u < e->xattr_len) {
			return XF_R_TRUNCATED;
		}
		e->xattr = e->xattr_len != 0 ? x + 2 : NULL;
		var += 2u + e->xattr_len;
	}
	*pos += fixed + var;
	return XF_R_OK;
}

/* An account name's bytes: none of what would end, split or escape it somewhere (NUL,
 * control bytes, space, DEL, '/', ':'); bytes >= 0x80 pass (UTF-8 names). */
static inline bool
name_ok(const char *name, size_t len)
{
	if (len == 0 || len > XF_ACCOUNT_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)name[i];

		if (c <= 0x20 || c == 0x7f || c == '/' || c == ':') {
			return false;
		}
	}
	return true;
}

/*
 * Parse the name-table record at b[*pos], n bytes in all; on success *pos moves past it.
 * Checks the record alone (kind, id, name); the decoder checks order and use.
 */
static inline enum xf_proto_reason
rd_name(const uint8_t *b, uint32_t n, uint32_t *pos, struct xf_name_rec *rec)
{
	const uint8_t *p = b + *pos;

	if (n - *pos < XF_NAME_REC_LEN) {
		return XF_R_TRUNCATED;
	}
	rec->kind = p[0];
	rec->len = p[1];
	rec->id = ld32(p + 2);
	rec->name = (const char *)p + XF_NAME_REC_LEN;
	if ((rec->kind != XF_NAME_USER && rec->kind != XF_NAME_GROUP) || rec->id == XF_ID_NONE) {
		return XF_R_NAME_ID;
	}
	if (n - *pos - XF_NAME_REC_LEN < rec->len) {
		return XF_R_TRUNCATED;
	}
	if (!name_ok(rec->name, rec->len)) {
		return XF_R_NAME;
	}
	*pos += XF_NAME_REC_LEN + rec->len;
	return XF_R_OK;
}

/*
 * Decode and check the body of a frame whose header is in msg->hdr (b: the payload, n:
 * its length). xf_proto_decode() runs it on every frame, xf_proto_encode() on the bytes
 * it has just written. @return XF_R_OK or the reason the body is refused.
 */
enum xf_proto_reason xf_proto_body_decode(const uint8_t *b, uint32_t n, struct xf_msg *msg);

#endif /* XF_PROTO_PRIV_H */
