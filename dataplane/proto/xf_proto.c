/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xferd wire codec, version 1. Byte layouts and the reasons for them are in
 * docs/PROTOCOL.md; the offsets below follow its tables.
 *
 * The decoder runs per frame on RX cores: no allocation, no logging, and every read is
 * preceded by a length check against the datagram. Each record is parsed into its
 * struct and checked by one function shared with the encoder and the builders, so the
 * encoder refuses exactly what the decoder rejects.
 */
#include <endian.h>
#include <errno.h>
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
#define ABORT_LEN        4u

/* Largest payload after the header. */
#define BODY_MAX (XF_PAYLOAD_MAX - XF_HDR_LEN)
/* Offsets and sizes must stay valid as off_t (pwrite, copy_file_range). */
#define OFF_MAX ((uint64_t)INT64_MAX)

_Static_assert(XF_DATA_OVERHEAD == XF_HDR_LEN + DATA_LEN, "DATA layout");
_Static_assert(XF_FLIST_OVERHEAD == XF_HDR_LEN + FLIST_LEN + FLIST_ENTRY_LEN, "FLIST layout");
_Static_assert(XF_FLIST_OVERHEAD + 2u * XF_PATH_MAX <= XF_PAYLOAD_MAX, "largest entry fits");
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

static enum xf_proto_reason
check_hdr(const struct xf_hdr *h)
{
	if (h->type == 0 || h->type > XF_MSG_TYPE_MAX) {
		return XF_R_TYPE;
	}
	if (h->flags & ~(XF_HDR_F_NOACK | XF_HDR_F_REPLY | XF_HDR_F_ACKNOW)) {
		return XF_R_RESERVED;
	}
	if (h->session == 0) {
		return XF_R_FIELD;
	}
	return XF_R_OK;
}

static enum xf_proto_reason
check_hello(const struct xf_msg_hello *m, bool ack)
{
	if (m->flags & ~(uint32_t)XF_HELLO_F_CHECKSUM) {
		return XF_R_RESERVED;
	}
	if (ack) {
		/* The destination is the initiator's to name; the answer carries none. */
		if (m->dest_len != 0) {
			return XF_R_RESERVED;
		}
		if (m->status > XF_ABORT_MAX) {
			return XF_R_FIELD;
		}
		/* An accepted session with no credit could never send a file. */
		if (m->status == 0 && m->window == 0) {
			return XF_R_FIELD;
		}
	} else if (m->status != 0 || m->window != 0) {
		return XF_R_RESERVED;
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

static enum xf_proto_reason
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
		if (e->target_len == 0 || e->target_len > XF_PATH_MAX || e->size != e->target_len) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	default:
		return XF_R_FIELD;
	}
}

