/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile but allowed peer against the real pipeline (xf_hostile.h): frame sequences
 * that are each valid alone and wrong together. Every case ends the same way: no
 * session left running, no temp file left, nothing outside the volume (the CANARY beside
 * it intact, nothing else there), every frame released, no fd left open, and a correct
 * session on the same pipeline (the same slots) working afterwards. Run under ASan (its
 * leak check on) by the sanitizer build.
 *
 * Over 1,000 lines: one program for one fixture (struct hcase: the pipeline, the fd
 * count and the end-of-case checks above), so that every hostile sequence is held to the
 * same checks; the hostile cases of one feature already have programs of their own on
 * the same fixture (test_hardlinks.c, test_types.c, test_owner.c, test_xattrs.c,
 * test_pathset.c).
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "xf_hostile.h"
#include "xf_pipeline_priv.h"
#include "xf_pipeline_test.h"
#include "xf_zip.h"

static char base_dir[96];

struct hcase {
	struct xh h;
	int fds;
};

static void
case_begin(struct hcase *c, const char *tag, uint32_t window, uint64_t max_file_size)
{
	char dir[200];

	c->fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/%s", base_dir, tag);
	CU_ASSERT_FATAL(xh_open(&c->h, dir, window, max_file_size, xf_test_io()) == 0);
}

static struct xf_pipeline_rx_stats *
rx_stats(struct hcase *c)
{
	return &c->h.p->rx[0].stats;
}

/* The end every case shares (see the top of the file). */
static void
case_end(struct hcase *c, struct xh_peer *a, struct xh_peer *b)
{
	CU_ASSERT(a == NULL || xh_peer_end(a, 20000));
	CU_ASSERT(b == NULL || xh_peer_end(b, 20000));
	CU_ASSERT_EQUAL(xh_tmp_left(&c->h), 0);
	CU_ASSERT(xh_outside_intact(&c->h));
	/* Both slots take a correct session again. */
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0001, 20000));
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0002, 20000));
	CU_ASSERT_EQUAL(rx_stats(c)->stale_done, 0);
	xh_close(&c->h);
	CU_ASSERT_EQUAL(c->h.frames_live, 0);
	CU_ASSERT_EQUAL(xh_fds(), c->fds);
	CU_ASSERT(xh_outside_intact(&c->h));
}

static void
expect_protocol_abort(struct hcase *c, struct xh_peer *pe)
{
	xh_drain(&c->h, 20000);
	CU_ASSERT_TRUE(pe->aborted);
	CU_ASSERT_EQUAL(pe->abort_code, XF_ABORT_PROTOCOL);
	CU_ASSERT_FALSE(pe->done);
	CU_ASSERT(xh_until(&c->h, xh_session_done, pe, 20000));
	CU_ASSERT(rx_stats(c)->proto_aborts >= 1);
}

/*
 * FLIST {d, d/a} and, in the same burst, LAST with first_index 0 and count 0: a total
 * below the indices already seen. It used to end the session (committed == total) with
 * both files still at the worker, free the file table under it and leak their fds.
 */
static void
test_last_below_seen_burst(void)
{
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[2] = { xh_dir("d", 0755), xh_reg("d/a", 10) };

	case_begin(&c, "last-burst", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x1a57) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 2, false), 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, NULL, 0, true), 0);
	expect_protocol_abort(&c, &pe);
	case_end(&c, &pe, NULL);
}

/*
 * The same without a race: entry 0 a bad path (it settles at once), entries 1..8, then
 * LAST with first_index 1 and count 0. It used to leave the worker holding names in a
 * freed table; the abort that followed unlinked a dangling name (a file outside the
 * volume, in the report).
 */
static void
test_last_below_seen(void)
{
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[9];
	char names[9][16];

	case_begin(&c, "last-below", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x1a58) == 0);
	e[0] = xh_reg("../../../../" XH_CANARY, 10);
	for (int i = 1; i < 9; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		e[i] = xh_reg(names[i], 1000);
	}
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 9, false), 0);
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_BAD_PATH);
	CU_ASSERT_EQUAL(xh_flist(&pe, 1, NULL, 0, true), 0);
	expect_protocol_abort(&c, &pe);
	case_end(&c, &pe, NULL);
}

/* Entries at or above the LAST total, and a second LAST with another total. */
static void
test_above_total(void)
{
	struct hcase c;
	struct xh_peer pe, pe2;
	struct xf_flist_entry a = xh_reg("a", 3), b = xh_reg("b", 3);
	char path[400];

	case_begin(&c, "above-total", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0xab0e) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, &a, 1, true), 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 1, &b, 1, false), 0);
	expect_protocol_abort(&c, &pe);
	snprintf(path, sizeof(path), "%s/b", c.h.vol);
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe2, 1, 1, 0xab0f) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe2, 0, &a, 1, false), 0);
	CU_ASSERT_EQUAL(xh_flist(&pe2, 1, NULL, 0, true), 0);
	CU_ASSERT_EQUAL(xh_flist(&pe2, 2, NULL, 0, true), 0);
	expect_protocol_abort(&c, &pe2);
	case_end(&c, &pe, &pe2);
}

/* FLIST beyond the credit: already acknowledged on the wire, so ABORT(PROTOCOL) goes
 * out instead of a silent drop. */
static void
test_beyond_credit(void)
{
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry a = xh_reg("far", 3);

	case_begin(&c, "credit", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0xc4ed) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 16, &a, 1, false), 0);
	expect_protocol_abort(&c, &pe);
	case_end(&c, &pe, NULL);
}

