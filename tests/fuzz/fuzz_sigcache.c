/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the signature cache's file parser (dataplane/delta/xf_sigcache.c,
 * docs/DELTA.md "Signature cache"): the file lies on the volume and is read at every
 * start, so every byte of it is untrusted.
 *
 * The first input byte is a mode, the rest is the file. With mode bit 0 set, the harness
 * first rewrites every record's CRC-32C to match its body (walking the records by their
 * own lengths), so that the fuzzer gets past the checksums to the checks behind them.
 * Properties: the load never crashes; it either refuses the file (-EBADMSG, one
 * `corrupt` more, an empty cache) or loads at most as many entries as it reports; a
 * loaded cache saves to a file that loads back to the same number of entries; a store
 * after any load keeps the byte bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xf_csum.h"
#include "xf_fuzz.h"
#include "xf_sigcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static int dir_fd = -1;

static void
fix_crcs(uint8_t *b, size_t len)
{
	size_t pos = 16;

	while (pos + 8 <= len) {
		uint32_t blen, crc;

		memcpy(&blen, b + pos, 4);
		if (blen > len - pos - 8) {
			return;
		}
		crc = xf_csum_crc32c(0, b + pos + 8, blen);
		memcpy(b + pos + 4, &crc, 4);
		pos += 8 + (size_t)blen;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xf_sigcache *c, *d;
	struct xf_sigcache_stats st;
	struct xf_sigcache_key k = {
		.dev = 1, .ino = 2, .size = 5000, .mtime_ns = 3, .ctime_ns = 4
	};
	struct xf_sig_rec s[3] = { { 0 } };
	uint64_t bc[3] = { 0 };
	uint8_t *buf;
	int n;

	if (size < 1) {
		return 0;
	}
	if (dir_fd < 0) {
		strcpy(dir, "/tmp/fuzz_sigcache.XXXXXX");
		CHECK(mkdtemp(dir) != NULL);
		dir_fd = open(dir, O_RDONLY | O_DIRECTORY);
		CHECK(dir_fd >= 0);
	}
	buf = malloc(size);
	CHECK(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	if (data[0] & 1) {
		fix_crcs(buf, size - 1);
	}
	c = xf_sigcache_create(64u * 1024u);
	CHECK(c != NULL);
	n = xf_sigcache_load_buffer(c, buf, size - 1);
	xf_sigcache_stats(c, &st);
	if (n < 0) {
		CHECK(n == -EBADMSG);
		CHECK(st.corrupt == 1);
		CHECK(xf_sigcache_count(c) == 0);
	} else {
		CHECK(st.corrupt == 0);
		CHECK(xf_sigcache_count(c) <= (uint32_t)n);
		CHECK(st.bytes <= st.capacity);
		if (n > 0) {
			uint32_t held = xf_sigcache_count(c);

			d = xf_sigcache_create(64u * 1024u);
			CHECK(d != NULL);
			CHECK(xf_sigcache_save(c, dir_fd, "c") == (int)held);
			CHECK(xf_sigcache_load(d, dir_fd, "c") == (int)held);
			CHECK(xf_sigcache_count(d) == held);
			xf_sigcache_destroy(d);
		}
	}
	CHECK(xf_sigcache_put(c, &k, 2048, 3, s, bc) == 0);
	CHECK(xf_sigcache_get(c, &k, 2048, 3, s, bc) == 0);
	xf_sigcache_stats(c, &st);
	CHECK(st.bytes <= st.capacity);
	xf_sigcache_destroy(c);
	free(buf);
	return 0;
}