static enum xf_proto_reason
check_decision(const struct xf_decision_rec *r)
{
	switch (r->decision) {
	case XF_DEC_UPTODATE:
	case XF_DEC_WHOLE:
		if (r->status != 0 || r->block_size != 0 || r->block_count != 0) {
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
		if (r->status == 0 || r->status > XF_ST_MAX || r->block_size != 0 ||
		    r->block_count != 0) {
			return XF_R_FIELD;
		}
		return XF_R_OK;
	default:
		return XF_R_FIELD;
	}
}

/* prev is the previous range, NULL for the first (whose last must be largest). */
static enum xf_proto_reason
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
static enum xf_proto_reason
check_commit_fail(const struct xf_commit_fail *f, int64_t prev_file, uint32_t committed)
{
	if (f->status == 0 || f->status > XF_ST_MAX) {
		return XF_R_FIELD;
	}
	/* Failures are settled files, listed once, in file-list order. */
	if (f->file >= committed || (int64_t)f->file <= prev_file) {
		return XF_R_RANGE;
	}
	return XF_R_OK;
}

static bool
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

static void
rd_decision(const uint8_t *p, struct xf_decision_rec *r, uint16_t *rsv)
{
	r->file = ld32(p);
	r->decision = p[4];
	r->status = p[5];
	*rsv = ld16(p + 6);
	r->block_size = ld32(p + 8);
	r->block_count = ld32(p + 12);
}

static void
rd_commit_fail(const uint8_t *p, struct xf_commit_fail *f, uint16_t *rsv)
{
	f->file = ld32(p);
	f->status = ld16(p + 4);
	*rsv = ld16(p + 6);
}

static void
rd_ack_range(const uint8_t *p, struct xf_ack_range *r)
{
	r->first = ld64(p);
	r->last = ld64(p + 8);
}

/*
 * Parse the FLIST entry at b[*pos], n bytes in all. On success *pos moves past it.
 * Only the decoder calls this on untrusted bytes; the accessor relies on its checks.
 */
static enum xf_proto_reason
rd_entry(const uint8_t *b, uint32_t n, uint32_t *pos, struct xf_flist_entry *e)
{
	const uint8_t *p = b + *pos;
	uint32_t var;
	enum xf_proto_reason r;

	if (n - *pos < FLIST_ENTRY_LEN) {
		return XF_R_TRUNCATED;
	}
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
	if (n - *pos - FLIST_ENTRY_LEN < var) {
		return XF_R_TRUNCATED;
	}
	e->path = (const char *)p + FLIST_ENTRY_LEN;
	e->target = e->target_len != 0 ? e->path + e->path_len : NULL;
	*pos += FLIST_ENTRY_LEN + var;
	return XF_R_OK;
}

/* ---- Per-type decoders: b points at the payload, n is hdr.len ---- */

/* Fixed-size bodies: short is truncated, long is trailing. */
static enum xf_proto_reason
exact(uint32_t n, uint32_t want)
{
	if (n < want) {
		return XF_R_TRUNCATED;
	}
	return n > want ? XF_R_TRAILING : XF_R_OK;
}

/* A body of fixed + count * rec bytes. */
static enum xf_proto_reason
exact_array(uint32_t n, uint32_t fixed, uint32_t count, uint32_t rec)
{
	return exact(n, fixed + count * rec);
}

static enum xf_proto_reason
dec_hello(const uint8_t *b, uint32_t n, struct xf_msg_hello *m, bool ack)
{
	enum xf_proto_reason r;

	if (n < HELLO_LEN) {
		return XF_R_TRUNCATED;
	}
	m->min_version = ld16(b);
	m->max_version = ld16(b + 2);
	m->max_payload = ld16(b + 4);
	m->status = ld16(b + 6);
	m->window = ld32(b + 8);
	m->flags = ld32(b + 12);
	m->nonce = ld64(b + 16);
	m->dest_len = ld16(b + 24);
	m->dest = (const char *)b + HELLO_LEN;
	if (ld16(b + 26) != 0) {
		return XF_R_RESERVED;
	}
	r = check_hello(m, ack);
	if (r != XF_R_OK) {
		return r;
	}
	return exact(n, HELLO_LEN + m->dest_len);
}

static enum xf_proto_reason
dec_flist(const uint8_t *b, uint32_t n, struct xf_msg_flist *m)
{
	struct xf_flist_entry e;
	uint32_t pos = FLIST_LEN;
	enum xf_proto_reason r;

	if (n < FLIST_LEN) {
		return XF_R_TRUNCATED;
	}
	m->first_index = ld32(b);
	m->count = ld16(b + 4);
	m->flags = ld16(b + 6);
	if (m->flags & ~XF_FLIST_F_LAST) {
		return XF_R_RESERVED;
	}
	/* An empty frame is allowed only to mark the end (total = first_index). */
	if (m->count > XF_FLIST_MAX || (m->count == 0 && !(m->flags & XF_FLIST_F_LAST))) {
		return XF_R_COUNT;
	}
	if ((uint64_t)m->first_index + m->count > UINT32_MAX) {
		return XF_R_RANGE;
	}
	for (uint16_t i = 0; i < m->count; i++) {
		r = rd_entry(b, n, &pos, &e);
		if (r != XF_R_OK) {
			return r;
		}
	}
	if (pos != n) {
		return XF_R_TRAILING;
	}
	m->raw = b + FLIST_LEN;
	m->raw_len = n - FLIST_LEN;
	return XF_R_OK;
}

static enum xf_proto_reason
dec_decision(const uint8_t *b, uint32_t n, struct xf_msg_decision *m)
{
	struct xf_decision_rec rec;
	uint16_t rsv;
	enum xf_proto_reason r;

	if (n < DECISION_LEN) {
		return XF_R_TRUNCATED;
	}
	m->count = ld16(b);
	m->raw = b + DECISION_LEN;
	if (ld16(b + 2) != 0) {
		return XF_R_RESERVED;
	}
	if (m->count == 0 || m->count > XF_DECISION_MAX) {
		return XF_R_COUNT;
	}
	r = exact_array(n, DECISION_LEN, m->count, DECISION_REC_LEN);
	if (r != XF_R_OK) {
		return r;
	}
	for (uint16_t i = 0; i < m->count; i++) {
		rd_decision(m->raw + (size_t)i * DECISION_REC_LEN, &rec, &rsv);
		if (rsv != 0) {
			return XF_R_RESERVED;
		}
		r = check_decision(&rec);
		if (r != XF_R_OK) {
			return r;
		}
	}
	return XF_R_OK;
}

static enum xf_proto_reason
dec_sig(const uint8_t *b, uint32_t n, struct xf_msg_sig *m)
{
	if (n < SIG_LEN) {
		return XF_R_TRUNCATED;
	}
	m->file = ld32(b);
	m->block_size = ld32(b + 4);
	m->first_block = ld32(b + 8);
	m->count = ld16(b + 12);
	m->raw = b + SIG_LEN;
	if (ld16(b + 14) != 0) {
		return XF_R_RESERVED;
	}
	if (m->block_size == 0 || m->block_size > XF_BLOCK_MAX) {
		return XF_R_FIELD;
	}
	if (m->count == 0 || m->count > XF_SIG_MAX) {
		return XF_R_COUNT;
	}
	if ((uint64_t)m->first_block + m->count > (uint64_t)UINT32_MAX + 1) {
		return XF_R_RANGE;
	}
	return exact_array(n, SIG_LEN, m->count, SIG_REC_LEN);
}

static enum xf_proto_reason
dec_data(const uint8_t *b, uint32_t n, struct xf_msg_data *m)
{
	if (n < DATA_LEN) {
		return XF_R_TRUNCATED;
	}
	m->file = ld32(b);
	m->offset = ld64(b + 8);
	m->len = n - DATA_LEN;
	m->bytes = b + DATA_LEN;
	if (ld32(b + 4) != 0) {
		return XF_R_RESERVED;
	}
	if (m->len == 0) {
		return XF_R_COUNT;
	}
	if (m->offset > OFF_MAX - m->len) {
		return XF_R_RANGE;
	}
	return XF_R_OK;
}

static enum xf_proto_reason
dec_copy(const uint8_t *b, uint32_t n, struct xf_msg_copy *m)
{
	enum xf_proto_reason r = exact(n, COPY_LEN);

	if (r != XF_R_OK) {
		return r;
	}
	m->file = ld32(b);
	m->len = ld32(b + 4);
	m->offset = ld64(b + 8);
	m->src_offset = ld64(b + 16);
	if (m->len == 0) {
		return XF_R_FIELD;
	}
	if (m->offset > OFF_MAX - m->len || m->src_offset > OFF_MAX - m->len) {
		return XF_R_RANGE;
	}
	return XF_R_OK;
}

static enum xf_proto_reason
dec_file_end(const uint8_t *b, uint32_t n, struct xf_msg_file_end *m)
{
	enum xf_proto_reason r = exact(n, FILE_END_LEN);

	if (r != XF_R_OK) {
		return r;
	}
	m->file = ld32(b);
	m->status = ld16(b + 4);
	m->size = ld64(b + 8);
	m->crc64 = ld64(b + 16);
	if (ld16(b + 6) != 0) {
		return XF_R_RESERVED;
	}
	return m->size > OFF_MAX || m->status > XF_ST_MAX ? XF_R_FIELD : XF_R_OK;
}

static enum xf_proto_reason
dec_commit(const uint8_t *b, uint32_t n, struct xf_msg_commit *m)
{
	struct xf_commit_fail f;
	int64_t prev = -1;
	uint16_t rsv;
	enum xf_proto_reason r;

	if (n < COMMIT_LEN) {
		return XF_R_TRUNCATED;
	}
	m->committed = ld32(b);
	m->credit = ld32(b + 4);
	m->count = ld16(b + 8);
	m->raw = b + COMMIT_LEN;
	if (ld16(b + 10) != 0) {
		return XF_R_RESERVED;
	}
	if (m->credit < m->committed) {
		return XF_R_RANGE;
	}
	if (m->count > XF_COMMIT_FAIL_MAX) {
		return XF_R_COUNT;
	}
	r = exact_array(n, COMMIT_LEN, m->count, COMMIT_REC_LEN);
	if (r != XF_R_OK) {
		return r;
	}
	for (uint16_t i = 0; i < m->count; i++) {
		rd_commit_fail(m->raw + (size_t)i * COMMIT_REC_LEN, &f, &rsv);
		if (rsv != 0) {
			return XF_R_RESERVED;
		}
		r = check_commit_fail(&f, prev, m->committed);
		if (r != XF_R_OK) {
			return r;
		}
		prev = f.file;
	}
	return XF_R_OK;
}

static enum xf_proto_reason
dec_ack(const uint8_t *b, uint32_t n, struct xf_msg_ack *m)
{
	struct xf_ack_range cur, prev;
	enum xf_proto_reason r;

	if (n < ACK_LEN) {
		return XF_R_TRUNCATED;
	}
	m->largest = ld64(b);
	m->ack_delay_us = ld32(b + 8);
	m->count = ld16(b + 12);
	m->raw = b + ACK_LEN;
	if (ld16(b + 14) != 0) {
		return XF_R_RESERVED;
	}
	if (m->count == 0 || m->count > XF_ACK_RANGES) {
		return XF_R_COUNT;
	}
	r = exact_array(n, ACK_LEN, m->count, ACK_REC_LEN);
	if (r != XF_R_OK) {
		return r;
	}
	for (uint16_t i = 0; i < m->count; i++) {
		rd_ack_range(m->raw + (size_t)i * ACK_REC_LEN, &cur);
		r = check_ack_range(&cur, i == 0 ? NULL : &prev, m->largest);
		if (r != XF_R_OK) {
			return r;
		}
		prev = cur;
	}
	return XF_R_OK;
}

static enum xf_proto_reason
dec_done(const uint8_t *b, uint32_t n, struct xf_msg_done *m)
{
	enum xf_proto_reason r = exact(n, DONE_LEN);

	if (r != XF_R_OK) {
		return r;
	}
	m->files = ld32(b);
	m->status = ld32(b + 4);
	return m->status > XF_ABORT_MAX ? XF_R_FIELD : XF_R_OK;
}

static enum xf_proto_reason
dec_abort(const uint8_t *b, uint32_t n, struct xf_msg_abort *m)
{
	enum xf_proto_reason r;

	if (n < ABORT_LEN) {
		return XF_R_TRUNCATED;
	}
	m->code = ld16(b);
	m->msg_len = ld16(b + 2);
	m->msg = (const char *)b + ABORT_LEN;
	if (m->code == XF_ABORT_NONE || m->code > XF_ABORT_MAX || m->msg_len > XF_ABORT_MSG_MAX) {
		return XF_R_FIELD;
	}
	r = exact(n, ABORT_LEN + m->msg_len);
	if (r != XF_R_OK) {
		return r;
	}
	return printable(m->msg, m->msg_len) ? XF_R_OK : XF_R_FIELD;
}

static enum xf_proto_reason
dec_body(const uint8_t *b, uint32_t n, struct xf_msg *msg)
{
	switch (msg->hdr.type) {
	case XF_MSG_HELLO:
		return dec_hello(b, n, &msg->hello, false);
	case XF_MSG_HELLO_ACK:
		return dec_hello(b, n, &msg->hello, true);
	case XF_MSG_FLIST:
		return dec_flist(b, n, &msg->flist);
	case XF_MSG_DECISION:
		return dec_decision(b, n, &msg->decision);
	case XF_MSG_SIG:
		return dec_sig(b, n, &msg->sig);
	case XF_MSG_DATA:
		return dec_data(b, n, &msg->data);
	case XF_MSG_COPY:
		return dec_copy(b, n, &msg->copy);
	case XF_MSG_FILE_END:
		return dec_file_end(b, n, &msg->file_end);
	case XF_MSG_COMMIT:
		return dec_commit(b, n, &msg->commit);
	case XF_MSG_ACK:
		return dec_ack(b, n, &msg->ack);
	case XF_MSG_DONE:
		return dec_done(b, n, &msg->done);
	case XF_MSG_ABORT:
		return dec_abort(b, n, &msg->abort);
	case XF_MSG_PING:
		return n == 0 ? XF_R_OK : XF_R_TRAILING;
	default:
		return XF_R_TYPE;
	}
}

int
xf_proto_decode(const void *buf, size_t len, struct xf_msg *msg, enum xf_proto_reason *reason)
{
	const uint8_t *p = buf;
	enum xf_proto_reason r;
	int rc = -EBADMSG;

	if (unlikely(len < XF_HDR_LEN)) {
		r = XF_R_SHORT;
		goto out;
	}
	if (unlikely(ld16(p) != XF_PROTO_MAGIC)) {
		r = XF_R_MAGIC;
		goto out;
	}
	msg->hdr.version = p[2];
	msg->hdr.type = p[3];
	msg->hdr.flags = ld16(p + 4);
	msg->hdr.len = ld16(p + 6);
	msg->hdr.session = ld32(p + 8);
	msg->hdr.pn = ld64(p + 16);
	/* The header is filled, so the caller can answer ABORT(VERSION) to the session. */
	if (unlikely(msg->hdr.version != XF_PROTO_VERSION)) {
		r = XF_R_VERSION;
		rc = -EPROTONOSUPPORT;
		goto out;
	}
	if (unlikely(msg->hdr.type == 0 || msg->hdr.type > XF_MSG_TYPE_MAX)) {
		r = XF_R_TYPE;
		goto out;
	}
	if (unlikely(len > XF_PAYLOAD_MAX || msg->hdr.len != len - XF_HDR_LEN)) {
		r = XF_R_LENGTH;
		goto out;
	}
	if (unlikely(ld32(p + 12) != 0)) {
		r = XF_R_RESERVED;
		goto out;
	}
	r = check_hdr(&msg->hdr);
	if (unlikely(r != XF_R_OK)) {
		goto out;
	}
	r = dec_body(p + XF_HDR_LEN, msg->hdr.len, msg);
	if (likely(r == XF_R_OK)) {
		rc = 0;
	}
out:
	if (reason != NULL) {
		*reason = r;
	}
	return rc;
}

const char *
xf_proto_reason_str(enum xf_proto_reason reason)
{
	static const char *const names[XF_R_MAX] = {
		[XF_R_OK] = "ok",
		[XF_R_SHORT] = "short",
		[XF_R_MAGIC] = "magic",
		[XF_R_VERSION] = "version",
		[XF_R_TYPE] = "type",
		[XF_R_LENGTH] = "length",
		[XF_R_TRUNCATED] = "truncated",
		[XF_R_TRAILING] = "trailing",
		[XF_R_RESERVED] = "reserved",
		[XF_R_COUNT] = "count",
		[XF_R_FIELD] = "field",
		[XF_R_RANGE] = "range",
	};

	if ((unsigned int)reason >= XF_R_MAX) {
		return "?";
	}
	return names[reason];
}

const char *
xf_proto_type_str(unsigned int type)
{
	static const char *const names[XF_MSG_TYPE_MAX + 1] = {
		[XF_MSG_HELLO] = "HELLO",   [XF_MSG_HELLO_ACK] = "HELLO_ACK",
		[XF_MSG_FLIST] = "FLIST",   [XF_MSG_DECISION] = "DECISION",
		[XF_MSG_SIG] = "SIG",       [XF_MSG_DATA] = "DATA",
		[XF_MSG_COPY] = "COPY",     [XF_MSG_FILE_END] = "FILE_END",
		[XF_MSG_COMMIT] = "COMMIT", [XF_MSG_ACK] = "ACK",
		[XF_MSG_DONE] = "DONE",     [XF_MSG_ABORT] = "ABORT",
		[XF_MSG_PING] = "PING",
	};

	if (type == 0 || type > XF_MSG_TYPE_MAX) {
		return "?";
	}
	return names[type];
}

/* ---- Accessors: the decoder has validated everything they read ---- */

bool
xf_proto_flist_next(const struct xf_msg *msg, uint32_t *cursor, struct xf_flist_entry *e)
{
	const struct xf_msg_flist *m = &msg->flist;

	if (*cursor >= m->raw_len) {
		return false;
	}
	/* Cannot fail on a decoded frame; the check keeps a bad cursor from reading past. */
	return rd_entry(m->raw, m->raw_len, cursor, e) == XF_R_OK;
}

void
xf_proto_decision_get(const struct xf_msg *msg, uint16_t i, struct xf_decision_rec *rec)
{
	uint16_t rsv;

	if (i >= msg->decision.count) {
		memset(rec, 0, sizeof(*rec));
		return;
	}
	rd_decision(msg->decision.raw + (size_t)i * DECISION_REC_LEN, rec, &rsv);
}

void
xf_proto_sig_get(const struct xf_msg *msg, uint16_t i, struct xf_sig_rec *rec)
{
	const uint8_t *p;

	if (i >= msg->sig.count) {
		memset(rec, 0, sizeof(*rec));
		return;
	}
	p = msg->sig.raw + (size_t)i * SIG_REC_LEN;
	rec->weak = ld32(p);
	rec->strong = ld32(p + 4);
}

void
xf_proto_ack_get(const struct xf_msg *msg, uint16_t i, struct xf_ack_range *range)
{
	if (i >= msg->ack.count) {
		memset(range, 0, sizeof(*range));
		return;
	}
	rd_ack_range(msg->ack.raw + (size_t)i * ACK_REC_LEN, range);
}

void
xf_proto_commit_get(const struct xf_msg *msg, uint16_t i, struct xf_commit_fail *fail)
{
	uint16_t rsv;

	if (i >= msg->commit.count) {
		memset(fail, 0, sizeof(*fail));
		return;
	}
	rd_commit_fail(msg->commit.raw + (size_t)i * COMMIT_REC_LEN, fail, &rsv);
}

/* ---- Encoder ---- */

static void
wr_hdr(uint8_t *p, const struct xf_hdr *h, uint8_t type, uint16_t body_len)
{
	st16(p, XF_PROTO_MAGIC);
	p[2] = XF_PROTO_VERSION;
	p[3] = type;
	st16(p + 4, h->flags);
	st16(p + 6, body_len);
	st32(p + 8, h->session);
	st32(p + 12, 0);
	st64(p + 16, h->pn);
}

/* Non-NULL source for n bytes (NULL is fine when there is nothing to copy). */
static bool
src_ok(const void *p, size_t n)
{
	return n == 0 || p != NULL;
}

/*
 * Body length of msg as encode() would write it, or 0 with *err set if a length or
 * count is out of range before any byte is written.
 */
static size_t
body_len(const struct xf_msg *msg, int *err)
{
	*err = -EINVAL;
	switch (msg->hdr.type) {
	case XF_MSG_HELLO:
	case XF_MSG_HELLO_ACK:
		if (msg->hello.dest_len > XF_PATH_MAX ||
		    !src_ok(msg->hello.dest, msg->hello.dest_len)) {
			return 0;
		}
		return HELLO_LEN + msg->hello.dest_len;
	case XF_MSG_FLIST:
		if (!src_ok(msg->flist.raw, msg->flist.raw_len)) {
			return 0;
		}
		*err = -EMSGSIZE;
		if (msg->flist.raw_len > BODY_MAX - FLIST_LEN) {
			return 0;
		}
		return FLIST_LEN + msg->flist.raw_len;
	case XF_MSG_DECISION:
		if (msg->decision.count > XF_DECISION_MAX ||
		    !src_ok(msg->decision.raw, msg->decision.count)) {
			return 0;
		}
		return DECISION_LEN + (size_t)msg->decision.count * DECISION_REC_LEN;
	case XF_MSG_SIG:
		if (msg->sig.count > XF_SIG_MAX || !src_ok(msg->sig.raw, msg->sig.count)) {
			return 0;
		}
		return SIG_LEN + (size_t)msg->sig.count * SIG_REC_LEN;
	case XF_MSG_DATA:
		if (!src_ok(msg->data.bytes, msg->data.len)) {
			return 0;
		}
		*err = -EMSGSIZE;
		if (msg->data.len > BODY_MAX - DATA_LEN) {
			return 0;
		}
		return DATA_LEN + msg->data.len;
	case XF_MSG_COPY:
		return COPY_LEN;
	case XF_MSG_FILE_END:
		return FILE_END_LEN;
	case XF_MSG_COMMIT:
		if (msg->commit.count > XF_COMMIT_FAIL_MAX ||
		    !src_ok(msg->commit.raw, msg->commit.count)) {
			return 0;
		}
		return COMMIT_LEN + (size_t)msg->commit.count * COMMIT_REC_LEN;
	case XF_MSG_ACK:
		if (msg->ack.count > XF_ACK_RANGES || !src_ok(msg->ack.raw, msg->ack.count)) {
			return 0;
		}
		return ACK_LEN + (size_t)msg->ack.count * ACK_REC_LEN;
	case XF_MSG_DONE:
		return DONE_LEN;
	case XF_MSG_ABORT:
		if (msg->abort.msg_len > XF_ABORT_MSG_MAX ||
		    !src_ok(msg->abort.msg, msg->abort.msg_len)) {
			return 0;
		}
		return ABORT_LEN + msg->abort.msg_len;
	default:
		return 0;
	}
}

/* Copy n bytes unless there are none (memcpy with NULL is undefined even for 0). */
static void
put(uint8_t *dst, const void *src, size_t n)
{
	if (n != 0) {
		memcpy(dst, src, n);
	}
}

static void
wr_body(uint8_t *b, const struct xf_msg *msg)
{
	switch (msg->hdr.type) {
	case XF_MSG_HELLO:
	case XF_MSG_HELLO_ACK:
		st16(b, msg->hello.min_version);
		st16(b + 2, msg->hello.max_version);
		st16(b + 4, msg->hello.max_payload);
		st16(b + 6, msg->hello.status);
		st32(b + 8, msg->hello.window);
		st32(b + 12, msg->hello.flags);
		st64(b + 16, msg->hello.nonce);
		st16(b + 24, msg->hello.dest_len);
		st16(b + 26, 0);
		put(b + HELLO_LEN, msg->hello.dest, msg->hello.dest_len);
		break;
	case XF_MSG_FLIST:
		st32(b, msg->flist.first_index);
		st16(b + 4, msg->flist.count);
		st16(b + 6, msg->flist.flags);
		put(b + FLIST_LEN, msg->flist.raw, msg->flist.raw_len);
		break;
	case XF_MSG_DECISION:
		st16(b, msg->decision.count);
		st16(b + 2, 0);
		put(b + DECISION_LEN, msg->decision.raw,
		    (size_t)msg->decision.count * DECISION_REC_LEN);
		break;
	case XF_MSG_SIG:
		st32(b, msg->sig.file);
		st32(b + 4, msg->sig.block_size);
		st32(b + 8, msg->sig.first_block);
		st16(b + 12, msg->sig.count);
		st16(b + 14, 0);
		put(b + SIG_LEN, msg->sig.raw, (size_t)msg->sig.count * SIG_REC_LEN);
		break;
	case XF_MSG_DATA:
		st32(b, msg->data.file);
		st32(b + 4, 0);
		st64(b + 8, msg->data.offset);
		put(b + DATA_LEN, msg->data.bytes, msg->data.len);
		break;
	case XF_MSG_COPY:
		st32(b, msg->copy.file);
		st32(b + 4, msg->copy.len);
		st64(b + 8, msg->copy.offset);
		st64(b + 16, msg->copy.src_offset);
		break;
	case XF_MSG_FILE_END:
		st32(b, msg->file_end.file);
		st16(b + 4, msg->file_end.status);
		st16(b + 6, 0);
		st64(b + 8, msg->file_end.size);
		st64(b + 16, msg->file_end.crc64);
		break;
	case XF_MSG_COMMIT:
		st32(b, msg->commit.committed);
		st32(b + 4, msg->commit.credit);
		st16(b + 8, msg->commit.count);
		st16(b + 10, 0);
		put(b + COMMIT_LEN, msg->commit.raw, (size_t)msg->commit.count * COMMIT_REC_LEN);
		break;
	case XF_MSG_ACK:
		st64(b, msg->ack.largest);
		st32(b + 8, msg->ack.ack_delay_us);
		st16(b + 12, msg->ack.count);
		st16(b + 14, 0);
		put(b + ACK_LEN, msg->ack.raw, (size_t)msg->ack.count * ACK_REC_LEN);
		break;
	case XF_MSG_DONE:
		st32(b, msg->done.files);
		st32(b + 4, msg->done.status);
		break;
	case XF_MSG_ABORT:
		st16(b, msg->abort.code);
		st16(b + 2, msg->abort.msg_len);
		put(b + ABORT_LEN, msg->abort.msg, msg->abort.msg_len);
		break;
	default:
		break;
	}
}

int
xf_proto_encode(void *buf, size_t cap, const struct xf_msg *msg)
{
	struct xf_msg check;
	uint8_t *p = buf;
	size_t n = 0;
	int err = 0;

	if (buf == NULL || check_hdr(&msg->hdr) != XF_R_OK) {
		return -EINVAL;
	}
	if (msg->hdr.type != XF_MSG_PING) {
		n = body_len(msg, &err);
		if (n == 0) {
			return err;
		}
	}
	if (XF_HDR_LEN + n > XF_PAYLOAD_MAX || XF_HDR_LEN + n > cap) {
		return -EMSGSIZE;
	}
	wr_hdr(p, &msg->hdr, msg->hdr.type, (uint16_t)n);
	wr_body(p + XF_HDR_LEN, msg);
	/*
	 * The value checks are the decoder's own, run on the bytes just written: what
	 * encodes always decodes, and raw arrays from the caller are checked too.
	 */
	check.hdr = msg->hdr;
	check.hdr.version = XF_PROTO_VERSION;
	if (dec_body(p + XF_HDR_LEN, (uint32_t)n, &check) != XF_R_OK) {
		return -EINVAL;
	}
	return (int)(XF_HDR_LEN + n);
}

int
xf_proto_data_hdr_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint64_t offset,
                         uint32_t len)
{
	struct xf_hdr h = *hdr;
	uint8_t *p = buf;

	/* The function only makes DATA frames, so the type is DATA whatever hdr says. */
	h.type = XF_MSG_DATA;
	if (buf == NULL || check_hdr(&h) != XF_R_OK || len == 0 || offset > OFF_MAX - len) {
		return -EINVAL;
	}
	if (len > XF_PAYLOAD_MAX - XF_DATA_OVERHEAD) {
		return -EMSGSIZE;
	}
	wr_hdr(p, &h, XF_MSG_DATA, (uint16_t)(DATA_LEN + len));
	st32(p + XF_HDR_LEN, file);
	st32(p + XF_HDR_LEN + 4, 0);
	st64(p + XF_HDR_LEN + 8, offset);
	return (int)(XF_DATA_OVERHEAD + len);
}