/*
 * DATA and FILE_END queued for a decided file, then LAST with total 0: the worker's
 * completion comes back after the session stopped taking frames. It used to settle into
 * a freed reorder window (a NULL full[], SEGV) or another session's.
 */
static void
test_late_completion(void)
{
	static uint8_t bytes[1000];
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry a = xh_reg("late", 100000);

	case_begin(&c, "late", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x1a7e) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, &a, 1, false), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &pe, 20000));
	CU_ASSERT_EQUAL(pe.dec[0], XF_DEC_WHOLE);
	for (uint64_t off = 0; off < 50000; off += sizeof(bytes)) {
		CU_ASSERT_EQUAL(xh_data(&pe, 0, off, bytes, sizeof(bytes)), 0);
	}
	CU_ASSERT_EQUAL(xh_file_end(&pe, 0, 100000, 0), 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, NULL, 0, true), 0);
	expect_protocol_abort(&c, &pe);
	case_end(&c, &pe, NULL);
}

/*
 * 128k entries with 1.4 KB bad paths: each is refused at once and the window moves on;
 * their paths are let go with it. They used to stay until the session ended (179 MiB
 * for this). The paths held stay within a few arena chunks; the entry array (40 bytes an
 * index) is what is left growing.
 */
static void
test_bad_paths_memory(void)
{
	const uint32_t n = 128u * 1024u, window = 64;
	static char paths[6][1500];
	struct hcase c;
	struct xh_peer pe;
	struct xf_session *s;
	size_t most = 0;
	uint32_t idx = 0;

	case_begin(&c, "memory", window, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x3e3) == 0);
	s = pe.s;
	for (int k = 0; k < 6; k++) {
		memcpy(paths[k], "../", 3);
		memset(paths[k] + 3, 'a' + k, 1400);
		paths[k][1403] = '\0';
	}
	while (idx < n && !pe.aborted) {
		uint32_t credit = pe.credit != 0 ? pe.credit : window;

		while (idx < credit && idx < n) {
			struct xf_flist_entry e[6];
			unsigned int k = 0;

			while (k < 6 && idx + k < credit && idx + k < n) {
				e[k] = xh_reg(paths[k], 1);
				k++;
			}
			CU_ASSERT_FATAL(xh_flist(&pe, idx, e, k, idx + k == n) == 0);
			idx += k;
		}
		/* Sampled at every poll while the frames go in. */
		while (!xh_queue_empty(&c.h)) {
			size_t paths_mem = s->ft.mem - (size_t)s->ft.cap * sizeof(struct xf_fentry);

			most = paths_mem > most ? paths_mem : most;
			xh_poll(&c.h);
		}
		xh_drain(&c.h, 20000);
	}
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.committed, n);
	printf("\n  %u bad-path entries of 1.4 KB: at most %zu bytes of paths held, table %zu "
	       "bytes at the end\n",
	       n, most, s->ft.mem);
	CU_ASSERT(most <= 8u * 64u * 1024u);
	case_end(&c, &pe, NULL);
}

/*
 * A second allowed peer opens a session with the victim's id: its frames reach its own
 * session only, and frames from an address with no session reach none. The victim's file
 * is what the victim sent.
 */
static void
test_id_reuse(void)
{
	static const char good[] = "hello", evil[] = "EVIL!";
	struct hcase c;
	struct xh_peer victim, other, spoof;
	struct xf_flist_entry v = xh_reg("victim", 5), o = xh_reg("other", 5);
	char path[400], got[8] = { 0 };
	int fd;

	case_begin(&c, "id-reuse", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &victim, 0x0a000001, 5000, 0x77) == 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &other, 0x0a000002, 5000, 0x77) == 0);
	/* Never opened: the same id from a third address, and from the victim's address
	 * with another port. */
	memset(&spoof, 0, sizeof(spoof));
	spoof = (struct xh_peer){ .h = &c.h, .addr = 0x0a000003, .port = 5000, .id = 0x77 };
	CU_ASSERT_EQUAL(xh_flist(&victim, 0, &v, 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &victim, 20000));
	CU_ASSERT_EQUAL(xh_flist(&other, 0, &o, 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &other, 20000));
	CU_ASSERT_EQUAL(xh_data(&other, 0, 0, evil, 5), 0);
	CU_ASSERT_EQUAL(xh_file_end(&other, 0, 5, xf_csum_crc64(0, evil, 5)), 0);
	CU_ASSERT_EQUAL(xh_data(&spoof, 0, 0, evil, 5), 0);
	spoof.addr = victim.addr;
	spoof.port = 5001;
	CU_ASSERT_EQUAL(xh_data(&spoof, 0, 0, evil, 5), 0);
	CU_ASSERT_EQUAL(xh_file_end(&spoof, 0, 5, xf_csum_crc64(0, evil, 5)), 0);
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(rx_stats(&c)->no_session, 3);
	CU_ASSERT_EQUAL(xh_data(&victim, 0, 0, good, 5), 0);
	CU_ASSERT_EQUAL(xh_file_end(&victim, 0, 5, xf_csum_crc64(0, good, 5)), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &victim, 20000));
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &other, 20000));
	CU_ASSERT_TRUE(victim.done);
	CU_ASSERT_TRUE(other.done);
	CU_ASSERT_EQUAL(victim.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(rx_stats(&c)->proto_err, 0);
	snprintf(path, sizeof(path), "%s/victim", c.h.vol);
	fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(read(fd, got, sizeof(got)), 5);
	CU_ASSERT_STRING_EQUAL(got, good);
	close(fd);
	case_end(&c, &victim, &other);
}

