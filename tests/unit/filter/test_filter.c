/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_filter: every rule form and how it is written back, every refusal with the words
 * that say why, and the matcher on each kind of pattern (docs/FILTERS.md). The same
 * semantics are checked against rsync itself on a real tree in test_filter_rsync.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "xf_test.h"

#include "xf_filter.h"

#include "match_cases.h"

/* Parse one rule into a new filter; NULL if refused (err set). */
static struct xf_filter *
one(enum xf_filter_form form, const char *text, char *err, size_t err_len)
{
	struct xf_filter *f = xf_filter_new();

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	if (xf_filter_add(f, form, text, strlen(text), err, err_len) != 0) {
		xf_filter_free(f);
		return NULL;
	}
	return f;
}

static void
test_forms(void)
{
	static const struct {
		enum xf_filter_form form;
		const char *text, *rule;
	} cases[] = {
		{ XF_FILTER_FORM_RULE, "- foo", "- foo" },
		{ XF_FILTER_FORM_RULE, "+ foo", "+ foo" },
		{ XF_FILTER_FORM_RULE, "exclude foo", "- foo" },
		{ XF_FILTER_FORM_RULE, "include foo", "+ foo" },
		{ XF_FILTER_FORM_RULE, "-_foo", "- foo" },
		{ XF_FILTER_FORM_RULE, "+_foo", "+ foo" },
		{ XF_FILTER_FORM_RULE, "exclude_foo", "- foo" },
		{ XF_FILTER_FORM_RULE, "-, foo", "- foo" },
		{ XF_FILTER_FORM_RULE, "include, foo", "+ foo" },
		/* One separator only: the second space belongs to the pattern, as in rsync. */
		{ XF_FILTER_FORM_RULE, "-  foo", "-  foo" },
		{ XF_FILTER_FORM_RULE, "- dir/", "- dir/" },
		{ XF_FILTER_FORM_RULE, "- a b", "- a b" },
		{ XF_FILTER_FORM_EXCLUDE, "foo", "- foo" },
		{ XF_FILTER_FORM_EXCLUDE, "- foo", "- foo" },
		{ XF_FILTER_FORM_EXCLUDE, "+ foo", "+ foo" },
		{ XF_FILTER_FORM_EXCLUDE, "-foo", "- -foo" },
		{ XF_FILTER_FORM_EXCLUDE, "!foo", "- !foo" },
		{ XF_FILTER_FORM_EXCLUDE, "exclude foo", "- exclude foo" },
		{ XF_FILTER_FORM_INCLUDE, "foo", "+ foo" },
		{ XF_FILTER_FORM_INCLUDE, "- foo", "- foo" },
		{ XF_FILTER_FORM_INCLUDE, "/a/**/", "+ /a/**/" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xf_filter *f = one(cases[i].form, cases[i].text, err, sizeof(err));
		struct xf_filter *again;

		if (f == NULL) {
			fprintf(stderr, "refused '%s': %s\n", cases[i].text, err);
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_EQUAL(xf_filter_count(f), 1);
		CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 0), cases[i].rule);
		/* What the control socket carries parses back to the same rule. */
		again = one(XF_FILTER_FORM_RULE, xf_filter_rule(f, 0), err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(again);
		CU_ASSERT_STRING_EQUAL(xf_filter_rule(again, 0), cases[i].rule);
		xf_filter_free(again);
		xf_filter_free(f);
	}
}

static void
test_refusals(void)
{
	static const struct {
		enum xf_filter_form form;
		const char *text, *why;
	} cases[] = {
		{ XF_FILTER_FORM_RULE, "", "empty rule" },
		{ XF_FILTER_FORM_RULE, "-", "no pattern" },
		{ XF_FILTER_FORM_RULE, "- ", "no pattern" },
		{ XF_FILTER_FORM_RULE, "exclude", "no pattern" },
		{ XF_FILTER_FORM_RULE, "foo", "unknown rule" },
		{ XF_FILTER_FORM_RULE, "excludes foo", "unknown rule" },
		{ XF_FILTER_FORM_RULE, "* foo", "unknown rule" },
		{ XF_FILTER_FORM_RULE, "-/ foo", "modifier '/' (absolute path)" },
		{ XF_FILTER_FORM_RULE, "-! foo", "modifier '!' (negation)" },
		{ XF_FILTER_FORM_RULE, "+p foo", "modifier 'p' (perishable)" },
		{ XF_FILTER_FORM_RULE, "-s foo", "modifier 's' (sender side)" },
		{ XF_FILTER_FORM_RULE, "-r foo", "modifier 'r' (receiver side)" },
		{ XF_FILTER_FORM_RULE, "-x foo", "modifier 'x' (xattr names)" },
		{ XF_FILTER_FORM_RULE, "-C", "modifier 'C' (CVS ignore rules)" },
		{ XF_FILTER_FORM_RULE, "-e foo", "modifier 'e' (merge file)" },
		{ XF_FILTER_FORM_RULE, "exclude,/ foo", "modifier '/' (absolute path)" },
		{ XF_FILTER_FORM_RULE, "-q foo", "byte 2: expected a space or '_'" },
		{ XF_FILTER_FORM_RULE, "exclude\tfoo", "byte 8: expected a space or '_'" },
		{ XF_FILTER_FORM_RULE, "!", "rule 'clear' is not supported" },
		{ XF_FILTER_FORM_RULE, "clear", "rule 'clear' is not supported" },
		{ XF_FILTER_FORM_RULE, ". rules", "rule 'merge' is not supported (merge files)" },
		{ XF_FILTER_FORM_RULE, "merge rules", "rule 'merge' is not supported" },
		{ XF_FILTER_FORM_RULE, ": .rsync-filter", "per-directory merge files" },
		{ XF_FILTER_FORM_RULE, "dir-merge .f", "per-directory merge files" },
		{ XF_FILTER_FORM_RULE, "H foo", "rule 'hide' is not supported" },
		{ XF_FILTER_FORM_RULE, "hide foo", "rule 'hide' is not supported" },
		{ XF_FILTER_FORM_RULE, "S foo", "rule 'show' is not supported" },
		{ XF_FILTER_FORM_RULE, "show foo", "rule 'show' is not supported" },
		{ XF_FILTER_FORM_RULE, "P foo", "rule 'protect' is not supported" },
		{ XF_FILTER_FORM_RULE, "protect foo", "rule 'protect' is not supported" },
		{ XF_FILTER_FORM_RULE, "R foo", "rule 'risk' is not supported" },
		{ XF_FILTER_FORM_RULE, "risk foo", "rule 'risk' is not supported" },
		{ XF_FILTER_FORM_RULE, "- [abc", "unterminated '[' at byte 1" },
		{ XF_FILTER_FORM_RULE, "- x/[!a", "unterminated '[' at byte 3" },
		{ XF_FILTER_FORM_RULE, "- [a\\", "unterminated '['" },
		{ XF_FILTER_FORM_RULE, "- [[:alpha:]", "unterminated '['" },
		{ XF_FILTER_FORM_RULE, "- [[:nope:]]", "unknown character class at byte 2" },
		{ XF_FILTER_FORM_EXCLUDE, "", "empty rule" },
		{ XF_FILTER_FORM_EXCLUDE, "- ", "no pattern" },
		{ XF_FILTER_FORM_EXCLUDE, "!", "'!' (clear the rules so far) is not supported" },
		{ XF_FILTER_FORM_INCLUDE, "+ ", "no pattern" },
		{ XF_FILTER_FORM_INCLUDE, "[", "unterminated '['" },
	};
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xf_filter *f = xf_filter_new();

		err[0] = '\0';
		CU_ASSERT_EQUAL(xf_filter_add(f, cases[i].form, cases[i].text,
		                              strlen(cases[i].text), err, sizeof(err)),
		                -EINVAL);
		if (strstr(err, cases[i].why) == NULL) {
			fprintf(stderr, "'%s': got '%s', want '%s'\n", cases[i].text, err,
			        cases[i].why);
			CU_FAIL("refusal without its reason");
		}
		CU_ASSERT_EQUAL(xf_filter_count(f), 0); /* nothing half-added */
		xf_filter_free(f);
	}
}

