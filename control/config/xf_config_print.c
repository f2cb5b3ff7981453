/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The output: error lists as text and JSON, --dump-config (the effective config as YAML
 * that loads back to the same struct), the diff a reload prints (and whether it needs a
 * restart), and the docs/CONFIG.md table. All walk the schema table, so a new key is
 * printed, diffed and documented without code here.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "xf_config_priv.h"

/* Text of one scalar (a string may quadruple when escaped) and of a flow list. */
#define ITEM_TEXT_MAX (XF_CONFIG_ARG_MAX * 4 + 8)
#define LIST_TEXT_MAX (XF_CONFIG_MAX_EXTRA_ARGS * (ITEM_TEXT_MAX + 2) + 8)

/* ------------------------------------------------------------------------------------ */
/* Printers                                                                              */

int
xf_config_errors_print_text(const struct xf_config_errors *errs, FILE *f)
{
	for (unsigned int i = 0; i < errs->count; i++) {
		const struct xf_config_error *e = &errs->items[i];
		unsigned int col = 1;

		if (strcmp(e->file, "--set") == 0) {
			fprintf(f, "--set:%u:%u: error: ", e->line, e->col);
		} else if (e->line == 0) {
			fprintf(f, "%s: error: ", e->file);
		} else {
			fprintf(f, "%s:%u:%u: error: ", e->file, e->line, e->col);
		}
		if (e->key[0] != '\0') {
			fprintf(f, "%s: ", e->key);
		}
		fprintf(f, "%s\n", e->message);
		if (e->line == 0) {
			continue;
		}
		fprintf(f, "  %s\n  ", e->source);
		/* Columns count characters; keep tabs so the caret lines up. */
		for (const char *p = e->source; *p != '\0' && col < e->col; p++) {
			if (((unsigned char)*p & 0xc0) == 0x80) {
				continue;
			}
			fputc(*p == '\t' ? '\t' : ' ', f);
			col++;
		}
		fputs("^\n", f);
	}
	return ferror(f) ? -EIO : 0;
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

int
xf_config_errors_print_json(const struct xf_config_errors *errs, FILE *f)
{
	fputc('[', f);
	for (unsigned int i = 0; i < errs->count; i++) {
		const struct xf_config_error *e = &errs->items[i];

		fputs(i ? ",\n {\"file\": " : "\n {\"file\": ", f);
		json_string(f, e->file);
		fprintf(f, ", \"line\": %u, \"col\": %u, \"key\": ", e->line, e->col);
		json_string(f, e->key);
		fputs(", \"message\": ", f);
		json_string(f, e->message);
		fputc('}', f);
	}
	fputs(errs->count ? "\n]\n" : "]\n", f);
	return ferror(f) ? -EIO : 0;
}

/* Format one scalar value as YAML text. */
static void
fmt_scalar(const struct field *f, const char *src, char *buf, size_t size)
{
	switch (f->type) {
	case T_INT: {
		uint32_t v;

		memcpy(&v, src, sizeof(v));
		snprintf(buf, size, "%u", v);
		return;
	}
	case T_BOOL:
		snprintf(buf, size, "%s", *(const bool *)src ? "true" : "false");
		return;
	case T_STR: {
		size_t n = 0;

		buf[n++] = '"';
		for (const char *p = src; *p != '\0' && n + 6 < size; p++) {
			unsigned char c = (unsigned char)*p;

			if (c == '"' || c == '\\') {
				buf[n++] = '\\';
				buf[n++] = (char)c;
			} else if (c < 0x20) {
				n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
			} else {
				buf[n++] = (char)c;
			}
		}
		buf[n++] = '"';
		buf[n] = '\0';
		return;
	}
	case T_ENUM: {
		int v;

		memcpy(&v, src, sizeof(v));
		for (const struct enumval *e = f->enums; e->name != NULL; e++) {
			if (e->value == v) {
				snprintf(buf, size, "%s", e->name);
				return;
			}
		}
		snprintf(buf, size, "%d", v);
		return;
	}
	case T_IPV4: {
		uint32_t a;

		memcpy(&a, src, sizeof(a));
		xf_config_fmt_ipv4(a, buf, size);
		return;
	}
	case T_CIDR: {
		uint32_t a, plen;
		char ip[16];

		memcpy(&a, src, sizeof(a));
		memcpy(&plen, src + ((ptrdiff_t)f->off2 - (ptrdiff_t)f->off), sizeof(plen));
		xf_config_fmt_ipv4(a, ip, sizeof(ip));
		snprintf(buf, size, "%s/%u", ip, plen);
		return;
	}
	case T_MAC: {
		const uint8_t *m = (const uint8_t *)src;

		snprintf(buf, size, "\"%02x:%02x:%02x:%02x:%02x:%02x\"", m[0], m[1], m[2], m[3],
		         m[4], m[5]);
		return;
	}
	default:
		snprintf(buf, size, "?");
	}
}

/* A list of scalars in flow style: [1, 2]. */
static void
fmt_flow_list(const struct field *f, const char *base, char *buf, size_t size)
{
	unsigned int n;
	size_t len = 0;

	memcpy(&n, base + f->off2, sizeof(n));
	len += (size_t)snprintf(buf, size, "[");
	for (unsigned int i = 0; i < n && len < size; i++) {
		char item[ITEM_TEXT_MAX];

		fmt_scalar(f->sub, base + f->off + i * f->size, item, sizeof(item));
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", item);
	}
	if (len < size) {
		snprintf(buf + len, size - len, "]");
	}
}

static void
dump_map(FILE *out, const struct field *fields, const char *base, int indent, bool first_dash)
{
	for (const struct field *f = fields; f->key != NULL; f++) {
		int ind = indent;

		if (first_dash && f == fields) {
			fprintf(out, "%*s- ", indent - 2, "");
			ind = 0;
		} else {
			fprintf(out, "%*s", ind, "");
		}
		if (f->type == T_MAP) {
			fprintf(out, "%s:\n", f->key);
			dump_map(out, f->sub, base + f->off, indent + 2, false);
		} else if (f->type == T_LIST && f->sub->type == T_MAP) {
			unsigned int n;

			memcpy(&n, base + f->off2, sizeof(n));
			fprintf(out, "%s:%s\n", f->key, n ? "" : " []");
			for (unsigned int i = 0; i < n; i++) {
				dump_map(out, f->sub->sub, base + f->off + i * f->size, indent + 4,
				         true);
			}
		} else {
			char buf[LIST_TEXT_MAX];

			if (f->type == T_LIST) {
				fmt_flow_list(f, base, buf, sizeof(buf));
			} else {
				fmt_scalar(f, base + f->off, buf, sizeof(buf));
			}
			fprintf(out, "%s: %s\n", f->key, buf);
		}
	}
}

int
xf_config_dump(const struct xf_config *cfg, FILE *f)
{
	fprintf(f, "# Effective xferd configuration (defaults filled in).\n");
	dump_map(f, xf_config_root_fields, (const char *)cfg, 0, false);
	return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------------------------------ */
/* Diff                                                                                  */

struct diff_state {
	FILE *out;
	int changes;
	bool restart;
};

static void
diff_note(struct diff_state *d, const struct field *f, const char *path, const char *a,
          const char *b, bool reload)
{
	(void)f;
	d->changes++;
	if (!reload) {
		d->restart = true;
	}
	if (d->out != NULL) {
		fprintf(d->out, "%s: %s -> %s (%s)\n", path, a, b,
		        reload ? "reloadable" : "restart");
	}
}

static void
diff_map(struct diff_state *d, const struct field *fields, const char *a, const char *b,
         const char *path)
{
	for (const struct field *f = fields; f->key != NULL; f++) {
		char child[PATH_BUF];
		bool reload = (f->flags & F_RELOAD) != 0;

		snprintf(child, sizeof(child), "%s%s%s", path, path[0] ? "." : "", f->key);
		if (f->type == T_MAP) {
			diff_map(d, f->sub, a + f->off, b + f->off, child);
		} else if (f->type == T_LIST) {
			unsigned int na, nb;

			memcpy(&na, a + f->off2, sizeof(na));
			memcpy(&nb, b + f->off2, sizeof(nb));
			if (f->sub->type == T_MAP && na == nb) {
				for (unsigned int i = 0; i < na; i++) {
					char el[PATH_BUF + 16];

					snprintf(el, sizeof(el), "%s[%u]", child, i);
					diff_map(d, f->sub->sub, a + f->off + i * f->size,
					         b + f->off + i * f->size, el);
				}
			} else if (f->sub->type == T_MAP) {
				char sa[32], sb[32];

				snprintf(sa, sizeof(sa), "%u entries", na);
				snprintf(sb, sizeof(sb), "%u entries", nb);
				diff_note(d, f, child, sa, sb, reload);
			} else {
				char sa[LIST_TEXT_MAX];
				char sb[sizeof(sa)];

				fmt_flow_list(f, a, sa, sizeof(sa));
				fmt_flow_list(f, b, sb, sizeof(sb));
				if (strcmp(sa, sb) != 0) {
					diff_note(d, f, child, sa, sb, reload);
				}
			}
		} else {
			char sa[XF_CONFIG_DEVICE_MAX * 2], sb[XF_CONFIG_DEVICE_MAX * 2];

			fmt_scalar(f, a + f->off, sa, sizeof(sa));
			fmt_scalar(f, b + f->off, sb, sizeof(sb));
			if (strcmp(sa, sb) != 0) {
				diff_note(d, f, child, sa, sb, reload);
			}
		}
	}
}

int
xf_config_diff(const struct xf_config *old_cfg, const struct xf_config *new_cfg, FILE *out,
               bool *needs_restart)
{
	struct diff_state d = { .out = out };

	diff_map(&d, xf_config_root_fields, (const char *)old_cfg, (const char *)new_cfg, "");
	if (needs_restart != NULL) {
		*needs_restart = d.restart;
	}
	return d.changes;
}

/* ------------------------------------------------------------------------------------ */
/* Documentation                                                                         */

static void
doc_range(const struct field *f, char *buf, size_t size)
{
	switch (f->type) {
	case T_INT:
		snprintf(buf, size, "%" PRIu64 "..%" PRIu64 "%s", f->min, f->max,
		         (f->flags & F_POW2) ? ", power of two" : "");
		return;
	case T_BOOL:
		snprintf(buf, size, "true, false");
		return;
	case T_ENUM:
		xf_config_enum_list(f->enums, buf, size);
		return;
	case T_STR:
		snprintf(buf, size, "%" PRIu64 "..%" PRIu64 " chars", f->min, f->max);
		return;
	case T_LIST: {
		char el[96] = "";

		if (f->sub->type != T_MAP) {
			doc_range(f->sub, el, sizeof(el));
		}
		snprintf(buf, size, "%" PRIu64 "..%" PRIu64 " entries%s%s", f->min, f->max,
		         el[0] ? "; each " : "", el);
		return;
	}
	default:
		buf[0] = '\0';
	}
}

static const char *
doc_type(const struct field *f)
{
	switch (f->type) {
	case T_INT:
		return "integer";
	case T_BOOL:
		return "bool";
	case T_STR:
		return "string";
	case T_ENUM:
		return "enum";
	case T_IPV4:
		return "IPv4";
	case T_CIDR:
		return "IPv4/prefix";
	case T_MAC:
		return "MAC";
	case T_MAP:
		return "mapping";
	case T_LIST:
		return f->sub->type == T_MAP    ? "list of mappings"
		       : f->sub->type == T_STR  ? "list of strings"
		       : f->sub->type == T_ENUM ? "list of words"
		                                : "list of integers";
	}
	return "?";
}

static void
doc_fields(FILE *f, const struct field *fields, const char *path)
{
	for (const struct field *x = fields; x->key != NULL; x++) {
		char key[PATH_BUF], range[160], def[64];

		snprintf(key, sizeof(key), "%s%s%s%s", path, path[0] ? "." : "", x->key,
		         x->type == T_LIST && x->sub->type == T_MAP ? "[]" : "");
		doc_range(x, range, sizeof(range));
		if (x->flags & F_REQUIRED) {
			snprintf(def, sizeof(def), "required");
		} else if (x->type == T_MAP) {
			def[0] = '\0';
		} else if (x->def != NULL) {
			snprintf(def, sizeof(def), "`%s`", x->def[0] ? x->def : "\"\"");
		} else {
			snprintf(def, sizeof(def), "optional");
		}
		fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", key, doc_type(x), def, range,
		        x->type == T_MAP ? "" : ((x->flags & F_RELOAD) ? "reload" : "restart"),
		        x->doc != NULL ? x->doc : "");
		if (x->type == T_MAP) {
			doc_fields(f, x->sub, key);
		} else if (x->type == T_LIST && x->sub->type == T_MAP) {
			doc_fields(f, x->sub->sub, key);
		}
	}
}

int
xf_config_schema_markdown(FILE *f)
{
	fprintf(f, "| Key | Type | Default | Range | Change | Description |\n");
	fprintf(f, "|-----|------|---------|-------|--------|-------------|\n");
	doc_fields(f, xf_config_root_fields, "");
	return ferror(f) ? -EIO : 0;
}
