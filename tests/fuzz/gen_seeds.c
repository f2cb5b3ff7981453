/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writes one valid frame of every type (and a few at their size limits, and the HELLO and
 * DONE of a session with --delete) into the
 * directory given as the only argument: the seed corpus of fuzz_proto.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_hs_block.h"
#include "xf_proto.h"
#include "xf_xattr.h"

static uint8_t buf[XF_PAYLOAD_MAX];
static uint8_t fill[XF_PAYLOAD_MAX];
static int written;

static int
save(const char *dir, const char *name, int len)
{
	char path[4096];
	FILE *f;

	if (len < 0) {
		fprintf(stderr, "gen_seeds: %s: cannot encode (%d)\n", name, len);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		return -1;
	}
	written++;
	return 0;
}

static struct xf_msg
msg(uint8_t type)
{
	struct xf_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.session = 0x1234567u;
	m.hdr.pn = 42;
	return m;
}

static int
plain(const char *dir)
{
	struct xf_msg m;
	int rc = 0;

	m = msg(XF_MSG_HELLO);
	m.hello = (struct xf_msg_hello){ .min_version = 1,
		                         .max_version = 1,
		                         .max_payload = XF_PAYLOAD_MTU1500,
		                         .flags = XF_HELLO_F_CHECKSUM,
		                         .nonce = 0x0123456789abcdefull,
		                         .dest = "backups/host1",
		                         .dest_len = 13 };
	rc |= save(dir, "hello", xf_proto_encode(buf, sizeof(buf), &m));
	m.hello.flags = XF_HELLO_F_DELETE;
	m.hello.window = 100; /* the deletion limit */
	rc |= save(dir, "hello_delete", xf_proto_encode(buf, sizeof(buf), &m));
	m.hello.flags = XF_HELLO_F_DELETE | XF_HELLO_F_FILTERS; /* rules after the NUL */
	m.hello.rules = "- *.o\n+ keep/\n- /cache/\n";
	m.hello.rules_len = 24;
	rc |= save(dir, "hello_delete_rules", xf_proto_encode(buf, sizeof(buf), &m));
	m.hello.rules = NULL;
	m.hello.rules_len = 0;
	m.hello.flags = XF_HELLO_F_PULL | XF_HELLO_F_CHECKSUM | XF_HELLO_F_VOLUME;
	m.hello.window = 0;
	m.hello.dest = "/srv/data/\0archive/in\0- *.o\0+ src/**";
	m.hello.dest_len = 36; /* a pull request (xf_pull.h) with two rules */
	rc |= save(dir, "hello_pull", xf_proto_encode(buf, sizeof(buf), &m));
	/* A pull with -g --owner-names: the request's IDS byte first (XF_HELLO_F_OWNER). */
	m.hello.flags = XF_HELLO_F_PULL | XF_HELLO_F_OWNER;
	m.hello.dest = "\x06/srv/data\0in";
	m.hello.dest_len = 13;
	rc |= save(dir, "hello_pull_owner", xf_proto_encode(buf, sizeof(buf), &m));
	/* A pull with --no-compress (docs/PROTOCOL.md 6.16). */
	m.hello.flags = XF_HELLO_F_PULL | XF_HELLO_F_NO_COMPRESS;
	m.hello.dest = "/srv/data\0in";
	m.hello.dest_len = 12;
	rc |= save(dir, "hello_pull_nozip", xf_proto_encode(buf, sizeof(buf), &m));
	/* Under AEAD: no destination and no option in clear, message 1 (here its length only:
	 * 148 bytes and a sealed block of its one size in its payload) carries them
	 * (XF_HELLO_F_SEALED_DEST, XF_HELLO_F_SEALED_OPTS). */
	m.hello.flags = XF_HELLO_F_CLEAR_AEAD;
	m.hello.window = 0;
	m.hello.dest = NULL;
	m.hello.dest_len = 0;
	m.hello.auth = fill;
	m.hello.auth_len = XF_HELLO_AUTH_LEN + XF_HS_BLOCK_LEN;
	rc |= save(dir, "hello_sealed", xf_proto_encode(buf, sizeof(buf), &m));
	/* That sealed block itself, as message 1 gives it (fuzz_proto reads every input as
	 * one too): the options of a deleting push with rules, its limit, the field. */
	rc |= save(dir, "hello_sealed_block",
	           (int)xf_proto_hello_seal(buf, XF_HS_BLOCK_LEN,
	                                    XF_HELLO_F_CLEAR_AEAD | XF_HELLO_F_DELETE |
	                                            XF_HELLO_F_FILTERS | XF_HELLO_F_VOLUME,
	                                    100, "vol/dst\0- *.o\n", 14));
	m = msg(XF_MSG_HELLO_ACK);
	m.hello = (struct xf_msg_hello){
		.min_version = 1, .max_version = 1, .max_payload = XF_PAYLOAD_MAX, .window = 64
	};
	rc |= save(dir, "hello_ack", xf_proto_encode(buf, sizeof(buf), &m));
	/* The receiver's volume asks for compressed DATA (docs/PROTOCOL.md 6.16). */
	m.hello.flags = XF_HELLO_F_COMPRESS;
	rc |= save(dir, "hello_ack_zip", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_DATA);
	m.data = (struct xf_msg_data){ .file = 3, .len = 64, .offset = 8192, .bytes = fill };
	rc |= save(dir, "data", xf_proto_encode(buf, sizeof(buf), &m));
	m.data.len = XF_PAYLOAD_MAX - XF_DATA_OVERHEAD;
	rc |= save(dir, "data_max", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_COPY);
	m.copy = (struct xf_msg_copy){ .file = 3, .len = 4096, .offset = 4096, .src_offset = 0 };
	rc |= save(dir, "copy", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_FILE_END);
	m.file_end = (struct xf_msg_file_end){ .file = 3, .size = 12288, .crc64 = 0xfeedull };
	rc |= save(dir, "file_end", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_DONE);
	m.done = (struct xf_msg_done){ .files = 7 };
	rc |= save(dir, "done", xf_proto_encode(buf, sizeof(buf), &m));
	m.done = (struct xf_msg_done){
		.files = 7, .has_delete = true, .deleted = 5, .kept = 2, .del_status = XF_DEL_LIMIT
	};
	rc |= save(dir, "done_delete", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_ABORT);
	m.abort = (struct xf_msg_abort){ .code = XF_ABORT_TIMEOUT,
		                         .msg = "peer silent",
		                         .msg_len = 11 };
	rc |= save(dir, "abort", xf_proto_encode(buf, sizeof(buf), &m));
	m = msg(XF_MSG_PING);
	m.hdr.flags = XF_HDR_F_NOACK;
	rc |= save(dir, "ping", xf_proto_encode(buf, sizeof(buf), &m));
	return rc;
}

