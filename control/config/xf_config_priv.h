/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private to the configuration loader: the schema's types, the loader's state and the
 * functions its files share. Not exported (include/meson.build checks it).
 *
 * The loader runs in this order: xf_config_load.c reads the text, pre-scans it and has
 * libyaml build the document; xf_config_set.c grafts each --set override onto that
 * document; xf_config_load.c walks the document against the schema table
 * (xf_config_schema.c), converting each scalar with xf_config_scalar.c and filling the
 * defaults; xf_config_check.c then checks the filled struct across fields.
 *
 * Which file owns what:
 *   xf_config_schema.c  the field tables (xf_config_root_fields and the sections under
 *                       it), the enum name tables, the ranges and the defaults;
 *   xf_config_scalar.c  the types: strict conversion of one scalar into its field
 *                       (integers, booleans, strings by kind, enums, IPv4, CIDR, MAC),
 *                       the type names and enum lists of messages, the defaults;
 *   xf_config_load.c    struct loader, the error list (FILE:LINE:COL and key path, with
 *                       "did you mean"), the syntax pre-scan, the document walk, key paths
 *                       and the public load and free functions;
 *   xf_config_set.c     --set KEY.PATH=VALUE: the key path checked against the schema,
 *                       the value parsed and copied into the document;
 *   xf_config_check.c   the cross-field checks (lcores, unique names, subnets, volumes,
 *                       session files and group), each pointing at a node by key path;
 *   xf_config_print.c   the output: error printers (text, JSON), --dump-config, the diff
 *                       a reload prints, and the docs/CONFIG.md table;
 *   xf_config_eal.c     the EAL argument vector built from the config.
 */
#ifndef XF_CONFIG_PRIV_H
#define XF_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "xf_config.h"

/* Text buffer for a key path such as "ports[0].neighbors[3].ipv4". */
#define PATH_BUF 256

enum ftype {
	T_INT,  /* uint32_t */
	T_BOOL, /* bool */
	T_STR,  /* char[size] */
	T_ENUM, /* int-sized enum */
	T_IPV4, /* uint32_t, host order */
	T_CIDR, /* uint32_t address at off, uint32_t prefix at off2 */
	T_MAC,  /* uint8_t[6] */
	T_MAP,  /* nested struct at off, children in sub */
	T_LIST, /* array at off, unsigned int count at off2, element size, element in sub */
};

enum skind {
	S_ANY,     /* any text */
	S_NAME,    /* [A-Za-z0-9._-]+ */
	S_IDENT,   /* [A-Za-z][A-Za-z0-9_-]* */
	S_ABSPATH, /* absolute path */
	S_OPTPATH, /* "" or absolute path */
	S_DEVICE,  /* PCI address or net_* vdev */
	S_GROUP,   /* "" or a group name */
	S_KEY,     /* "" or canonical base64 of 32 bytes */
	S_LISTEN,  /* "" or IPV4:PORT */
};

#define F_REQUIRED 0x1u /* must be present */
#define F_RELOAD   0x2u /* a change can be applied by a reload */
#define F_POW2     0x4u /* integer must be a power of two */

struct enumval {
	const char *name;
	int value;
};

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	size_t off2;
	size_t size;
	uint64_t min;
	uint64_t max;
	unsigned int flags;
	const struct field *sub;
	const struct enumval *enums;
	enum skind skind;
	const char *def; /* default as YAML text; NULL = none (required or empty) */
	const char *doc;
};

/* The schema: the top-level sections, ended by an entry with key NULL. */
extern const struct field xf_config_root_fields[];

struct loader {
	const char *file;
	const char *buf; /* file contents, NUL terminated */
	size_t len;
	yaml_document_t doc;
	bool have_doc;
	int n_file_nodes; /* nodes from the file; later ones come from --set */
	int *node_set;    /* for node id > n_file_nodes: 1-based --set number */
	int node_set_cap;
	const char *const *sets;
	struct xf_config_errors *errs;
	bool oom;
};

/* One segment of a key path: "ports[0]" is key "ports", index 0. */
struct seg {
	char key[XF_CONFIG_NAME_MAX];
	long index;       /* -1 = none */
	unsigned int col; /* 1-based column of the key in the override, for its errors */
};

/* xf_config_scalar.c */
const char *xf_config_type_name(const struct field *f);
bool xf_config_is_null_text(const char *s, bool plain);
int xf_config_convert_scalar(const struct field *f, const char *s, size_t len, bool plain,
                             void *dst, char *msg, size_t msz);
void xf_config_enum_list(const struct enumval *e, char *buf, size_t size);
bool xf_config_is_pci_addr(const char *s);
void xf_config_fmt_ipv4(uint32_t a, char *buf, size_t size);
void xf_config_apply_defaults(const struct field *fields, char *base);

/* xf_config_load.c: errors. add_error's line/col are 1-based; setno 0 = the file, N = the
 * Nth --set. */
void xf_config_add_error(struct loader *ld, unsigned int setno, unsigned int line, unsigned int col,
                         const char *key, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
void xf_config_node_pos(const struct loader *ld, int id, unsigned int *setno, unsigned int *line,
                        unsigned int *col);
void xf_config_path_error(struct loader *ld, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
const char *xf_config_closest(const char *word, const char *const *names, size_t n);
const char *xf_config_closest_field(const char *word, const struct field *fields);
const struct field *xf_config_find_field(const struct field *fields, const char *key, size_t len);

/* xf_config_load.c: the document, key paths and the syntax pre-scan. */
yaml_node_t *xf_config_get_node(struct loader *ld, int id);
int xf_config_map_get(struct loader *ld, int id, const char *key, int *key_id);
int xf_config_seq_get(struct loader *ld, int id, long index);
int xf_config_split_path(const char *path, size_t len, struct seg *segs, int max, char *msg,
                         size_t msz);
int xf_config_prescan(struct loader *ld, const char *text, size_t len, unsigned int setno,
                      unsigned int coloff, const char *key);
void xf_config_syntax_error(struct loader *ld, unsigned int setno, const yaml_parser_t *p,
                            unsigned int coloff, const char *key);

/* xf_config_set.c: one --set override, applied to the parsed document. */
void xf_config_apply_set(struct loader *ld, unsigned int setno, const char *arg);

/* xf_config_check.c: the checks across fields, after the document walk. Sections with
 * errors at or after errs->items[first] are not checked again. */
void xf_config_cross_checks(struct loader *ld, struct xf_config *c, unsigned int first);

#endif /* XF_CONFIG_PRIV_H */
