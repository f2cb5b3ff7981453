/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the wire codec (docs/PROTOCOL.md).
 *
 * Each input is used twice:
 * 1. As a datagram: decode it; if accepted, read every record through the accessors,
 *    validate every path, re-encode it with xf_proto_encode() and rebuild it with the
 *    builders, and require the very same bytes (so decode(encode(x)) == x).
 * 2. As field values for the encoder and the builders: whatever they accept must decode
 *    to the same values (the encoder never writes what the decoder rejects).
 * 3. As the sealed block of a HELLO's message 1 (xf_proto_hello_unseal): what it accepts
 *    lies inside the block, carries XF_HELLO_F_CLEAR_AEAD, and sealed again to the
 *    block's length gives the same bytes (xf_proto_hello_seal pads with zeros to exactly
 *    the length it is given).
 * Any violated property aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_dest.h"
#include "xf_path.h"
#include "xf_proto.h"
#include "xf_pull.h"
#include "xf_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[XF_PAYLOAD_MAX + 64];
static uint8_t out2[XF_PAYLOAD_MAX + 64];

static void
check_path(const char *p, size_t n)
{
	int rc = xf_path_validate(p, n);

	CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc == 0) {
		CHECK(n >= 1 && n <= XF_PATH_MAX && p[0] != '/' && memchr(p, 0, n) == NULL);
	}
}

/*
 * The receiver's split of a HELLO's destination (xf_dest.h): what it accepts is a volume
 * name of one component (with XF_HELLO_F_VOLUME) and a valid path, both inside dest; a
 * volume it names is found only by an equal name.
 */
static void
check_dest(const char *dest, size_t n, uint32_t flags)
{
	static const char *const names[] = { "data", "archive" };
	struct xf_dest d;
	int rc = xf_dest_parse(dest, n, flags, &d);
	int v;

	CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc != 0) {
		return;
	}
	CHECK(d.path_len == 0 || xf_path_validate(d.path, d.path_len) == 0);
	CHECK(d.path >= dest && d.path + d.path_len <= dest + n);
	CHECK((d.volume != NULL) == ((flags & XF_HELLO_F_VOLUME) != 0));
	if (d.volume != NULL) {
		CHECK(d.volume_len >= 1 && d.volume_len <= XF_DEST_VOLUME_MAX);
		CHECK(memchr(d.volume, '/', d.volume_len) == NULL);
		CHECK(xf_path_validate(d.volume, d.volume_len) == 0);
	}
	v = xf_dest_volume(&d, names, 2);
	CHECK(v == -ENOENT || (v >= 0 && v < 2));
	if (v >= 0 && d.volume != NULL) {
		CHECK(d.volume_len == strlen(names[v]) &&
		      memcmp(d.volume, names[v], d.volume_len) == 0);
	}
}

/*
 * A PULL HELLO's request (xf_pull.h): what the parser accepts lies inside the bytes, SRC
 * absolute, DEST a valid destination, exactly n_rules non-empty rules; the encoder gives
 * the same bytes back from the parts.
 */