static int
arrays(const char *dir)
{
	static const struct xf_flist_entry entries[] = {
		{ .kind = XF_FILE_DIR, .mode = 0755, .path = "etc", .path_len = 3 },
		{ .kind = XF_FILE_REG,
		  .mode = 0644,
		  .size = 12288,
		  .path = "etc/hosts",
		  .path_len = 9 },
		{ .kind = XF_FILE_SYMLINK,
		  .mode = 0777,
		  .size = 5,
		  .path = "etc/link",
		  .path_len = 8,
		  .target = "hosts",
		  .target_len = 5 },
		{ .kind = XF_FILE_HARDLINK,
		  .mode = 0644,
		  .size = 9,
		  .path = "etc/hosts2",
		  .path_len = 10,
		  .target = "etc/hosts",
		  .target_len = 9 },
	};
	struct xf_decision_rec dec[] = {
		{ .file = 0, .decision = XF_DEC_UPTODATE },
		{ .file = 1, .decision = XF_DEC_DELTA, .block_size = 4096, .block_count = 3 },
		{ .file = 2, .decision = XF_DEC_REFUSED, .status = XF_ST_BAD_PATH },
		{ .file = 3, .decision = XF_DEC_WHOLE },
	};
	struct xf_ack_range ranges[] = { { 40, 42 }, { 20, 30 }, { 0, 10 } };
	struct xf_commit_fail fails[] = { { 1, XF_ST_IO }, { 4, XF_ST_CHECKSUM } };
	struct xf_proto_builder b;
	struct xf_msg m;
	int rc = 0;

	m = msg(XF_MSG_FLIST);
	m.flist.flags = XF_FLIST_F_LAST;
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		xf_proto_build_flist(&b, &entries[i]);
	}
	rc |= save(dir, "flist", xf_proto_build_finish(&b));
	/* A placeholder of an entry the sender gave up (XF_FLIST_F_GIVEUP, 6.23). */
	{
		const struct xf_flist_entry ph = { .kind = XF_FILE_REG,
			                           .path = "etc/lo",
			                           .path_len = 6 };

		m.flist.flags = XF_FLIST_F_LAST | XF_FLIST_F_GIVEUP;
		xf_proto_build_begin(&b, buf, sizeof(buf), &m);
		xf_proto_build_flist(&b, &ph);
		rc |= save(dir, "flist-giveup", xf_proto_build_finish(&b));
		m.flist.flags = XF_FLIST_F_LAST;
	}
	/* The same entries with owners (XF_FLIST_F_OWNER: uid and gid after each). */
	m.flist.flags = XF_FLIST_F_LAST | XF_FLIST_F_OWNER;
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		struct xf_flist_entry e = entries[i];

		e.uid = 1000u + (uint32_t)i;
		e.gid = i == 0 ? XF_ID_NONE : 100u;
		xf_proto_build_flist(&b, &e);
	}
	rc |= save(dir, "flist-owner", xf_proto_build_finish(&b));
	/* With the names of some of those ids (XF_HDR_F_NAMES, 6.21). */
	{
		const struct xf_name_rec names[] = {
			{ .kind = XF_NAME_USER, .len = 4, .id = 1000, .name = "root" },
			{ .kind = XF_NAME_USER, .len = 5, .id = 1001, .name = "alice" },
			{ .kind = XF_NAME_GROUP, .len = 5, .id = 100, .name = "users" },
		};

		xf_proto_build_begin(&b, buf, sizeof(buf), &m);
		for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
			struct xf_flist_entry e = entries[i];

			e.uid = 1000u + (uint32_t)i;
			e.gid = i == 0 ? XF_ID_NONE : 100u;
			xf_proto_build_flist(&b, &e);
		}
		xf_proto_build_names(&b, names, 3);
		rc |= save(dir, "flist-names", xf_proto_build_finish(&b));
	}
	/* The same entries with attribute sets (XF_HDR_F_XATTR, 6.20): a user.* attribute
	 * and an access ACL on the first, none on the others. */
	{
		static const uint8_t acl[] = { 2, 0, 0, 0, 1, 0, 6, 0, 0xff, 0xff, 0xff, 0xff };
		uint8_t set[128];
		struct xf_xattr_enc enc;
		int sl;

		xf_xattr_enc_init(&enc, set, sizeof(set));
		xf_xattr_enc_add(&enc, "system.posix_acl_access", 23, acl, sizeof(acl));
		xf_xattr_enc_add(&enc, "user.k", 6, "v", 1);
		sl = xf_xattr_enc_finish(&enc);
		m = msg(XF_MSG_FLIST);
		m.hdr.flags = XF_HDR_F_XATTR;
		m.flist.flags = XF_FLIST_F_LAST;
		xf_proto_build_begin(&b, buf, sizeof(buf), &m);
		for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
			struct xf_flist_entry e = entries[i];

			e.xattr = i == 0 && sl > 0 ? set : NULL;
			e.xattr_len = i == 0 && sl > 0 ? (uint16_t)sl : 0;
			xf_proto_build_flist(&b, &e);
		}
		rc |= save(dir, "flist-xattr", xf_proto_build_finish(&b));
	}
	m = msg(XF_MSG_DECISION);
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		xf_proto_build_decision(&b, &dec[i]);
	}
	rc |= save(dir, "decision", xf_proto_build_finish(&b));
	m = msg(XF_MSG_SIG);
	m.sig.file = 1;
	m.sig.block_size = 4096;
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (uint32_t i = 0; i < 3; i++) {
		struct xf_sig_rec s = { .weak = i * 0x01010101u, .strong = i * 0x01010101u };

		xf_proto_build_sig(&b, &s);
	}
	rc |= save(dir, "sig", xf_proto_build_finish(&b));
	m = msg(XF_MSG_ACK);
	m.ack.largest = 42;
	m.ack.ack_delay_us = 900;
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		xf_proto_build_ack(&b, &ranges[i]);
	}
	rc |= save(dir, "ack", xf_proto_build_finish(&b));
	m = msg(XF_MSG_COMMIT);
	m.commit.committed = 5;
	m.commit.credit = 69;
	xf_proto_build_begin(&b, buf, sizeof(buf), &m);
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++) {
		xf_proto_build_commit(&b, &fails[i]);
	}
	rc |= save(dir, "commit", xf_proto_build_finish(&b));
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	memset(fill, 'x', sizeof(fill));
	if (plain(argv[1]) != 0 || arrays(argv[1]) != 0) {
		return 1;
	}
	/* One of every type, plus the largest DATA, the deleting HELLO (with and without
	 * filter rules) and DONE, the FLIST with owners, with their names, the FLIST with
	 * attribute sets, the placeholder FLIST, the pulling HELLOs (with owners too, with
	 * --no-compress), the HELLO whose options and destination are sealed in message 1,
	 * that sealed block, and the HELLO_ACK that asks for compressed DATA. */
	if (written != XF_MSG_TYPE_MAX + 14) {
		fprintf(stderr, "gen_seeds: %d seeds written, %d expected\n", written,
		        XF_MSG_TYPE_MAX + 14);
		return 1;
	}
	return 0;
}