static void
test_bounds(void)
{
	struct xf_filter *f = xf_filter_new();
	char err[256], *big = malloc(XF_FILTER_PATTERN_MAX + 8);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	/* A NUL inside the text (the control socket's JSON can carry one). */
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- a\0b", 5, err, sizeof(err)),
	                -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "NUL byte"));
	/* The longest pattern is taken; one byte more is refused with both sizes. */
	memcpy(big, "- ", 2);
	memset(big + 2, 'p', XF_FILTER_PATTERN_MAX + 1);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, big, XF_FILTER_PATTERN_MAX + 2, err,
	                              sizeof(err)),
	                0);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, big, XF_FILTER_PATTERN_MAX + 3, err,
	                              sizeof(err)),
	                -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "pattern of 1025 bytes, more than 1024"));
	xf_filter_free(f);

	/* XF_FILTER_TEXT_MAX bytes of rules: 32 rules of 1,024 bytes fill it exactly. */
	f = xf_filter_new();
	for (unsigned int i = 0; i < XF_FILTER_TEXT_MAX / (XF_FILTER_PATTERN_MAX + 2) + 1; i++) {
		CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, big, XF_FILTER_PATTERN_MAX,
		                              err, sizeof(err)),
		                0);
	}
	CU_ASSERT_EQUAL(
	        xf_filter_add(f, XF_FILTER_FORM_RULE, big, XF_FILTER_PATTERN_MAX, err, sizeof(err)),
	        -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exceed 32768 bytes"));
	xf_filter_free(f);
	/* Counted in the --filter form: an --exclude pattern of 1,023 bytes is a rule of 1,025
	 * bytes there, so 31 fit and the 32nd goes over (counted as written, 32 would fit). */
	f = xf_filter_new();
	for (unsigned int i = 0; i < 31; i++) {
		CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_EXCLUDE, big + 2,
		                              XF_FILTER_PATTERN_MAX - 1, err, sizeof(err)),
		                0);
	}
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_EXCLUDE, big + 2, XF_FILTER_PATTERN_MAX - 1,
	                              err, sizeof(err)),
	                -E2BIG);
	xf_filter_free(f);

	/* XF_FILTER_RULES_MAX rules; the next one is refused and the filter still works. */
	f = xf_filter_new();
	for (unsigned int i = 0; i < XF_FILTER_RULES_MAX; i++) {
		char r[32];

		snprintf(r, sizeof(r), "- n%u", i);
		CU_ASSERT_EQUAL_FATAL(
		        xf_filter_add(f, XF_FILTER_FORM_RULE, r, strlen(r), err, sizeof(err)), 0);
	}
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- x", 3, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 1024 rules"));
	CU_ASSERT_EQUAL(xf_filter_count(f), XF_FILTER_RULES_MAX);
	CU_ASSERT_EQUAL(xf_filter_match(f, "d/n1023", 7, false), XF_FILTER_EXCLUDED);
	CU_ASSERT_EQUAL(xf_filter_match(f, "n1024", 5, false), XF_FILTER_NO_MATCH);
	xf_filter_free(f);
	free(big);
}

