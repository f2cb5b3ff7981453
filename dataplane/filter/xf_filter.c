/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Filter rules: parsing, compiling and matching (xf_filter.h, docs/FILTERS.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_filter.h"
#include "xf_filter_wild.h"
#include "xf_proto.h"

/* One compiled rule. Flags are decided once here, as rsync's add_rule() does. */
struct rule {
	char *text;        /* "- PAT" or "+ PAT" as given; pat follows its NUL */
	const char *pat;   /* the pattern to match: no trailing '/', no leading '/' */
	size_t pat_len;    /* bytes of pat */
	unsigned int nsl;  /* slashes in the pattern (a leading one included) */
	bool include;      /* '+' */
	bool dir_only;     /* ended in '/': matches directories only */
	bool anchored;     /* started with '/': matched from the transfer root */
	bool wild;         /* has '*', '?' or '[': matched with wildcards ('\' escapes) */
	bool wild2;        /* has "**": may match across '/' */
	bool wild2_prefix; /* starts with "**": its "**" then "/" may match nothing */
	bool wild3_suffix; /* ends in "***": "dir/" then "***" also matches dir itself */
	bool star_suffix;  /* "*" then literal bytes, no '/' ("*.o"): a suffix compare */
	char last;         /* wildcard patterns: a literal last byte every match ends with */
};

struct xf_filter {
	struct rule *rules;
	unsigned int n;
	size_t text_bytes; /* of every rule's --filter form: bounded by XF_FILTER_TEXT_MAX */
};

struct xf_filter *
xf_filter_new(void)
{
	return calloc(1, sizeof(struct xf_filter));
}

void
xf_filter_free(struct xf_filter *f)
{
	if (f == NULL) {
		return;
	}
	for (unsigned int i = 0; i < f->n; i++) {
		free(f->rules[i].text);
	}
	free(f->rules);
	free(f);
}

unsigned int
xf_filter_count(const struct xf_filter *f)
{
	return f->n;
}

const char *
xf_filter_rule(const struct xf_filter *f, unsigned int i)
{
	return f->rules[i].text;
}

long
xf_filter_text(const struct xf_filter *f, char *buf, size_t cap)
{
	size_t at = 0;

	for (unsigned int i = 0; i < f->n; i++) {
		size_t len = strlen(f->rules[i].text);

		if (memchr(f->rules[i].text, '\n', len) != NULL) {
			return -EINVAL;
		}
		if (cap - at < len + 1) {
			return -E2BIG;
		}
		memcpy(buf + at, f->rules[i].text, len);
		buf[at + len] = '\n';
		at += len + 1;
	}
	return (long)at;
}

/* Rules of --filter that rsync has and this subset refuses, and why. */
static const struct {
	const char *name; /* long form */
	char ch;          /* short form */
	const char *what;
} unsupported_rules[] = {
	{ "clear", '!', "clearing the rules so far" },
	{ "merge", '.', "merge files" },
	{ "dir-merge", ':', "per-directory merge files" },
	{ "hide", 'H', "sender-side rules (hide)" },
	{ "show", 'S', "sender-side rules (show)" },
	{ "protect", 'P', "receiver-side rules (protect)" },
	{ "risk", 'R', "receiver-side rules (risk)" },
};

/* A long rule name at s: followed by the end, white space, '_' or ',' (rsync's test; a
 * tab then fails as a modifier would, with its position). */
static bool
long_name(const char *s, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - s) >= n && memcmp(s, name, n) == 0 &&
	       (s + n == end || isspace((unsigned char)s[n]) || s[n] == '_' || s[n] == ',');
}

/* The modifiers of rsync's --filter rules; this subset takes none of them. */
static const char *
modifier_what(char m)
{
	static const struct {
		char m;
		const char *what;
	} mods[] = {
		{ '/', "absolute path" },    { '!', "negation" },      { 'p', "perishable" },
		{ 's', "sender side" },      { 'r', "receiver side" }, { 'x', "xattr names" },
		{ 'C', "CVS ignore rules" }, { 'e', "merge file" },    { 'n', "merge file" },
		{ 'w', "merge file" },       { '+', "merge file" },    { '-', "merge file" },
	};

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (mods[i].m == m) {
			return mods[i].what;
		}
	}
	return NULL;
}

/*
 * The --filter form: the rule's kind, then modifiers (none is supported), then one space
 * or '_', then the pattern. *pat is set past the separator.
 */
