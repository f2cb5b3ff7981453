/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The xferd wire codec, version 1: the encoder of whole messages and the builders that
 * fill a frame record by record (docs/PROTOCOL.md). Every field goes through the same
 * checks as the decoder's (xf_proto_priv.h), so nothing is sent that a peer would drop.
 */
#include <errno.h>
#include <string.h>

#include "xf_proto_priv.h"

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

/* Bytes of an FLIST's name table (XF_HDR_F_NAMES: its count and records), else 0. */
static size_t
names_len(const struct xf_msg *msg)
{
	if ((msg->hdr.flags & XF_HDR_F_NAMES) == 0) {
		return 0;
	}
	return XF_NAMES_LEN + (size_t)msg->flist.names_len;
}

/* Bytes after a DATA frame's data: the file's CRC-64 when it carries the file's end. */
static uint32_t
data_trailer(const struct xf_msg *msg)
{
	return (msg->hdr.flags & XF_HDR_F_END) != 0 ? XF_DATA_END_LEN : 0u;
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
		/* Rules exactly with their flag (none in clear with XF_HELLO_F_SEALED_DEST: the
		 * field is in message 1); the field they share with dest is bounded as dest
		 * alone is (the decoder's check_hello()). */
		if (xf_hello_dest_field_len(&msg->hello) > XF_PATH_MAX ||
		    (msg->hello.rules_len != 0) !=
		            ((msg->hello.flags & (XF_HELLO_F_FILTERS | XF_HELLO_F_SEALED_DEST)) ==
		             XF_HELLO_F_FILTERS) ||
		    !src_ok(msg->hello.dest, msg->hello.dest_len) ||
		    !src_ok(msg->hello.rules, msg->hello.rules_len) ||
		    !src_ok(msg->hello.auth, msg->hello.auth_len)) {
			return 0;
		}
		return HELLO_LEN + xf_hello_dest_field_len(&msg->hello) + msg->hello.auth_len;
	case XF_MSG_FLIST:
		if (!src_ok(msg->flist.raw, msg->flist.raw_len) ||
		    ((msg->hdr.flags & XF_HDR_F_NAMES) != 0 &&
		     !src_ok(msg->flist.names, msg->flist.names_len))) {
			return 0;
		}
		*err = -EMSGSIZE;
		if (msg->flist.raw_len > BODY_MAX - FLIST_LEN || names_len(msg) > BODY_MAX) {
			return 0;
		}
		if (FLIST_LEN + msg->flist.raw_len + names_len(msg) > BODY_MAX) {
			return 0;
		}
		return FLIST_LEN + msg->flist.raw_len + names_len(msg);
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
		if (msg->data.len > BODY_MAX - DATA_LEN - data_trailer(msg)) {
			return 0;
		}
		return DATA_LEN + msg->data.len + data_trailer(msg);
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
		return msg->done.has_delete ? DONE_DEL_LEN : DONE_LEN;
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
		st16(b + 24, xf_hello_dest_field_len(&msg->hello));
		st16(b + 26, msg->hello.auth_len);
		put(b + HELLO_LEN, msg->hello.dest, msg->hello.dest_len);
		if (msg->hello.rules_len != 0) {
			b[HELLO_LEN + msg->hello.dest_len] = 0;
			put(b + HELLO_LEN + msg->hello.dest_len + 1, msg->hello.rules,
			    msg->hello.rules_len);
		}
		put(b + HELLO_LEN + xf_hello_dest_field_len(&msg->hello), msg->hello.auth,
		    msg->hello.auth_len);
		break;
	case XF_MSG_FLIST:
		st32(b, msg->flist.first_index);
		st16(b + 4, msg->flist.count);
		st16(b + 6, msg->flist.flags);
		put(b + FLIST_LEN, msg->flist.raw, msg->flist.raw_len);
		if ((msg->hdr.flags & XF_HDR_F_NAMES) != 0) {
			st16(b + FLIST_LEN + msg->flist.raw_len, msg->flist.n_names);
			put(b + FLIST_LEN + msg->flist.raw_len + XF_NAMES_LEN, msg->flist.names,
			    msg->flist.names_len);
		}
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
		st32(b + 4, msg->data.raw_len);
		st64(b + 8, msg->data.offset);
		put(b + DATA_LEN, msg->data.bytes, msg->data.len);
		if (data_trailer(msg) != 0) {
			st64(b + DATA_LEN + msg->data.len, msg->data.crc64);
		}
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
		st16(b + 10, msg->commit.seq);
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
		if (msg->done.has_delete) {
			st32(b + 8, msg->done.deleted);
			st32(b + 12, msg->done.kept);
			st16(b + 16, msg->done.del_status);
			st16(b + 18, 0);
		}
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
	if (xf_proto_body_decode(p + XF_HDR_LEN, (uint32_t)n, &check) != XF_R_OK) {
		return -EINVAL;
	}
	return (int)(XF_HDR_LEN + n);
}

