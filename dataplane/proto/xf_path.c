/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lexical validation of wire paths (xf_path.h). Runs once per FLIST entry on the RX
 * core, so it is a single pass with memchr and no allocation.
 */
#include <errno.h>
#include <string.h>

#include "xf_path.h"
#include "xf_proto.h"

int
xf_path_validate(const char *path, size_t len)
{
	const char *p = path;
	const char *end = path + len;
	int rc = 0;

	if (path == NULL || len == 0 || path[0] == '/') {
		return -EINVAL;
	}
	/* A NUL would cut the path short in every system call that later sees it. */
	if (memchr(path, '\0', len) != NULL) {
		return -EINVAL;
	}
	if (len > XF_PATH_MAX) {
		rc = -ENAMETOOLONG;
	}
	while (p <= end) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		const char *stop = slash != NULL ? slash : end;
		size_t n = (size_t)(stop - p);

		/* Malformed wins over too long: "a//b" is refused as such at any length. */
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			return -EINVAL;
		}
		if (n > XF_NAME_MAX) {
			rc = -ENAMETOOLONG;
		}
		if (slash == NULL) {
			break;
		}
		p = slash + 1;
	}
	return rc;
}

/* Bytes xf_path_escape() writes for c. */
static size_t
esc_len(unsigned char c)
{
	return c == '\\' ? 2 : (c >= 0x20 && c <= 0x7e) ? 1 : 4;
}

char *
xf_path_escape(char *out, size_t cap, const char *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t need = 0, room, o = 0, i;

	if (cap == 0) {
		return out;
	}
	for (i = 0; i < len; i++) {
		need += esc_len((unsigned char)in[i]);
	}
	/* All of it if it fits, else as much as leaves room for "..." (and the NUL). */
	room = need < cap ? need : cap >= 4 ? cap - 4 : 0;
	for (i = 0; i < len && o + esc_len((unsigned char)in[i]) <= room; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c >= 0x20 && c <= 0x7e) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len && cap >= 4) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}