static void
test_lines(void)
{
	static const char file[] = "a\n"
	                           "# a comment\n"
	                           "; another\n"
	                           "\n"
	                           "b\r\n"
	                           "+ c\n"
	                           " d";
	struct xf_filter *f = xf_filter_new();
	char err[256];

	CU_ASSERT_EQUAL(xf_filter_add_lines(f, XF_FILTER_FORM_EXCLUDE, file, sizeof(file) - 1, err,
	                                    sizeof(err)),
	                0);
	CU_ASSERT_EQUAL_FATAL(xf_filter_count(f), 4);
	CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 0), "- a");
	CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 1), "- b");
	CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 2), "+ c");
	CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 3), "-  d"); /* the space is the pattern's */
	xf_filter_free(f);

	f = xf_filter_new();
	CU_ASSERT_EQUAL(
	        xf_filter_add_lines(f, XF_FILTER_FORM_INCLUDE, "x\r\n\r\ny\n", 7, err, sizeof(err)),
	        0);
	CU_ASSERT_EQUAL(xf_filter_count(f), 2);
	CU_ASSERT_STRING_EQUAL(xf_filter_rule(f, 1), "+ y");
	/* The error names the line (CRLF counts as one). */
	CU_ASSERT_EQUAL(xf_filter_add_lines(f, XF_FILTER_FORM_EXCLUDE, "ok\r\n# c\n[x\n", 12, err,
	                                    sizeof(err)),
	                -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 3: unterminated '['"));
	xf_filter_free(f);
}

static void
test_match(void)
{
	char err[256];

	for (size_t i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		struct xf_filter *f = one(XF_FILTER_FORM_EXCLUDE, c->rule, err, sizeof(err));
		enum xf_filter_verdict v;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		v = xf_filter_match(f, c->path, strlen(c->path), c->dir);
		if (v != (c->match ? XF_FILTER_EXCLUDED : XF_FILTER_NO_MATCH)) {
			fprintf(stderr, "rule '%s' on %s '%s': %s, want %s\n", c->rule,
			        c->dir ? "dir" : "file", c->path,
			        v == XF_FILTER_EXCLUDED ? "match" : "no match",
			        c->match ? "match" : "no match");
			CU_FAIL("wrong verdict");
		}
		xf_filter_free(f);
	}
}