/* A DATA frame's header and fields in front of its len bytes; with the END flag in
 * hdr, the file's crc64 after them too. */
static int
data_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint64_t offset, uint32_t len,
            uint32_t raw_len, uint64_t crc64)
{
	struct xf_hdr h = *hdr;
	uint8_t *p = buf;
	uint32_t span = raw_len != 0 ? raw_len : len;
	uint32_t trailer = (h.flags & XF_HDR_F_END) != 0 ? XF_DATA_END_LEN : 0u;

	/* The function only makes DATA frames, so the type is DATA whatever hdr says. */
	h.type = XF_MSG_DATA;
	if (buf == NULL || check_hdr(&h) != XF_R_OK || len == 0 || raw_len > XF_DATA_RAW_MAX ||
	    offset > OFF_MAX - span || (trailer != 0 && offset != 0)) {
		return -EINVAL;
	}
	if (len > XF_PAYLOAD_MAX - XF_DATA_OVERHEAD - trailer) {
		return -EMSGSIZE;
	}
	wr_hdr(p, &h, XF_MSG_DATA, (uint16_t)(DATA_LEN + len + trailer));
	st32(p + XF_HDR_LEN, file);
	st32(p + XF_HDR_LEN + 4, raw_len);
	st64(p + XF_HDR_LEN + 8, offset);
	if (trailer != 0) {
		st64(p + XF_DATA_OVERHEAD + len, crc64);
	}
	return (int)(XF_DATA_OVERHEAD + len + trailer);
}

int
xf_proto_data_hdr_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint64_t offset,
                         uint32_t len, uint32_t raw_len)
{
	struct xf_hdr h = *hdr;

	h.flags &= (uint16_t)~XF_HDR_F_END; /* no room was promised for the CRC */
	return data_encode(buf, &h, file, offset, len, raw_len, 0);
}