/* ---- Builders ---- */

static uint8_t *
body(const struct xf_proto_builder *b)
{
	return b->buf + XF_HDR_LEN;
}

int
xf_proto_build_begin(struct xf_proto_builder *b, void *buf, size_t cap, const struct xf_msg *msg)
{
	struct xf_msg fixed = *msg;
	size_t fixed_len;
	uint16_t limit;

	if (buf == NULL || check_hdr(&msg->hdr) != XF_R_OK) {
		return -EINVAL;
	}
	/* The fixed fields are written with a zero count; records follow. */
	switch (msg->hdr.type) {
	case XF_MSG_FLIST:
		if ((msg->flist.flags & ~XF_FLIST_F_LAST) != 0) {
			return -EINVAL;
		}
		fixed.flist.raw_len = 0;
		fixed_len = FLIST_LEN;
		limit = XF_FLIST_MAX;
		break;
	case XF_MSG_DECISION:
		fixed_len = DECISION_LEN;
		limit = XF_DECISION_MAX;
		break;
	case XF_MSG_SIG:
		if (msg->sig.block_size == 0 || msg->sig.block_size > XF_BLOCK_MAX) {
			return -EINVAL;
		}
		fixed_len = SIG_LEN;
		limit = XF_SIG_MAX;
		break;
	case XF_MSG_ACK:
		fixed_len = ACK_LEN;
		limit = XF_ACK_RANGES;
		break;
	case XF_MSG_COMMIT:
		if (msg->commit.credit < msg->commit.committed) {
			return -EINVAL;
		}
		fixed_len = COMMIT_LEN;
		limit = XF_COMMIT_FAIL_MAX;
		break;
	default:
		return -EINVAL;
	}
	cap = XF_MIN(cap, (size_t)XF_PAYLOAD_MAX);
	if (cap < XF_HDR_LEN + fixed_len) {
		return -EMSGSIZE;
	}
	b->buf = buf;
	b->cap = cap;
	b->len = XF_HDR_LEN + fixed_len;
	b->count = 0;
	b->limit = limit;
	b->type = msg->hdr.type;
	switch (msg->hdr.type) {
	case XF_MSG_FLIST:
		fixed.flist.count = 0;
		break;
	case XF_MSG_DECISION:
		fixed.decision.count = 0;
		break;
	case XF_MSG_SIG:
		fixed.sig.count = 0;
		break;
	case XF_MSG_ACK:
		fixed.ack.count = 0;
		break;
	default:
		fixed.commit.count = 0;
		break;
	}
	wr_hdr(b->buf, &msg->hdr, b->type, (uint16_t)fixed_len);
	wr_body(body(b), &fixed);
	return 0;
}