/* Mode bits of path (or 0 if it is not there). */
static unsigned int
mode_of(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0 ? (unsigned int)(sb.st_mode & 07777) : 0;
}

/*
 * A symlink x -> ., then x/.xferd and x/.xferd/tmp with mode 0777 and a file
 * x/.xferd/tmp/planted: it used to make the staging directory 0777 and plant the file
 * in it. Every component is checked now, in any case, and symlink targets too.
 */
static void
test_symlink_to_staging(void)
{
	static const char data[] = "plant";
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		xh_symlink("x", "."),          xh_dir("x/.xferd", 0777),
		xh_dir("x/.xferd/tmp", 0777),  xh_reg("x/.xferd/tmp/planted", 5),
		xh_reg(".XFERD/tmp/upper", 5), xh_reg("a/.XFerd/b", 5),
		xh_symlink("y", ".xferd"),     xh_symlink("z", "q/../.xferD/tmp"),
	};
	const unsigned int n = XF_ARRAY_SIZE(e);
	char path[400];

	case_begin(&c, "symlink", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x5717) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, n, true), 0);
	xh_drain(&c.h, 20000);
	for (uint32_t i = 3; i < 6; i++) {
		/* Were they decided WHOLE, this is what the peer would send. */
		CU_ASSERT_EQUAL(xh_data(&pe, i, 0, data, 5), 0);
		CU_ASSERT_EQUAL(xh_file_end(&pe, i, 5, xf_csum_crc64(0, data, 5)), 0);
	}
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	for (uint32_t i = 1; i < n; i++) {
		CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_REFUSED);
		CU_ASSERT_EQUAL(pe.st[i], XF_ST_BAD_PATH);
	}
	snprintf(path, sizeof(path), "%s/.xferd", c.h.vol);
	CU_ASSERT_EQUAL(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/.xferd/tmp", c.h.vol);
	CU_ASSERT_EQUAL(mode_of(path), 0700);
	CU_ASSERT_EQUAL(xh_count_entries(path), 0);
	/* The volume holds .xferd and the symlink x, nothing else. */
	CU_ASSERT_EQUAL(xh_count_entries(c.h.vol), 2);
	case_end(&c, &pe, NULL);
}

/*
 * A placeholder (XF_FLIST_F_GIVEUP, docs/PROTOCOL.md 6.23) between two files: refused
 * XF_ST_TOOBIG and counted, its path (here the first file's) never looked up or written;
 * the files around it arrive. A placeholder frame of two entries is not decoded.
 */
static void
test_giveup(void)
{
	static const char data[] = "plant";
	static uint8_t buf[XF_PAYLOAD_MAX];
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry a = xh_reg("a", 5), b = xh_reg("b", 5), ph = xh_reg("a", 0);
	struct xf_flist_entry two[] = { xh_reg("x", 0), xh_reg("y", 0) };
	struct xf_proto_builder bl;
	struct xf_msg m;
	char path[400];
	uint64_t bad;
	size_t ent;
	int len;

	case_begin(&c, "giveup", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x61e0) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, &a, 1, false), 0);
	pe.flist_flags = XF_FLIST_F_GIVEUP;
	CU_ASSERT_EQUAL(xh_flist(&pe, 1, &ph, 1, false), 0);
	pe.flist_flags = 0;
	CU_ASSERT_EQUAL(xh_flist(&pe, 2, &b, 1, true), 0);
	/* Two entries in one placeholder frame: the builder refuses the second, and the
	 * decoder the frame as built by hand. */
	xh_hdr(&pe, &m, XF_MSG_FLIST, pe.id);
	m.flist.first_index = 3;
	m.flist.flags = XF_FLIST_F_GIVEUP;
	CU_ASSERT_FATAL(xf_proto_build_begin(&bl, buf, sizeof(buf), &m) == 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&bl, &two[0]), 0);
	CU_ASSERT_EQUAL(xf_proto_build_flist(&bl, &two[1]), -EINVAL);
	len = xf_proto_build_finish(&bl);
	CU_ASSERT_FATAL(len > (int)XF_HDR_LEN + 8);
	xh_drain(&c.h, 20000);
	bad = rx_stats(&c)->bad_frames;
	/* count 2: the entry twice (x at 3 and 4), lengths fixed by hand */
	ent = (size_t)len - XF_HDR_LEN - 8;
	buf[XF_HDR_LEN + 5] = 2;
	memcpy(buf + len, buf + XF_HDR_LEN + 8, ent);
	buf[6] = (uint8_t)((8 + 2 * ent) >> 8);
	buf[7] = (uint8_t)(8 + 2 * ent);
	CU_ASSERT_EQUAL(xh_push_from(&c.h, pe.addr, pe.port, buf, len + (int)ent), 0);
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(rx_stats(&c)->bad_frames, bad + 1);
	for (uint32_t i = 0; i < 3; i += 2) {
		CU_ASSERT_FATAL(xh_wait_decided(&pe, i, 20000));
		CU_ASSERT_EQUAL(pe.dec[i], XF_DEC_WHOLE);
		CU_ASSERT_EQUAL(xh_data(&pe, i, 0, data, 5), 0);
		CU_ASSERT_EQUAL(xh_file_end(&pe, i, 5, xf_csum_crc64(0, data, 5)), 0);
	}
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.dec[1], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_TOOBIG);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_OK);
	CU_ASSERT_EQUAL(rx_stats(&c)->entries_given_up, 1);
	snprintf(path, sizeof(path), "%s/a", c.h.vol);
	CU_ASSERT_EQUAL(mode_of(path) & 0777, 0644);
	snprintf(path, sizeof(path), "%s/b", c.h.vol);
	CU_ASSERT_EQUAL(mode_of(path) & 0777, 0644);
	case_end(&c, &pe, NULL);
}

