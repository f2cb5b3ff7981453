/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xferd wire codec, version 1: the decoder. Byte layouts and the reasons for them
 * are in docs/PROTOCOL.md; the offsets below follow its tables.
 *
 * The decoder runs per frame on RX cores: no allocation, no logging, and every read is
 * preceded by a length check against the datagram. Each record is parsed into its
 * struct and checked by one function shared with the encoder and the builders, so the
 * encoder refuses exactly what the decoder rejects.
 */
#include <errno.h>
#include <string.h>

#include "xf_proto_priv.h"

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

/*
 * With XF_HELLO_F_FILTERS (only with XF_HELLO_F_DELETE, check_hello()): the destination
 * field is the path, one NUL and the rules, which are not empty, hold no other NUL and
 * end their last line. Each rule is parsed by its receiver (xf_filter.h).
 */
enum xf_proto_reason
xf_proto_hello_field(struct xf_msg_hello *m, const char *field, size_t len)
{
	const char *nul;

	if (m == NULL || len > XF_PATH_MAX || (field == NULL && len > 0)) {
		return XF_R_FIELD;
	}
	m->dest = field;
	m->dest_len = (uint16_t)len;
	m->rules = NULL;
	m->rules_len = 0;
	if ((m->flags & XF_HELLO_F_FILTERS) == 0) {
		return XF_R_OK;
	}
	nul = len > 0 ? memchr(field, '\0', len) : NULL;
	if (nul == NULL) {
		return XF_R_FIELD;
	}
	m->dest_len = (uint16_t)(nul - field);
	m->rules = nul + 1;
	m->rules_len = (uint16_t)(len - m->dest_len - 1u);
	if (m->rules_len == 0 || memchr(m->rules, '\0', m->rules_len) != NULL ||
	    m->rules[m->rules_len - 1] != '\n') {
		return XF_R_FIELD;
	}
	return XF_R_OK;
}

long
xf_proto_hello_seal(uint8_t *out, size_t len, uint32_t flags, uint32_t window, const char *field,
                    size_t field_len)
{
	size_t n = XF_HELLO_SEALED_HDR + field_len;

	if (out == NULL || len > XF_HELLO_SEALED_MAX) {
		return -EINVAL;
	}
	if (field_len > XF_PATH_MAX || n > len || (field == NULL && field_len > 0)) {
		return -EMSGSIZE;
	}
	st32(out, flags);
	st32(out + 4, window);
	st16(out + 8, (uint16_t)field_len);
	if (field_len > 0) {
		memcpy(out + XF_HELLO_SEALED_HDR, field, field_len);
	}
	/* To the length the caller gives, whatever the field: a block's length says nothing
	 * of what it holds (docs/PROTOCOL.md 3.1.4). */
	memset(out + n, 0, len - n);
	return (long)len;
}

enum xf_proto_reason
xf_proto_hello_unseal(struct xf_msg_hello *h, char *block, size_t len)
{
	const uint8_t *b = (const uint8_t *)block;
	struct xf_msg_hello in;
	enum xf_proto_reason r;
	size_t flen;

	if (h == NULL || block == NULL || len < XF_HELLO_SEALED_HDR) {
		return XF_R_TRUNCATED;
	}
	in = *h;
	in.flags = ld32(b);
	in.window = ld32(b + 4);
	flen = ld16(b + 8);
	if (flen > len - XF_HELLO_SEALED_HDR) {
		return XF_R_TRUNCATED;
	}
	for (size_t i = XF_HELLO_SEALED_HDR + flen; i < len; i++) {
		if (b[i] != 0) {
			return XF_R_FIELD; /* padding is zeros: nothing hides in it */
		}
	}
	if ((in.flags & XF_HELLO_F_CLEAR_AEAD) != XF_HELLO_F_CLEAR_AEAD) {
		return XF_R_FIELD;
	}
	in.dest_len = 0;
	r = check_hello_opts(&in, false, true);
	if (r != XF_R_OK) {
		return r;
	}
	memmove(block, block + XF_HELLO_SEALED_HDR, flen);
	memset(block + flen, 0, len - flen);
	r = xf_proto_hello_field(&in, block, flen);
	if (r == XF_R_OK) {
		*h = in;
	}
	return r;
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
	m->rules = NULL;
	m->rules_len = 0;
	m->auth_len = ld16(b + 26);
	m->auth = b + HELLO_LEN + m->dest_len;
	r = check_hello(m, ack);
	if (r != XF_R_OK) {
		return r;
	}
	r = exact(n, HELLO_LEN + m->dest_len + m->auth_len);
	/* A sealed field (XF_HELLO_F_SEALED_DEST) is read once message 1 has verified. */
	if (r != XF_R_OK || ack || (m->flags & XF_HELLO_F_SEALED_DEST) != 0) {
		return r;
	}
	return xf_proto_hello_field(m, m->dest, m->dest_len);
}

