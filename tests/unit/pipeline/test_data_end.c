/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A file's one DATA frame with its end (XF_HDR_F_END, docs/PROTOCOL.md 6.9) against the
 * real pipeline (xf_hostile.h): taken as that DATA and its FILE_END, so a wrong CRC, a
 * size past the announced one and refused compressed bytes each fail the file, never hang
 * it; a copy that comes again is dropped; and a full ring to the worker takes a frame's
 * two items both or neither. Each case ends as the hostile cases do: no temp left, nothing
 * outside the volume, every frame released, no fd left open.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "xf_hostile.h"
#include "xf_pipeline_priv.h"
#include "xf_pipeline_test.h"

static char base_dir[96];

struct ecase {
	struct xh h;
	int fds;
};

static void
case_begin(struct ecase *c, const char *tag, uint32_t window)
{
	char dir[200];

	c->fds = xh_fds();
	snprintf(dir, sizeof(dir), "%s/%s", base_dir, tag);
	CU_ASSERT_FATAL(xh_open(&c->h, dir, window, 0, xf_test_io()) == 0);
}

static struct xf_pipeline_rx_stats *
rx_stats(struct ecase *c)
{
	return &c->h.p->rx[0].stats;
}

static void
case_end(struct ecase *c, struct xh_peer *pe)
{
	CU_ASSERT(pe == NULL || xh_peer_end(pe, 20000));
	CU_ASSERT_EQUAL(xh_tmp_left(&c->h), 0);
	CU_ASSERT(xh_outside_intact(&c->h));
	CU_ASSERT(xh_good_session(&c->h, 0x0a000001, 4000, 0x600d0001, 20000));
	CU_ASSERT_EQUAL(rx_stats(c)->stale_done, 0);
	xh_close(&c->h);
	CU_ASSERT_EQUAL(c->h.frames_live, 0);
	CU_ASSERT_EQUAL(xh_fds(), c->fds);
	CU_ASSERT(xh_outside_intact(&c->h));
}

/* DATA of file with its end: len bytes (raw_len if compressed), the file's crc after. */
static int
data_end(struct xh_peer *pe, uint32_t file, const void *bytes, uint32_t len, uint32_t raw_len,
         uint64_t crc)
{
	struct xf_msg m = { .data = { .file = file,
		                      .len = len,
		                      .raw_len = raw_len,
		                      .bytes = bytes,
		                      .crc64 = crc } };

	m.hdr.flags = XF_HDR_F_END;
	return xh_msg(pe, &m, XF_MSG_DATA);
}

static bool
absent(const struct ecase *c, const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s", c->h.vol, name);
	return access(path, F_OK) != 0;
}

static uint32_t want_decided;

static bool
all_decided(void *arg)
{
	struct xh_peer *pe = arg;

	for (uint32_t i = 0; i < want_decided; i++) {
		if (pe->dec[i] == 0) {
			return pe->aborted;
		}
	}
	return true;
}

/*
 * Good, a wrong CRC, more bytes than the file list announced, compressed bytes in a
 * session that did not announce compression, a copy of a good frame that comes again,
 * and a plain DATA after the end: only the good files land, every other one fails with
 * its reason, and the session ends. The last file goes as DATA and FILE_END, after the
 * late frames, so that the session still runs when they come.
 */