/*
 * FLIST with a huge size, one DATA byte at size - 1, FILE_END: the CRC over the hole is
 * computed, not read back (it used to read 4 GiB in 0.34 s, up to 2^63). Sizes above the
 * configured maximum are refused at FLIST, sizes above the free space at STAT.
 */
static void
test_huge_size(void)
{
	struct hcase c;
	struct xh_peer pe;
	struct statvfs sv;
	struct xf_pipeline_times t;
	uint64_t free_b, size;
	struct xf_flist_entry e[3];
	char path[400];
	struct stat sb;
	uint8_t last = 0x5a;

	case_begin(&c, "huge", 16, 1ull << 50);
	CU_ASSERT_FATAL(statvfs(c.h.vol, &sv) == 0);
	free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
	size = free_b / 2 < (4ull << 30) ? free_b / 2 : (4ull << 30);
	e[0] = xh_reg("sparse", size);
	e[1] = xh_reg("too-big", 1ull << 62);
	e[2] = xh_reg("no-room", free_b + (1ull << 30));
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x6e6e) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 3, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &pe, 20000));
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(pe.dec[0], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pe.dec[1], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_SIZE);
	CU_ASSERT_EQUAL(pe.dec[2], XF_DEC_REFUSED);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_NOSPACE);
	CU_ASSERT_EQUAL(xh_data(&pe, 0, size - 1, &last, 1), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pe, 0, size,
	                            xf_csum_crc64(xf_csum_crc64_zeros(0, size - 1), &last, 1)),
	                0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	xf_pipeline_times(c.h.p, &t);
	printf("\n  %llu-byte file, one byte written: %llu bytes read back\n",
	       (unsigned long long)size, (unsigned long long)t.readback_bytes);
	CU_ASSERT(t.readback_bytes <= 64u * 1024u);
	snprintf(path, sizeof(path), "%s/sparse", c.h.vol);
	CU_ASSERT(stat(path, &sb) == 0 && (uint64_t)sb.st_size == size);
	unlink(path);
	case_end(&c, &pe, NULL);
}

/*
 * A 48-byte COPY asks for up to 4 GiB of work; one of 3 MiB, within the announced size
 * and the basis, stands for it here. No COPY is longer than the matcher makes them
 * (XF_DELTA_COPY_MAX), so the file fails (XF_ST_SIZE) without a byte copied.
 */
static void
test_copy_cap(void)
{
	static uint8_t basis[3u << 20];
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e = xh_reg("basis", sizeof(basis)); /* another mtime: DELTA */
	struct xf_pipeline_times t;
	char path[400];
	int fd;

	case_begin(&c, "copy", 16, 0);
	memset(basis, 0x42, sizeof(basis));
	snprintf(path, sizeof(path), "%s/basis", c.h.vol);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, basis, sizeof(basis)), (ssize_t)sizeof(basis));
	close(fd);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0xc0b1) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, &e, 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &pe, 20000));
	CU_ASSERT_EQUAL_FATAL(pe.dec[0], XF_DEC_DELTA);
	CU_ASSERT_EQUAL(xh_copy(&pe, 0, 0, 0, sizeof(basis)), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pe, 0, sizeof(basis), xf_csum_crc64(0, basis, sizeof(basis))),
	                0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_SIZE);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.data_bytes, 0);
	case_end(&c, &pe, NULL);
}

/*
 * A session counts as done only once its worker has said it holds nothing of it (the
 * drain after DONE); a completion carrying a closed session's generation is dropped and
 * counted, its fd closed, and the session now in that slot is not touched.
 */