static void
check_pull(const char *req, size_t n, uint32_t flags)
{
	static char copy[3 * (XF_PATH_MAX + 1) + 1];
	static char out[XF_PATH_MAX + 1];
	static const char *rules[XF_PULL_RULES_MAX];
	struct xf_pull_req p;
	struct xf_dest d;
	size_t pos = 0, len, off = 0;
	unsigned int k = 0;
	const char *r;
	char *src, *dest;
	int rc = xf_pull_parse(req, n, flags, &p);

	CHECK(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG || rc == -E2BIG);
	if (rc != 0) {
		return;
	}
	CHECK(p.src == req + ((flags & XF_HELLO_F_OWNER) != 0) && p.src_len >= 1 &&
	      p.src[0] == '/');
	CHECK(((flags & XF_HELLO_F_OWNER) != 0) == (p.ids != 0));
	CHECK((p.ids & ~XF_PULL_IDS_ALL) == 0);
	CHECK(memchr(p.src, '\0', p.src_len) == NULL);
	CHECK(p.dest + p.dest_len <= req + n);
	CHECK(xf_dest_parse(p.dest, p.dest_len, flags, &d) == 0);
	CHECK((p.rules == NULL) == (p.n_rules == 0));
	CHECK(p.n_rules == 0 || (flags & XF_HELLO_F_DELETE) == 0);
	/* Rebuild from the parts: NUL-terminated copies, then the encoder. */
	src = copy;
	memcpy(src, p.src, p.src_len);
	src[p.src_len] = '\0';
	dest = src + p.src_len + 1;
	memcpy(dest, p.dest, p.dest_len);
	dest[p.dest_len] = '\0';
	off = p.src_len + p.dest_len + 2;
	while ((r = xf_pull_rule_next(&p, &pos, &len)) != NULL) {
		CHECK(k < p.n_rules && len >= 1 && memchr(r, '\0', len) == NULL);
		CHECK(off + len + 1 <= sizeof(copy));
		memcpy(copy + off, r, len);
		copy[off + len] = '\0';
		rules[k++] = copy + off;
		off += len + 1;
	}
	CHECK(k == p.n_rules);
	rc = xf_pull_build(out, sizeof(out), src, dest, rules, k, flags, p.ids);
	CHECK(rc == (int)n && memcmp(out, req, n) == 0);
}

/* Rebuild an array frame from its accessors; it must give the same bytes. */
static void
rebuild(const struct xf_msg *m, const uint8_t *data, size_t size)
{
	struct xf_proto_builder b;
	struct xf_flist_entry e;
	struct xf_decision_rec d;
	struct xf_sig_rec s;
	struct xf_ack_range a;
	struct xf_commit_fail f;
	uint32_t cur = 0;
	uint16_t n = 0;
	int rc;

	CHECK(xf_proto_build_begin(&b, out2, XF_PAYLOAD_MAX, m) == 0);
	switch (m->hdr.type) {
	case XF_MSG_FLIST:
		while (xf_proto_flist_next(m, &cur, &e)) {
			CHECK(e.kind >= XF_FILE_REG && e.kind <= XF_FILE_HARDLINK);
			CHECK(e.mode <= 07777 && e.size <= (uint64_t)INT64_MAX);
			/* Owners only in a frame that carries them (6.17). */
			CHECK((m->flist.flags & XF_FLIST_F_OWNER) != 0 ||
			      (e.uid == XF_ID_NONE && e.gid == XF_ID_NONE));
			CHECK(e.path_len >= 1 && e.path_len <= XF_PATH_MAX);
			CHECK((e.kind == XF_FILE_SYMLINK || e.kind == XF_FILE_HARDLINK) ==
			      (e.target_len != 0));
			CHECK((e.target == NULL) == (e.target_len == 0));
			CHECK((const uint8_t *)e.path >= data &&
			      (const uint8_t *)e.path + e.path_len <= data + size);
			check_path(e.path, e.path_len);
			if (e.target_len != 0) {
				CHECK((const uint8_t *)e.target + e.target_len <= data + size);
				check_path(e.target, e.target_len);
			}
			CHECK(xf_proto_build_flist(&b, &e) == 0);
			n++;
		}
		CHECK(n == m->flist.count && cur == m->flist.raw_len);
		/* Its name table (6.21): valid names of ids its entries carry, in order;
		 * the builder takes them back as they are. */
		{
			static struct xf_name_rec names[XF_NAMES_MAX];
			uint32_t nc = 0;
			unsigned int k = 0;

			while (k < XF_NAMES_MAX && xf_proto_flist_name_next(m, &nc, &names[k])) {
				CHECK(xf_proto_name_ok(names[k].name, names[k].len));
				CHECK(names[k].kind == XF_NAME_USER ||
				      names[k].kind == XF_NAME_GROUP);
				CHECK(k == 0 ||
				      ((uint64_t)names[k - 1].kind << 32 | names[k - 1].id) <
				              ((uint64_t)names[k].kind << 32 | names[k].id));
				k++;
			}
			CHECK(k == m->flist.n_names && nc == m->flist.names_len);
			CHECK(((m->hdr.flags & XF_HDR_F_NAMES) != 0) == (k != 0));
			CHECK(xf_proto_build_names(&b, names, k) == 0);
		}
		break;
	case XF_MSG_DECISION:
		for (n = 0; n < m->decision.count; n++) {
			xf_proto_decision_get(m, n, &d);
			CHECK(xf_proto_build_decision(&b, &d) == 0);
		}
		break;
	case XF_MSG_SIG:
		for (n = 0; n < m->sig.count; n++) {
			xf_proto_sig_get(m, n, &s);
			CHECK(xf_proto_build_sig(&b, &s) == 0);
		}
		break;
	case XF_MSG_ACK:
		for (n = 0; n < m->ack.count; n++) {
			xf_proto_ack_get(m, n, &a);
			CHECK(a.first <= a.last && a.last <= m->ack.largest);
			CHECK(xf_proto_build_ack(&b, &a) == 0);
		}
		break;
	case XF_MSG_COMMIT:
		for (n = 0; n < m->commit.count; n++) {
			xf_proto_commit_get(m, n, &f);
			CHECK(f.file < m->commit.committed && f.status != 0);
			CHECK(xf_proto_build_commit(&b, &f) == 0);
		}
		break;
	default:
		CHECK(0);
	}
	rc = xf_proto_build_finish(&b);
	CHECK(rc == (int)size && memcmp(out2, data, size) == 0);
}