/* Room for one more record of n bytes? */
static int
room(const struct xf_proto_builder *b, uint8_t type, size_t n)
{
	if (b->type != type) {
		return -EINVAL;
	}
	if (b->count >= b->limit || b->len + n > b->cap) {
		return -ENOSPC;
	}
	return 0;
}

int
xf_proto_build_flist(struct xf_proto_builder *b, const struct xf_flist_entry *e)
{
	size_t n = FLIST_ENTRY_LEN + (size_t)e->path_len + e->target_len;
	uint8_t *p = b->buf + b->len;
	int rc;

	if (b->type != XF_MSG_FLIST || check_entry(e) != XF_R_OK || e->path == NULL ||
	    (e->target_len != 0 && e->target == NULL)) {
		return -EINVAL;
	}
	if ((uint64_t)ld32(body(b)) + b->count + 1 > UINT32_MAX) {
		return -EINVAL;
	}
	rc = room(b, XF_MSG_FLIST, n);
	if (rc != 0) {
		return rc;
	}
	p[0] = e->kind;
	p[1] = 0;
	st16(p + 2, e->path_len);
	st16(p + 4, e->target_len);
	st16(p + 6, (uint16_t)e->mode);
	st64(p + 8, e->size);
	st64(p + 16, (uint64_t)e->mtime_ns);
	memcpy(p + FLIST_ENTRY_LEN, e->path, e->path_len);
	put(p + FLIST_ENTRY_LEN + e->path_len, e->target, e->target_len);
	b->len += n;
	b->count++;
	return 0;
}

