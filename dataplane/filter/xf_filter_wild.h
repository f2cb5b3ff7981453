/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rsync's wildcards, inside the filter module (xf_filter.c uses them): '*' matches any
 * run of bytes but '/', '**' any run including '/', '?' one byte but '/', "[...]" one
 * byte of a set ('!' or '^' negates, "a-z" ranges, "[:alpha:]" classes, '\' escapes),
 * '\' makes the next byte literal.
 *
 * The matcher backtracks only as the classic wildmat does: a '*' that runs out of text
 * gives up every earlier '*' too (no earlier start can succeed), and a failure at a '/'
 * is passed up to the nearest '**'. So a pattern costs about its length times the
 * text's, never an exponential search, which matters because patterns are untrusted.
 */
#ifndef XF_FILTER_WILD_H
#define XF_FILTER_WILD_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Check that every "[...]" in pat (NUL-terminated) is closed and names only known
 * classes. @return 0, or -EINVAL with err set ("unterminated '[' at byte 3").
 */
int xf_wild_check(const char *pat, char *err, size_t err_len);

/**
 * Match pat against text (both NUL-terminated), as rsync does it for a filter rule:
 * where 0: the whole text; where N > 0: its last N '/'-separated elements only (no
 * match if it has fewer); where -1: the whole text or any part that follows a '/'.
 */
bool xf_wild_match(const char *pat, const char *text, int where);

#endif /* XF_FILTER_WILD_H */
