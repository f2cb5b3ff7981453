/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lexical validation of paths from the wire. This is the first of two fences: the
 * second is that every open beneath a volume root uses openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) (drivers/storage), which also stops symlinks that escape.
 */
#ifndef XF_PATH_H
#define XF_PATH_H

#include <stddef.h>

/**
 * Check that a path from the wire is a safe relative path: not empty, not absolute,
 * no NUL, no empty component ("a//b", trailing "/"), no "." or ".." component, each
 * component at most XF_NAME_MAX bytes, the whole at most XF_PATH_MAX bytes.
 *
 * @param path Bytes of the path (need not be NUL-terminated).
 * @param len  Its length.
 * @return 0 if valid; -EINVAL if malformed (empty, absolute, NUL, empty, "." or ".."
 *         component); -ENAMETOOLONG if a component or the whole is too long.
 */
int xf_path_validate(const char *path, size_t len);

/**
 * Write a string from the wire (a path, a destination) for a log line: printable ASCII
 * but the backslash as is, the backslash as "\\", every other byte (newline, escape
 * sequences, NUL, bytes of UTF-8) as "\xNN". A peer cannot forge log lines nor drive a
 * terminal through it. Always NUL-terminated; what does not fit ends with "...".
 *
 * @param out Output buffer.
 * @param cap Its size, >= 4 (0 writes nothing).
 * @param in  Bytes from the wire (need not be NUL-terminated).
 * @param len Their length.
 * @return out.
 */
char *xf_path_escape(char *out, size_t cap, const char *in, size_t len);

/** Output size xf_path_escape() needs for len bytes, with the NUL: a byte takes 4 at most. */
#define XF_PATH_ESCAPED_SIZE(len) (4u * (len) + 1u)

#endif /* XF_PATH_H */