static void
test_drain_and_generation(void)
{
	static const char data[] = "hello";
	struct hcase c;
	struct xh_peer a, b;
	struct xf_flist_entry e = xh_reg("first", 5);
	struct xf_done stale;
	uint32_t old_gen;
	int fd;

	case_begin(&c, "generation", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &a, 1, 1, 0x9e11) == 0);
	CU_ASSERT_EQUAL(xh_flist(&a, 0, &e, 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &a, 20000));
	CU_ASSERT_EQUAL(xh_data(&a, 0, 0, data, 5), 0);
	CU_ASSERT_EQUAL(xh_file_end(&a, 0, 5, xf_csum_crc64(0, data, 5)), 0);
	for (uint64_t end = xh_now_ms() + 20000; xh_now_ms() < end;) {
		xf_pipeline_rx_poll(c.h.p, 0);
		if (a.done) {
			break;
		}
		xf_pipeline_worker_poll(c.h.p, 0);
	}
	CU_ASSERT_TRUE_FATAL(a.done);
	/* DONE is out; the RX core alone cannot finish the session, the worker must answer. */
	for (int i = 0; i < 100; i++) {
		xf_pipeline_rx_poll(c.h.p, 0);
	}
	CU_ASSERT_FALSE(xf_session_is_done(a.s));
	CU_ASSERT(xh_until(&c.h, xh_session_done, &a, 20000));
	old_gen = a.s->gen;
	CU_ASSERT_EQUAL(a.s->sid, 0);
	CU_ASSERT(xh_peer_end(&a, 20000));
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &b, 1, 1, 0x9e12) == 0);
	CU_ASSERT_EQUAL(b.s->sid, 0);
	CU_ASSERT_NOT_EQUAL(b.s->gen, old_gen);
	/* What a worker would have sent for the old session's file 0, verified. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	stale = (struct xf_done){ .type = XF_DONE_FILE,
		                  .status = XF_ST_OK,
		                  .sid = 0,
		                  .file = 0,
		                  .fd = fd,
		                  .gen = old_gen };
	CU_ASSERT_EQUAL_FATAL(xf_ring_enqueue_burst(c.h.p->to_rx[0][0], &stale, 1), 1);
	xf_pipeline_rx_poll(c.h.p, 0);
	CU_ASSERT_EQUAL(rx_stats(&c)->stale_done, 1);
	CU_ASSERT_EQUAL(fcntl(fd, F_GETFD), -1);
	CU_ASSERT_EQUAL(b.s->ro.held, 0);
	CU_ASSERT(xh_peer_end(&b, 20000));
	/* case_end checks stale_done is 0: this case's one is expected. */
	rx_stats(&c)->stale_done--;
	case_end(&c, NULL, NULL);
}

/* n extra files in the volume's directory rel (made if missing). */
static void
extras(struct hcase *c, const char *rel, unsigned int n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, rel);
	mkdir(path, 0755);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s/x%u", c->h.vol, rel, i);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		CU_ASSERT_FATAL(fd >= 0);
		close(fd);
	}
}

static bool
deleting(void *arg)
{
	return ((struct xh_peer *)arg)->s->phase == PH_DELETE;
}

/*
 * A session with --delete (XF_HELLO_F_DELETE), driven by hand: its deletion runs on the
 * worker after the last commit, in steps (the RX core stays in PH_DELETE across worker
 * polls), and DONE reports it; an abort in the middle of the walk stops it (files are
 * left) and ends cleanly; a session with a failed file deletes nothing (SKIPPED).
 */
static void
test_delete_session(void)
{
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = { xh_dir("d", 0755), xh_dir("d/sub", 0755) };
	struct xf_flist_entry bad[] = { xh_dir("d", 0755), xh_reg("d/../x", 1) };
	char path[512];

	case_begin(&c, "delete", 16, 0);
	extras(&c, "d", 3000);
	extras(&c, "d/sub", 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0xde1e,
	                                   XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE, "d",
	                                   XF_DELETE_UNLIMITED) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 2, true), 0);
	CU_ASSERT_FATAL(xh_until(&c.h, deleting, &pe, 20000));
	/* 3000 entries take many steps (DEL_BUDGET): the RX core waits, never blocks. */
	xh_poll(&c.h);
	CU_ASSERT_EQUAL(pe.s->phase, PH_DELETE);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_TRUE(pe.done_delete);
	CU_ASSERT_EQUAL(pe.deleted, 3000);
	CU_ASSERT_EQUAL(pe.kept, 0);
	CU_ASSERT_EQUAL(pe.del_status, XF_DEL_OK);
	/* With items: every deletion listed (many FLIST frames), the LAST before the DONE. */
	CU_ASSERT_EQUAL(pe.del_listed, 3000);
	CU_ASSERT_EQUAL(pe.del_total, 3000);
	CU_ASSERT_TRUE(pe.del_last_before_done);
	snprintf(path, sizeof(path), "%s/d", c.h.vol);
	CU_ASSERT_EQUAL(xh_count_entries(path), 1); /* sub */
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* Aborted while it deletes. */
	extras(&c, "d", 3000);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0xde1f, XF_HELLO_F_DELETE, "d",
	                                   XF_DELETE_UNLIMITED) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 2, true), 0);
	CU_ASSERT_FATAL(xh_until(&c.h, deleting, &pe, 20000));
	xf_session_abort(pe.s);
	CU_ASSERT(xh_until(&c.h, xh_session_done, &pe, 20000));
	CU_ASSERT_FALSE(pe.done);
	CU_ASSERT(xh_count_entries(path) > 1);
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* A refused entry fails the session's list: nothing is deleted. */
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0xde20, XF_HELLO_F_DELETE, "d",
	                                   XF_DELETE_UNLIMITED) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, bad, 2, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done_delete);
	CU_ASSERT_EQUAL(pe.del_status, XF_DEL_SKIPPED);
	CU_ASSERT_EQUAL(pe.deleted, 0);
	CU_ASSERT(xh_count_entries(path) > 1);
	case_end(&c, &pe, NULL);
}

static void
put_file(const char *path, const char *data, mode_t mode, time_t mtime)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, mode);
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	CU_ASSERT_EQUAL(fchmod(fd, mode), 0);
	CU_ASSERT_EQUAL(futimens(fd, ts), 0);
	close(fd);
}

static bool
all_decided(void *arg)
{
	struct xh_peer *pe = arg;

	for (unsigned int i = 0; i < 7; i++) {
		if (pe->dec[i] == 0) {
			return pe->aborted;
		}
	}
	return true;
}

