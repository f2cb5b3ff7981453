/* SPDX-License-Identifier: BSD-3-Clause */
/* control.push_roots: which directories a push may read (docs/CONTROL.md, "push"). */
#ifndef XFERD_ROOTS_H
#define XFERD_ROOTS_H

#include <stddef.h>

struct xf_config;

/**
 * Resolve a push source and check it lies beneath one of control.push_roots. Both the
 * source and each root are resolved with realpath(3), so neither a symlink nor ".." in
 * the source leads out of a root, and a root given through a symlink still matches.
 * The engine is then given the resolved path.
 *
 * @param cfg      Configuration (control.push_roots).
 * @param src      Source directory as the client gave it (absolute).
 * @param resolved Set to its realpath; at least PATH_MAX bytes.
 * @param err      Set to the reason on refusal (for the client).
 * @param err_len  Its size.
 * @return 0 if allowed; -EPERM if not beneath a root (or no root is configured);
 *         -errno of realpath(3) if the source cannot be resolved.
 */
int xferd_push_root_check(const struct xf_config *cfg, const char *src, char *resolved, char *err,
                          size_t err_len);

#endif /* XFERD_ROOTS_H */
