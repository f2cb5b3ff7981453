/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the receiver's inflation of compressed DATA (drivers/zip,
 * docs/PROTOCOL.md 6.16): the stream and its raw_len come from the wire, untrusted.
 *
 * An input is raw_len (2 bytes, big-endian, taken modulo XF_DATA_RAW_MAX, plus 1) and
 * the stream. It is inflated into a heap buffer of exactly raw_len bytes (ASan sees a
 * byte written past it); the answer is one of the four. A stream accepted inflates to
 * bytes that compress and inflate back to themselves. The input taken as plain data
 * compresses (when it fits its own length) and inflates back to itself, and never into
 * more than the cap asked. Any violated property aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_fuzz.h"
#include "xf_proto.h"
#include "xf_zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xf_zip *z;
static uint8_t zbuf[XF_DATA_RAW_MAX], back[XF_DATA_RAW_MAX];

/* in (len bytes) compresses into at most cap bytes, or says it does not fit; what it
 * gives inflates back to in. */
static void
round_trip(const uint8_t *in, uint32_t len, uint32_t cap)
{
	int n = xf_zip_deflate(z, in, len, zbuf, cap);

	CHECK(n == -ENOSPC || (n > 0 && (uint32_t)n <= cap));
	if (n > 0) {
		CHECK(xf_zip_inflate(z, zbuf, (uint32_t)n, back, len) == 0);
		CHECK(memcmp(back, in, len) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t raw_len;
	uint8_t *out;
	int rc;

	if (z == NULL) {
		z = xf_zip_create();
		CHECK(z != NULL);
	}
	if (size < 3 || size > XF_DATA_RAW_MAX + 2) {
		return 0;
	}
	raw_len = ((uint32_t)data[0] << 8 | data[1]) % XF_DATA_RAW_MAX + 1;
	out = malloc(raw_len);
	CHECK(out != NULL);
	rc = xf_zip_inflate(z, data + 2, (uint32_t)(size - 2), out, raw_len);
	CHECK(rc == 0 || rc == -XF_ZIP_BAD || rc == -XF_ZIP_LONG || rc == -XF_ZIP_SHORT);
	if (rc == 0) {
		round_trip(out, raw_len, XF_DATA_RAW_MAX);
	}
	free(out);
	round_trip(data + 2, (uint32_t)(size - 2), (uint32_t)(size - 2));
	round_trip(data + 2, (uint32_t)(size - 2), (uint32_t)(size - 2) / 2 + 1);
	return 0;
}
