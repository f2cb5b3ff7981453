/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The matcher's cases, shared by unit-filter (our verdicts) and unit-filter-rsync (rsync's
 * verdicts on a tree holding just that path): one rule in the --exclude form, a path, whether
 * it is a directory, whether the rule matches it.
 */
#ifndef FILTER_MATCH_CASES_H
#define FILTER_MATCH_CASES_H

#include <stdbool.h>

struct match_case {
	const char *rule;
	const char *path;
	bool dir;
	bool match;
};

static const struct match_case match_cases[] = {
	/* No '/': the last element only. */
	{ "foo", "foo", false, true },
	{ "foo", "a/b/foo", false, true },
	{ "foo", "a/b/foo", true, true },
	{ "foo", "afoo", false, false },
	{ "foo", "foo/x", false, false },
	/* A trailing '/': directories only. */
	{ "foo/", "a/foo", true, true },
	{ "foo/", "a/foo", false, false },
	/* A leading '/': from the transfer root. */
	{ "/foo", "foo", false, true },
	{ "/foo", "a/foo", false, false },
	{ "/a/b", "a/b", false, true },
	{ "/a/b", "x/a/b", false, false },
	/* A '/' inside: the path's last elements, from a '/'. */
	{ "b/foo", "b/foo", false, true },
	{ "b/foo", "a/b/foo", false, true },
	{ "b/foo", "ab/foo", false, false },
	{ "b/foo", "foo", false, false },
	{ "b/*.c", "x/b/y.c", false, true },
	{ "b/*.c", "b/y.c", false, true },
	{ "b/*.c", "y.c", false, false },
	{ "b/*.c", "x/b/z/y.c", false, false },
	/* '*' never crosses a '/'; '?' is one byte but '/'. */
	{ "*.o", "x.o", false, true },
	{ "*.o", "d/x.o", false, true },
	{ "*.o", ".o", false, true },
	{ "*.o", "x.oo", false, false },
	{ "*.o", "x.o/y", false, false },
	{ "*.d/", "x.d", true, true },
	{ "*.d/", "x.d", false, false },
	{ "*o", "o", false, true },
	{ "/a*/c", "ab/c", false, true },
	{ "/a*/c", "a/b/c", false, false },
	{ "?.c", "a.c", false, true },
	{ "?.c", "ab.c", false, false },
	{ "/a?b", "axb", false, true },
	{ "/a?b", "a/b", false, false },
	/* "**" crosses '/'; a leading "**" then "/" may match nothing. */
	{ "**/foo", "foo", false, true },
	{ "**/foo", "a/b/foo", false, true },
	{ "**/foo", "a/b/xfoo", false, false },
	{ "a/**/foo", "a/b/foo", false, true },
	{ "a/**/foo", "x/a/b/c/foo", false, true },
	{ "a/**/foo", "a/foo", false, false },
	{ "foo/**", "foo/x/y", false, true },
	{ "foo/**", "z/foo/x", false, true },
	{ "foo/**", "foo", true, false },
	{ "**", "a/b/c", false, true },
	{ "/**", "a", true, true },
	/* "dir/" then "***": the directory and everything in it. */
	{ "a/***", "a", true, true },
	{ "a/***", "a", false, false },
	{ "a/***", "a/x/y", false, true },
	{ "a/***", "b/a/x", false, true },
	/* Sets. */
	{ "[ab].c", "a.c", false, true },
	{ "[ab].c", "c.c", false, false },
	{ "[!ab].c", "c.c", false, true },
	{ "[!ab].c", "a.c", false, false },
	{ "[^ab].c", "c.c", false, true },
	{ "[a-c]x", "bx", false, true },
	{ "[a-c]x", "dx", false, false },
	{ "[]]", "]", false, true },
	{ "[!]]", "]", false, false },
	{ "[a-]", "-", false, true },
	{ "[[:digit:]]*", "1abc", false, true },
	{ "[[:digit:]]*", "abc", false, false },
	{ "[[:upper:][:digit:]]", "Q", false, true },
	{ "[Tt]humbs.db", "x/Thumbs.db", false, true },
	{ "[Tt]humbs.db", "thumbs.dbx", false, false },
	{ "/a?\\x", "abx", false, true },
	{ "/a?\\x", "ab\\x", false, false },
	{ "[[:x]", "[", false, true },
	{ "[\\]]", "]", false, true },
	{ "/a[/]b", "a/b", false, false },
	/* '\' escapes in a pattern with wildcards; without one it is a plain byte. */
	{ "\\*", "*", false, true },
	{ "\\*", "x", false, false },
	{ "a\\*", "a*", false, true },
	{ "a\\*", "ab", false, false },
	{ "d/\\[x\\]", "d/[x]", false, true },
	{ "d/\\[x\\]*", "d/[x]", false, true },
	{ "a\\b", "a\\b", false, true },
	{ "a\\b", "ab", false, false },
	{ "*\\", "x", false, false },
	/* Spaces and bytes over 0x7f are ordinary. */
	{ "sp ace/f 1.txt", "sp ace/f 1.txt", false, true },
	{ "\xc3\xbc*", "\xc3\xbcn\xc3\xaf", false, true },
	{ "*/", "a", true, true },
	{ "*/", "a", false, false },
};

#endif /* FILTER_MATCH_CASES_H */