static void
datagram(const uint8_t *data, size_t size)
{
	struct xf_msg m, again;
	enum xf_proto_reason r = XF_R_MAX;
	int rc = xf_proto_decode(data, size, &m, &r);

	CHECK(r < XF_R_MAX && xf_proto_reason_str(r) != NULL);
	if (rc != 0) {
		CHECK(r != XF_R_OK);
		CHECK(rc == (r == XF_R_VERSION ? -EPROTONOSUPPORT : -EBADMSG));
		return;
	}
	CHECK(r == XF_R_OK && size >= XF_HDR_LEN && size <= XF_PAYLOAD_MAX);
	CHECK(m.hdr.len == size - XF_HDR_LEN && m.hdr.session != 0);
	CHECK(xf_proto_type_str(m.hdr.type)[0] != '?');

	switch (m.hdr.type) {
	case XF_MSG_HELLO:
	case XF_MSG_HELLO_ACK:
		check_path(m.hello.dest, m.hello.dest_len);
		check_dest(m.hello.dest, m.hello.dest_len, m.hello.flags);
		check_pull(m.hello.dest, m.hello.dest_len, m.hello.flags);
		break;
	case XF_MSG_FLIST:
	case XF_MSG_DECISION:
	case XF_MSG_SIG:
	case XF_MSG_ACK:
	case XF_MSG_COMMIT:
		rebuild(&m, data, size);
		break;
	case XF_MSG_DATA:
		/* Build the same frame in place. */
		CHECK(m.data.len >= 1 && m.data.bytes == data + XF_DATA_OVERHEAD);
		memcpy(out2 + XF_DATA_OVERHEAD, m.data.bytes, m.data.len);
		rc = xf_proto_data_hdr_encode(out2, &m.hdr, m.data.file, m.data.offset, m.data.len,
		                              m.data.raw_len);
		CHECK(rc == (int)size && memcmp(out2, data, size) == 0);
		break;
	case XF_MSG_ABORT:
		for (uint16_t i = 0; i < m.abort.msg_len; i++) {
			CHECK(m.abort.msg[i] >= 0x20 && m.abort.msg[i] <= 0x7e);
		}
		break;
	default:
		break;
	}

	rc = xf_proto_encode(out, sizeof(out), &m);
	CHECK(rc == (int)size && memcmp(out, data, size) == 0);
	CHECK(xf_proto_decode(out, (size_t)rc, &again, &r) == 0);
	CHECK(again.hdr.version == m.hdr.version && again.hdr.type == m.hdr.type &&
	      again.hdr.flags == m.hdr.flags && again.hdr.len == m.hdr.len &&
	      again.hdr.session == m.hdr.session && again.hdr.pn == m.hdr.pn);
}

