/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_path_validate against hostile and ordinary names from the wire.
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_path.h"
#include "xf_proto.h"

struct path_case {
	const char *path;
	size_t len; /**< 0: strlen(path) */
	int expect;
};

static const struct path_case cases[] = {
	{ "..", 0, -EINVAL },
	{ ".", 0, -EINVAL },
	{ "a/../../b", 0, -EINVAL },
	{ "a/..", 0, -EINVAL },
	{ "../a", 0, -EINVAL },
	{ "/etc/passwd", 0, -EINVAL },
	{ "/", 0, -EINVAL },
	{ "a//b", 0, -EINVAL },
	{ "a/", 0, -EINVAL },
	{ "./a", 0, -EINVAL },
	{ "a/.", 0, -EINVAL },
	{ "a/./b", 0, -EINVAL },
	{ "a\0b", 3, -EINVAL },
	{ "a/b\0", 4, -EINVAL },
	{ "\0", 1, -EINVAL },
	{ "a", 0, 0 },
	{ "a/b/c.txt", 0, 0 },
	{ "...", 0, 0 },
	{ "..a", 0, 0 },
	{ ".hidden/.x", 0, 0 },
	{ "a../b..", 0, 0 },
	{ "with space/and more spaces ", 0, 0 },
	{ "-rf/--help", 0, 0 },
	{ "-", 0, 0 },
	{ "r\xc3\xa9sum\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt", 0, 0 },
	{ "emoji-\xf0\x9f\x98\x80", 0, 0 },
	{ "back\\slash", 0, 0 },
	{ "new\nline", 0, 0 },
};

static void
test_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct path_case *c = &cases[i];
		size_t len = c->len != 0 ? c->len : strlen(c->path);
		int rc = xf_path_validate(c->path, len);

		if (rc != c->expect) {
			fprintf(stderr, "case %zu: got %d want %d\n", i, rc, c->expect);
		}
		CU_ASSERT_EQUAL(rc, c->expect);
	}
}

static void
test_empty(void)
{
	CU_ASSERT_EQUAL(xf_path_validate("", 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_path_validate(NULL, 0), -EINVAL);
	/* Length rules over content: only len bytes are looked at. */
	CU_ASSERT_EQUAL(xf_path_validate("ab/..", 2), 0);
	CU_ASSERT_EQUAL(xf_path_validate("ab/..", 3), -EINVAL);
}

/* A path of n bytes made of components of comp bytes joined by '/'. */
static char *
make_path(size_t n, size_t comp)
{
	char *p = malloc(n);

	for (size_t i = 0; i < n; i++) {
		p[i] = (i % (comp + 1) == comp) ? '/' : 'x';
	}
	if (n > 0 && p[n - 1] == '/') {
		p[n - 1] = 'y';
	}
	return p;
}

static void
test_lengths(void)
{
	char *p;

	p = make_path(XF_NAME_MAX, XF_NAME_MAX);
	CU_ASSERT_EQUAL(xf_path_validate(p, XF_NAME_MAX), 0);
	free(p);
	p = make_path(XF_NAME_MAX + 1, XF_NAME_MAX + 1);
	CU_ASSERT_EQUAL(xf_path_validate(p, XF_NAME_MAX + 1), -ENAMETOOLONG);
	free(p);
	/* A long component in the middle. */
	p = make_path(600, 300);
	CU_ASSERT_EQUAL(xf_path_validate(p, 600), -ENAMETOOLONG);
	free(p);

	p = make_path(XF_PATH_MAX, 100);
	CU_ASSERT_EQUAL(xf_path_validate(p, XF_PATH_MAX), 0);
	free(p);
	p = make_path(XF_PATH_MAX + 1, 100);
	CU_ASSERT_EQUAL(xf_path_validate(p, XF_PATH_MAX + 1), -ENAMETOOLONG);
	free(p);
	p = make_path(70000, 100);
	CU_ASSERT_EQUAL(xf_path_validate(p, 70000), -ENAMETOOLONG);
	/* Malformed is reported as such even when also too long. */
	p[5000] = '/';
	p[5001] = '/';
	CU_ASSERT_EQUAL(xf_path_validate(p, 70000), -EINVAL);
	free(p);
}

/* The validator never reads past len: the byte after is on a guard of garbage. */
static void
test_no_overread(void)
{
	char *p = malloc(3);

	memcpy(p, "a/b", 3);
	CU_ASSERT_EQUAL(xf_path_validate(p, 3), 0);
	CU_ASSERT_EQUAL(xf_path_validate(p, 2), -EINVAL);
	free(p);
}

/* Wire strings reach the log escaped: no newline, no terminal escape, no NUL. */
static void
test_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		size_t cap;
		const char *want;
	} esc[] = {
		{ "dest/ok", 7, 64, "dest/ok" },
		{ "a\nINFO forged line", 18, 64, "a\\x0aINFO forged line" },
		{ "\x1b[2Jx", 5, 64, "\\x1b[2Jx" },
		{ "nul\0byte", 8, 64, "nul\\x00byte" },
		{ "back\\slash", 10, 64, "back\\\\slash" },
		{ "\xc3\xa9", 2, 64, "\\xc3\\xa9" },
		{ "ab", 2, 3, "ab" },            /* exactly fits */
		{ "abc", 3, 3, "" },             /* no room even for "..." */
		{ "abcdefgh", 8, 8, "abcd..." }, /* truncated */
		{ "ab\ncd", 5, 8, "ab..." },     /* an escape is never cut in half */
		{ "", 0, 8, "" },
	};
	char out[64];

	for (size_t i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		memset(out, 'Z', sizeof(out));
		CU_ASSERT_PTR_EQUAL(xf_path_escape(out, esc[i].cap, esc[i].in, esc[i].len), out);
		CU_ASSERT_STRING_EQUAL(out, esc[i].want);
		CU_ASSERT(strlen(out) < esc[i].cap);
	}
	/* the worst case fits XF_PATH_ESCAPED_SIZE */
	{
		char in[16], big[XF_PATH_ESCAPED_SIZE(16)];

		memset(in, 0x7f, sizeof(in));
		xf_path_escape(big, sizeof(big), in, sizeof(in));
		CU_ASSERT_EQUAL(strlen(big), 64);
		CU_ASSERT_PTR_NULL(strstr(big, "..."));
	}
}

static const struct xf_test tests[] = {
	{ "hostile and ordinary names", test_table },
	{ "empty", test_empty },
	{ "length limits", test_lengths },
	{ "no overread", test_no_overread },
	{ "escape for logs", test_escape },
};

int
main(void)
{
	return xf_test_main("path", NULL, NULL, XF_TESTS(tests));
}