static int
parse_rule(const char *s, const char *end, bool *include, const char **pat, char *err,
           size_t err_len)
{
	const char *p;

	for (size_t i = 0; i < sizeof(unsupported_rules) / sizeof(unsupported_rules[0]); i++) {
		if (long_name(s, end, unsupported_rules[i].name) ||
		    s[0] == unsupported_rules[i].ch) {
			snprintf(err, err_len, "rule '%s' is not supported (%s)",
			         unsupported_rules[i].name, unsupported_rules[i].what);
			return -EINVAL;
		}
	}
	if (long_name(s, end, "exclude")) {
		*include = false;
		p = s + strlen("exclude");
	} else if (long_name(s, end, "include")) {
		*include = true;
		p = s + strlen("include");
	} else if (s[0] == '-' || s[0] == '+') {
		*include = s[0] == '+';
		p = s + 1;
	} else {
		snprintf(err, err_len,
		         "unknown rule (expected '-', '+', 'exclude' or 'include', then a space "
		         "and the pattern)");
		return -EINVAL;
	}
	if (p < end && *p == ',') {
		p++;
	}
	if (p < end && *p != ' ' && *p != '_') {
		const char *what = modifier_what(*p);

		if (what != NULL) {
			snprintf(err, err_len, "modifier '%c' (%s) is not supported", *p, what);
		} else {
			snprintf(
			        err, err_len,
			        "byte %zu: expected a space or '_' between the rule and the pattern",
			        (size_t)(p - s) + 1);
		}
		return -EINVAL;
	}
	*pat = p < end ? p + 1 : p;
	return 0;
}

/* Compile r's pattern (the bytes after the NUL of r->text, pat_len of them). */
static int
compile(struct rule *r, char *pat, size_t len, char *err, size_t err_len)
{
	if (len > 1 && pat[len - 1] == '/') {
		r->dir_only = true;
		pat[--len] = '\0';
	}
	for (size_t i = 0; i < len; i++) {
		r->nsl += pat[i] == '/';
	}
	if (strpbrk(pat, "*?[") != NULL) {
		const char *ss = strstr(pat, "**");

		r->wild = true;
		r->wild2 = ss != NULL;
		r->wild2_prefix = ss == pat;
		r->wild3_suffix = ss != NULL && len >= 3 && memcmp(pat + len - 3, "***", 3) == 0;
	}
	r->anchored = pat[0] == '/';
	r->pat = pat + r->anchored;
	r->pat_len = len - r->anchored;
	/* The commonest rule ("*.o", "*~") matched without the wildcard engine: the last
	 * element has no '/', so the '*' takes any prefix of it. */
	r->star_suffix = pat[0] == '*' && len > 1 && strpbrk(pat + 1, "*?[\\/") == NULL;
	/* Every match ends at the path's end: a last byte that is no wildcard and does not
	 * close a set must end the path too ("[Tt]humbs.db": 'b'). */
	r->last = len > 0 && strchr("*?]\\", pat[len - 1]) == NULL ? pat[len - 1] : '\0';
	return r->wild ? xf_wild_check(r->pat, err, err_len) : 0;
}

int
xf_filter_add(struct xf_filter *f, enum xf_filter_form form, const char *text, size_t len,
              char *err, size_t err_len)
{
	const char *end = text + len, *pat = text;
	bool include = form == XF_FILTER_FORM_INCLUDE;
	struct rule r = { 0 };
	size_t plen;
	int rc;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, err_len, "contains a NUL byte");
		return -EINVAL;
	}
	if (f->n >= XF_FILTER_RULES_MAX) {
		snprintf(err, err_len, "more than %u rules", XF_FILTER_RULES_MAX);
		return -E2BIG;
	}
	if (len == 0) {
		snprintf(err, err_len, "empty rule");
		return -EINVAL;
	}
	if (form == XF_FILTER_FORM_RULE) {
		rc = parse_rule(text, end, &include, &pat, err, err_len);
		if (rc < 0) {
			return rc;
		}
	} else if (len >= 2 && (text[0] == '-' || text[0] == '+') && text[1] == ' ') {
		/* rsync's optional prefixes of --exclude/--include patterns */
		include = text[0] == '+';
		pat = text + 2;
	} else if (len == 1 && text[0] == '!') {
		snprintf(err, err_len, "'!' (clear the rules so far) is not supported");
		return -EINVAL;
	}
	plen = (size_t)(end - pat);
	if (plen == 0) {
		snprintf(err, err_len, "no pattern after the rule");
		return -EINVAL;
	}
	if (plen > XF_FILTER_PATTERN_MAX) {
		snprintf(err, err_len, "pattern of %zu bytes, more than %u", plen,
		         XF_FILTER_PATTERN_MAX);
		return -EINVAL;
	}
	/* Counted in the --filter form, as the control socket carries it: xferctl and xferd
	 * count the same bytes for the same rules, whatever form the operator wrote. */
	if (f->text_bytes + plen + 2 > XF_FILTER_TEXT_MAX) {
		snprintf(err, err_len, "the rules together exceed %u bytes", XF_FILTER_TEXT_MAX);
		return -E2BIG;
	}
	/* "- PAT\0PAT\0": the rule as given, then the copy compile() trims. */
	r.text = malloc(2 * plen + 4);
	if (r.text == NULL) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	r.text[0] = include ? '+' : '-';
	r.text[1] = ' ';
	memcpy(r.text + 2, pat, plen);
	r.text[plen + 2] = '\0';
	memcpy(r.text + plen + 3, pat, plen);
	r.text[2 * plen + 3] = '\0';
	r.include = include;
	rc = compile(&r, r.text + plen + 3, plen, err, err_len);
	if (rc == 0 && (f->n & (f->n - 1)) == 0) { /* 0, 1, 2, 4...: double the array */
		struct rule *nr = realloc(f->rules, (f->n == 0 ? 1 : 2 * f->n) * sizeof(*nr));

		if (nr == NULL) {
			snprintf(err, err_len, "out of memory");
			rc = -ENOMEM;
		} else {
			f->rules = nr;
		}
	}
	if (rc < 0) {
		free(r.text);
		return rc;
	}
	f->rules[f->n++] = r;
	f->text_bytes += plen + 2;
	return 0;
}

