/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * control.push_roots. Anyone allowed on the control socket (its owner, and the members
 * of control.socket_group) could otherwise push any directory the daemon (root) can
 * read, /etc included, to a peer. Runs on the control thread: realpath(3) may block.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_config.h"
#include "xferd_roots.h"

/* path (resolved) is root (resolved) or beneath it. */
static int
beneath(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0) {
		return 1;
	}
	return strncmp(path, root, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int
xferd_push_root_check(const struct xf_config *cfg, const char *src, char *resolved, char *err,
                      size_t err_len)
{
	char root[PATH_MAX];
	size_t off = 0;
	int rc;

	if (cfg->control.n_push_roots == 0) {
		snprintf(err, err_len,
		         "pushes are refused: control.push_roots is empty (list the directories "
		         "pushes may read in the configuration)");
		return -EPERM;
	}
	if (realpath(src, resolved) == NULL) {
		rc = -errno;
		snprintf(err, err_len, "src '%s': %s", src, strerror(errno));
		return rc;
	}
	for (unsigned int i = 0; i < cfg->control.n_push_roots; i++) {
		/* A root that does not exist (now) allows nothing; it is not an error. */
		if (realpath(cfg->control.push_roots[i], root) != NULL && beneath(resolved, root)) {
			return 0;
		}
	}
	off = (size_t)snprintf(
	        err, err_len,
	        "src '%s' (resolved: '%s') is not beneath any of control.push_roots:", src,
	        resolved);
	for (unsigned int i = 0; i < cfg->control.n_push_roots && off < err_len; i++) {
		off += (size_t)snprintf(err + off, err_len - off, " %s",
		                        cfg->control.push_roots[i]);
	}
	return -EPERM;
}