int
xf_proto_build_decision(struct xf_proto_builder *b, const struct xf_decision_rec *rec)
{
	uint8_t *p = b->buf + b->len;
	int rc;

	if (b->type != XF_MSG_DECISION || check_decision(rec) != XF_R_OK) {
		return -EINVAL;
	}
	rc = room(b, XF_MSG_DECISION, DECISION_REC_LEN);
	if (rc != 0) {
		return rc;
	}
	st32(p, rec->file);
	p[4] = rec->decision;
	p[5] = rec->status;
	st16(p + 6, 0);
	st32(p + 8, rec->block_size);
	st32(p + 12, rec->block_count);
	b->len += DECISION_REC_LEN;
	b->count++;
	return 0;
}

int
xf_proto_build_sig(struct xf_proto_builder *b, const struct xf_sig_rec *rec)
{
	uint8_t *p = b->buf + b->len;
	int rc;

	if (b->type != XF_MSG_SIG) {
		return -EINVAL;
	}
	/* Block indices first_block + i must stay within u32. */
	if ((uint64_t)ld32(body(b) + 8) + b->count + 1 > (uint64_t)UINT32_MAX + 1) {
		return -EINVAL;
	}
	rc = room(b, XF_MSG_SIG, SIG_REC_LEN);
	if (rc != 0) {
		return rc;
	}
	st32(p, rec->weak);
	st32(p + 4, rec->strong);
	b->len += SIG_REC_LEN;
	b->count++;
	return 0;
}

