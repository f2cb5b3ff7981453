/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A push's destination: which volume of the receiver, and which directory in it.
 * The operator writes PEER:PATH (the receiver's first volume) or PEER::VOLUME[/PATH]
 * (the named one); the HELLO carries VOLUME/PATH with XF_HELLO_F_VOLUME, or PATH
 * without it. docs/PROTOCOL.md 3.1 and docs/CONTROL.md, "Destinations", say why the
 * volume is named by an explicit "::" rather than guessed from the first component.
 */
#ifndef XF_DEST_H
#define XF_DEST_H

#include <stddef.h>
#include <stdint.h>

/** Longest volume name (a config identifier: 63 characters). */
#define XF_DEST_VOLUME_MAX 63u

/** A destination split into its parts (pointers into the string it was parsed from). */
struct xf_dest {
	const char *volume; /**< the volume named, or NULL: the receiver's first */
	size_t volume_len;
	const char *path; /**< directory in the volume, relative; "" is its root */
	size_t path_len;
};

/**
 * Split a HELLO's destination (bytes from the wire, untrusted). With XF_HELLO_F_VOLUME in
 * flags its first component is the volume's name and the rest, if any, the path; without
 * it the whole is the path in the receiver's first volume.
 *
 * @param dest  The HELLO's dest bytes (need not be NUL-terminated).
 * @param len   Their length, at most XF_PATH_MAX.
 * @param flags The HELLO's flags.
 * @param out   The parts, pointing into dest.
 * @return 0; -EINVAL (the path is malformed as xf_path_validate() says, or the flag is
 *         set with no volume name); -ENAMETOOLONG (a volume name over XF_DEST_VOLUME_MAX
 *         bytes, or a path too long).
 */
int xf_dest_parse(const char *dest, size_t len, uint32_t flags, struct xf_dest *out);

/**
 * The volume a destination names among the receiver's volumes.
 *
 * @param d     A destination from xf_dest_parse().
 * @param names The receiver's volume names, NUL-terminated, the first being the default.
 * @param n     How many (>= 1).
 * @return The index in names (0 when d names no volume), or -ENOENT (no volume of that
 *         name: the name is compared byte for byte, whole).
 */
int xf_dest_volume(const struct xf_dest *d, const char *const *names, unsigned int n);

/**
 * Split an operator's push target: "PEER:PATH" or "PEER::VOLUME" or "PEER::VOLUME/PATH".
 * A leading '/' of PATH means the volume's root, as does an empty PATH; both are removed.
 *
 * @param target NUL-terminated.
 * @param peer, peer_len  The peer's name (not empty).
 * @param out    volume (NULL without "::") and path.
 * @return 0, or -EINVAL (no ':', no peer, "::" with no volume name, a volume name with
 *         '.', '..' or a NUL), -ENAMETOOLONG (a volume name over XF_DEST_VOLUME_MAX).
 *         The path itself is checked by the daemon (xf_path_validate()).
 */
int xf_dest_target(const char *target, const char **peer, size_t *peer_len, struct xf_dest *out);

#endif /* XF_DEST_H */
