/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pull requests (xf_pull.h): what a PULL HELLO's dest carries, hostile forms included,
 * and the encoder refusing what the parser refuses.
 */
#include <CUnit/Basic.h>

#include "xf_test.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xf_base.h"
#include "xf_proto.h"
#include "xf_pull.h"

struct pull_case {
	const char *req; /**< the bytes, '|' standing for NUL */
	uint32_t flags;
	int rc;
	const char *src, *dest; /**< expected, when rc is 0 */
	unsigned int n_rules;
};

static const struct pull_case cases[] = {
	{ "/srv/data|", 0, 0, "/srv/data", "", 0 },
	{ "/srv/data/|in", 0, 0, "/srv/data/", "in", 0 }, /* contents: rsync's trailing '/' */
	{ "/|", 0, 0, "/", "", 0 },
	{ "/srv|archive/in", XF_HELLO_F_VOLUME, 0, "/srv", "archive/in", 0 },
	{ "/srv|in|- *.o|+ a/**", 0, 0, "/srv", "in", 2 },
	{ "/srv|in|- *.o", XF_HELLO_F_CHECKSUM | XF_HELLO_F_DRYRUN, 0, "/srv", "in", 1 },
	{ "/srv|in", XF_HELLO_F_DELETE, 0, "/srv", "in", 0 },
	/* Refused: no NUL, relative or malformed SRC, bad DEST, empty rules. */
	{ "/srv", 0, -EINVAL, NULL, NULL, 0 },
	{ "", 0, -EINVAL, NULL, NULL, 0 },
	{ "|", 0, -EINVAL, NULL, NULL, 0 },
	{ "srv|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv/../etc|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv/..|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv/.|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/./srv|", 0, -EINVAL, NULL, NULL, 0 },
	{ "//srv|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv//x|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv//|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv|../x", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv|/abs", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv|", XF_HELLO_F_VOLUME, -EINVAL, NULL, NULL, 0 }, /* no volume named */
	{ "/srv|in|", 0, -EINVAL, NULL, NULL, 0 },              /* ends in NUL */
	{ "/srv|in||- x", 0, -EINVAL, NULL, NULL, 0 },          /* an empty rule */
	{ "/srv|in|- x|", 0, -EINVAL, NULL, NULL, 0 },
	{ "/srv|in|- x", XF_HELLO_F_DELETE, -EINVAL, NULL, NULL, 0 }, /* rules and --delete */
	{ "/srv|in", XF_HELLO_F_ITEMIZE, -EINVAL, NULL, NULL, 0 },    /* -i stays local */
	/* IDS (XF_HELLO_F_OWNER): -o, -g, both, by name; missing, empty, names alone, a
	 * reserved bit, or a byte where none belongs. */
	{ "\x01/srv|in", XF_HELLO_F_OWNER, 0, "/srv", "in", 0 },
	{ "\x02/srv|in|- x", XF_HELLO_F_OWNER, 0, "/srv", "in", 1 },
	{ "\x07/srv|", XF_HELLO_F_OWNER, 0, "/srv", "", 0 },
	{ "/srv|in", XF_HELLO_F_OWNER, -EINVAL, NULL, NULL, 0 },
	{ "", XF_HELLO_F_OWNER, -EINVAL, NULL, NULL, 0 },
	{ "\x04/srv|in", XF_HELLO_F_OWNER, -EINVAL, NULL, NULL, 0 },
	{ "\x09/srv|in", XF_HELLO_F_OWNER, -EINVAL, NULL, NULL, 0 },
	{ "\x81/srv|in", XF_HELLO_F_OWNER, -EINVAL, NULL, NULL, 0 },
	{ "\x03/srv|in", 0, -EINVAL, NULL, NULL, 0 },
};