int
xf_proto_build_ack(struct xf_proto_builder *b, const struct xf_ack_range *range)
{
	struct xf_ack_range prev;
	uint8_t *p = b->buf + b->len;
	int rc;

	if (b->type != XF_MSG_ACK) {
		return -EINVAL;
	}
	if (b->count != 0) {
		rd_ack_range(p - ACK_REC_LEN, &prev);
	}
	if (check_ack_range(range, b->count != 0 ? &prev : NULL, ld64(body(b))) != XF_R_OK) {
		return -EINVAL;
	}
	rc = room(b, XF_MSG_ACK, ACK_REC_LEN);
	if (rc != 0) {
		return rc;
	}
	st64(p, range->first);
	st64(p + 8, range->last);
	b->len += ACK_REC_LEN;
	b->count++;
	return 0;
}

int
xf_proto_build_commit(struct xf_proto_builder *b, const struct xf_commit_fail *fail)
{
	struct xf_commit_fail prev;
	uint8_t *p = b->buf + b->len;
	uint16_t rsv;
	int rc;

	if (b->type != XF_MSG_COMMIT) {
		return -EINVAL;
	}
	if (b->count != 0) {
		rd_commit_fail(p - COMMIT_REC_LEN, &prev, &rsv);
	}
	if (check_commit_fail(fail, b->count != 0 ? (int64_t)prev.file : -1, ld32(body(b))) !=
	    XF_R_OK) {
		return -EINVAL;
	}
	rc = room(b, XF_MSG_COMMIT, COMMIT_REC_LEN);
	if (rc != 0) {
		return rc;
	}
	st32(p, fail->file);
	st16(p + 4, fail->status);
	st16(p + 6, 0);
	b->len += COMMIT_REC_LEN;
	b->count++;
	return 0;
}

