/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DEFLATE per frame on ISA-L's igzip (xf_zip.h).
 *
 * Level 0, not 1 (perf/zip, docs/PROTOCOL.md 6.16): on frames of /usr/include text,
 * level 1 sends 0.34 of the bytes in 1432-byte frames and 0.25 in 8932-byte ones, level
 * 0 0.45 and 0.29, but level 0 compresses 4.1 and 1.4 times as fast (one pass with
 * igzip's static Huffman tables; level 1 builds tables per frame, a fixed cost a small
 * frame pays in full) and tries random data 9 and 2.3 times as fast. XF_ZIP_LEVEL 1 uses
 * the level buffer below, sized for one frame's tokens (ISAL_DEF_LVL1_SMALL: 16 Ki, more
 * than a 9 KiB frame makes).
 */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_zip.h"

#define LEVEL     XF_ZIP_LEVEL
#define LEVEL_BUF (LEVEL == 0 ? 1 : ISAL_DEF_LVL1_SMALL)

struct xf_zip {
	struct isal_zstream zs;
	struct inflate_state is;
	uint8_t level_buf[LEVEL_BUF];
};

struct xf_zip *
xf_zip_create(void)
{
	struct xf_zip *z = calloc(1, sizeof(*z));

	if (z == NULL) {
		XF_LOG(ERR, "zip", "no memory for the compression state (%zu bytes)", sizeof(*z));
	}
	return z;
}

void
xf_zip_free(struct xf_zip *z)
{
	free(z);
}

int
xf_zip_deflate(struct xf_zip *z, const void *in, uint32_t len, void *out, uint32_t cap)
{
	struct isal_zstream *s = &z->zs;
	int rc;

	if (len == 0 || cap == 0) {
		return -EINVAL;
	}
	isal_deflate_stateless_init(s);
	s->level = LEVEL;
	s->level_buf = LEVEL == 0 ? NULL : z->level_buf;
	s->level_buf_size = LEVEL == 0 ? 0 : sizeof(z->level_buf);
	s->gzip_flag = IGZIP_DEFLATE;
	s->end_of_stream = 1;
	s->flush = NO_FLUSH;
	s->next_in = (uint8_t *)(uintptr_t)in;
	s->avail_in = len;
	s->next_out = out;
	s->avail_out = cap;
	rc = isal_deflate_stateless(s);
	xf_vector_upper_clean(); /* igzip's AVX-512 code leaves it dirty, as the CRCs do */
	if (rc == STATELESS_OVERFLOW) {
		return -ENOSPC;
	}
	if (rc != COMP_OK || s->avail_in != 0) {
		return -EINVAL;
	}
	return (int)s->total_out;
}

int
xf_zip_inflate(struct xf_zip *z, const void *in, uint32_t len, void *out, uint32_t raw_len)
{
	struct inflate_state *s = &z->is;
	int rc;

	if (len == 0 || raw_len == 0) {
		return -XF_ZIP_BAD;
	}
	isal_inflate_init(s);
	s->crc_flag = IGZIP_DEFLATE;
	s->next_in = (uint8_t *)(uintptr_t)in;
	s->avail_in = len;
	s->next_out = out;
	s->avail_out = raw_len;
	rc = isal_inflate_stateless(s);
	xf_vector_upper_clean();
	if (rc == ISAL_OUT_OVERFLOW) {
		return -XF_ZIP_LONG;
	}
	if (rc == ISAL_END_INPUT) {
		return -XF_ZIP_SHORT; /* the stream stopped without its final block */
	}
	if (rc != ISAL_DECOMP_OK) {
		return -XF_ZIP_BAD;
	}
	if (s->total_out != raw_len) {
		return -XF_ZIP_SHORT;
	}
	/* The stream must be the whole payload: input the decoder holds in its bit buffer
	 * beyond the final block's last byte is a trailer nobody sent for a reason. */
	if (s->avail_in + s->read_in_length / 8 != 0) {
		return -XF_ZIP_BAD;
	}
	return 0;
}

const char *
xf_zip_fail_str(int fail)
{
	switch (fail) {
	case XF_ZIP_BAD:
		return "bad";
	case XF_ZIP_LONG:
		return "long";
	case XF_ZIP_SHORT:
		return "short";
	default:
		return "?";
	}
}