/*
 * A dry run (XF_HELLO_F_DRYRUN) with --delete and items, and a sender that sends what a
 * dry run never does: DATA, COPY and FILE_END (right CRC) for files decided WHOLE, then
 * the same again after the DONE. Every entry is decided with its items (new, size, time,
 * permissions, a symlink's target), nothing is DELTA, the deletion is counted, and the
 * volume is exactly as it was: no file, directory, symlink, temp or staged directory
 * made, no mode applied (the up-to-date file with other permissions keeps its own), no
 * mtime set, nothing deleted.
 */
static void
test_dry_run(void)
{
	static const char data[] = "twelve bytes";
	struct hcase c;
	struct xh_peer pe;
	struct xf_flist_entry e[] = {
		xh_dir("d", 0755),
		xh_reg("d/old", 12),
		xh_reg("d/same", 5),
		xh_reg("d/new", 12),
		xh_dir("d/newdir", 0755),
		xh_reg("d/newdir/f", 12),
		xh_symlink("d/ln", "new-target"),
	};
	char path[512];
	static char before[XH_SNAP], after[XH_SNAP];
	uint64_t crc = xf_csum_crc64(0, data, 12);

	case_begin(&c, "dry", 16, 0);
	snprintf(path, sizeof(path), "%s/d", c.h.vol);
	CU_ASSERT_FATAL(mkdir(path, 0755) == 0);
	snprintf(path, sizeof(path), "%s/d/old", c.h.vol);
	put_file(path, "old", 0600, 1400000000); /* size, time, mode differ */
	snprintf(path, sizeof(path), "%s/d/same", c.h.vol);
	e[2].mode = 0755;
	put_file(path, "same!", 0644, 1500000000); /* up to date but for its mode */
	snprintf(path, sizeof(path), "%s/d/extra", c.h.vol);
	put_file(path, "x", 0644, 1400000000);
	snprintf(path, sizeof(path), "%s/d/ln", c.h.vol);
	CU_ASSERT_FATAL(symlink("old-target", path) == 0);
	snprintf(path, sizeof(path), "%s/d", c.h.vol);
	CU_ASSERT_FATAL(chmod(path, 0755) == 0);
	CU_ASSERT_FATAL(utimensat(AT_FDCWD, path,
	                          (struct timespec[2]){ { .tv_sec = 1500000000 },
	                                                { .tv_sec = 1500000000 } },
	                          0) == 0);
	CU_ASSERT_EQUAL(xh_snapshot(c.h.vol, before, sizeof(before)), 0);

	CU_ASSERT_FATAL(
	        xh_peer_open_flags(&c.h, &pe, 1, 1, 0xd27,
	                           XF_HELLO_F_DRYRUN | XF_HELLO_F_DELETE | XF_HELLO_F_ITEMIZE, "d",
	                           XF_DELETE_UNLIMITED) == 0);
	/* The list's end comes last, so the session takes frames while they arrive. */
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 7, false), 0);
	CU_ASSERT_FATAL(xh_until(&c.h, all_decided, &pe, 20000));
	/* What a dry run's sender never sends. */
	for (uint32_t f = 1; f < 7; f++) {
		CU_ASSERT_EQUAL(xh_data(&pe, f, 0, data, 12), 0);
		CU_ASSERT_EQUAL(xh_copy(&pe, f, 0, 0, 3), 0);
		CU_ASSERT_EQUAL(xh_file_end(&pe, f, 12, crc), 0);
	}
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(rx_stats(&c)->dry_dropped, 18);
	CU_ASSERT_FALSE(pe.aborted);
	CU_ASSERT_EQUAL(xh_flist(&pe, 7, NULL, 0, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_FALSE(pe.aborted);
	CU_ASSERT_EQUAL(pe.dec[0], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(pe.items[0], 0);
	CU_ASSERT_EQUAL(pe.dec[1], XF_DEC_WHOLE); /* not DELTA: no signatures in a dry run */
	CU_ASSERT_EQUAL(pe.items[1], XF_ITEM_SIZE | XF_ITEM_TIME | XF_ITEM_PERMS);
	CU_ASSERT_EQUAL(pe.dec[2], XF_DEC_UPTODATE);
	CU_ASSERT_EQUAL(pe.items[2], XF_ITEM_PERMS);
	CU_ASSERT_EQUAL(pe.dec[3], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pe.items[3], XF_ITEM_NEW);
	CU_ASSERT_EQUAL(pe.dec[4], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pe.items[4], XF_ITEM_NEW);
	CU_ASSERT_EQUAL(pe.items[5], XF_ITEM_NEW);
	CU_ASSERT_EQUAL(pe.dec[6], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(pe.items[6], XF_ITEM_CHANGE | XF_ITEM_TIME);
	for (uint32_t f = 0; f < 7; f++) {
		CU_ASSERT_EQUAL(pe.st[f], XF_ST_OK);
	}
	CU_ASSERT_TRUE(pe.done_delete);
	CU_ASSERT_EQUAL(pe.deleted, 1); /* d/extra, counted, kept */
	CU_ASSERT_EQUAL(pe.del_status, XF_DEL_OK);
	/* Listed for the sender's itemized changes, relative to the destination, before the
	 * DONE. */
	CU_ASSERT_TRUE(pe.del_last_before_done);
	CU_ASSERT_EQUAL(pe.del_listed, 1);
	CU_ASSERT_EQUAL(pe.del_total, 1);
	CU_ASSERT_STRING_EQUAL(pe.del_first, "extra");
	/* After the DONE: taken by nobody. */
	CU_ASSERT_EQUAL(xh_data(&pe, 3, 0, data, 12), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pe, 3, 12, crc), 0);
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(xh_tmp_left(&c.h), 0);
	CU_ASSERT_EQUAL(xh_snapshot(c.h.vol, after, sizeof(after)), 0);
	CU_ASSERT_STRING_EQUAL(after, before);
	case_end(&c, &pe, NULL);
}

/* A DATA frame whose len bytes at z inflate, it says, to raw_len bytes. */
static int
data_z(struct xh_peer *pe, uint32_t file, uint64_t off, const void *z, uint32_t len,
       uint32_t raw_len)
{
	struct xf_msg m = {
		.data = { .file = file, .len = len, .raw_len = raw_len, .offset = off, .bytes = z }
	};

	return xh_msg(pe, &m, XF_MSG_DATA);
}

/* The six files of test_compressed decided: their DATA is taken only then. */
static bool
six_decided(void *arg)
{
	struct xh_peer *pe = arg;

	for (unsigned int i = 0; i < 6; i++) {
		if (pe->dec[i] == 0) {
			return pe->aborted;
		}
	}
	return true;
}

/*
 * Compressed DATA (XF_HELLO_F_COMPRESS, docs/PROTOCOL.md 6.16): a good stream is
 * inflated and written; a truncated one, one that claims more bytes than it holds, a
 * zip bomb and one with bytes after its end each fail their file (XF_ST_CHECKSUM: never
 * committed, nothing at the final path) with their counted reason, even though the
 * FILE_END carries the right CRC-64; plain and compressed frames mix in one file. In a
 * session that did not announce the flag, compressed DATA is refused and counted; in
 * one whose HELLO_ACK asked for it (the volume's volumes[].compress), it is taken.
 */
static void
test_compressed(void)
{
	static uint8_t text[4096], z[8192], bomb[4u << 20];
	struct xf_flist_entry e[6] = { xh_reg("good", 4096),   xh_reg("cut", 4096),
		                       xh_reg("claims", 4096), xh_reg("bomb", 4096),
		                       xh_reg("trail", 4096),  xh_reg("mixed", 4096) };
	struct xf_zip *zip = xf_zip_create();
	struct xf_pipeline_times t;
	struct hcase c;
	struct xh_peer pe, pn;
	uint64_t crc;
	int n, nh, nb;

	CU_ASSERT_FATAL(zip != NULL);
	for (size_t i = 0; i < sizeof(text); i++) {
		text[i] = (uint8_t)("static int xf_frame(void);\n"[i % 27]);
	}
	crc = xf_csum_crc64(0, text, sizeof(text));
	n = xf_zip_deflate(zip, text, sizeof(text), z, sizeof(text));
	nh = xf_zip_deflate(zip, text + 2048, 2048, z + 4096, 2048);
	nb = xf_zip_deflate(zip, bomb, sizeof(bomb), bomb, sizeof(bomb)); /* in place: zeros */
	CU_ASSERT_FATAL(n > 0 && n < 1024 && nh > 0 && nb > 0 && nb < 8192);

	case_begin(&c, "zip", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x21b, XF_HELLO_F_COMPRESS, "", 0) ==
	                0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 6, true), 0);
	CU_ASSERT(xh_until(&c.h, six_decided, &pe, 20000));
	CU_ASSERT_EQUAL(data_z(&pe, 0, 0, z, (uint32_t)n, 4096), 0);
	CU_ASSERT_EQUAL(data_z(&pe, 1, 0, z, (uint32_t)n - 3, 4096), 0);
	CU_ASSERT_EQUAL(data_z(&pe, 2, 0, z, (uint32_t)n, 4000), 0); /* inflates past 4000 */
	CU_ASSERT_EQUAL(data_z(&pe, 3, 0, bomb, (uint32_t)nb, 4096), 0);
	memcpy(z + n, "\0\0\0\0", 4);
	CU_ASSERT_EQUAL(data_z(&pe, 4, 0, z, (uint32_t)n + 4, 4096), 0);
	CU_ASSERT_EQUAL(xh_data(&pe, 5, 0, text, 2048), 0);
	CU_ASSERT_EQUAL(data_z(&pe, 5, 2048, z + 4096, (uint32_t)nh, 2048), 0);
	for (uint32_t f = 0; f < 6; f++) {
		CU_ASSERT_EQUAL(xh_file_end(&pe, f, sizeof(text), crc), 0);
	}
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[3], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[4], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[5], XF_ST_OK);
	CU_ASSERT(xh_file_is(&c.h, "good", text, sizeof(text)));
	CU_ASSERT(xh_file_is(&c.h, "mixed", text, sizeof(text)));
	for (unsigned int i = 1; i <= 4; i++) {
		char path[400];

		snprintf(path, sizeof(path), "%s/%.*s", c.h.vol, (int)e[i].path_len, e[i].path);
		CU_ASSERT_EQUAL(access(path, F_OK), -1);
	}
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.zip_frames, 2);
	CU_ASSERT_EQUAL(t.zip_bytes_in, (uint64_t)n + (uint64_t)nh);
	CU_ASSERT_EQUAL(t.zip_bytes_out, 4096 + 2048);
	CU_ASSERT_EQUAL(t.zip_long, 2);              /* "claims" and the bomb */
	CU_ASSERT_EQUAL(t.zip_bad + t.zip_short, 2); /* "cut" and "trail" */
	CU_ASSERT_EQUAL(t.zip_bad, 1);
	CU_ASSERT_EQUAL(t.data_bytes, 4096 + 4096);
	CU_ASSERT(xh_peer_end(&pe, 20000));

	/* Not announced: refused before any worker sees it. */
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pn, 1, 2, 0x21c) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pn, 0, &e[1], 1, true), 0); /* "cut" failed: WHOLE */
	CU_ASSERT(xh_until(&c.h, xh_decided, &pn, 20000));
	CU_ASSERT_EQUAL(pn.dec[0], XF_DEC_WHOLE);
	CU_ASSERT_EQUAL(data_z(&pn, 0, 0, z, (uint32_t)n, 4096), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pn, 0, sizeof(text), crc), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pn, 20000));
	CU_ASSERT_EQUAL(rx_stats(&c)->zip_refused, 1);
	CU_ASSERT_NOT_EQUAL(pn.st[0], XF_ST_OK);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.zip_frames, 2);
	CU_ASSERT(xh_peer_end(&pn, 20000));

	/* A HELLO without the flag whose HELLO_ACK asked (the volume's volumes[].compress):
	 * the session takes compressed DATA as if announced, and refuses none. */
	CU_ASSERT_FATAL(
	        xh_peer_open_flags(&c.h, &pn, 1, 3, 0x21d, xf_hello_rx_flags(0, true), "", 0) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pn, 0, &e[1], 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &pn, 20000));
	CU_ASSERT_EQUAL(data_z(&pn, 0, 0, z, (uint32_t)n, 4096), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pn, 0, sizeof(text), crc), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pn, 20000));
	CU_ASSERT_EQUAL(pn.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(rx_stats(&c)->zip_refused, 1);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.zip_frames, 3);
	CU_ASSERT(xh_file_is(&c.h, "cut", text, sizeof(text)));
	xf_zip_free(zip);
	case_end(&c, &pn, NULL);
}