/* ---- the input as field values ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint64_t
take(struct reader *rd, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes && rd->n > 0; i++, rd->p++, rd->n--) {
		v = (v << 8) | rd->p[0];
	}
	return v;
}

/* A pointer to up to want bytes of the input; *got says how many. */
static const void *
take_bytes(struct reader *rd, size_t want, uint16_t *got)
{
	const void *p = rd->p;

	if (want > rd->n) {
		want = rd->n;
	}
	*got = (uint16_t)want;
	rd->p += want;
	rd->n -= want;
	return p;
}

/* Small values most of the time so that valid messages are common. */
static uint64_t
small(struct reader *rd, unsigned int bytes)
{
	uint8_t sel = (uint8_t)take(rd, 1);

	return (sel & 0x80) ? take(rd, bytes) : (sel & 0x0f);
}

static void
fields_hdr(struct reader *rd, struct xf_msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = type;
	m->hdr.flags = (uint16_t)small(rd, 2);
	m->hdr.session = (uint32_t)take(rd, 4) | (take(rd, 1) & 1);
	m->hdr.pn = take(rd, 8);
}

static void
encoded_must_decode(const struct xf_msg *m, int rc)
{
	struct xf_msg d;
	enum xf_proto_reason r;

	if (rc < 0) {
		CHECK(rc == -EINVAL || rc == -EMSGSIZE || rc == -ENOSPC);
		return;
	}
	CHECK(xf_proto_decode(out, (size_t)rc, &d, &r) == 0 && r == XF_R_OK);
	CHECK(d.hdr.type == m->hdr.type && d.hdr.flags == m->hdr.flags &&
	      d.hdr.session == m->hdr.session && d.hdr.pn == m->hdr.pn);
}

