/* SPDX-License-Identifier: BSD-3-Clause */
/* Destinations: PEER::VOLUME/PATH on the operator's side, VOLUME/PATH in a HELLO. */
#include <errno.h>
#include <string.h>

#include "xf_dest.h"
#include "xf_path.h"
#include "xf_proto.h"

/* A volume name: one path component (no '/', '.', '..', NUL), at most XF_DEST_VOLUME_MAX. */
static int
volume_check(const char *v, size_t len)
{
	if (len == 0 || memchr(v, '/', len) != NULL) {
		return -EINVAL;
	}
	if (len > XF_DEST_VOLUME_MAX) {
		return -ENAMETOOLONG;
	}
	return xf_path_validate(v, len);
}

int
xf_dest_parse(const char *dest, size_t len, uint32_t flags, struct xf_dest *out)
{
	const char *slash;
	int rc;

	*out = (struct xf_dest){ .path = dest, .path_len = len };
	if (len > XF_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	if (flags & XF_HELLO_F_VOLUME) {
		slash = len > 0 ? memchr(dest, '/', len) : NULL;
		out->volume = dest;
		out->volume_len = slash != NULL ? (size_t)(slash - dest) : len;
		rc = volume_check(dest, out->volume_len);
		if (rc < 0) {
			return rc;
		}
		/* "VOL" is the volume's root; "VOL/" (an empty path after the '/') is not a
		 * form the sender writes: refused as xf_path_validate refuses "a/". */
		out->path = slash != NULL ? slash + 1 : dest + len;
		out->path_len = slash != NULL ? len - out->volume_len - 1 : 0;
		if (slash != NULL && out->path_len == 0) {
			return -EINVAL;
		}
	}
	return out->path_len == 0 ? 0 : xf_path_validate(out->path, out->path_len);
}

int
xf_dest_volume(const struct xf_dest *d, const char *const *names, unsigned int n)
{
	if (d->volume == NULL) {
		return n > 0 ? 0 : -ENOENT;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (strlen(names[i]) == d->volume_len &&
		    memcmp(names[i], d->volume, d->volume_len) == 0) {
			return (int)i;
		}
	}
	return -ENOENT;
}

int
xf_dest_target(const char *target, const char **peer, size_t *peer_len, struct xf_dest *out)
{
	const char *colon = strchr(target, ':');
	const char *rest;
	int rc;

	*out = (struct xf_dest){ .path = "" };
	if (colon == NULL || colon == target) {
		return -EINVAL;
	}
	*peer = target;
	*peer_len = (size_t)(colon - target);
	rest = colon + 1;
	if (rest[0] == ':') {
		const char *slash;

		rest++;
		slash = strchr(rest, '/');
		out->volume = rest;
		out->volume_len = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
		rc = volume_check(rest, out->volume_len);
		if (rc < 0) {
			return rc;
		}
		rest += out->volume_len;
	}
	while (rest[0] == '/') {
		rest++;
	}
	out->path = rest;
	out->path_len = strlen(rest);
	return 0;
}
