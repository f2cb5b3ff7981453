/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The loader: libyaml builds the document (yaml_parser_load) after a pre-scan has refused
 * what it must not see (anchors, aliases, tags, several documents); the schema table
 * (xf_config_schema.c) then walks it, converts every scalar strictly, fills defaults and
 * records every error with its position (FILE:LINE:COL or --set N) and its key path.
 * Cross-field checks (xf_config_check.c) run on the filled struct and find their
 * positions again by key path, so they point at the offending node too.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "xf_config_priv.h"

#define MAX_FILE_SIZE (1u << 20)

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                */

static void
copy_line(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	while (n < len && src[n] != '\n' && src[n] != '\0' && n + 1 < size) {
		dst[n] = src[n] == '\r' ? ' ' : src[n];
		n++;
	}
	dst[n] = '\0';
}

/* Append one error. line/col are 1-based; setno 0 = the file, N = the Nth --set. */
void
xf_config_add_error(struct loader *ld, unsigned int setno, unsigned int line, unsigned int col,
                    const char *key, const char *fmt, ...)
{
	struct xf_config_errors *errs = ld->errs;
	struct xf_config_error *e;
	va_list ap;

	if (errs->count == errs->cap) {
		unsigned int cap = errs->cap ? errs->cap * 2 : 16;
		struct xf_config_error *items = realloc(errs->items, cap * sizeof(*items));

		if (items == NULL) {
			ld->oom = true;
			return;
		}
		errs->items = items;
		errs->cap = cap;
	}
	e = &errs->items[errs->count++];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->col = col;
	snprintf(e->key, sizeof(e->key), "%s", key != NULL ? key : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	if (setno > 0) {
		snprintf(e->file, sizeof(e->file), "--set");
		e->line = setno;
		snprintf(e->source, sizeof(e->source), "%s", ld->sets[setno - 1]);
		return;
	}
	snprintf(e->file, sizeof(e->file), "%s", ld->file);
	if (ld->buf != NULL) {
		const char *p = ld->buf;
		const char *end = ld->buf + ld->len;
		unsigned int l = 1;

		while (l < line && p < end) {
			if (*p++ == '\n') {
				l++;
			}
		}
		copy_line(e->source, sizeof(e->source), p, (size_t)(end - p));
	}
}

/* Where a node came from: the file, or an override (then col is within "KEY=VALUE"). */
void
xf_config_node_pos(const struct loader *ld, int id, unsigned int *setno, unsigned int *line,
                   unsigned int *col)
{
	yaml_node_t *n = yaml_document_get_node((yaml_document_t *)&ld->doc, id);

	*setno = 0;
	*line = 1;
	*col = 1;
	if (n == NULL) {
		return;
	}
	if (id > ld->n_file_nodes && id - ld->n_file_nodes <= ld->node_set_cap) {
		*setno = (unsigned int)ld->node_set[id - ld->n_file_nodes - 1];
		*col = (unsigned int)n->start_mark.column + 1;
		return;
	}
	*line = (unsigned int)n->start_mark.line + 1;
	*col = (unsigned int)n->start_mark.column + 1;
}

#define node_error(ld, id, key, ...)                                                               \
	do {                                                                                       \
		unsigned int s_, l_, c_;                                                           \
		xf_config_node_pos(ld, id, &s_, &l_, &c_);                                         \
		xf_config_add_error(ld, s_, l_, c_, key, __VA_ARGS__);                             \
	} while (0)

static unsigned int
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[64];

	if (la >= XF_ARRAY_SIZE(row) || lb >= XF_ARRAY_SIZE(row)) {
		return UINT_MAX;
	}
	for (size_t j = 0; j <= lb; j++) {
		row[j] = (unsigned int)j;
	}
	for (size_t i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			best = XF_MIN(best, up + 1);
			best = XF_MIN(best, row[j - 1] + 1);
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The xf_config_closest of names[] to word when the edit distance is small, else NULL. */
const char *
xf_config_closest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	unsigned int best_d = UINT_MAX;

	for (size_t i = 0; i < n; i++) {
		unsigned int d = edit_distance(word, names[i]);

		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	if (best == NULL || best_d > 2 || best_d >= strlen(word)) {
		return NULL;
	}
	return best;
}

const char *
xf_config_closest_field(const char *word, const struct field *fields)
{
	const char *names[32];
	size_t n = 0;

	for (; fields->key != NULL && n < XF_ARRAY_SIZE(names); fields++) {
		names[n++] = fields->key;
	}
	return xf_config_closest(word, names, n);
}

const struct field *
xf_config_find_field(const struct field *fields, const char *key, size_t len)
{
	for (; fields->key != NULL; fields++) {
		if (strlen(fields->key) == len && memcmp(fields->key, key, len) == 0) {
			return fields;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Document walk                                                                         */

yaml_node_t *
xf_config_get_node(struct loader *ld, int id)
{
	return yaml_document_get_node(&ld->doc, id);
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (xf_config_is_null_text((const char *)n->data.scalar.value,
		                           n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)) {
			return "no value (null)";
		}
		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "a plain scalar"
		                                                       : "a quoted string";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static void walk_value(struct loader *ld, const struct field *f, int id, char *dst,
                       const char *path);

static void
walk_map(struct loader *ld, const struct field *fields, int id, char *base, const char *path)
{
	yaml_node_t *n = xf_config_get_node(ld, id);
	int seen[32] = { 0 }; /* key node id per field */
	int npairs;

	if (n->type != YAML_MAPPING_NODE) {
		node_error(ld, id, path, "expected a mapping, got %s", node_kind(n));
		return;
	}
	npairs = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	for (int i = 0; i < npairs; i++) {
		yaml_node_pair_t pair = xf_config_get_node(ld, id)->data.mapping.pairs.start[i];
		yaml_node_t *k = xf_config_get_node(ld, pair.key);
		char child[PATH_BUF];
		const struct field *f;
		const char *key;
		bool dup = false;

		if (k->type != YAML_SCALAR_NODE) {
			node_error(ld, pair.key, path, "a key must be a scalar, got %s",
			           node_kind(k));
			continue;
		}
		key = (const char *)k->data.scalar.value;
		snprintf(child, sizeof(child), "%s%s%s", path, path[0] ? "." : "", key);
		for (int j = 0; j < i && !dup; j++) {
			int other = xf_config_get_node(ld, id)->data.mapping.pairs.start[j].key;
			yaml_node_t *o = xf_config_get_node(ld, other);

			if (o->type == YAML_SCALAR_NODE &&
			    strcmp((char *)o->data.scalar.value, key) == 0) {
				unsigned int s, l, c;

				xf_config_node_pos(ld, other, &s, &l, &c);
				if (s > 0) {
					node_error(ld, pair.key, child,
					           "duplicate key '%s' (also set by --set %u)", key,
					           s);
				} else {
					node_error(ld, pair.key, child,
					           "duplicate key '%s' (first defined at %u:%u)",
					           key, l, c);
				}
				dup = true;
			}
		}
		if (dup) {
			continue;
		}
		f = xf_config_find_field(fields, key, k->data.scalar.length);
		if (f == NULL) {
			const char *hint = xf_config_closest_field(key, fields);

			if (hint != NULL) {
				node_error(ld, pair.key, child,
				           "unknown key '%s' (did you mean '%s'?)", key, hint);
			} else {
				node_error(ld, pair.key, child, "unknown key '%s'", key);
			}
			continue;
		}
		seen[f - fields] = pair.key;
		walk_value(ld, f, pair.value, base + f->off, child);
	}
	for (const struct field *f = fields; f->key != NULL; f++) {
		if ((f->flags & F_REQUIRED) && seen[f - fields] == 0) {
			char child[PATH_BUF];

			snprintf(child, sizeof(child), "%s%s%s", path, path[0] ? "." : "", f->key);
			node_error(ld, id, child, "missing required key '%s'", f->key);
		}
	}
}

static void
walk_value(struct loader *ld, const struct field *f, int id, char *dst, const char *path)
{
	yaml_node_t *n = xf_config_get_node(ld, id);
	char msg[XF_CONFIG_ERR_MSG_MAX];

	if (f->type == T_MAP) {
		walk_map(ld, f->sub, id, dst, path);
		return;
	}
	if (f->type == T_LIST) {
		char *arr = dst;
		/* Signed: the count may come before the array (an unsigned difference would wrap).
		 */
		char *cnt = dst + ((ptrdiff_t)f->off2 - (ptrdiff_t)f->off);
		unsigned int stored = 0;
		int items;

		if (n->type != YAML_SEQUENCE_NODE) {
			node_error(ld, id, path, "expected a sequence, got %s", node_kind(n));
			return;
		}
		items = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
		if ((uint64_t)items < f->min || (uint64_t)items > f->max) {
			node_error(ld, id, path,
			           "expected %" PRIu64 " to %" PRIu64 " entries, got %d", f->min,
			           f->max, items);
		}
		for (int i = 0; i < items && (uint64_t)i < f->max; i++) {
			int item = xf_config_get_node(ld, id)->data.sequence.items.start[i];
			char *el = arr + (size_t)i * f->size;
			char child[PATH_BUF];

			snprintf(child, sizeof(child), "%s[%d]", path, i);
			memset(el, 0, f->size);
			if (f->sub->type == T_MAP) {
				xf_config_apply_defaults(f->sub->sub, el);
			}
			walk_value(ld, f->sub, item, el, child);
			stored++;
		}
		memcpy(cnt, &stored, sizeof(stored));
		return;
	}
	if (n->type != YAML_SCALAR_NODE) {
		node_error(ld, id, path, "expected %s, got %s", xf_config_type_name(f),
		           node_kind(n));
		return;
	}
	if (xf_config_convert_scalar(f, (const char *)n->data.scalar.value, n->data.scalar.length,
	                             n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, dst, msg,
	                             sizeof(msg)) < 0) {
		node_error(ld, id, path, "%s", msg);
	}
}

/* Split a key path; returns the number of segments or -1 (message in msg). */
int
xf_config_split_path(const char *path, size_t len, struct seg *segs, int max, char *msg, size_t msz)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		size_t k = 0;

		if (n == max) {
			snprintf(msg, msz, "key path too deep");
			return -1;
		}
		segs[n].col = (unsigned int)i + 1;
		while (i < len && path[i] != '.' && path[i] != '[') {
			if (k + 1 >= sizeof(segs[n].key)) {
				snprintf(msg, msz, "key too long");
				return -1;
			}
			segs[n].key[k++] = path[i++];
		}
		segs[n].key[k] = '\0';
		segs[n].index = -1;
		if (k == 0) {
			snprintf(msg, msz, "empty key in key path");
			return -1;
		}
		if (i < len && path[i] == '[') {
			long v = 0;
			size_t digits = 0;

			i++;
			while (i < len && path[i] >= '0' && path[i] <= '9' && digits < 6) {
				v = v * 10 + (path[i++] - '0');
				digits++;
			}
			if (digits == 0 || i >= len || path[i] != ']') {
				snprintf(msg, msz, "bad index in key path (expected [N])");
				return -1;
			}
			i++;
			segs[n].index = v;
		}
		n++;
		if (i < len) {
			if (path[i] != '.' || i + 1 == len) {
				snprintf(msg, msz, "bad key path (expected KEY.KEY[N].KEY)");
				return -1;
			}
			i++;
		}
	}
	if (n == 0) {
		snprintf(msg, msz, "empty key path");
	}
	return n == 0 ? -1 : n;
}

/* The mapping value for key in mapping id (last occurrence), or 0. */
int
xf_config_map_get(struct loader *ld, int id, const char *key, int *key_id)
{
	yaml_node_t *n = xf_config_get_node(ld, id);
	int found = 0;

	if (n == NULL || n->type != YAML_MAPPING_NODE) {
		return 0;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = xf_config_get_node(ld, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0) {
			found = p->value;
			if (key_id != NULL) {
				*key_id = p->key;
			}
		}
	}
	return found;
}

int
xf_config_seq_get(struct loader *ld, int id, long index)
{
	yaml_node_t *n = xf_config_get_node(ld, id);

	if (n == NULL || n->type != YAML_SEQUENCE_NODE || index < 0 ||
	    index >= n->data.sequence.items.top - n->data.sequence.items.start) {
		return 0;
	}
	return n->data.sequence.items.start[index];
}

/* The deepest existing node on a key path (for positions of cross-field errors). */
static int
path_node(struct loader *ld, const char *path)
{
	struct seg segs[8];
	char msg[64];
	int id = 1, n;

	if (!ld->have_doc || xf_config_get_node(ld, 1) == NULL) {
		return 0;
	}
	n = xf_config_split_path(path, strlen(path), segs, 8, msg, sizeof(msg));
	for (int i = 0; i < n; i++) {
		int next = xf_config_map_get(ld, id, segs[i].key, NULL);

		if (next == 0) {
			return id;
		}
		id = next;
		if (segs[i].index >= 0) {
			next = xf_config_seq_get(ld, id, segs[i].index);
			if (next == 0) {
				return id;
			}
			id = next;
		}
	}
	return id;
}

void
xf_config_path_error(struct loader *ld, const char *path, const char *fmt, ...)
{
	char msg[XF_CONFIG_ERR_MSG_MAX];
	va_list ap;
	int id = path_node(ld, path);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (id == 0) {
		xf_config_add_error(ld, 0, 1, 1, path, "%s", msg);
	} else {
		node_error(ld, id, path, "%s", msg);
	}
}

/* ------------------------------------------------------------------------------------ */
/* Event pre-scan: syntax errors, anchors, aliases, tags, several documents              */

void
xf_config_syntax_error(struct loader *ld, unsigned int setno, const yaml_parser_t *p,
                       unsigned int coloff, const char *key)
{
	const yaml_mark_t *m = &p->problem_mark;
	const char *problem = p->problem != NULL ? p->problem : "syntax error";
	unsigned int line = (unsigned int)m->line + 1, col = (unsigned int)m->column + 1;
	char hint[160] = "";

	if (setno == 0 && m->index < ld->len) {
		/* libyaml stops at a tab with a generic message; say what it is. */
		const char *lp = ld->buf;

		for (unsigned int l = 1; l < line && lp < ld->buf + ld->len; lp++) {
			if (*lp == '\n') {
				l++;
			}
		}
		for (const char *q = lp; q < ld->buf + ld->len && *q != '\n'; q++) {
			if (*q == '\t') {
				snprintf(hint, sizeof(hint),
				         " (a tab on this line: YAML indentation must use spaces)");
				break;
			}
		}
	}
	if (p->context != NULL && setno == 0) {
		xf_config_add_error(ld, setno, line, col, "",
		                    "YAML syntax error: %s%s (%s at %lu:%lu)", problem, hint,
		                    p->context, (unsigned long)p->context_mark.line + 1,
		                    (unsigned long)p->context_mark.column + 1);
	} else {
		xf_config_add_error(ld, setno, line, col + coloff, key, "YAML syntax error: %s%s",
		                    problem, hint);
	}
}

/* Returns 0 if the text may be loaded; -1 after reporting why not. */
int
xf_config_prescan(struct loader *ld, const char *text, size_t len, unsigned int setno,
                  unsigned int coloff, const char *key)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int docs = 0, rc = 0;
	bool done = false;

	if (!yaml_parser_initialize(&p)) {
		ld->oom = true;
		return -1;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	while (!done) {
		const char *anchor = NULL;
		const char *tag = NULL;
		bool implicit = true;

		if (!yaml_parser_parse(&p, &ev)) {
			xf_config_syntax_error(ld, setno, &p, coloff, key);
			rc = -1;
			break;
		}
		unsigned int line = (unsigned int)ev.start_mark.line + 1;
		unsigned int col = (unsigned int)ev.start_mark.column + 1 + coloff;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs == 2) {
				xf_config_add_error(ld, setno, line, col, key,
				                    "only one YAML document is allowed");
				rc = -1;
			}
			break;
		case YAML_ALIAS_EVENT:
			xf_config_add_error(ld, setno, line, col, key,
			                    "aliases are not allowed (*%s): write the value out",
			                    (const char *)ev.data.alias.anchor);
			rc = -1;
			break;
		case YAML_SCALAR_EVENT:
			anchor = (const char *)ev.data.scalar.anchor;
			tag = (const char *)ev.data.scalar.tag;
			implicit = ev.data.scalar.plain_implicit || ev.data.scalar.quoted_implicit;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = (const char *)ev.data.sequence_start.anchor;
			tag = (const char *)ev.data.sequence_start.tag;
			implicit = ev.data.sequence_start.implicit;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = (const char *)ev.data.mapping_start.anchor;
			tag = (const char *)ev.data.mapping_start.tag;
			implicit = ev.data.mapping_start.implicit;
			break;
		default:
			break;
		}
		if (anchor != NULL) {
			xf_config_add_error(ld, setno, line, col, key,
			                    "anchors are not allowed (&%s)", anchor);
			rc = -1;
		}
		if (tag != NULL && !implicit) {
			xf_config_add_error(ld, setno, line, col, key, "tags are not allowed (%s)",
			                    tag);
			rc = -1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* ------------------------------------------------------------------------------------ */
/* Load                                                                                  */

static int
read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	struct stat st;

	if (f == NULL) {
		return -errno;
	}
	if (fstat(fileno(f), &st) < 0 || S_ISDIR(st.st_mode)) {
		int rc = S_ISDIR(st.st_mode) ? -EISDIR : -errno;

		fclose(f);
		return rc;
	}
	buf = malloc(MAX_FILE_SIZE + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, MAX_FILE_SIZE + 1, f);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return -EIO;
	}
	fclose(f);
	if (n > MAX_FILE_SIZE) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Stable sort: file errors by position, then --set errors by number. */
static void
sort_errors(struct xf_config_errors *errs, unsigned int from)
{
	for (unsigned int i = from + 1; i < errs->count; i++) {
		struct xf_config_error tmp = errs->items[i];
		bool tset = strcmp(tmp.file, "--set") == 0;
		unsigned int j = i;

		while (j > from) {
			const struct xf_config_error *p = &errs->items[j - 1];
			bool pset = strcmp(p->file, "--set") == 0;
			bool after;

			if (pset != tset) {
				after = pset && !tset;
			} else {
				after = p->line > tmp.line ||
				        (p->line == tmp.line && p->col > tmp.col);
			}
			if (!after) {
				break;
			}
			errs->items[j] = errs->items[j - 1];
			j--;
		}
		errs->items[j] = tmp;
	}
}

/* Load from text in buf (NUL-terminated, len bytes), which this takes and frees. */
static int
load_text(const char *path, char *buf, size_t len, const char *const *sets, unsigned int nsets,
          struct xf_config **out, struct xf_config_errors *errs)
{
	struct loader ld = { .file = path, .sets = sets, .errs = errs, .len = len, .buf = buf };
	unsigned int first = errs->count;
	struct xf_config *cfg = NULL;
	yaml_parser_t parser;
	yaml_node_t *root;
	int rc = 0;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL) {
		rc = -ENOMEM;
		goto err_free_buf;
	}
	xf_config_apply_defaults(xf_config_root_fields, (char *)cfg);

	if (xf_config_prescan(&ld, buf, ld.len, 0, 0, "") < 0) {
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = -ENOMEM;
		goto err_free_cfg;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, ld.len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		xf_config_syntax_error(&ld, 0, &parser, 0, "");
		yaml_parser_delete(&parser);
		goto done;
	}
	yaml_parser_delete(&parser);
	ld.have_doc = true;
	ld.n_file_nodes = (int)(ld.doc.nodes.top - ld.doc.nodes.start);
	root = yaml_document_get_root_node(&ld.doc);
	if (root == NULL) {
		xf_config_add_error(&ld, 0, 1, 1, "",
		                    "the configuration file is empty (version: 1 is required)");
		goto done;
	}
	for (unsigned int i = 0; i < nsets && !ld.oom; i++) {
		xf_config_apply_set(&ld, i + 1, sets[i]);
	}
	root = yaml_document_get_root_node(&ld.doc);
	if (root->type != YAML_MAPPING_NODE) {
		node_error(&ld, 1, "", "the top level must be a mapping of keys, got %s",
		           node_kind(root));
		goto done;
	}
	{
		int vid = xf_config_map_get(&ld, 1, "version", NULL);
		uint32_t version = 0;
		char msg[XF_CONFIG_ERR_MSG_MAX];

		if (vid == 0) {
			xf_config_add_error(
			        &ld, 0, 1, 1, "version",
			        "missing required key 'version' (this xferd reads version: 1)");
			goto done;
		}
		yaml_node_t *v = xf_config_get_node(&ld, vid);
		if (v->type != YAML_SCALAR_NODE ||
		    xf_config_convert_scalar(&(struct field){ .type = T_INT, .max = UINT32_MAX },
		                             (char *)v->data.scalar.value, v->data.scalar.length,
		                             v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
		                             &version, msg, sizeof(msg)) < 0 ||
		    version != XF_CONFIG_VERSION) {
			node_error(
			        &ld, vid, "version",
			        "unsupported configuration version (this xferd reads version: %d)",
			        XF_CONFIG_VERSION);
			goto done;
		}
	}
	walk_map(&ld, xf_config_root_fields, 1, (char *)cfg, "");
	xf_config_cross_checks(&ld, cfg, first);
done:
	if (ld.oom) {
		rc = -ENOMEM;
		goto err_free_cfg;
	}
	sort_errors(errs, first);
	if (errs->count > first) {
		rc = -EINVAL;
		goto err_free_cfg;
	}
	if (ld.have_doc) {
		yaml_document_delete(&ld.doc);
	}
	free(ld.node_set);
	free(buf);
	*out = cfg;
	return 0;

err_free_cfg:
	if (ld.have_doc) {
		yaml_document_delete(&ld.doc);
	}
	free(ld.node_set);
	free(cfg);
err_free_buf:
	free(buf);
	return rc;
}

int
xf_config_load_errors(const char *path, const char *const *sets, unsigned int nsets,
                      struct xf_config **out, struct xf_config_errors *errs)
{
	struct loader ld = { .file = path, .sets = sets, .errs = errs };
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	rc = read_file(path, &buf, &len);
	if (rc < 0) {
		xf_config_add_error(&ld, 0, 0, 0, "", "cannot read: %s", strerror(-rc));
		return rc;
	}
	return load_text(path, buf, len, sets, nsets, out, errs);
}

int
xf_config_load_buffer(const char *name, const char *text, size_t len, const char *const *sets,
                      unsigned int nsets, struct xf_config **out, struct xf_config_errors *errs)
{
	struct loader ld = { .file = name, .sets = sets, .errs = errs };
	char *buf;

	*out = NULL;
	if (len > MAX_FILE_SIZE) {
		xf_config_add_error(&ld, 0, 0, 0, "", "cannot read: %s", strerror(EFBIG));
		return -EFBIG;
	}
	/* The parser and the error printer want a NUL-terminated copy of their own. */
	buf = malloc(len + 1);
	if (buf == NULL) {
		return -ENOMEM;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	return load_text(name, buf, len, sets, nsets, out, errs);
}

int
xf_config_load(const char *path, const char *const *sets, unsigned int nsets,
               struct xf_config **out, FILE *errs)
{
	struct xf_config_errors list = { 0 };
	int rc = xf_config_load_errors(path, sets, nsets, out, &list);

	if (errs != NULL) {
		if (rc == -EINVAL) {
			xf_config_errors_print_text(&list, errs);
		} else if (rc < 0) {
			fprintf(errs, "%s: error: cannot read: %s\n", path, strerror(-rc));
		}
	}
	xf_config_errors_clear(&list);
	return rc;
}

void
xf_config_free(struct xf_config *cfg)
{
	free(cfg);
}

void
xf_config_errors_clear(struct xf_config_errors *errs)
{
	free(errs->items);
	memset(errs, 0, sizeof(*errs));
}