static void
fields_plain(struct reader *rd, uint8_t type)
{
	struct xf_msg m, d;
	int rc;

	fields_hdr(rd, &m, type);
	switch (type) {
	case XF_MSG_HELLO:
	case XF_MSG_HELLO_ACK:
		m.hello.min_version = (uint16_t)small(rd, 2);
		m.hello.max_version = (uint16_t)small(rd, 2);
		m.hello.max_payload = (uint16_t)take(rd, 2);
		m.hello.status = (uint16_t)small(rd, 2);
		m.hello.window = (uint32_t)small(rd, 4);
		m.hello.flags = (uint32_t)small(rd, 4);
		m.hello.nonce = take(rd, 8);
		m.hello.dest = take_bytes(rd, small(rd, 2), &m.hello.dest_len);
		break;
	case XF_MSG_DATA:
		m.data.file = (uint32_t)take(rd, 4);
		m.data.offset = take(rd, 8);
		/* All that is left, or nothing (len 0 must be refused). */
		m.data.len = (take(rd, 1) & 1) ? (uint32_t)rd->n : 0;
		m.data.bytes = rd->p;
		rd->p += m.data.len;
		rd->n -= m.data.len;
		break;
	case XF_MSG_COPY:
		m.copy.file = (uint32_t)take(rd, 4);
		m.copy.len = (uint32_t)take(rd, 4);
		m.copy.offset = take(rd, 8);
		m.copy.src_offset = take(rd, 8);
		break;
	case XF_MSG_FILE_END:
		m.file_end.file = (uint32_t)take(rd, 4);
		m.file_end.status = (uint16_t)take(rd, 2);
		m.file_end.size = take(rd, 8);
		m.file_end.crc64 = take(rd, 8);
		break;
	case XF_MSG_DONE:
		m.done.files = (uint32_t)take(rd, 4);
		m.done.status = (uint32_t)small(rd, 4);
		break;
	case XF_MSG_ABORT:
		m.abort.code = (uint16_t)small(rd, 2);
		m.abort.msg = take_bytes(rd, small(rd, 2), &m.abort.msg_len);
		break;
	default:
		break;
	}
	rc = xf_proto_encode(out, (size_t)small(rd, 2) == 1 ? take(rd, 2) : sizeof(out), &m);
	encoded_must_decode(&m, rc);
	if (rc < 0) {
		return;
	}
	CHECK(xf_proto_decode(out, (size_t)rc, &d, NULL) == 0);
	switch (type) {
	case XF_MSG_HELLO:
	case XF_MSG_HELLO_ACK:
		CHECK(d.hello.min_version == m.hello.min_version &&
		      d.hello.max_version == m.hello.max_version &&
		      d.hello.max_payload == m.hello.max_payload &&
		      d.hello.status == m.hello.status && d.hello.window == m.hello.window &&
		      d.hello.flags == m.hello.flags && d.hello.nonce == m.hello.nonce &&
		      d.hello.dest_len == m.hello.dest_len);
		CHECK(d.hello.dest_len == 0 ||
		      memcmp(d.hello.dest, m.hello.dest, d.hello.dest_len) == 0);
		break;
	case XF_MSG_DATA:
		CHECK(d.data.file == m.data.file && d.data.offset == m.data.offset &&
		      d.data.len == m.data.len &&
		      memcmp(d.data.bytes, m.data.bytes, d.data.len) == 0);
		break;
	case XF_MSG_COPY:
		CHECK(d.copy.file == m.copy.file && d.copy.len == m.copy.len &&
		      d.copy.offset == m.copy.offset && d.copy.src_offset == m.copy.src_offset);
		break;
	case XF_MSG_FILE_END:
		CHECK(d.file_end.file == m.file_end.file &&
		      d.file_end.status == m.file_end.status &&
		      d.file_end.size == m.file_end.size && d.file_end.crc64 == m.file_end.crc64);
		break;
	case XF_MSG_DONE:
		CHECK(d.done.files == m.done.files && d.done.status == m.done.status);
		break;
	case XF_MSG_ABORT:
		CHECK(d.abort.code == m.abort.code && d.abort.msg_len == m.abort.msg_len);
		CHECK(d.abort.msg_len == 0 ||
		      memcmp(d.abort.msg, m.abort.msg, d.abort.msg_len) == 0);
		break;
	default:
		break;
	}
}

