/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the receive session state machine: each input is a sequence of
 * operations of two peers (same session id, different addresses) and a spoofer against
 * the real pipeline (one RX core, one worker, inline storage) on a fresh temp volume,
 * through tests/unit/pipeline/xf_hostile.h.
 *
 * Operations (first byte: op in bits 0-3, peer B in bit 4, spoofed source in bit 5):
 *   0 FLIST  first, count|LAST(0x80), then per entry: kind|path (kind in bits 4-5:
 *            reg, dir, symlink, hard link), size class (bit 7: 2^(bits 0-5); else
 *            37 * value; a symlink's target is target[value % 8], a hard link's leader
 *            paths[value % 16]: later, itself, a directory, outside, the staging one)
 *   1 DATA   file, offset (2 bytes), length 1..64 (zeros); op bit 6: compressed
 *            (a raw DEFLATE stream of the zeros, raw_len the length, XF_HELLO_F_COMPRESS),
 *            and with op bit 7 too, raw_len one more than the stream holds
 *   2 FILE_END  file, size (2 bytes), flags (bit 0: CRC of size zeros, else 0)
 *   3 COPY   file, offset (2 bytes), basis offset (2 bytes), length (4 bytes)
 *   4 POLL   n: 4n polls
 *   5 ABORT  the peer's session (as the session layer does)
 *   6 REOPEN the peer's session if it is done: closed and opened again (the slot reused)
 * Both peers' sessions ask for --delete, items and hard links (peer_open()); peer B's
 * are dry runs; peer A's announce compression (RAW frames may then carry any stream for
 * the worker to inflate), B's do not (its compressed DATA is refused); peer A's announce
 * owners on a volume that keeps them, by name (XF_HELLO_F_OWNER_NAMES), and attribute
 * sets. An FLIST's count byte bit 6 gives its entries owners (XF_FLIST_F_OWNER, ids from
 * the entry bytes): a frame whose layout is not its session's aborts it; with bit 5 too
 * it carries the names of its ids (XF_HDR_F_NAMES: one of two names per id by bit 4, so
 * that two frames may name an id differently, which aborts the session; peer B's
 * session, without the HELLO flag, aborts on any table). The receiver looks the names up
 * with NSS. Bit 3 gives the entries attribute sets (XF_HDR_F_XATTR: the next byte n, then
 * n bytes of set for each entry, valid or not). Bit 2 makes the frame a placeholder
 * (XF_FLIST_F_GIVEUP: its entries regular files of size 0 without a set).
 *   7 RAW    n, then n bytes sent as a frame
 *   8 DATA with its end (XF_HDR_F_END, docs/PROTOCOL.md 6.9)  file, length 1..64
 *            (zeros), flags (bit 0: the CRC of the zeros, else 0; bit 1: compressed, as
 *            op 1's bit 6)
 *   else     every queued frame taken
 * After the input every session is ended (aborted unless done) and closed, and:
 *   nothing outside the volume (its directory holds the volume and an intact canary),
 *   no temp left in the staging directory, every frame released, no fd left open,
 *   and no stale completion. A violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_hostile.h"
#include "xf_xattr.h"
#include "xf_test_tree.h"
#include "xf_pipeline_priv.h"
#include "xf_fuzz.h"
#include "xf_zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[16] = {
	"a",    "d",   "d/a", "x", "x/.xferd", "x/.xferd/tmp", "x/.xferd/tmp/p", ".XFERD/t",
	"../e", "d/b", "s",   "b", "d/c",      ".xferd",       "e/f/g",          "c",
};
static const char *const targets[8] = {
	".", ".xferd", "d", "../..", "/etc", "a", "x/.xferd", "q/../.XferD/tmp",
};
static const uint8_t zeros[64];
static struct xf_zip *zip; /* the compressed DATA operation's, made once */

struct in {
	const uint8_t *p;
	size_t n;
};

/*
 * Peer A's sessions delete (--delete) beneath the volume root without a limit, peer B's
 * beneath "d" at most 3 entries: whatever the list, the symlinks and the order, nothing
 * outside the volume and nothing of the staging directory may go (the checks below).
 * Both ask for items (and A's list of deletions); B's sessions are dry runs, which a
 * sender's DATA, COPY and FILE_END must not make write.
 */
static int
peer_open(struct xh *h, struct xh_peer *pe, uint32_t addr, uint16_t port, uint32_t id)
{
	uint32_t flags =
	        XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE | XF_HELLO_F_HARDLINKS |
	        (addr == 1 ? XF_HELLO_F_COMPRESS | XF_HELLO_F_OWNER | XF_HELLO_F_OWNER_NAMES |
	                             XF_HELLO_F_XATTRS | XF_HELLO_F_ACLS
	                   : XF_HELLO_F_DRYRUN);

	return xh_peer_open_flags(h, pe, addr, port, id, flags, addr == 1 ? "" : "d",
	                          addr == 1 ? XF_DELETE_UNLIMITED : 3);
}

