/* SPDX-License-Identifier: BSD-3-Clause */
/* Pull requests (xf_pull.h, docs/PROTOCOL.md 3.1.2): the parser and its encoder. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "xf_dest.h"
#include "xf_proto.h"
#include "xf_pull.h"

/* An absolute source: '/', then components separated by single '/', one trailing '/'
 * allowed ("/" alone is the root), no "." or "..". */
static int
check_src(const char *s, size_t len)
{
	size_t i = 1, start;

	if (len == 0 || s[0] != '/') {
		return -EINVAL;
	}
	if (len > XF_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	while (i < len) {
		start = i;
		while (i < len && s[i] != '/') {
			i++;
		}
		if (i == start) {
			return -EINVAL; /* "//": an empty component */
		}
		if ((i - start == 1 && s[start] == '.') ||
		    (i - start == 2 && s[start] == '.' && s[start + 1] == '.')) {
			return -EINVAL;
		}
		if (i - start > XF_NAME_MAX) {
			return -ENAMETOOLONG;
		}
		i++; /* the '/', or one past the end */
	}
	return 0;
}

int
xf_pull_parse(const char *buf, size_t len, uint32_t flags, struct xf_pull_req *out)
{
	const char *nul, *p, *end = buf + len;
	struct xf_dest d;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((flags & XF_HELLO_F_OWNER) != 0) {
		/* IDS: -o or -g (or both), maybe by name; nothing else. */
		if (len == 0 || ((uint8_t)buf[0] & ~XF_PULL_IDS_ALL) != 0 ||
		    ((uint8_t)buf[0] & (XF_PULL_IDS_OWNER | XF_PULL_IDS_GROUP)) == 0) {
			return -EINVAL;
		}
		out->ids = (uint8_t)buf[0];
		buf++;
		len--;
	}
	nul = memchr(buf, '\0', len);
	/* The itemized list would stay on the responder, which started the push. */
	if (nul == NULL || (flags & XF_HELLO_F_ITEMIZE) != 0) {
		return -EINVAL;
	}
	rc = check_src(buf, (size_t)(nul - buf));
	if (rc < 0) {
		return rc;
	}
	out->src = buf;
	out->src_len = (size_t)(nul - buf);
	out->dest = nul + 1;
	p = memchr(out->dest, '\0', (size_t)(end - out->dest));
	out->dest_len = (size_t)((p != NULL ? p : end) - out->dest);
	if (out->dest_len > XF_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	rc = xf_dest_parse(out->dest, out->dest_len, flags, &d);
	if (rc < 0) {
		return rc;
	}
	if (p == NULL) {
		return 0;
	}
	out->rules = p + 1;
	out->rules_len = (size_t)(end - out->rules);
	for (size_t off = 0; off <= out->rules_len;) {
		const char *r = out->rules + off;
		const char *q = memchr(r, '\0', out->rules_len - off);
		size_t n = (size_t)((q != NULL ? q : end) - r);

		if (n == 0) {
			return -EINVAL; /* an empty rule, or a request ending in NUL */
		}
		if (n > XF_PATH_MAX) {
			return -ENAMETOOLONG;
		}
		if (++out->n_rules > XF_PULL_RULES_MAX) {
			return -E2BIG;
		}
		off += n + 1; /* past the NUL, or past the end: the last rule */
	}
	if ((flags & XF_HELLO_F_DELETE) != 0) {
		return -EINVAL;
	}
	return 0;
}

const char *
xf_pull_rule_next(const struct xf_pull_req *req, size_t *pos, size_t *len)
{
	const char *r, *q;

	if (req->rules == NULL || *pos > req->rules_len) {
		return NULL;
	}
	r = req->rules + *pos;
	q = memchr(r, '\0', req->rules_len - *pos);
	*len = (size_t)((q != NULL ? q : req->rules + req->rules_len) - r);
	*pos += *len + 1;
	return r;
}

int
xf_pull_build(char *buf, size_t cap, const char *src, const char *dest, const char *const *rules,
              unsigned int n_rules, uint32_t flags, uint8_t ids)
{
	const char *parts[2] = { src, dest };
	struct xf_pull_req check;
	size_t off = 0, n;
	int rc;

	if ((ids != 0) != ((flags & XF_HELLO_F_OWNER) != 0)) {
		return -EINVAL;
	}
	if (ids != 0) {
		if (cap == 0) {
			return -ENOSPC;
		}
		buf[off++] = (char)ids;
	}
	for (unsigned int i = 0; i < 2 + n_rules; i++) {
		const char *s = i < 2 ? parts[i] : rules[i - 2];

		n = strlen(s);
		if (off + (i > 0) + n > cap) {
			return -ENOSPC;
		}
		if (i > 0) {
			buf[off++] = '\0';
		}
		memcpy(buf + off, s, n);
		off += n;
	}
	rc = xf_pull_parse(buf, off, flags, &check);
	if (rc < 0) {
		return rc;
	}
	return (int)off;
}

const char *
xf_pull_refusal_str(enum xf_pull_refusal r)
{
	static const char *const names[] = {
		[XF_PULL_OK] = "ok",
		[XF_PULL_NOT_ALLOWED] = "not_allowed",
		[XF_PULL_BAD_REQUEST] = "bad_request",
		[XF_PULL_OUTSIDE_ROOTS] = "outside_roots",
		[XF_PULL_NO_SUCH_PATH] = "no_such_path",
		[XF_PULL_BUSY] = "busy",
		[XF_PULL_FAILED] = "failed",
	};

	return (unsigned int)r <= XF_PULL_REFUSAL_MAX ? names[r] : "?";
}