/*
 * 400 compressed frames of one file in a row, more than the worker's 128 inflation
 * buffers: the worker takes them as buffers come back (none dropped, none reused while
 * its write is in flight), and the file is committed byte for byte.
 */
static void
test_compressed_many(void)
{
	enum { FRAMES = 400, FL = 4096 };
	static uint8_t data[FRAMES * FL], z[FL], got[FRAMES * FL];
	struct xf_flist_entry e = xh_reg("many", sizeof(data));
	struct xf_zip *zip = xf_zip_create();
	struct xf_pipeline_times t;
	struct hcase c;
	struct xh_peer pe;
	char path[400];
	int fd;

	CU_ASSERT_FATAL(zip != NULL);
	for (size_t i = 0; i < sizeof(data); i++) {
		data[i] = (uint8_t)("0123456789abcdef"[(i / FL) % 16] + (i % 61 == 0));
	}
	case_begin(&c, "zipmany", 16, 0);
	CU_ASSERT_FATAL(xh_peer_open_flags(&c.h, &pe, 1, 1, 0x21d, XF_HELLO_F_COMPRESS, "", 0) ==
	                0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, &e, 1, true), 0);
	CU_ASSERT(xh_until(&c.h, xh_decided, &pe, 20000));
	for (unsigned int k = 0; k < FRAMES; k++) {
		int n = xf_zip_deflate(zip, data + (size_t)k * FL, FL, z, FL);

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL_FATAL(data_z(&pe, 0, (uint64_t)k * FL, z, (uint32_t)n, FL), 0);
	}
	CU_ASSERT_EQUAL(xh_file_end(&pe, 0, sizeof(data), xf_csum_crc64(0, data, sizeof(data))), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 60000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	snprintf(path, sizeof(path), "%s/many", c.h.vol);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pread(fd, got, sizeof(got), 0), (ssize_t)sizeof(got));
	close(fd);
	CU_ASSERT_EQUAL(memcmp(got, data, sizeof(data)), 0);
	xf_pipeline_times(c.h.p, &t);
	CU_ASSERT_EQUAL(t.zip_frames, FRAMES);
	CU_ASSERT_EQUAL(t.zip_bytes_out, sizeof(data));
	CU_ASSERT_EQUAL(t.zip_bad + t.zip_long + t.zip_short, 0);
	xf_zip_free(zip);
	case_end(&c, &pe, NULL);
}