int
xf_proto_data_end_encode(void *buf, const struct xf_hdr *hdr, uint32_t file, uint32_t len,
                         uint32_t raw_len, uint64_t crc64)
{
	struct xf_hdr h = *hdr;

	h.flags |= XF_HDR_F_END;
	return data_encode(buf, &h, file, 0, len, raw_len, crc64);
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
		if ((msg->flist.flags & ~XF_FLIST_F_ALL) != 0) {
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
	b->reserve = 0;
	b->names = false;
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
	if (b->count >= b->limit || b->len + n + b->reserve > b->cap) {
		return -ENOSPC;
	}
	return 0;
}

int
xf_proto_build_flist(struct xf_proto_builder *b, const struct xf_flist_entry *e)
{
	bool owner = b->type == XF_MSG_FLIST && (ld16(body(b) + 6) & XF_FLIST_F_OWNER) != 0;
	bool xattr = b->type == XF_MSG_FLIST && (ld16(b->buf + 4) & XF_HDR_F_XATTR) != 0;
	size_t fixed = FLIST_ENTRY_LEN + (owner ? XF_FLIST_OWNER_LEN : 0u);
	size_t n = fixed + (size_t)e->path_len + e->target_len + (xattr ? 2u + e->xattr_len : 0u);
	uint8_t *p = b->buf + b->len;
	int rc;

	if (b->type != XF_MSG_FLIST || check_entry(e) != XF_R_OK || e->path == NULL ||
	    (e->target_len != 0 && e->target == NULL) || (e->xattr_len != 0 && e->xattr == NULL) ||
	    (!xattr && e->xattr_len != 0)) {
		return -EINVAL;
	}
	/* A placeholder frame (6.23): its one entry a regular file of size 0, no set. */
	if ((ld16(body(b) + 6) & XF_FLIST_F_GIVEUP) != 0 &&
	    (b->count != 0 || e->kind != XF_FILE_REG || e->size != 0 || e->xattr_len != 0)) {
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
	if (owner) {
		st32(p + FLIST_ENTRY_LEN, e->uid);
		st32(p + FLIST_ENTRY_LEN + 4, e->gid);
	}
	memcpy(p + fixed, e->path, e->path_len);
	put(p + fixed + e->path_len, e->target, e->target_len);
	if (xattr) {
		uint8_t *x = p + fixed + e->path_len + e->target_len;

		st16(x, e->xattr_len);
		put(x + 2, e->xattr, e->xattr_len);
	}
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
	st16(p + 6, rec->items);
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
xf_proto_build_names(struct xf_proto_builder *b, const struct xf_name_rec *recs, unsigned int n)
{
	uint64_t prev = 0;
	size_t bytes = 0;
	uint8_t *p;

	if (b->type != XF_MSG_FLIST) {
		return -EINVAL;
	}
	if (n == 0) {
		return 0;
	}
	if ((ld16(body(b) + 6) & XF_FLIST_F_OWNER) == 0 || n > XF_NAMES_MAX) {
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t key = ((uint64_t)recs[i].kind << 32) | recs[i].id;

		if ((recs[i].kind != XF_NAME_USER && recs[i].kind != XF_NAME_GROUP) ||
		    recs[i].id == XF_ID_NONE || key <= prev ||
		    !xf_proto_name_ok(recs[i].name, recs[i].len)) {
			return -EINVAL;
		}
		prev = key;
		bytes += recs[i].len;
	}
	if (b->len + xf_proto_names_size(n, bytes) > b->cap) {
		return -ENOSPC;
	}
	p = b->buf + b->len;
	st16(p, (uint16_t)n);
	p += XF_NAMES_LEN;
	for (unsigned int i = 0; i < n; i++) {
		p[0] = recs[i].kind;
		p[1] = recs[i].len;
		st32(p + 2, recs[i].id);
		memcpy(p + XF_NAME_REC_LEN, recs[i].name, recs[i].len);
		p += XF_NAME_REC_LEN + recs[i].len;
	}
	b->len += xf_proto_names_size(n, bytes);
	b->names = true;
	st16(b->buf + 4, (uint16_t)(ld16(b->buf + 4) | XF_HDR_F_NAMES));
	return 0;
}

int
xf_proto_build_finish(struct xf_proto_builder *b)
{
	uint8_t *p = body(b);

	switch (b->type) {
	case XF_MSG_FLIST:
		/* Only the end marker may be empty; a placeholder holds exactly one entry; a
		 * header that says a name table follows has one (a frame without it would not
		 * decode). */
		if ((b->count == 0 && !(ld16(p + 6) & XF_FLIST_F_LAST)) ||
		    ((ld16(p + 6) & XF_FLIST_F_GIVEUP) != 0 && b->count != 1) ||
		    ((ld16(b->buf + 4) & XF_HDR_F_NAMES) != 0 && !b->names)) {
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
