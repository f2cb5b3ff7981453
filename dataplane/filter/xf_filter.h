/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Include/exclude filters in rsync's rule syntax, the common subset (docs/FILTERS.md).
 * Pure C, no EAL: the sender's scan asks it about every entry, xferctl parses the
 * operator's options with it, and xferd parses the rules that arrive over the control
 * socket with it (untrusted: every rule is bounded and every error names what is wrong).
 *
 * Rules are compiled once, when added; a match walks them in order and the first rule
 * that matches decides (rsync's "first match wins"). A path no rule matches is included.
 */
#ifndef XF_FILTER_H
#define XF_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#define XF_FILTER_RULES_MAX   1024u /**< rules in one filter */
#define XF_FILTER_PATTERN_MAX 1024u /**< bytes of one pattern (the text after the rule) */
/** Bytes of every rule together, in the --filter form the control socket carries. */
#define XF_FILTER_TEXT_MAX (32u * 1024u)

/** How a rule's text is written. */
enum xf_filter_form {
	/** --filter: "- PAT", "+ PAT", "exclude PAT", "include PAT" ('_' may stand for
	 *  the space; "-,", "exclude," are accepted with no modifier after the comma). */
	XF_FILTER_FORM_RULE = 0,
	/** --exclude: PAT, or "- PAT" / "+ PAT" (rsync's optional prefixes). */
	XF_FILTER_FORM_EXCLUDE,
	/** --include: PAT, or "- PAT" / "+ PAT". */
	XF_FILTER_FORM_INCLUDE,
};

/** What the filter says about a path. */
enum xf_filter_verdict {
	XF_FILTER_NO_MATCH = 0, /**< no rule matched: the entry is included */
	XF_FILTER_INCLUDED,     /**< an include rule matched first */
	XF_FILTER_EXCLUDED,     /**< an exclude rule matched first */
};

struct xf_filter;

/** An empty filter (it includes everything). @return NULL on ENOMEM. */
struct xf_filter *xf_filter_new(void);

/**
 * Parse and compile one rule and append it.
 *
 * @param text    The rule, len bytes (need not be NUL-terminated; a NUL inside is an
 *                error).
 * @param err     On failure: what is wrong, for a person, without the rule's position
 *                (the caller knows it: "--exclude 2", "FILE:7", "filters[3]").
 * @return 0; -EINVAL (syntax, an unsupported rule or modifier, a pattern too long or
 *         empty, an unterminated '[' or an unknown [:class:]); -E2BIG (XF_FILTER_RULES_MAX
 *         rules already, or XF_FILTER_TEXT_MAX bytes of rules); -ENOMEM.
 */
int xf_filter_add(struct xf_filter *f, enum xf_filter_form form, const char *text, size_t len,
                  char *err, size_t err_len);

/**
 * Add the rules of an --exclude-from/--include-from file's contents: one rule per line
 * in form (EXCLUDE or INCLUDE); a line ends at '\n' or '\r'; empty lines and lines that
 * start with ';' or '#' are skipped, as rsync does.
 *
 * @param err  On failure: "line N: " and what is wrong.
 * @return as xf_filter_add().
 */
int xf_filter_add_lines(struct xf_filter *f, enum xf_filter_form form, const char *buf, size_t len,
                        char *err, size_t err_len);

/** Number of rules. */
unsigned int xf_filter_count(const struct xf_filter *f);

/**
 * Rule i (< xf_filter_count()) in the --filter form, "- PAT" or "+ PAT": parsed again
 * with XF_FILTER_FORM_RULE it gives the same rule. The string lives in the filter.
 */
const char *xf_filter_rule(const struct xf_filter *f, unsigned int i);

/**
 * Every rule in the --filter form, each ended by '\n' ("- a\n+ b\n"), as a HELLO carries
 * them to the receiver of a --delete (docs/PROTOCOL.md 6.12); parsed again line by line
 * with XF_FILTER_FORM_RULE it gives the same rules.
 *
 * @return the bytes written (no NUL is added; 0 for no rules); -E2BIG if they need more
 *         than cap; -EINVAL if a pattern holds a '\n' (it cannot be a line).
 */
long xf_filter_text(const struct xf_filter *f, char *buf, size_t cap);

/**
 * Decide about one entry.
 *
 * @param path   Its path relative to the transfer root ("a/b/c"), len bytes, no leading
 *               or trailing '/'.
 * @param is_dir Whether it is a directory (rules ending in '/' match only those).
 */
enum xf_filter_verdict xf_filter_match(const struct xf_filter *f, const char *path, size_t len,
                                       bool is_dir);

/** Free; NULL is allowed. */
void xf_filter_free(struct xf_filter *f);

#endif /* XF_FILTER_H */