static const struct xf_test tests[] = {
	{ "drain after DONE, completions of a closed generation", test_drain_and_generation },
	{ "LAST below the indices seen, same burst", test_last_below_seen_burst },
	{ "LAST below the indices seen, after a bad path", test_last_below_seen },
	{ "entries above the LAST total, a second LAST", test_above_total },
	{ "FLIST beyond the credit", test_beyond_credit },
	{ "completion after the session stopped", test_late_completion },
	{ "128k bad-path entries: memory bounded by the window", test_bad_paths_memory },
	{ "session id reused by a second peer", test_id_reuse },
	{ "symlink to the staging directory", test_symlink_to_staging },
	{ "a placeholder entry: refused TOOBIG, the others arrive", test_giveup },
	{ "huge size, one byte at size - 1", test_huge_size },
	{ "a COPY longer than any the matcher makes", test_copy_cap },
	{ "--delete: in steps after the last commit, aborted midway, after a failure",
	  test_delete_session },
	{ "dry run: decisions and items, DATA/COPY/FILE_END refused, nothing written",
	  test_dry_run },
	{ "compressed DATA: good, truncated, too long, zip bomb, trailing, not announced",
	  test_compressed },
	{ "400 compressed frames in a row: more than the inflation buffers", test_compressed_many },
};

int
main(void)
{
	return xf_pt_main("hostile", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