int
xf_filter_add_lines(struct xf_filter *f, enum xf_filter_form form, const char *buf, size_t len,
                    char *err, size_t err_len)
{
	unsigned int line = 1;
	char msg[256];

	for (size_t i = 0; i < len;) {
		size_t j = i;
		int rc;

		while (j < len && buf[j] != '\n' && buf[j] != '\r') {
			j++;
		}
		if (j > i && buf[i] != ';' && buf[i] != '#') {
			rc = xf_filter_add(f, form, buf + i, j - i, msg, sizeof(msg));
			if (rc < 0) {
				snprintf(err, err_len, "line %u: %s", line, msg);
				return rc;
			}
		}
		line += j < len && buf[j] == '\n';
		i = j + 1;
	}
	return 0;
}

/* Whether one rule matches: rsync's rule_matches() for this subset. */
static bool
rule_matches(const struct rule *r, const char *path, size_t len, bool is_dir)
{
	char text[XF_PATH_MAX + 3]; /* "/" + path + "/" + NUL */
	const char *name = path;
	size_t nlen = len, tlen = 0;
	int where;

	if (r->dir_only && !is_dir) {
		return false;
	}
	if (r->nsl == 0 && !r->wild2) {
		/* No '/' and no "**": only the last element is matched. */
		const char *slash = memrchr(path, '/', len);

		if (slash != NULL) {
			name = slash + 1;
			nlen = len - (size_t)(name - path);
		}
	}
	if (nlen == 0) {
		return false; /* "a/": no last element (the scan never asks; a caller might) */
	}
	if (r->star_suffix) {
		return r->pat_len - 1 <= nlen &&
		       memcmp(name + nlen - (r->pat_len - 1), r->pat + 1, r->pat_len - 1) == 0;
	}
	if (!r->wild) {
		if (r->anchored) {
			return nlen == r->pat_len && memcmp(name, r->pat, nlen) == 0;
		}
		/* The pattern equals the path's last elements, starting at a '/'. */
		return r->pat_len <= nlen &&
		       memcmp(name + nlen - r->pat_len, r->pat, r->pat_len) == 0 &&
		       (r->pat_len == nlen || name[nlen - r->pat_len - 1] == '/');
	}
	if (r->last != '\0' && name[nlen - 1] != r->last) {
		return false;
	}
	if (r->wild2_prefix) {
		text[tlen++] = '/';
	}
	memcpy(text + tlen, name, nlen);
	tlen += nlen;
	if (is_dir && r->wild3_suffix) {
		text[tlen++] = '/';
	}
	text[tlen] = '\0';
	if (!r->anchored && r->nsl > 0 && !r->wild2) {
		where = (int)r->nsl + 1; /* one slash: the last two elements */
	} else if (!r->anchored && !r->wild2_prefix && r->wild2) {
		where = -1; /* may start after any '/' */
	} else {
		where = 0;
	}
	return xf_wild_match(r->pat, text, where);
}

enum xf_filter_verdict
xf_filter_match(const struct xf_filter *f, const char *path, size_t len, bool is_dir)
{
	if (len == 0 || len > XF_PATH_MAX) {
		return XF_FILTER_NO_MATCH; /* the scan lists no such path */
	}
	for (unsigned int i = 0; i < f->n; i++) {
		if (rule_matches(&f->rules[i], path, len, is_dir)) {
			return f->rules[i].include ? XF_FILTER_INCLUDED : XF_FILTER_EXCLUDED;
		}
	}
	return XF_FILTER_NO_MATCH;
}