static uint8_t
take(struct in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint32_t
take_le(struct in *in, int bytes)
{
	uint32_t v = 0;

	for (int i = 0; i < bytes; i++) {
		v |= (uint32_t)take(in) << (8 * i);
	}
	return v;
}

/* Add (kind, id) to rec[0..*k) in (kind, id) order unless there (or XF_ID_NONE). */
static void
name_add(struct xf_name_rec *rec, unsigned int *k, uint8_t kind, uint32_t id, bool other)
{
	static const char *const names[2][2] = { { "root", "daemon" }, { "nobody", "xf-no-one" } };
	unsigned int i = 0;

	if (id == XF_ID_NONE) {
		return;
	}
	while (i < *k && (rec[i].kind < kind || (rec[i].kind == kind && rec[i].id < id))) {
		i++;
	}
	if (i < *k && rec[i].kind == kind && rec[i].id == id) {
		return;
	}
	memmove(&rec[i + 1], &rec[i], (*k - i) * sizeof(rec[0]));
	rec[i].kind = kind;
	rec[i].id = id;
	rec[i].name = names[other][id & 1u];
	rec[i].len = (uint8_t)strlen(rec[i].name);
	(*k)++;
}

/* The names of the ids of e[0..n), sorted; other: the second name of each. */
static unsigned int
names_of(const struct xf_flist_entry *e, unsigned int n, bool other, struct xf_name_rec *rec)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++) {
		name_add(rec, &k, XF_NAME_USER, e[i].uid, other);
		name_add(rec, &k, XF_NAME_GROUP, e[i].gid, other);
	}
	return k;
}

static void
op_flist(struct xh_peer *pe, struct in *in)
{
	struct xf_flist_entry e[3];
	struct xf_name_rec rec[6];
	uint32_t first = take(in);
	uint8_t cnt = take(in);
	unsigned int n = cnt & 3u;

	for (unsigned int i = 0; i < n; i++) {
		uint8_t k = take(in), s = take(in);
		const char *path = paths[k & 15u];
		uint64_t size = (s & 0x80u) != 0 ? 1ull << (s & 63u) : 37ull * s;

		switch ((k >> 4) & 3u) {
		case 1:
			e[i] = xh_dir(path, 0700 | (s & 077u));
			break;
		case 2:
			e[i] = xh_symlink(path, targets[s % 8u]);
			break;
		case 3:
			e[i] = xh_hardlink(path, paths[s % 16u]);
			break;
		default:
			e[i] = xh_reg(path, size);
			break;
		}
		e[i].uid = (k & 0x40u) != 0 ? XF_ID_NONE : s;
		e[i].gid = (k & 0x80u) != 0 ? XF_ID_NONE : k;
	}
	/* Owners or not, attribute sets or not, whatever the session announced (peer A
	 * announces both). A set is input bytes, or a valid one when the first is 0. */
	pe->flist_flags = (cnt & 0x40u) != 0 ? XF_FLIST_F_OWNER : 0;
	pe->flist_hdr = (cnt & 0x08u) != 0 ? XF_HDR_F_XATTR : 0;
	for (unsigned int i = 0; i < n && pe->flist_hdr != 0; i++) {
		static uint8_t sets[3][64];
		struct xf_xattr_enc enc;
		uint8_t len = take(in) % 48u;

		for (uint8_t b = 0; b < len; b++) {
			sets[i][b] = take(in);
		}
		if (len > 0 && sets[i][0] == 0) {
			xf_xattr_enc_init(&enc, sets[i], sizeof(sets[i]));
			xf_xattr_enc_add(&enc, "user.f", 6, sets[i] + 1, len / 4u);
			len = (uint8_t)xf_xattr_enc_finish(&enc);
		}
		e[i].xattr = sets[i];
		e[i].xattr_len = len;
	}
	if ((cnt & 0x04u) != 0) {
		/* Placeholders (XF_FLIST_F_GIVEUP): regular, size 0, no set; one per frame is
		 * valid (none: the receiver refuses the frame; more: the builder does). */
		pe->flist_flags |= XF_FLIST_F_GIVEUP;
		for (unsigned int i = 0; i < n; i++) {
			e[i] = xh_reg(e[i].path, 0);
		}
	}
	if ((cnt & 0x60u) == 0x60u) {
		xh_flist_named(pe, first, e, n, (cnt & 0x80u) != 0, rec,
		               names_of(e, n, (cnt & 0x10u) != 0, rec));
		return;
	}
	xh_flist(pe, first, e, n, (cnt & 0x80u) != 0);
}

