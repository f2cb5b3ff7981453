/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for the filter rules (dataplane/filter, docs/FILTERS.md): the rules
 * arrive over the control socket, untrusted.
 *
 * An input is rules, a NUL byte, then paths. The rules part is used three ways: as an
 * --exclude-from file, as one --filter rule per line, and as one --include pattern. For
 * every accepted rule, its --filter form parses back to the same text (what xferctl sends
 * is what xferd rebuilds). Every path (one a line, a directory when it ends in '/') is
 * then matched by each filter; a verdict is one of the three, and matching the same path
 * twice gives the same answer. libFuzzer's -timeout catches a matcher that backtracks
 * without bound. Any violated property aborts.
 */
#include <stdint.h>
#include <string.h>

#include "xf_filter.h"
#include "xf_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every rule of f, in its --filter form, parses back to itself. */
static void
check_round_trip(const struct xf_filter *f)
{
	for (unsigned int i = 0; i < xf_filter_count(f); i++) {
		const char *rule = xf_filter_rule(f, i);
		struct xf_filter *again = xf_filter_new();
		char err[256];

		CHECK(again != NULL);
		CHECK(xf_filter_add(again, XF_FILTER_FORM_RULE, rule, strlen(rule), err,
		                    sizeof(err)) == 0);
		CHECK(strcmp(xf_filter_rule(again, 0), rule) == 0);
		xf_filter_free(again);
	}
}

static void
check_paths(const struct xf_filter *f, const char *paths, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(paths + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - paths) : len;
		size_t plen = end - i;
		bool dir = plen > 0 && paths[end - 1] == '/';
		enum xf_filter_verdict v;

		plen -= dir;
		v = xf_filter_match(f, paths + i, plen, dir);
		CHECK(v == XF_FILTER_NO_MATCH || v == XF_FILTER_INCLUDED ||
		      v == XF_FILTER_EXCLUDED);
		CHECK(xf_filter_match(f, paths + i, plen, dir) == v);
		i = end + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t rules_len = nul != NULL ? (size_t)(nul - in) : size;
	const char *paths = nul != NULL ? nul + 1 : in + size;
	size_t paths_len = size - rules_len - (nul != NULL);
	struct xf_filter *f[3];
	char err[256];

	for (int k = 0; k < 3; k++) {
		f[k] = xf_filter_new();
		CHECK(f[k] != NULL);
	}
	/* A refusal leaves the rules accepted before it in place: they are checked too. */
	(void)xf_filter_add_lines(f[0], XF_FILTER_FORM_EXCLUDE, in, rules_len, err, sizeof(err));
	for (size_t i = 0; i < rules_len;) {
		const char *nl = memchr(in + i, '\n', rules_len - i);
		size_t end = nl != NULL ? (size_t)(nl - in) : rules_len;

		(void)xf_filter_add(f[1], XF_FILTER_FORM_RULE, in + i, end - i, err, sizeof(err));
		i = end + 1;
	}
	(void)xf_filter_add(f[2], XF_FILTER_FORM_INCLUDE, in, rules_len, err, sizeof(err));
	for (int k = 0; k < 3; k++) {
		check_round_trip(f[k]);
		check_paths(f[k], paths, paths_len);
		xf_filter_free(f[k]);
	}
	return 0;
}