/* Whether id is among the n ids of an FLIST frame's entries. */
static bool
id_listed(const uint32_t *ids, uint16_t n, uint32_t id)
{
	for (uint16_t i = 0; i < n; i++) {
		if (ids[i] == id) {
			return true;
		}
	}
	return false;
}

/*
 * The name table after an FLIST's entries (b[pos..n)): a count, then records strictly
 * increasing by (kind, id), each naming a uid (gid) that an entry of the frame carries,
 * so that no id has two names and no name comes without its id (docs/PROTOCOL.md 6.21).
 */
static enum xf_proto_reason
dec_names(const uint8_t *b, uint32_t n, uint32_t pos, const uint32_t *uids, const uint32_t *gids,
          uint16_t count, struct xf_msg_flist *m)
{
	struct xf_name_rec rec;
	uint64_t prev = 0;
	enum xf_proto_reason r;
	uint16_t k;

	if (n - pos < XF_NAMES_LEN) {
		return XF_R_TRUNCATED;
	}
	k = ld16(b + pos);
	if (k == 0 || k > XF_NAMES_MAX) {
		return XF_R_COUNT;
	}
	pos += XF_NAMES_LEN;
	m->names = b + pos;
	m->names_len = n - pos;
	m->n_names = k;
	for (uint16_t i = 0; i < k; i++) {
		uint64_t key;

		r = rd_name(b, n, &pos, &rec);
		if (r != XF_R_OK) {
			return r;
		}
		key = ((uint64_t)rec.kind << 32) | rec.id;
		if (key <= prev ||
		    !id_listed(rec.kind == XF_NAME_USER ? uids : gids, count, rec.id)) {
			return XF_R_NAME_ID;
		}
		prev = key;
	}
	return pos == n ? XF_R_OK : XF_R_TRAILING;
}

static enum xf_proto_reason
dec_flist(const uint8_t *b, uint32_t n, uint16_t hdr_flags, struct xf_msg_flist *m)
{
	struct xf_flist_entry e;
	uint32_t pos = FLIST_LEN;
	uint32_t uids[XF_FLIST_MAX], gids[XF_FLIST_MAX];
	bool names = (hdr_flags & XF_HDR_F_NAMES) != 0;
	bool xattr = (hdr_flags & XF_HDR_F_XATTR) != 0;
	bool giveup;
	enum xf_proto_reason r;

	m->names = NULL;
	m->names_len = 0;
	m->n_names = 0;
	if (n < FLIST_LEN) {
		return XF_R_TRUNCATED;
	}
	m->first_index = ld32(b);
	m->count = ld16(b + 4);
	m->flags = ld16(b + 6);
	if (m->flags & ~XF_FLIST_F_ALL) {
		return XF_R_RESERVED;
	}
	/* An empty frame is allowed only to mark the end (total = first_index). */
	if (m->count > XF_FLIST_MAX || (m->count == 0 && !(m->flags & XF_FLIST_F_LAST))) {
		return XF_R_COUNT;
	}
	if ((uint64_t)m->first_index + m->count > UINT32_MAX) {
		return XF_R_RANGE;
	}
	/* Names are those of the ids the entries carry: only in a frame that has them. */
	if (names && (m->flags & XF_FLIST_F_OWNER) == 0) {
		return XF_R_NAME_ID;
	}
	/* A placeholder (6.23): one entry, of nothing but its index and a path, no names. */
	giveup = (m->flags & XF_FLIST_F_GIVEUP) != 0;
	if (giveup && (m->count != 1 || names)) {
		return XF_R_FIELD;
	}
	for (uint16_t i = 0; i < m->count; i++) {
		r = rd_entry(b, n, &pos, &e, (m->flags & XF_FLIST_F_OWNER) != 0, xattr);
		if (r != XF_R_OK) {
			return r;
		}
		if (giveup && (e.kind != XF_FILE_REG || e.size != 0 || e.xattr_len != 0)) {
			return XF_R_FIELD;
		}
		uids[i] = e.uid;
		gids[i] = e.gid;
	}
	m->raw = b + FLIST_LEN;
	m->raw_len = pos - FLIST_LEN;
	if (names) {
		return dec_names(b, n, pos, uids, gids, m->count, m);
	}
	return pos == n ? XF_R_OK : XF_R_TRAILING;
}