static void
run_ops(struct xh *h, struct xh_peer *peers, struct in *in)
{
	while (in->n > 0) {
		uint8_t op = take(in);
		struct xh_peer *pe = &peers[(op >> 4) & 1u];
		struct xh_peer spoof;

		if ((op & 0x20u) != 0) {
			/* The same id from an address with no session. */
			spoof = *pe;
			spoof.addr = 3;
			pe = &spoof;
		}
		switch (op & 0x0fu) {
		case 0:
			op_flist(pe, in);
			break;
		case 1: {
			uint32_t file = take(in), off = take_le(in, 2), len = take(in) % 64u + 1u;
			struct xf_msg m = { .data = {
				                    .file = file, .offset = off, .raw_len = len } };
			uint8_t z[128];
			int n;

			if ((op & 0x40u) == 0) {
				xh_data(pe, file, off, zeros, len);
				break;
			}
			n = xf_zip_deflate(zip, zeros, len, z, sizeof(z));
			CHECK(n > 0);
			m.data.len = (uint32_t)n;
			m.data.bytes = z;
			m.data.raw_len += (op & 0x80u) != 0;
			xh_msg(pe, &m, XF_MSG_DATA);
			break;
		}
		case 2: {
			uint32_t file = take(in), sz = take_le(in, 2);

			xh_file_end(pe, file, sz,
			            (take(in) & 1u) != 0 ? xf_csum_crc64_zeros(0, sz) : 0);
			break;
		}
		case 3: {
			uint32_t file = take(in), off = take_le(in, 2), src = take_le(in, 2);

			xh_copy(pe, file, off, src, take_le(in, 4) | 1u);
			break;
		}
		case 4:
			for (unsigned int i = take(in) * 4u; i > 0; i--) {
				xh_poll(h);
			}
			break;
		case 5:
			if (pe != &spoof && pe->s != NULL) {
				xf_session_abort(pe->s);
			}
			break;
		case 6:
			if (pe != &spoof && pe->s != NULL && xf_session_is_done(pe->s)) {
				struct xh_peer old = *pe;

				CHECK(xf_pipeline_session_close(h->p, pe->s) == 0);
				CHECK(peer_open(h, pe, old.addr, old.port, old.id) == 0);
			}
			break;
		case 7: {
			uint8_t raw[256];
			unsigned int n = take(in);

			for (unsigned int i = 0; i < n; i++) {
				raw[i] = take(in);
			}
			xh_push_from(h, pe->addr, pe->port, raw, (int)n);
			break;
		}
		case 8: {
			uint32_t file = take(in), len = take(in) % 64u + 1u;
			uint8_t fl = take(in), z[128];
			struct xf_msg m = { .data = { .file = file,
				                      .len = len,
				                      .bytes = zeros,
				                      .crc64 = (fl & 1u) != 0
				                                       ? xf_csum_crc64_zeros(0, len)
				                                       : 0 } };
			int n;

			if ((fl & 2u) != 0) {
				n = xf_zip_deflate(zip, zeros, len, z, sizeof(z));
				CHECK(n > 0);
				m.data.len = (uint32_t)n;
				m.data.raw_len = len;
				m.data.bytes = z;
			}
			m.hdr.flags = XF_HDR_F_END;
			xh_msg(pe, &m, XF_MSG_DATA);
			break;
		}
		default:
			xh_drain(h, 5000);
			break;
		}
		if (h->qt - h->qh > XH_QUEUE / 2) {
			xh_drain(h, 5000);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xh h;
	static struct xh_peer peers[2];
	struct in in = { .p = data, .n = size };
	char base[64], dir[128];
	int fds;

	if (zip == NULL) {
		zip = xf_zip_create();
		CHECK(zip != NULL);
	}
	/* A fresh directory per input, removed after it (left behind by a crash). */
	snprintf(base, sizeof(base), "%s/xf-fuzz-session-XXXXXX",
	         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	CHECK(mkdtemp(base) != NULL);
	fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/case", base);
	/* Window 8, files up to 1 MiB, inline storage (2): small and deterministic. */
	CHECK(xh_open(&h, dir, 8, 1u << 20, 2) == 0);
	h.p->conf.keep_owner = true; /* peer A's owners are set (6.17) */
	CHECK(peer_open(&h, &peers[0], 1, 7, 0x5e55) == 0);
	CHECK(peer_open(&h, &peers[1], 2, 7, 0x5e55) == 0);
	run_ops(&h, peers, &in);
	CHECK(xh_peer_end(&peers[0], 10000));
	CHECK(xh_peer_end(&peers[1], 10000));
	CHECK(xh_tmp_left(&h) == 0);
	CHECK(xh_outside_intact(&h));
	CHECK(xf_pipeline_rx_stats(h.p, 0)->stale_done == 0);
	xh_close(&h);
	CHECK(h.frames_live == 0);
	CHECK(xh_fds() == fds);
	CHECK(xh_outside_intact(&h));
	CHECK(xf_test_rm_tree(base) == 0);
	return 0;
}