static void
test_ends(void)
{
	static uint8_t text[4096];
	struct xf_flist_entry e[6] = { xh_reg("good", sizeof(text)),  xh_reg("crc", sizeof(text)),
		                       xh_reg("long", 100),           xh_reg("zip", sizeof(text)),
		                       xh_reg("again", sizeof(text)), xh_reg("two", sizeof(text)) };
	struct ecase c;
	struct xh_peer pe;
	uint64_t crc;
	uint64_t dropped;

	for (size_t i = 0; i < sizeof(text); i++) {
		text[i] = (uint8_t)(i * 7 + 3);
	}
	crc = xf_csum_crc64(0, text, sizeof(text));
	case_begin(&c, "ends", 16);
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x3e0) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, 6, true), 0);
	want_decided = 6;
	CU_ASSERT(xh_until(&c.h, all_decided, &pe, 20000));
	CU_ASSERT_EQUAL(data_end(&pe, 0, text, sizeof(text), 0, crc), 0);
	CU_ASSERT_EQUAL(data_end(&pe, 1, text, sizeof(text), 0, crc ^ 1), 0);
	CU_ASSERT_EQUAL(data_end(&pe, 2, text, sizeof(text), 0, crc), 0);
	CU_ASSERT_EQUAL(data_end(&pe, 3, text, 100, sizeof(text), crc), 0);
	CU_ASSERT_EQUAL(data_end(&pe, 4, text, sizeof(text), 0, crc), 0);
	xh_drain(&c.h, 20000);
	dropped = rx_stats(&c)->data_dropped;
	/* Its retransmission, and DATA or FILE_END after its end: late, dropped. */
	CU_ASSERT_EQUAL(data_end(&pe, 4, text, sizeof(text), 0, crc ^ 1), 0);
	CU_ASSERT_EQUAL(xh_data(&pe, 4, 0, "x", 1), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pe, 4, 1, 0), 0);
	xh_drain(&c.h, 20000);
	CU_ASSERT_EQUAL(rx_stats(&c)->data_dropped, dropped + 3);
	CU_ASSERT_EQUAL(xh_data(&pe, 5, 0, text, sizeof(text)), 0);
	CU_ASSERT_EQUAL(xh_file_end(&pe, 5, sizeof(text), crc), 0);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	CU_ASSERT_EQUAL(pe.st[0], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[1], XF_ST_CHECKSUM);
	CU_ASSERT_EQUAL(pe.st[2], XF_ST_SIZE);
	CU_ASSERT_NOT_EQUAL(pe.st[3], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[4], XF_ST_OK);
	CU_ASSERT_EQUAL(pe.st[5], XF_ST_OK);
	CU_ASSERT(xh_file_is(&c.h, "good", text, sizeof(text)));
	CU_ASSERT(xh_file_is(&c.h, "again", text, sizeof(text)));
	CU_ASSERT(xh_file_is(&c.h, "two", text, sizeof(text)));
	CU_ASSERT(absent(&c, "crc"));
	CU_ASSERT(absent(&c, "long"));
	CU_ASSERT(absent(&c, "zip"));
	CU_ASSERT_EQUAL(rx_stats(&c)->data_ends, 5);
	CU_ASSERT_EQUAL(rx_stats(&c)->zip_refused, 1);
	case_end(&c, &pe);
}

/*
 * More frames than the ring to the worker holds, the RX core polled alone: each frame
 * takes two slots, so with an odd room one slot stays free and the frame that did not fit
 * waits whole (stalls), never as a DATA without its end. Then everything lands.
 */
static void
test_ring_full(void)
{
	enum { FILES = 200 };
	static struct xf_flist_entry e[FILES];
	static char names[FILES][8];
	static uint8_t bytes[FILES][64];
	struct ecase c;
	struct xh_peer pe;
	struct xf_ring *r;
	bool ok = true;

	case_begin(&c, "ring", 256);
	for (uint32_t i = 0; i < FILES; i++) {
		snprintf(names[i], sizeof(names[i]), "f%03u", i);
		memset(bytes[i], (int)i, sizeof(bytes[i]));
		e[i] = xh_reg(names[i], sizeof(bytes[i]));
	}
	CU_ASSERT_FATAL(xh_peer_open(&c.h, &pe, 1, 1, 0x3e1) == 0);
	CU_ASSERT_EQUAL(xh_flist(&pe, 0, e, FILES, true), 0);
	want_decided = FILES;
	CU_ASSERT(xh_until(&c.h, all_decided, &pe, 20000));
	xh_drain(&c.h, 20000);
	r = c.h.p->to_w[0][0];
	CU_ASSERT_EQUAL_FATAL(xf_ring_count(r), 0);
	if (xf_ring_free_count(r) % 2 == 0) {
		/* An even room: one plain DATA of file 0 (the same bytes) makes it odd. */
		CU_ASSERT_EQUAL(xh_data(&pe, 0, 0, bytes[0], sizeof(bytes[0])), 0);
		xf_pipeline_rx_poll(c.h.p, 0);
	}
	CU_ASSERT_EQUAL_FATAL(xf_ring_free_count(r) % 2, 1);
	for (uint32_t i = 0; i < FILES; i++) {
		CU_ASSERT_EQUAL(data_end(&pe, i, bytes[i], sizeof(bytes[i]), 0,
		                         xf_csum_crc64(0, bytes[i], sizeof(bytes[i]))),
		                0);
	}
	for (int k = 0; k < 64; k++) {
		xf_pipeline_rx_poll(c.h.p, 0);
	}
	CU_ASSERT(rx_stats(&c)->stalls > 0);
	CU_ASSERT_EQUAL(xf_ring_free_count(r), 1);
	CU_ASSERT(xh_until(&c.h, xh_done_or_aborted, &pe, 20000));
	CU_ASSERT_TRUE(pe.done);
	for (uint32_t i = 0; i < FILES; i++) {
		ok &= pe.st[i] == XF_ST_OK &&
		      xh_file_is(&c.h, names[i], bytes[i], sizeof(bytes[i]));
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(rx_stats(&c)->data_ends, FILES);
	case_end(&c, &pe);
}

static const struct xf_test tests[] = {
	{ "good, wrong CRC, too long, refused compressed, again", test_ends },
	{ "a full ring takes both items or neither", test_ring_full },
};

int
main(void)
{
	return xf_pt_main("data-end", base_dir, sizeof(base_dir), tests, XF_ARRAY_SIZE(tests));
}
