/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A pull request: what a HELLO with XF_HELLO_F_PULL carries in its dest bytes
 * (docs/PROTOCOL.md 3.1.2): the source directory on the responder, the destination of the
 * push the responder is asked to start back to the initiator, and filter rules:
 *
 *     [IDS] SRC NUL DEST [NUL RULE]...
 *
 * IDS, one byte, is there exactly when the HELLO has XF_HELLO_F_OWNER: what of owners
 * the push back is to carry (XF_PULL_IDS_*: -o, -g, --owner-names), since the push's
 * own HELLO flag cannot tell -o from -g (its entries do, 6.17).
 *
 * The bytes come from the wire: the responder parses them with xf_pull_parse() after the
 * handshake authenticated the HELLO (the prologue binds them), and its control thread
 * judges SRC against control.push_roots as the push command judges its src.
 */
#ifndef XF_PULL_H
#define XF_PULL_H

#include <stddef.h>
#include <stdint.h>

/** Most filter rules a pull request carries (the filter's own limit, XF_FILTER_RULES_MAX). */
#define XF_PULL_RULES_MAX 1024u

/** IDS: the push back sets each entry's owner (-o). */
#define XF_PULL_IDS_OWNER 0x1u
/** IDS: the push back sets each entry's group (-g). */
#define XF_PULL_IDS_GROUP 0x2u
/** IDS: ... mapped by name (--owner-names, XF_HELLO_F_OWNER_NAMES of the push back). */
#define XF_PULL_IDS_NAMES 0x4u
/** IDS bits; the others are reserved. */
#define XF_PULL_IDS_ALL 0x7u

/** A pull request split into its parts (pointers into the bytes it was parsed from). */
struct xf_pull_req {
	uint8_t ids;     /**< XF_PULL_IDS_* (0 without XF_HELLO_F_OWNER) */
	const char *src; /**< absolute directory on the responder; with or without a
	                      trailing '/', its contents go into DEST, as a push's SRC_DIR's */
	size_t src_len;
	const char *dest; /**< the push's destination, a push HELLO's dest (xf_dest_parse() with
	                       the HELLO's XF_HELLO_F_VOLUME) */
	size_t dest_len;
	const char *rules; /**< n_rules rules in the --filter form, NUL-separated, or NULL */
	size_t rules_len;
	unsigned int n_rules;
};

/**
 * Split and check a pull request (untrusted bytes). SRC: starts with '/', at most
 * XF_PATH_MAX bytes, no empty component but one trailing '/', no "." or ".." component,
 * each component at most XF_NAME_MAX bytes. DEST: as xf_dest_parse() says (it may be empty).
 * RULE: 1..XF_PATH_MAX bytes each, at most XF_PULL_RULES_MAX of them (their syntax is the
 * filter compiler's to check). Rules and XF_HELLO_F_DELETE together are refused, as they
 * are for a push (the receiver does not know the rules). IDS (with XF_HELLO_F_OWNER):
 * XF_PULL_IDS_OWNER or XF_PULL_IDS_GROUP or both, maybe XF_PULL_IDS_NAMES, no other bit.
 *
 * @param buf   The HELLO's dest bytes (need not be NUL-terminated).
 * @param len   Their length.
 * @param flags The HELLO's flags (XF_HELLO_F_VOLUME, XF_HELLO_F_DELETE, XF_HELLO_F_OWNER).
 * @param out   The parts, pointing into buf.
 * @return 0; -EINVAL (no NUL after SRC, SRC or DEST malformed, an empty rule, XF_HELLO_F_ITEMIZE,
 * rules with XF_HELLO_F_DELETE, IDS missing or malformed); -ENAMETOOLONG (SRC, a component, DEST or
 * a rule too long); -E2BIG (more than XF_PULL_RULES_MAX rules).
 */
int xf_pull_parse(const char *buf, size_t len, uint32_t flags, struct xf_pull_req *out);

/**
 * The rule after *pos in a parsed request (NUL-separated, not terminated).
 *
 * @param req A request from xf_pull_parse().
 * @param pos Cursor: 0 for the first rule, then as this function leaves it.
 * @param len The rule's length.
 * @return The rule (not NUL-terminated), or NULL after the last.
 */
const char *xf_pull_rule_next(const struct xf_pull_req *req, size_t *pos, size_t *len);

/**
 * Write a pull request (the encoder: it refuses what xf_pull_parse() would).
 *
 * @param buf     Output.
 * @param cap     Its size.
 * @param src     NUL-terminated.
 * @param dest    NUL-terminated (the push HELLO's dest form).
 * @param rules   n_rules NUL-terminated rules, or NULL with 0.
 * @param n_rules How many.
 * @param flags   The HELLO's flags (with XF_HELLO_F_OWNER exactly when ids is not 0).
 * @param ids     XF_PULL_IDS_*, or 0.
 * @return The bytes written, or -EINVAL/-ENAMETOOLONG/-E2BIG as xf_pull_parse() says
 *         (-EINVAL too for ids without XF_HELLO_F_OWNER), -ENOSPC (does not fit cap).
 */
int xf_pull_build(char *buf, size_t cap, const char *src, const char *dest,
                  const char *const *rules, unsigned int n_rules, uint32_t flags, uint8_t ids);

/** Why a responder refused a pull (the ABORT(REFUSED) text starts with its name). */
enum xf_pull_refusal {
	XF_PULL_OK = 0,
	XF_PULL_NOT_ALLOWED,   /**< the peer's peers[].allow_pull is false */
	XF_PULL_BAD_REQUEST,   /**< xf_pull_parse() or the filter compiler refused it */
	XF_PULL_OUTSIDE_ROOTS, /**< SRC is not beneath control.push_roots (or none is set) */
	XF_PULL_NO_SUCH_PATH,  /**< SRC does not exist or is not a directory */
	XF_PULL_BUSY,          /**< no job slot, or the peer's max_jobs_per_peer queue is full */
	XF_PULL_FAILED,        /**< the push could not start (out of memory, a scan error) */
	XF_PULL_REFUSAL_MAX = XF_PULL_FAILED,
};

/** The refusal's name: "not_allowed", "bad_request", ... (the stats counter's name). */
const char *xf_pull_refusal_str(enum xf_pull_refusal r);

#endif /* XF_PULL_H */