static enum xf_proto_reason
dec_decision(const uint8_t *b, uint32_t n, struct xf_msg_decision *m)
{
	struct xf_decision_rec rec;
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
		rd_decision(m->raw + (size_t)i * DECISION_REC_LEN, &rec);
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
dec_data(const uint8_t *b, uint32_t n, uint16_t hdr_flags, struct xf_msg_data *m)
{
	uint32_t trailer = (hdr_flags & XF_HDR_F_END) != 0 ? XF_DATA_END_LEN : 0u;

	if (n < DATA_LEN + trailer) {
		return XF_R_TRUNCATED;
	}
	m->file = ld32(b);
	m->offset = ld64(b + 8);
	m->len = n - DATA_LEN - trailer;
	m->bytes = b + DATA_LEN;
	m->raw_len = ld32(b + 4);
	m->crc64 = trailer != 0 ? ld64(b + n - XF_DATA_END_LEN) : 0;
	if (m->len == 0) {
		return XF_R_COUNT;
	}
	/* A file's one frame with its end starts it (an empty file has no DATA). */
	if (m->raw_len > XF_DATA_RAW_MAX || (trailer != 0 && m->offset != 0)) {
		return XF_R_FIELD;
	}
	if (m->offset > OFF_MAX - xf_proto_data_span(m)) {
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
	return m->size > OFF_MAX || m->status > XF_ST_MAX || m->status == XF_ST_REDO ? XF_R_FIELD
	                                                                             : XF_R_OK;
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
	m->seq = ld16(b + 10);
	m->raw = b + COMMIT_LEN;
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
	enum xf_proto_reason r = exact(n, n >= DONE_DEL_LEN ? DONE_DEL_LEN : DONE_LEN);

	if (r != XF_R_OK) {
		return r;
	}
	m->files = ld32(b);
	m->status = ld32(b + 4);
	m->has_delete = n == DONE_DEL_LEN;
	m->deleted = m->kept = m->del_status = 0;
	if (m->has_delete) {
		m->deleted = ld32(b + 8);
		m->kept = ld32(b + 12);
		m->del_status = ld16(b + 16);
		if (ld16(b + 18) != 0) {
			return XF_R_RESERVED;
		}
	}
	if (m->status > XF_ABORT_MAX || m->del_status > XF_DEL_MAX) {
		return XF_R_FIELD;
	}
	return XF_R_OK;
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

enum xf_proto_reason
xf_proto_body_decode(const uint8_t *b, uint32_t n, struct xf_msg *msg)
{
	switch (msg->hdr.type) {
	case XF_MSG_HELLO:
		return dec_hello(b, n, &msg->hello, false);
	case XF_MSG_HELLO_ACK:
		return dec_hello(b, n, &msg->hello, true);
	case XF_MSG_FLIST:
		return dec_flist(b, n, msg->hdr.flags, &msg->flist);
	case XF_MSG_DECISION:
		return dec_decision(b, n, &msg->decision);
	case XF_MSG_SIG:
		return dec_sig(b, n, &msg->sig);
	case XF_MSG_DATA:
		return dec_data(b, n, msg->hdr.flags, &msg->data);
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
	r = xf_proto_body_decode(p + XF_HDR_LEN, msg->hdr.len, msg);
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
		[XF_R_NAME] = "name",
		[XF_R_NAME_ID] = "name_id",
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

const char *
xf_proto_status_str(unsigned int status)
{
	static const char *const names[] = {
		[XF_ST_OK] = "ok",
		[XF_ST_BAD_PATH] = "bad_path",
		[XF_ST_ESCAPE] = "escape",
		[XF_ST_IO] = "io",
		[XF_ST_NOSPACE] = "nospace",
		[XF_ST_CHECKSUM] = "checksum",
		[XF_ST_SIZE] = "size",
		[XF_ST_CONFLICT] = "conflict",
		[XF_ST_LINK] = "link",
		[XF_ST_ATTR] = "attr",
		[XF_ST_REDO] = "redo",
		[XF_ST_XATTR] = "xattr",
		[XF_ST_TOOBIG] = "too_large",
	};

	if (status >= XF_ARRAY_SIZE(names) || names[status] == NULL) {
		return "?";
	}
	return names[status];
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
	return rd_entry(m->raw, m->raw_len, cursor, e, (m->flags & XF_FLIST_F_OWNER) != 0,
	                (msg->hdr.flags & XF_HDR_F_XATTR) != 0) == XF_R_OK;
}

bool
xf_proto_flist_name_next(const struct xf_msg *msg, uint32_t *cursor, struct xf_name_rec *rec)
{
	const struct xf_msg_flist *m = &msg->flist;

	if (m->names == NULL || *cursor >= m->names_len) {
		return false;
	}
	return rd_name(m->names, m->names_len, cursor, rec) == XF_R_OK;
}

bool
xf_proto_name_ok(const char *name, size_t len)
{
	return name != NULL && name_ok(name, len);
}

void
xf_proto_decision_get(const struct xf_msg *msg, uint16_t i, struct xf_decision_rec *rec)
{
	if (i >= msg->decision.count) {
		memset(rec, 0, sizeof(*rec));
		return;
	}
	rd_decision(msg->decision.raw + (size_t)i * DECISION_REC_LEN, rec);
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
