/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rsync's wildcards (xf_filter_wild.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xf_filter_wild.h"

/* What one step of the match says. The two aborts prune the backtracking: ALL, the text
 * ran out (no later start of an earlier '*' can match either); TO_STARSTAR, a single
 * '*' would have to cross a '/' (only an enclosing '**' may try further). */
enum wild_result {
	WILD_ABORT_TO_STARSTAR = -2,
	WILD_ABORT_ALL = -1,
	WILD_NO = 0,
	WILD_YES = 1,
};

/* The [:name:] classes, as the C locale's ctype defines them. */
typedef int (*class_fn)(int);

static class_fn
class_find(const unsigned char *name, size_t len)
{
	static const struct {
		const char *name;
		class_fn fn;
	} classes[] = {
		{ "alnum", isalnum }, { "alpha", isalpha }, { "blank", isblank },
		{ "cntrl", iscntrl }, { "digit", isdigit }, { "graph", isgraph },
		{ "lower", islower }, { "print", isprint }, { "punct", ispunct },
		{ "space", isspace }, { "upper", isupper }, { "xdigit", isxdigit },
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		if (strlen(classes[i].name) == len && memcmp(classes[i].name, name, len) == 0) {
			return classes[i].fn;
		}
	}
	return NULL;
}

/*
 * The set that starts at *pp ('['), against the byte c. On success *pp points at its
 * closing ']' and *in says whether c is in the set (negation applied).
 * @return 0, or -1 if the set is not closed or names an unknown class (*pp then points
 *         at the offending byte).
 */
static int
bracket(const unsigned char **pp, unsigned char c, bool *in)
{
	const unsigned char *p = *pp + 1;
	unsigned char prev = 0, pc;
	bool negated = false, matched = false;

	if (*p == '!' || *p == '^') {
		negated = true;
		p++;
	}
	/* The first byte of the set is a member even if it is ']'. */
	pc = *p;
	do {
		if (pc == '\0') {
			*pp = p;
			return -1;
		}
		if (pc == '\\') {
			pc = *++p;
			if (pc == '\0') {
				*pp = p;
				return -1;
			}
			matched |= c == pc;
		} else if (pc == '-' && prev != 0 && p[1] != '\0' && p[1] != ']') {
			pc = *++p;
			if (pc == '\\') {
				pc = *++p;
				if (pc == '\0') {
					*pp = p;
					return -1;
				}
			}
			matched |= c >= prev && c <= pc;
			pc = 0; /* a range ends: a '-' right after it is literal */
		} else if (pc == '[' && p[1] == ':') {
			const unsigned char *name = p + 2, *q = name;
			class_fn fn;

			while (*q != '\0' && *q != ']') {
				q++;
			}
			if (*q == '\0') {
				*pp = q;
				return -1;
			}
			if (q - name < 1 || q[-1] != ':') {
				matched |= c == '['; /* no ":]": a literal '[' */
			} else if ((fn = class_find(name, (size_t)(q - name - 1))) == NULL) {
				*pp = p;
				return -1;
			} else {
				matched |= c != 0 && fn(c) != 0;
				p = q;
				pc = 0;
			}
		} else {
			matched |= c == pc;
		}
		prev = pc;
		pc = *++p;
	} while (pc != ']');
	*pp = p;
	*in = matched != negated;
	return 0;
}

static enum wild_result
wild(const unsigned char *p, const unsigned char *t)
{
	for (; *p != '\0'; p++, t++) {
		unsigned char tc = *t;
		bool in;

		if (tc == '\0' && *p != '*') {
			return WILD_ABORT_ALL;
		}
		switch (*p) {
		case '\\':
			/* A trailing '\' compares NUL with a byte of text: no match. */
			p++;
			if (tc != *p) {
				return WILD_NO;
			}
			break;
		case '?':
			if (tc == '/') {
				return WILD_NO;
			}
			break;
		case '*': {
			bool across = p[1] == '*';

			while (p[1] == '*') {
				p++;
			}
			p++;
			if (*p == '\0') {
				return across || strchr((const char *)t, '/') == NULL ? WILD_YES
				                                                      : WILD_NO;
			}
			for (;; t++) {
				enum wild_result r;

				if (*t == '\0') {
					return WILD_ABORT_ALL;
				}
				r = wild(p, t);
				if (r != WILD_NO) {
					if (!across || r != WILD_ABORT_TO_STARSTAR) {
						return r;
					}
				} else if (!across && *t == '/') {
					return WILD_ABORT_TO_STARSTAR;
				}
			}
		}
		case '[':
			if (bracket(&p, tc, &in) != 0) {
				return WILD_ABORT_ALL; /* xf_wild_check() refuses such patterns */
			}
			if (!in || tc == '/') {
				return WILD_NO;
			}
			break;
		default:
			if (tc != *p) {
				return WILD_NO;
			}
			break;
		}
	}
	return *t == '\0' ? WILD_YES : WILD_NO;
}

int
xf_wild_check(const char *pat, char *err, size_t err_len)
{
	const unsigned char *start = (const unsigned char *)pat, *p = start;
	bool in;

	for (; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
		} else if (*p == '[') {
			const unsigned char *open = p;

			if (bracket(&p, 0, &in) != 0) {
				if (*p == '\0') {
					snprintf(err, err_len,
					         "unterminated '[' at byte %zu of the pattern",
					         (size_t)(open - start) + 1);
				} else {
					snprintf(
					        err, err_len,
					        "unknown character class at byte %zu of the pattern "
					        "(known: alnum alpha blank cntrl digit graph lower print "
					        "punct space upper xdigit)",
					        (size_t)(p - start) + 1);
				}
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The start of the last n elements of text, or NULL if it has fewer. */
static const char *
last_elements(const char *text, int n)
{
	for (const char *s = text + strlen(text); s-- > text;) {
		if (*s == '/' && --n == 0) {
			return s + 1;
		}
	}
	return n == 1 ? text : NULL;
}

bool
xf_wild_match(const char *pat, const char *text, int where)
{
	const unsigned char *p = (const unsigned char *)pat;
	const char *t = where > 0 ? last_elements(text, where) : text;
	enum wild_result r;

	if (t == NULL) {
		return false;
	}
	r = wild(p, (const unsigned char *)t);
	if (r != WILD_YES && where < 0 && r != WILD_ABORT_ALL) {
		for (;;) {
			if (*t == '\0') {
				return false;
			}
			if (*t++ == '/' && (r = wild(p, (const unsigned char *)t)) != WILD_NO &&
			    r != WILD_ABORT_TO_STARSTAR) {
				break;
			}
		}
	}
	return r == WILD_YES;
}