/* Feed builder records from the input; whatever the builder accepts must decode. */
static void
fields_array(struct reader *rd, uint8_t type)
{
	struct xf_proto_builder b;
	struct xf_msg m;
	size_t cap;
	int rc = 0;

	fields_hdr(rd, &m, type);
	/* XF_HDR_F_NAMES promises the name table that only xf_proto_build_names writes (and
	 * flags): not made here, so a frame flagged without it is not the builder's to fix. */
	m.hdr.flags &= (uint16_t)~XF_HDR_F_NAMES;
	switch (type) {
	case XF_MSG_FLIST:
		m.flist.first_index = (uint32_t)take(rd, 4);
		m.flist.flags = (uint16_t)small(rd, 2);
		break;
	case XF_MSG_SIG:
		m.sig.file = (uint32_t)take(rd, 4);
		m.sig.block_size = (uint32_t)take(rd, 3);
		m.sig.first_block = (uint32_t)take(rd, 4);
		break;
	case XF_MSG_ACK:
		m.ack.largest = take(rd, 8);
		m.ack.ack_delay_us = (uint32_t)take(rd, 4);
		break;
	case XF_MSG_COMMIT:
		m.commit.committed = (uint32_t)small(rd, 4);
		m.commit.credit = (uint32_t)small(rd, 4);
		break;
	default:
		break;
	}
	cap = XF_PAYLOAD_MIN + (size_t)take(rd, 2) % (XF_PAYLOAD_MAX - XF_PAYLOAD_MIN + 64);
	if (xf_proto_build_begin(&b, out, cap, &m) != 0) {
		return;
	}
	while (rd->n > 0 && rc != -ENOSPC) {
		switch (type) {
		case XF_MSG_FLIST: {
			struct xf_flist_entry e = {
				.kind = (uint8_t)small(rd, 1),
				.mode = (uint32_t)small(rd, 4),
				.size = small(rd, 8),
				.mtime_ns = (int64_t)take(rd, 8),
			};

			e.path = take_bytes(rd, small(rd, 2), &e.path_len);
			e.target = take_bytes(rd, small(rd, 2), &e.target_len);
			if (e.target_len == 0) {
				e.target = NULL;
			}
			rc = xf_proto_build_flist(&b, &e);
			break;
		}
		case XF_MSG_DECISION: {
			struct xf_decision_rec d = {
				.file = (uint32_t)take(rd, 4),
				.decision = (uint8_t)small(rd, 1),
				.status = (uint8_t)small(rd, 1),
				.items = (uint16_t)small(rd, 2),
				.block_size = (uint32_t)small(rd, 4),
				.block_count = (uint32_t)small(rd, 4),
			};

			rc = xf_proto_build_decision(&b, &d);
			break;
		}
		case XF_MSG_SIG: {
			struct xf_sig_rec s = { .weak = (uint32_t)take(rd, 4),
				                .strong = (uint32_t)take(rd, 4) };

			rc = xf_proto_build_sig(&b, &s);
			break;
		}
		case XF_MSG_ACK: {
			struct xf_ack_range a = { .first = take(rd, 8), .last = take(rd, 8) };

			rc = xf_proto_build_ack(&b, &a);
			break;
		}
		case XF_MSG_COMMIT: {
			struct xf_commit_fail f = { .file = (uint32_t)small(rd, 4),
				                    .status = (uint16_t)small(rd, 2) };

			rc = xf_proto_build_commit(&b, &f);
			break;
		}
		default:
			return;
		}
		CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
		CHECK(b.len <= cap && b.len <= XF_PAYLOAD_MAX && b.count <= b.limit);
	}
	rc = xf_proto_build_finish(&b);
	CHECK(rc <= (int)cap);
	encoded_must_decode(&m, rc);
}

/* The input as a sealed block (3. above). */
static void
sealed_block(const uint8_t *data, size_t size)
{
	static char blk[XF_PAYLOAD_MAX + 64];
	struct xf_msg_hello h = { .min_version = 2,
		                  .max_version = 2,
		                  .max_payload = 1456,
		                  .flags = XF_HELLO_F_CLEAR_AEAD,
		                  .auth_len = XF_HELLO_AUTH_LEN };
	const struct xf_msg_hello before = h;
	enum xf_proto_reason r;
	size_t fl;
	long n;

	if (size > XF_HELLO_SEALED_MAX) {
		return; /* message 1's payload is at most that */
	}
	memcpy(blk, data, size);
	r = xf_proto_hello_unseal(&h, blk, size);
	CHECK(r == XF_R_OK || r == XF_R_TRUNCATED || r == XF_R_FIELD || r == XF_R_RESERVED);
	if (r != XF_R_OK) {
		CHECK(memcmp(&h, &before, sizeof(h)) == 0);
		return;
	}
	fl = xf_hello_dest_field_len(&h);
	CHECK((h.flags & XF_HELLO_F_CLEAR_AEAD) == XF_HELLO_F_CLEAR_AEAD);
	CHECK(h.dest == blk && XF_HELLO_SEALED_HDR + fl <= size);
	check_dest(h.dest, h.dest_len, h.flags);
	check_pull(h.dest, h.dest_len, h.flags);
	n = xf_proto_hello_seal(out2, size, h.flags, h.window, blk, fl);
	CHECK(n == (long)size && memcmp(out2, data, size) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader rd = { data, size };
	uint8_t type;

	datagram(data, size);
	sealed_block(data, size);

	type = (uint8_t)(take(&rd, 1) % (XF_MSG_TYPE_MAX + 1));
	switch (type) {
	case XF_MSG_FLIST:
	case XF_MSG_DECISION:
	case XF_MSG_SIG:
	case XF_MSG_ACK:
	case XF_MSG_COMMIT:
		fields_array(&rd, type);
		break;
	default:
		fields_plain(&rd, type);
		break;
	}
	return 0;
}