static void
test_first_match(void)
{
	static const char *const rules[] = { "+ *.c", "- *", "+ never-reached" };
	struct xf_filter *f = xf_filter_new();
	char err[256];

	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, rules[i], strlen(rules[i]),
		                              err, sizeof(err)),
		                0);
	}
	CU_ASSERT_EQUAL(xf_filter_match(f, "d/x.c", 5, false), XF_FILTER_INCLUDED);
	CU_ASSERT_EQUAL(xf_filter_match(f, "x.h", 3, false), XF_FILTER_EXCLUDED);
	CU_ASSERT_EQUAL(xf_filter_match(f, "never-reached", 13, false), XF_FILTER_EXCLUDED);
	xf_filter_free(f);
	/* An empty filter decides nothing; an empty path is never matched. */
	f = xf_filter_new();
	CU_ASSERT_EQUAL(xf_filter_match(f, "x", 1, false), XF_FILTER_NO_MATCH);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- **", 4, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xf_filter_match(f, "", 0, true), XF_FILTER_NO_MATCH);
	xf_filter_free(f);
	/* A path with an empty last element (against the API's word: the scan never passes
	 * one) is matched by no slash-less rule, and nothing is read before it. */
	f = xf_filter_new();
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- *.o", 5, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- [a]x", 6, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, "- x", 3, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(xf_filter_match(f, "ax/", 3, false), XF_FILTER_NO_MATCH);
	CU_ASSERT_EQUAL(xf_filter_match(f, "/", 1, true), XF_FILTER_NO_MATCH);
	xf_filter_free(f);
}

/* The rules as a HELLO carries them (xf_filter_text): "- PAT\n" lines that parse back to
 * the same rules; bounded by the caller's room; a pattern with a newline refused. */
static void
test_text(void)
{
	static const char *const rules[] = { "+ *.c", "- cache/", "- /a b" };
	struct xf_filter *f = xf_filter_new(), *g = xf_filter_new();
	char buf[64], err[256];
	size_t at = 0;

	CU_ASSERT_EQUAL(xf_filter_text(f, buf, 0), 0);
	for (size_t i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(xf_filter_add(f, XF_FILTER_FORM_RULE, rules[i], strlen(rules[i]),
		                              err, sizeof(err)),
		                0);
	}
	CU_ASSERT_EQUAL(xf_filter_text(f, buf, sizeof(buf)), 22);
	CU_ASSERT(memcmp(buf, "+ *.c\n- cache/\n- /a b\n", 22) == 0);
	CU_ASSERT_EQUAL(xf_filter_text(f, buf, 22), 22);
	CU_ASSERT_EQUAL(xf_filter_text(f, buf, 21), -E2BIG);
	while (at < 22) {
		const char *nl = memchr(buf + at, '\n', 22 - at);

		CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
		CU_ASSERT_EQUAL(xf_filter_add(g, XF_FILTER_FORM_RULE, buf + at,
		                              (size_t)(nl - buf) - at, err, sizeof(err)),
		                0);
		at = (size_t)(nl - buf) + 1;
	}
	CU_ASSERT_EQUAL(xf_filter_count(g), 3);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_STRING_EQUAL(xf_filter_rule(g, i), rules[i]);
	}
	xf_filter_free(g);
	/* A newline inside a pattern (rsync takes one from --exclude) cannot be a line. */
	if (xf_filter_add(f, XF_FILTER_FORM_EXCLUDE, "a\nb", 3, err, sizeof(err)) == 0) {
		CU_ASSERT_EQUAL(xf_filter_text(f, buf, sizeof(buf)), -EINVAL);
	}
	xf_filter_free(f);
}

/*
 * Patterns built to make a naive backtracking matcher exponential, on long texts: each
 * must be decided at once (this test would run for hours otherwise).
 */
static void
test_no_blowup(void)
{
	static const char *const rules[] = {
		"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
		"**a**a**a**a**a**a**a**a**a**a**a**a**b",
		"/**a*a**a*a**a*a**a*a**a*a**a*a**b",
	};
	char path[4000], err[256];

	for (size_t i = 0; i < sizeof(path) - 1; i++) {
		path[i] = i % 200 == 199 ? '/' : 'a';
	}
	path[sizeof(path) - 1] = '\0';
	for (size_t r = 0; r < 3; r++) {
		struct xf_filter *f = one(XF_FILTER_FORM_EXCLUDE, rules[r], err, sizeof(err));

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		for (unsigned int k = 0; k < 100; k++) {
			CU_ASSERT_EQUAL(xf_filter_match(f, path, sizeof(path) - 1, false),
			                XF_FILTER_NO_MATCH);
		}
		xf_filter_free(f);
	}
}

int
main(void)
{
	static const struct xf_test tests[] = {
		{ "forms", test_forms },         { "refusals", test_refusals },
		{ "bounds", test_bounds },       { "lines", test_lines },
		{ "match", test_match },         { "first_match", test_first_match },
		{ "no_blowup", test_no_blowup }, { "text", test_text },
	};

	return xf_test_main("filter", NULL, NULL, XF_TESTS(tests));
}
