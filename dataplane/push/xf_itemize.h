/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rsync's itemized changes (`rsync -i`, its `%i %n%L` lines) from what a receiver's
 * DECISION said about an entry (xf_push_item(): the decision and the XF_ITEM_* bits),
 * and its `*deleting` lines. Pure formatting: no I/O, no allocation.
 *
 * The 11 columns are YXcstpoguax. xferd fills Y (`>` sent, `c` made on the receiver,
 * `.` attributes only), X (`f`, `d`, `L`), c (a symlink's changed target; with
 * --checksum, every regular file sent, as rsync marks them), s, t and p;
 * o and g from XF_ITEM_OWNER, XF_ITEM_GROUP; a and x from XF_ITEM_ACL, XF_ITEM_XATTR
 * (-A, -X: docs/PROTOCOL.md 6.20); u is always `.`: xferd sends no access times. A new
 * entry is `+` in every column from c on. Names are written as rsync writes them: control
 * characters but a tab as "\#ooo".
 */
#ifndef XF_ITEMIZE_H
#define XF_ITEMIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The longest line: 11 columns, a space, a path (each byte at most 5 written: a control
 *  character is escaped as rsync does, "\#ooo"), '/', " -> ", a target, a NUL. */
#define XF_ITEMIZE_LINE_MAX (12u + 5u * 4095u + 1u + 4u + 5u * 4095u + 1u)

/**
 * The line rsync -i prints for an entry, or none when rsync prints none (nothing
 * differs, no decision came, or the entry was refused: rsync reports errors instead).
 *
 * @param buf      Where the line goes (NUL-terminated, no newline).
 * @param cap      Its size; XF_ITEMIZE_LINE_MAX always suffices.
 * @param kind     enum xf_file_kind.
 * @param rec      The entry's record (xf_push_item(), with XF_PUSH_ITEM_DATA once data
 *                 went), 0 if no decision came.
 * @param checksum The push compared by checksum (rsync --checksum).
 * @param path     The path relative to the source directory ("" for the directory itself,
 *                 printed as "./"), len bytes; a directory gets a trailing '/'.
 * @param target   A symlink's target (" -> target" follows the name), else NULL.
 * @return The line's length, 0 when there is no line, or -ENOSPC when cap is too small
 *         (buf then holds nothing usable), -EINVAL for a kind it does not know.
 */
int xf_itemize_line(char *buf, size_t cap, uint8_t kind, uint16_t rec, bool checksum,
                    const char *path, size_t len, const char *target, size_t target_len);

/**
 * rsync's line for an entry deleted (or, in a dry run, that would be):
 * "*deleting   PATH" ("PATH/" for a directory).
 * @return The line's length, or -ENOSPC.
 */
int xf_itemize_deleting(char *buf, size_t cap, const char *path, size_t len, bool dir);

#endif /* XF_ITEMIZE_H */
