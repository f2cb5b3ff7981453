/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --set KEY.PATH=VALUE: the key path is checked against the schema first (with a "did you
 * mean" for unknown keys), then VALUE is parsed as YAML and its nodes are copied into the
 * file's document, so an override is validated exactly like the same key in the file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xf_config_priv.h"

/* ------------------------------------------------------------------------------------ */
/* --set overrides                                                                       */

static int
note_set_node(struct loader *ld, int id, unsigned int setno)
{
	int slot = id - ld->n_file_nodes;

	if (slot <= 0) {
		return 0;
	}
	if (slot > ld->node_set_cap) {
		int cap = XF_MAX(slot, ld->node_set_cap * 2);
		int *v = realloc(ld->node_set, (size_t)cap * sizeof(*v));

		if (v == NULL) {
			ld->oom = true;
			return -1;
		}
		for (int i = ld->node_set_cap; i < cap; i++) {
			v[i] = 0;
		}
		ld->node_set = v;
		ld->node_set_cap = cap;
	}
	ld->node_set[slot - 1] = (int)setno;
	return 0;
}

/* Deep-copy node sid of src into the main document; returns the new id or 0. */
static int
copy_node(struct loader *ld, yaml_document_t *src, int sid, unsigned int setno, unsigned int coloff)
{
	yaml_node_t *s = yaml_document_get_node(src, sid);
	yaml_mark_t mark = s->start_mark;
	int id = 0;

	switch (s->type) {
	case YAML_SCALAR_NODE:
		id = yaml_document_add_scalar(&ld->doc, NULL, s->data.scalar.value,
		                              (int)s->data.scalar.length, s->data.scalar.style);
		break;
	case YAML_SEQUENCE_NODE: {
		int n = (int)(s->data.sequence.items.top - s->data.sequence.items.start);

		id = yaml_document_add_sequence(&ld->doc, NULL, YAML_FLOW_SEQUENCE_STYLE);
		for (int i = 0; id && i < n; i++) {
			int c = copy_node(
			        ld, src,
			        yaml_document_get_node(src, sid)->data.sequence.items.start[i],
			        setno, coloff);

			if (c == 0 || !yaml_document_append_sequence_item(&ld->doc, id, c)) {
				return 0;
			}
		}
		break;
	}
	case YAML_MAPPING_NODE: {
		int n = (int)(s->data.mapping.pairs.top - s->data.mapping.pairs.start);

		id = yaml_document_add_mapping(&ld->doc, NULL, YAML_FLOW_MAPPING_STYLE);
		for (int i = 0; id && i < n; i++) {
			yaml_node_pair_t pr =
			        yaml_document_get_node(src, sid)->data.mapping.pairs.start[i];
			int k = copy_node(ld, src, pr.key, setno, coloff);
			int v = copy_node(ld, src, pr.value, setno, coloff);

			if (k == 0 || v == 0 ||
			    !yaml_document_append_mapping_pair(&ld->doc, id, k, v)) {
				return 0;
			}
		}
		break;
	}
	default:
		return 0;
	}
	if (id == 0 || note_set_node(ld, id, setno) < 0) {
		ld->oom = true;
		return 0;
	}
	mark.column += coloff;
	xf_config_get_node(ld, id)->start_mark = mark;
	return id;
}

static int
add_key_node(struct loader *ld, const char *key, unsigned int setno)
{
	int id = yaml_document_add_scalar(&ld->doc, NULL, (yaml_char_t *)key, (int)strlen(key),
	                                  YAML_PLAIN_SCALAR_STYLE);

	if (id == 0 || note_set_node(ld, id, setno) < 0) {
		ld->oom = true;
		return 0;
	}
	return id;
}

/* Check a key path against the schema. Returns the target field or NULL after an error. */
static const struct field *
check_set_path(struct loader *ld, unsigned int setno, const struct seg *segs, int n,
               const char *path)
{
	const struct field *fields = xf_config_root_fields;
	const struct field *f = NULL;

	for (int i = 0; i < n; i++) {
		const char *hint;

		if (fields == NULL) {
			xf_config_add_error(ld, setno, 1, segs[i].col, path, "'%s' has no sub-keys",
			                    segs[i - 1].key);
			return NULL;
		}
		f = xf_config_find_field(fields, segs[i].key, strlen(segs[i].key));
		if (f == NULL) {
			hint = xf_config_closest_field(segs[i].key, fields);
			xf_config_add_error(ld, setno, 1, segs[i].col, path,
			                    "unknown key '%s'%s%s%s", segs[i].key,
			                    hint ? " (did you mean '" : "", hint ? hint : "",
			                    hint ? "'?)" : "");
			return NULL;
		}
		if (segs[i].index < 0 && f->type == T_LIST && i + 1 < n) {
			xf_config_add_error(ld, setno, 1, segs[i].col, path,
			                    "'%s' is a list: name an entry, as in %s[0]",
			                    segs[i].key, segs[i].key);
			return NULL;
		}
		if (segs[i].index >= 0 && f->type != T_LIST) {
			xf_config_add_error(ld, setno, 1, segs[i].col, path,
			                    "'%s' is not a list and takes no [index]", segs[i].key);
			return NULL;
		}
		if (segs[i].index >= 0 && (uint64_t)segs[i].index >= f->max) {
			xf_config_add_error(ld, setno, 1, segs[i].col, path,
			                    "index %ld out of range (at most %" PRIu64 " entries)",
			                    segs[i].index, f->max);
			return NULL;
		}
		if (f->type == T_MAP) {
			fields = f->sub;
		} else if (f->type == T_LIST && segs[i].index >= 0) {
			fields = f->sub->type == T_MAP ? f->sub->sub : NULL;
			f = f->sub;
		} else {
			fields = NULL;
		}
	}
	return f;
}

void
xf_config_apply_set(struct loader *ld, unsigned int setno, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct seg segs[8];
	char msg[XF_CONFIG_ERR_MSG_MAX];
	char path[PATH_BUF];
	yaml_parser_t p;
	yaml_document_t vdoc;
	int n, id, value;
	unsigned int coloff;

	if (eq == NULL) {
		xf_config_add_error(ld, setno, 1, 1, "", "expected KEY.PATH=VALUE");
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)(eq - arg), arg);
	n = xf_config_split_path(arg, (size_t)(eq - arg), segs, 8, msg, sizeof(msg));
	if (n < 0) {
		xf_config_add_error(ld, setno, 1, 1, path, "%s", msg);
		return;
	}
	if (check_set_path(ld, setno, segs, n, path) == NULL) {
		return;
	}
	coloff = (unsigned int)(eq - arg) + 1;
	if (xf_config_prescan(ld, eq + 1, strlen(eq + 1), setno, coloff, path) < 0) {
		return;
	}
	if (!yaml_parser_initialize(&p)) {
		ld->oom = true;
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)(eq + 1), strlen(eq + 1));
	if (!yaml_parser_load(&p, &vdoc)) {
		xf_config_syntax_error(ld, setno, &p, coloff, path);
		yaml_parser_delete(&p);
		return;
	}
	yaml_parser_delete(&p);
	if (yaml_document_get_root_node(&vdoc) == NULL) {
		/* "KEY=" means an empty plain scalar, i.e. null: let validation say so. */
		value = yaml_document_add_scalar(&ld->doc, NULL, (yaml_char_t *)"", 0,
		                                 YAML_PLAIN_SCALAR_STYLE);
		if (value == 0 || note_set_node(ld, value, setno) < 0) {
			ld->oom = true;
			value = 0;
		} else {
			xf_config_get_node(ld, value)->start_mark.column = coloff;
		}
	} else {
		value = copy_node(ld, &vdoc, 1, setno, coloff);
	}
	yaml_document_delete(&vdoc);
	if (value == 0) {
		return;
	}

	/* Walk (and create) the path in the main document, then hang the value there. */
	id = 1;
	if (xf_config_get_node(ld, 1)->type != YAML_MAPPING_NODE) {
		return; /* the root error is reported by the validation */
	}
	for (int i = 0; i < n; i++) {
		bool last = i == n - 1;
		int key_id = 0;
		int next = xf_config_map_get(ld, id, segs[i].key, &key_id);

		if (next == 0) {
			int k = add_key_node(ld, segs[i].key, setno);
			int child;

			if (segs[i].index > 0) {
				xf_config_add_error(
				        ld, setno, 1, 1, path,
				        "index %ld out of range: '%s' is not set (use [0])",
				        segs[i].index, segs[i].key);
				return;
			}
			if (segs[i].index == 0) {
				child = yaml_document_add_sequence(&ld->doc, NULL,
				                                   YAML_BLOCK_SEQUENCE_STYLE);
			} else if (last) {
				child = value;
			} else {
				child = yaml_document_add_mapping(&ld->doc, NULL,
				                                  YAML_BLOCK_MAPPING_STYLE);
			}
			if (k == 0 || child == 0 || note_set_node(ld, child, setno) < 0 ||
			    !yaml_document_append_mapping_pair(&ld->doc, id, k, child)) {
				ld->oom = true;
				return;
			}
			next = child;
		} else if (last && segs[i].index < 0) {
			yaml_node_t *m = xf_config_get_node(ld, id);

			for (yaml_node_pair_t *pr = m->data.mapping.pairs.start;
			     pr < m->data.mapping.pairs.top; pr++) {
				if (pr->key == key_id) {
					pr->value = value;
				}
			}
			return;
		}
		id = next;
		if (segs[i].index >= 0) {
			yaml_node_t *s = xf_config_get_node(ld, id);
			long count;

			if (s->type != YAML_SEQUENCE_NODE) {
				unsigned int ss, l, c;

				xf_config_node_pos(ld, id, &ss, &l, &c);
				xf_config_add_error(ld, setno, 1, 1, path,
				                    "'%s' is not a sequence (%s:%u:%u)",
				                    segs[i].key, ld->file, l, c);
				return;
			}
			count = s->data.sequence.items.top - s->data.sequence.items.start;
			if (segs[i].index > count) {
				xf_config_add_error(ld, setno, 1, 1, path,
				                    "index %ld out of range ('%s' has %ld entries)",
				                    segs[i].index, segs[i].key, count);
				return;
			}
			if (segs[i].index == count) {
				int child =
				        last ? value
				             : yaml_document_add_mapping(&ld->doc, NULL,
				                                         YAML_BLOCK_MAPPING_STYLE);

				if (child == 0 || note_set_node(ld, child, setno) < 0 ||
				    !yaml_document_append_sequence_item(&ld->doc, id, child)) {
					ld->oom = true;
					return;
				}
				id = child;
			} else if (last) {
				xf_config_get_node(ld, id)
				        ->data.sequence.items.start[segs[i].index] = value;
				return;
			} else {
				id = xf_config_seq_get(ld, id, segs[i].index);
			}
		}
		if (!last && xf_config_get_node(ld, id)->type != YAML_MAPPING_NODE) {
			unsigned int ss, l, c;

			xf_config_node_pos(ld, id, &ss, &l, &c);
			xf_config_add_error(ld, setno, 1, 1, path,
			                    "'%s' is not a mapping (%s:%u:%u)", segs[i].key,
			                    ld->file, l, c);
			return;
		}
	}
}