/* The case's bytes in a heap buffer of exactly their length (ASan sees any overread). */
static char *
bytes(const char *s, size_t *len)
{
	char *b;

	*len = strlen(s);
	b = malloc(*len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	for (size_t i = 0; i < *len; i++) {
		b[i] = s[i] == '|' ? '\0' : s[i];
	}
	return b;
}

static void
test_parse(void)
{
	for (size_t i = 0; i < XF_ARRAY_SIZE(cases); i++) {
		const struct pull_case *c = &cases[i];
		struct xf_pull_req r;
		size_t len;
		char *b = bytes(c->req, &len);
		int rc = xf_pull_parse(b, len, c->flags, &r);

		if (rc != c->rc) {
			fprintf(stderr, "case %zu '%s': got %d want %d\n", i, c->req, rc, c->rc);
		}
		CU_ASSERT_EQUAL(rc, c->rc);
		if (rc == 0 && c->rc == 0) {
			CU_ASSERT(r.src_len == strlen(c->src) &&
			          memcmp(r.src, c->src, r.src_len) == 0);
			CU_ASSERT(r.dest_len == strlen(c->dest) &&
			          memcmp(r.dest, c->dest, r.dest_len) == 0);
			CU_ASSERT_EQUAL(r.n_rules, c->n_rules);
			CU_ASSERT_EQUAL(
			        r.ids, (c->flags & XF_HELLO_F_OWNER) != 0 ? (uint8_t)c->req[0] : 0);
		}
		free(b);
	}
}

static void
test_rules(void)
{
	static const char req[] = "/s\0d\0- *.o\0+ a/**\0- /x/";
	struct xf_pull_req r;
	const char *want[] = { "- *.o", "+ a/**", "- /x/" };
	const char *rule;
	size_t pos = 0, len, n = 0;

	CU_ASSERT_EQUAL_FATAL(xf_pull_parse(req, sizeof(req) - 1, 0, &r), 0);
	CU_ASSERT_EQUAL(r.n_rules, 3);
	while ((rule = xf_pull_rule_next(&r, &pos, &len)) != NULL) {
		CU_ASSERT_FATAL(n < 3);
		CU_ASSERT(len == strlen(want[n]) && memcmp(rule, want[n], len) == 0);
		n++;
	}
	CU_ASSERT_EQUAL(n, 3);
	/* No rules: none walked. */
	CU_ASSERT_EQUAL_FATAL(xf_pull_parse("/s\0d", 4, 0, &r), 0);
	pos = 0;
	CU_ASSERT_PTR_NULL(xf_pull_rule_next(&r, &pos, &len));
}

static void
test_limits(void)
{
	size_t n = 1 + XF_PATH_MAX + 2 + 1;
	char *b = malloc(n);
	struct xf_pull_req r;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	/* SRC of XF_PATH_MAX bytes passes, one more does not; a component of 256 does not. */
	b[0] = '/';
	for (i = 1; i < XF_PATH_MAX; i++) {
		b[i] = (i % 200) == 0 ? '/' : 'a';
	}
	b[XF_PATH_MAX] = '\0';
	CU_ASSERT_EQUAL(xf_pull_parse(b, XF_PATH_MAX + 1, 0, &r), 0);
	b[XF_PATH_MAX] = 'a';
	b[XF_PATH_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(xf_pull_parse(b, XF_PATH_MAX + 2, 0, &r), -ENAMETOOLONG);
	memset(b + 1, 'a', XF_NAME_MAX + 1);
	b[XF_NAME_MAX + 2] = '\0';
	CU_ASSERT_EQUAL(xf_pull_parse(b, XF_NAME_MAX + 3, 0, &r), -ENAMETOOLONG);
	b[XF_NAME_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(xf_pull_parse(b, XF_NAME_MAX + 2, 0, &r), 0);
	free(b);

	/* XF_PULL_RULES_MAX rules pass, one more does not. */
	n = 4 + 4 * (XF_PULL_RULES_MAX + 1);
	b = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, "/s\0d", 4);
	for (i = 0; i < XF_PULL_RULES_MAX + 1; i++) {
		memcpy(b + 4 + 4 * i, "\0- x", 4);
	}
	CU_ASSERT_EQUAL(xf_pull_parse(b, n - 4, 0, &r), 0);
	CU_ASSERT_EQUAL(r.n_rules, XF_PULL_RULES_MAX);
	CU_ASSERT_EQUAL(xf_pull_parse(b, n, 0, &r), -E2BIG);
	free(b);
}

static void
test_build(void)
{
	const char *rules[] = { "- *.o", "+ a/" };
	const char *bad[] = { "" };
	char buf[64];
	struct xf_pull_req r;
	int n = xf_pull_build(buf, sizeof(buf), "/srv/", "in", rules, 2, 0, 0);

	CU_ASSERT_EQUAL_FATAL(n, 19);
	CU_ASSERT(memcmp(buf, "/srv/\0in\0- *.o\0+ a/", 19) == 0);
	CU_ASSERT_EQUAL(xf_pull_parse(buf, (size_t)n, 0, &r), 0);
	CU_ASSERT_EQUAL(r.n_rules, 2);
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "/srv", "", NULL, 0, 0, 0), 5);
	/* IDS first, exactly with XF_HELLO_F_OWNER. */
	n = xf_pull_build(buf, sizeof(buf), "/srv", "in", NULL, 0, XF_HELLO_F_OWNER,
	                  XF_PULL_IDS_GROUP | XF_PULL_IDS_NAMES);
	CU_ASSERT_EQUAL_FATAL(n, 8);
	CU_ASSERT(memcmp(buf, "\x06/srv\0in", 8) == 0);
	CU_ASSERT_EQUAL(xf_pull_parse(buf, (size_t)n, XF_HELLO_F_OWNER, &r), 0);
	CU_ASSERT_EQUAL(r.ids, XF_PULL_IDS_GROUP | XF_PULL_IDS_NAMES);
	CU_ASSERT_EQUAL(
	        xf_pull_build(buf, sizeof(buf), "/srv", "in", NULL, 0, 0, XF_PULL_IDS_OWNER),
	        -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "/srv", "in", NULL, 0, XF_HELLO_F_OWNER, 0),
	                -EINVAL);
	CU_ASSERT_EQUAL(
	        xf_pull_build(buf, sizeof(buf), "/srv", "in", NULL, 0, XF_HELLO_F_OWNER, 0x8),
	        -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, 0, "/srv", "in", NULL, 0, XF_HELLO_F_OWNER, 1), -ENOSPC);
	CU_ASSERT_EQUAL(xf_pull_build(buf, 7, "/srv", "in", NULL, 0, XF_HELLO_F_OWNER, 1), -ENOSPC);
	/* What the parser refuses, the encoder refuses. */
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "srv", "", NULL, 0, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "/srv", "../x", NULL, 0, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "/srv", "", bad, 1, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, sizeof(buf), "/srv", "", rules, 1, XF_HELLO_F_DELETE, 0),
	                -EINVAL);
	CU_ASSERT_EQUAL(xf_pull_build(buf, 8, "/srv", "in", rules, 2, 0, 0), -ENOSPC);
}

static void
test_refusal_names(void)
{
	CU_ASSERT_STRING_EQUAL(xf_pull_refusal_str(XF_PULL_NOT_ALLOWED), "not_allowed");
	CU_ASSERT_STRING_EQUAL(xf_pull_refusal_str(XF_PULL_OUTSIDE_ROOTS), "outside_roots");
	CU_ASSERT_STRING_EQUAL(xf_pull_refusal_str(XF_PULL_NO_SUCH_PATH), "no_such_path");
	CU_ASSERT_STRING_EQUAL(xf_pull_refusal_str(XF_PULL_BUSY), "busy");
	CU_ASSERT_STRING_EQUAL(xf_pull_refusal_str(XF_PULL_REFUSAL_MAX + 1), "?");
}

static const struct xf_test tests[] = {
	{ "pull requests, hostile ones too", test_parse }, { "filter rules", test_rules },
	{ "length and count limits", test_limits },        { "the encoder", test_build },
	{ "refusal names", test_refusal_names },
};

int
main(void)
{
	return xf_test_main("pull", NULL, NULL, XF_TESTS(tests));
}
