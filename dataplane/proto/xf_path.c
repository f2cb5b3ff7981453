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