int
xf_proto_build_finish(struct xf_proto_builder *b)
{
	uint8_t *p = body(b);

	switch (b->type) {
	case XF_MSG_FLIST:
		/* Only the end marker may be empty. */
		if (b->count == 0 && !(ld16(p + 6) & XF_FLIST_F_LAST)) {
			return -EINVAL;
		}
		st16(p + 4, b->count);
		break;
	case XF_MSG_DECISION:
		if (b->count == 0) {
			return -EINVAL;
		}
		st16(p, b->count);
		break;
	case XF_MSG_SIG:
		if (b->count == 0) {
			return -EINVAL;
		}
		st16(p + 12, b->count);
		break;
	case XF_MSG_ACK:
		if (b->count == 0) {
			return -EINVAL;
		}
		st16(p + 12, b->count);
		break;
	case XF_MSG_COMMIT:
		st16(p + 8, b->count);
		break;
	default:
		return -EINVAL;
	}
	st16(b->buf + 6, (uint16_t)(b->len - XF_HDR_LEN));
	return (int)b->len;
}

void
xf_proto_set_pn(void *frame, uint64_t pn)
{
	st64((uint8_t *)frame + 16, pn);
}

void
xf_proto_set_flags(void *frame, uint16_t flags)
{
	uint8_t *p = frame;

	st16(p + 4, (uint16_t)(ld16(p + 4) | flags));
}
