/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML configuration loader. libyaml builds the document (yaml_parser_load); a table of
 * our own (the schema below) walks it, converts every scalar strictly, fills defaults and
 * records every error with its position. Cross-field checks run on the filled struct and
 * find their positions again by key path, so they point at the offending node too.
 */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "xf_config.h"

_Static_assert(sizeof(enum xf_config_fsync) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_config_idle) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_log_level) == sizeof(int), "enums are stored as int");

#define MAX_FILE_SIZE (1u << 20)
#define PATH_BUF      256
/* Text of one scalar (a string may quadruple when escaped) and of a flow list. */
#define ITEM_TEXT_MAX (XF_CONFIG_ARG_MAX * 4 + 8)
#define LIST_TEXT_MAX (XF_CONFIG_MAX_EXTRA_ARGS * (ITEM_TEXT_MAX + 2) + 8)

/* ------------------------------------------------------------------------------------ */
/* Schema                                                                                */

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

static const struct enumval log_levels[] = {
	{ "err", XF_LOG_ERR },   { "warning", XF_LOG_WARNING }, { "notice", XF_LOG_NOTICE },
	{ "info", XF_LOG_INFO }, { "debug", XF_LOG_DEBUG },     { NULL, 0 },
};
static const struct enumval idle_modes[] = {
	{ "backoff", XF_CONFIG_IDLE_BACKOFF },
	{ "poll", XF_CONFIG_IDLE_POLL },
	{ NULL, 0 },
};
static const struct enumval udp_csum_modes[] = {
	{ "auto", XF_CONFIG_UDP_CSUM_AUTO },
	{ "on", XF_CONFIG_UDP_CSUM_ON },
	{ "off", XF_CONFIG_UDP_CSUM_OFF },
	{ NULL, 0 },
};
static const struct enumval io_modes[] = {
	{ "auto", XF_CONFIG_IO_AUTO },
	{ "io_uring", XF_CONFIG_IO_URING },
	{ "inline", XF_CONFIG_IO_INLINE },
	{ NULL, 0 },
};
static const struct enumval fsync_modes[] = {
	{ "none", XF_CONFIG_FSYNC_NONE },
	{ "file", XF_CONFIG_FSYNC_FILE },
	{ "batch", XF_CONFIG_FSYNC_BATCH },
	{ NULL, 0 },
};

#define OFF(s, m) offsetof(s, m)
#define FSZ(s, m) sizeof(((s *)0)->m)
#define END_OF_FIELDS                                                                              \
	{                                                                                          \
		.key = NULL                                                                        \
	}

#define INT(k, s, m, lo, hi, fl, d, txt)                                                           \
	{                                                                                          \
		.key = k, .type = T_INT, .off = OFF(s, m), .min = lo, .max = hi, .flags = fl,      \
		.def = d, .doc = txt                                                               \
	}
#define BOOL(k, s, m, fl, d, txt)                                                                  \
	{                                                                                          \
		.key = k, .type = T_BOOL, .off = OFF(s, m), .flags = fl, .def = d, .doc = txt      \
	}
#define STR(k, s, m, lo, kind, fl, d, txt)                                                         \
	{                                                                                          \
		.key = k, .type = T_STR, .off = OFF(s, m), .size = FSZ(s, m), .min = lo,           \
		.max = FSZ(s, m) - 1, .skind = kind, .flags = fl, .def = d, .doc = txt             \
	}
#define ENUM(k, s, m, e, fl, d, txt)                                                               \
	{                                                                                          \
		.key = k, .type = T_ENUM, .off = OFF(s, m), .enums = e, .flags = fl, .def = d,     \
		.doc = txt                                                                         \
	}
#define LIST(k, s, arr, cnt, lo, el, fl, d, txt)                                                   \
	{                                                                                          \
		.key = k, .type = T_LIST, .off = OFF(s, arr), .off2 = OFF(s, cnt),                 \
		.size = sizeof(((s *)0)->arr[0]), .min = lo,                                       \
		.max = sizeof(((s *)0)->arr) / sizeof(((s *)0)->arr[0]), .sub = el, .flags = fl,   \
		.def = d, .doc = txt                                                               \
	}
#define MAP(k, s, m, children, fl, txt)                                                            \
	{                                                                                          \
		.key = k, .type = T_MAP, .off = OFF(s, m), .sub = children, .flags = fl,           \
		.doc = txt                                                                         \
	}

/* A top-level section: its children's offsets are already within struct xf_config. */
#define ROOTMAP(k, children, fl, txt)                                                              \
	{                                                                                          \
		.key = k, .type = T_MAP, .off = 0, .sub = children, .flags = fl, .doc = txt        \
	}

/* Element descriptions of lists: key NULL, offset 0 within the element. */
static const struct field el_lcore = { .type = T_INT, .min = 0, .max = XF_CONFIG_MAX_LCORE };
static const struct field el_cpu = { .type = T_INT, .min = 0, .max = XF_CONFIG_MAX_CPUS - 1 };
static const struct field el_abspath = { .type = T_STR,
	                                 .size = XF_CONFIG_PATH_MAX,
	                                 .min = 1,
	                                 .max = XF_CONFIG_PATH_MAX - 1,
	                                 .skind = S_ABSPATH };
static const struct field el_arg = { .type = T_STR,
	                             .size = XF_CONFIG_ARG_MAX,
	                             .min = 1,
	                             .max = XF_CONFIG_ARG_MAX - 1,
	                             .skind = S_ANY };

static const struct field neighbor_fields[] = {
	{ .key = "ipv4",
	  .type = T_IPV4,
	  .off = OFF(struct xf_config_neighbor, ipv4),
	  .flags = F_REQUIRED,
	  .doc = "Neighbor address, inside the port's subnet" },
	{ .key = "mac",
	  .type = T_MAC,
	  .off = OFF(struct xf_config_neighbor, mac),
	  .flags = F_REQUIRED,
	  .doc = "Unicast Ethernet address aa:bb:cc:dd:ee:ff" },
	END_OF_FIELDS,
};
static const struct field el_neighbor = { .type = T_MAP, .sub = neighbor_fields };

static const struct field fault_fields[] = {
	INT("reorder_percent", struct xf_config_fault, reorder_percent, 0, 100, 0, "0",
	    "Percentage of received frames the test-only reordering stage holds back; 0 = off"),
	INT("seed", struct xf_config_fault, seed, 0, UINT32_MAX, 0, "1",
	    "Seed of the fault stage's deterministic generator"),
	END_OF_FIELDS,
};

static const struct field port_fields[] = {
	STR("name", struct xf_config_port, name, 1, S_IDENT, F_REQUIRED, NULL,
	    "Identifier, unique among ports"),
	STR("device", struct xf_config_port, device, 1, S_DEVICE, F_REQUIRED, NULL,
	    "PCI address DDDD:BB:DD.F (hex) or DPDK vdev string net_NAME[,ARGS]; unique"),
	{ .key = "ipv4",
	  .type = T_CIDR,
	  .off = OFF(struct xf_config_port, ipv4),
	  .off2 = OFF(struct xf_config_port, prefix_len),
	  .flags = F_REQUIRED,
	  .doc = "Own address/prefix length (1..32), e.g. 10.99.0.1/24" },
	INT("mtu", struct xf_config_port, mtu, 576, XF_CONFIG_MTU_MAX, 0, "1500",
	    "IP MTU; 1500 and 9000 are the tested values"),
	INT("udp_port", struct xf_config_port, udp_port, 1, 65535, 0, "7010",
	    "UDP port xferd listens on"),
	INT("rx_desc", struct xf_config_port, rx_desc, 64, 16384, F_POW2, "1024",
	    "RX descriptors, a power of two"),
	INT("tx_desc", struct xf_config_port, tx_desc, 64, 16384, F_POW2, "1024",
	    "TX descriptors, a power of two"),
	ENUM("udp_checksum", struct xf_config_port, udp_checksum, udp_csum_modes, 0, "auto",
	     "UDP checksums sent: auto (device offload, else software; none on net_memif, "
	     "a shared-memory link), on, or off (0: no checksum, as RFC 768 allows)"),
	LIST("neighbors", struct xf_config_port, neighbors, n_neighbors, 0, &el_neighbor, 0, "[]",
	     "Static ARP entries {ipv4, mac}"),
	MAP("fault", struct xf_config_port, fault, fault_fields, 0,
	    "Test-only fault stage (default off)"),
	END_OF_FIELDS,
};
static const struct field el_port = { .type = T_MAP, .sub = port_fields };

static const struct field volume_fault_fields[] = {
	INT("rename_hold_ms", struct xf_config_volume, fault.rename_hold_ms, 0, 600000, 0, "0",
	    "Test-only: the commit worker's first rename completes this many ms late (a storage "
	    "step stalled behind its disk); 0 = off"),
	END_OF_FIELDS,
};

static const struct field volume_fields[] = {
	STR("name", struct xf_config_volume, name, 1, S_IDENT, F_REQUIRED, NULL,
	    "Identifier, unique among volumes"),
	STR("path", struct xf_config_volume, path, 1, S_ABSPATH, F_REQUIRED, NULL,
	    "Absolute path of an existing directory"),
	/* restart: the pipeline's writers take the policy when they are created */
	ENUM("fsync", struct xf_config_volume, fsync, fsync_modes, 0, "file",
	     "Durability: none, file (fsync each file) or batch (every fsync_batch files)"),
	INT("fsync_batch", struct xf_config_volume, fsync_batch, 1, 65536, 0, "64",
	    "Files per fsync with fsync: batch (ignored otherwise)"),
	INT("max_file_gib", struct xf_config_volume, max_file_gib, 1, 1048576, 0, "1024",
	    "Largest file a peer may announce, GiB; a larger one is refused before anything "
	    "is written (so is one larger than the free space)"),
	{ .key = "fault",
	  .type = T_MAP,
	  .off = 0,
	  .sub = volume_fault_fields,
	  .doc = "Test-only fault stage of the volume (default off)" },
	END_OF_FIELDS,
};
static const struct field el_volume = { .type = T_MAP, .sub = volume_fields };

static const struct field peer_fields[] = {
	STR("name", struct xf_config_peer, name, 1, S_IDENT, F_REQUIRED, NULL,
	    "Identifier, unique among peers"),
	{ .key = "ipv4",
	  .type = T_IPV4,
	  .off = OFF(struct xf_config_peer, ipv4),
	  .flags = F_REQUIRED,
	  .doc = "Peer address, inside the subnet of a port" },
	INT("udp_port", struct xf_config_peer, udp_port, 1, 65535, 0, "7010", "Peer's UDP port"),
	STR("port", struct xf_config_peer, port, 0, S_IDENT, 0, NULL,
	    "Name of the port that reaches it; default: the first port whose subnet holds ipv4"),
	STR("public_key", struct xf_config_peer, public_key, 0, S_KEY, 0, "",
	    "Its X25519 public key (the output of xferd keygen on it), base64 of 32 bytes, for "
	    "the handshake of docs/SECURITY.md (sessions do not use it yet); \"\" = none"),
	END_OF_FIELDS,
};
static const struct field el_peer = { .type = T_MAP, .sub = peer_fields };

static const struct field appliance_fields[] = {
	STR("name", struct xf_config, appliance.name, 1, S_NAME, 0, "xferd",
	    "Appliance name, 1..63 of [A-Za-z0-9._-]"),
	ENUM("log_level", struct xf_config, appliance.log_level, log_levels, F_RELOAD, "notice",
	     "Log threshold"),
	END_OF_FIELDS,
};

static const struct field eal_fields[] = {
	STR("file_prefix", struct xf_config, eal.file_prefix, 1, S_NAME, 0, "xferd",
	    "EAL --file-prefix; two appliances on one host need different ones"),
	BOOL("hugepages", struct xf_config, eal.hugepages, 0, "true", "false adds --no-huge"),
	/* 256: the mbuf pool at MTU 9000 (150 MiB) and the rings fit. 16384: far above what
	 * the engine allocates; EAL without hugepages maps all of it at start. */
	INT("memory_mb", struct xf_config, eal.memory_mb, 256, 16384, 0, "1024",
	    "EAL memory in MiB (-m)"),
	BOOL("pci", struct xf_config, eal.pci, 0, "true",
	     "false adds --no-pci (then every port must be a vdev)"),
	LIST("extra_args", struct xf_config, eal.extra_args, eal.n_extra_args, 0, &el_arg, 0, "[]",
	     "Extra EAL arguments appended verbatim, 1..127 characters each"),
	END_OF_FIELDS,
};

static const struct field cores_fields[] = {
	INT("main", struct xf_config, cores.main, 0, XF_CONFIG_MAX_LCORE, 0, "0",
	    "lcore id of the control core"),
	LIST("rx", struct xf_config, cores.rx, cores.n_rx, 1, &el_lcore, 0, "[1]",
	     "RX lcore ids (0..127); unique, and not main"),
	LIST("workers", struct xf_config, cores.workers, cores.n_workers, 1, &el_lcore, 0, "[2]",
	     "Worker lcore ids (0..127); unique, not main; a worker on an RX core's lcore shares it (combined mode, for small machines)"),
	LIST("cpus", struct xf_config, cores.cpus, cores.n_cpus, 0, &el_cpu, 0, "[]",
	     "CPU ids all lcores float over (dev boxes), unique, each < configured CPUs; "
	     "empty = lcore id is cpu id"),
	ENUM("idle", struct xf_config, cores.idle, idle_modes, F_RELOAD, "backoff",
	     "Idle polling cores: backoff (spin, then sleep) or poll"),
	END_OF_FIELDS,
};

static const struct field session_fields[] = {
	/* Every worker holds max_sessions x window_files file states: 64 x 65536 is the
	 * most that still allocates. */
	INT("window_files", struct xf_config, session.window_files, 16, 65536, 0, "1024",
	    "Commit credits (files in flight) per session"),
	INT("max_sessions", struct xf_config, session.max_sessions, 1, XF_CONFIG_MAX_SESSIONS, 0,
	    "16", "Concurrent receive sessions"),
	INT("max_sessions_per_peer", struct xf_config, session.max_sessions_per_peer, 1,
	    XF_CONFIG_MAX_SESSIONS_PER_PEER, 0, "8",
	    "Concurrent sessions one peer address may hold (HELLOs beyond are refused BUSY), "
	    "so one peer cannot take every slot"),
	INT("rate_mbit", struct xf_config, session.rate_mbit, 0, 400000, F_RELOAD, "0",
	    "Pacing rate in Mbit/s, 0 = unpaced"),
	INT("timeout_ms", struct xf_config, session.timeout_ms, 100, 3600000, F_RELOAD, "10000",
	    "Idle session timeout"),
	INT("keepalive_ms", struct xf_config, session.keepalive_ms, 10, 600000, F_RELOAD, "1000",
	    "Keepalive interval, must be < timeout_ms"),
	STR("psk_file", struct xf_config, session.psk_file, 0, S_OPTPATH, 0, "",
	    "Pre-shared key file for future authentication: regular, mode 0600; "
	    "content never printed; \"\" = none"),
	STR("private_key_file", struct xf_config, session.private_key_file, 0, S_OPTPATH, 0, "",
	    "This appliance's X25519 private key (xferd keygen): base64, mode 0600, owned by "
	    "xferd's user; content never printed; \"\" = none"),
	END_OF_FIELDS,
};

static const struct field transfer_fields[] = {
	BOOL("checksum", struct xf_config, transfer.checksum, F_RELOAD, "false",
	     "Quick check by whole-file checksum instead of size+mtime"),
	/* restart: storage contexts are made with the workers */
	ENUM("io", struct xf_config, transfer.io, io_modes, 0, "auto",
	     "File I/O: auto (inline on tmpfs and ramfs, where io_uring would hand every "
	     "read and write to a kernel thread; io_uring elsewhere), io_uring, or inline"),
	END_OF_FIELDS,
};

static const struct field control_fields[] = {
	STR("socket", struct xf_config, control.socket, 1, S_ABSPATH, 0, "/run/xferd/xferd.sock",
	    "Control socket path (absolute, < 108 characters)"),
	STR("socket_group", struct xf_config, control.socket_group, 0, S_GROUP, 0, "",
	    "Existing group allowed to connect; \"\" = owner only"),
	LIST("push_roots", struct xf_config, control.push_roots, control.n_push_roots, 0,
	     &el_abspath, F_RELOAD, "[]",
	     "Absolute directories pushes may read, 0..16: a push whose source does not resolve "
	     "(realpath) beneath one is refused; [] = every push is refused"),
	END_OF_FIELDS,
};

static const struct field root_fields[] = {
	INT("version", struct xf_config, version, 1, 1, F_REQUIRED, NULL,
	    "Schema version, must be 1"),
	ROOTMAP("appliance", appliance_fields, 0, "Identity and logging"),
	ROOTMAP("eal", eal_fields, 0, "DPDK EAL arguments"),
	ROOTMAP("cores", cores_fields, 0, "Core assignment"),
	LIST("ports", struct xf_config, ports, n_ports, 1, &el_port, F_REQUIRED, NULL,
	     "DPDK ports, 1..4"),
	LIST("volumes", struct xf_config, volumes, n_volumes, 1, &el_volume, F_REQUIRED, NULL,
	     "Storage volumes, 1..64"),
	LIST("peers", struct xf_config, peers, n_peers, 0, &el_peer, 0, "[]",
	     "Remote appliances (the allowlist), 0..256"),
	ROOTMAP("session", session_fields, 0, "Session protocol"),
	ROOTMAP("transfer", transfer_fields, 0, "Transfer behaviour"),
	ROOTMAP("control", control_fields, 0, "Control socket"),
	END_OF_FIELDS,
};

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                                */

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
__attribute__((format(printf, 6, 7))) static void
add_error(struct loader *ld, unsigned int setno, unsigned int line, unsigned int col,
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
static void
node_pos(const struct loader *ld, int id, unsigned int *setno, unsigned int *line,
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
		node_pos(ld, id, &s_, &l_, &c_);                                                   \
		add_error(ld, s_, l_, c_, key, __VA_ARGS__);                                       \
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

/* The closest of names[] to word when the edit distance is small, else NULL. */
static const char *
closest(const char *word, const char *const *names, size_t n)
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

static const char *
closest_field(const char *word, const struct field *fields)
{
	const char *names[32];
	size_t n = 0;

	for (; fields->key != NULL && n < XF_ARRAY_SIZE(names); fields++) {
		names[n++] = fields->key;
	}
	return closest(word, names, n);
}

static const struct field *
find_field(const struct field *fields, const char *key, size_t len)
{
	for (; fields->key != NULL; fields++) {
		if (strlen(fields->key) == len && memcmp(fields->key, key, len) == 0) {
			return fields;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Scalar conversion (shared by the document walk, the defaults and the tests)           */

static const char *
type_name(const struct field *f)
{
	switch (f->type) {
	case T_INT:
		return "an integer";
	case T_BOOL:
		return "a boolean (true or false)";
	case T_STR:
		return "a string";
	case T_ENUM:
		return "one of the listed words";
	case T_IPV4:
		return "an IPv4 address";
	case T_CIDR:
		return "an IPv4 address/prefix";
	case T_MAC:
		return "a MAC address";
	case T_MAP:
		return "a mapping";
	case T_LIST:
		return "a sequence";
	}
	return "?";
}

static bool
is_null_text(const char *s, bool plain)
{
	return plain && (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	                 strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

/* Decimal without sign, leading zeros, hex or junk. Returns 0 or a message in msg. */
static int
parse_u64(const char *s, uint64_t *v, char *msg, size_t msz)
{
	uint64_t x = 0;

	if (s[0] == '+') {
		snprintf(msg, msz, "'%s': a leading '+' is not allowed; write plain decimal", s);
		return -1;
	}
	if (s[0] == '-' && s[1] >= '0' && s[1] <= '9') {
		snprintf(msg, msz, "'%s': negative values are not allowed", s);
		return -1;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X' || s[1] == 'o' || s[1] == 'b')) {
		snprintf(msg, msz, "'%s': only decimal integers are allowed (no 0x, 0o, 0b)", s);
		return -1;
	}
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
		snprintf(msg, msz, "'%s': leading zeros are not allowed (octal ambiguity)", s);
		return -1;
	}
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			snprintf(msg, msz, "'%s' is not a valid integer", s);
			return -1;
		}
		if (x > (UINT64_MAX - 9) / 10) {
			snprintf(msg, msz, "'%s' is too large", s);
			return -1;
		}
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (s[0] == '\0') {
		snprintf(msg, msz, "expected an integer");
		return -1;
	}
	*v = x;
	return 0;
}

static int
parse_ipv4(const char *s, uint32_t *out, const char **end)
{
	uint32_t a = 0;
	const char *p = s;

	for (int i = 0; i < 4; i++) {
		unsigned int part = 0;
		int digits = 0;

		if (i > 0) {
			if (*p != '.') {
				return -1;
			}
			p++;
		}
		while (*p >= '0' && *p <= '9') {
			if (digits > 0 && part == 0) {
				return -1; /* leading zero */
			}
			part = part * 10 + (unsigned int)(*p - '0');
			if (++digits > 3 || part > 255) {
				return -1;
			}
			p++;
		}
		if (digits == 0) {
			return -1;
		}
		a = (a << 8) | part;
	}
	*out = a;
	if (end != NULL) {
		*end = p;
	} else if (*p != '\0') {
		return -1;
	}
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

/* Canonical base64 of 32 bytes: 43 characters of the alphabet, then '='. The last one
 * carries 4 bits, so its two low bits are zero. The key is decoded where it is used
 * (xf_key_b64_decode); this only rejects typos at load time. */
static bool
is_key_b64(const char *s, size_t len)
{
	static const char alpha[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *last;

	if (len != 44 || s[43] != '=') {
		return false;
	}
	for (size_t i = 0; i < 43; i++) {
		if (s[i] == '\0' || strchr(alpha, s[i]) == NULL) {
			return false;
		}
	}
	last = strchr(alpha, s[42]);
	return ((last - alpha) & 3) == 0;
}

static bool
is_pci_addr(const char *s)
{
	/* DDDD:BB:DD.F, hexadecimal. */
	static const char shape[] = "xxxx:xx:xx.x";

	if (strlen(s) != sizeof(shape) - 1) {
		return false;
	}
	for (size_t i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'x' ? hexval(s[i]) < 0 : s[i] != shape[i]) {
			return false;
		}
	}
	return hexval(s[11]) <= 7 && (hexval(s[8]) * 16 + hexval(s[9])) <= 0x1f;
}

static bool
is_vdev(const char *s)
{
	const char *p = s + 4;

	if (strncmp(s, "net_", 4) != 0 || *p == '\0' || *p == ',') {
		return false;
	}
	for (; *p != '\0' && *p != ','; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) {
			return false;
		}
	}
	for (; *p != '\0'; p++) {
		if (*p == ' ' || *p == '\t') {
			return false;
		}
	}
	return true;
}

static bool
all_chars(const char *s, const char *extra, bool first_alpha)
{
	for (const char *p = s; *p != '\0'; p++) {
		bool alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
		bool ok = alpha || (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL;

		if (!ok || (p == s && first_alpha && !alpha)) {
			return false;
		}
	}
	return true;
}

static int
check_string(const struct field *f, const char *s, size_t len, char *msg, size_t msz)
{
	if (memchr(s, '\0', len) != NULL) {
		snprintf(msg, msz, "NUL characters are not allowed");
		return -1;
	}
	if (len < f->min) {
		snprintf(msg, msz, "must not be empty");
		return -1;
	}
	if (len > f->max) {
		snprintf(msg, msz, "too long (%zu characters, at most %" PRIu64 ")", len, f->max);
		return -1;
	}
	switch (f->skind) {
	case S_ANY:
		return 0;
	case S_NAME:
		if (!all_chars(s, "._-", false)) {
			snprintf(msg, msz, "'%s' may only contain letters, digits, '.', '_', '-'",
			         s);
			return -1;
		}
		return 0;
	case S_IDENT:
		if (!all_chars(s, "_-", true)) {
			snprintf(msg, msz,
			         "'%s' is not an identifier (a letter, then letters, digits, '_', "
			         "'-')",
			         s);
			return -1;
		}
		return 0;
	case S_OPTPATH:
	case S_ABSPATH:
		if (len > 0 && s[0] != '/') {
			snprintf(msg, msz, "'%s' is not an absolute path", s);
			return -1;
		}
		return 0;
	case S_DEVICE:
		if (!is_pci_addr(s) && !is_vdev(s)) {
			snprintf(msg, msz,
			         "'%s' is neither a PCI address (DDDD:BB:DD.F) nor a vdev "
			         "(net_NAME[,ARGS])",
			         s);
			return -1;
		}
		return 0;
	case S_GROUP:
		if (len > 0 && !all_chars(s, "_-.", false)) {
			snprintf(msg, msz, "'%s' is not a valid group name", s);
			return -1;
		}
		return 0;
	case S_KEY:
		if (len > 0 && !is_key_b64(s, len)) {
			snprintf(msg, msz,
			         "'%s' is not a key: base64 of 32 bytes is 43 characters and '='",
			         s);
			return -1;
		}
		return 0;
	}
	return 0;
}

static void
enum_list(const struct enumval *e, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; e->name != NULL && n < size; e++) {
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "", e->name);
	}
}

/*
 * Convert one scalar into dst (the field's storage). plain: the scalar was unquoted.
 * Integers and booleans must be plain, so that "80" or "true" in quotes is a type error
 * instead of silently meaning something.
 */
static int
convert_scalar(const struct field *f, const char *s, size_t len, bool plain, void *dst, char *msg,
               size_t msz)
{
	uint64_t v;

	if (f->type != T_STR && is_null_text(s, plain)) {
		snprintf(msg, msz, "missing value: expected %s", type_name(f));
		return -1;
	}
	if (f->type == T_STR && plain && is_null_text(s, plain)) {
		snprintf(msg, msz, "missing value: expected a string (write \"\" for empty)");
		return -1;
	}
	switch (f->type) {
	case T_INT: {
		uint32_t u;

		if (!plain) {
			snprintf(msg, msz, "expected an integer, got a quoted string");
			return -1;
		}
		if (parse_u64(s, &v, msg, msz) < 0) {
			return -1;
		}
		if (v < f->min || v > f->max) {
			snprintf(msg, msz, "%" PRIu64 " is out of range (%" PRIu64 "..%" PRIu64 ")",
			         v, f->min, f->max);
			return -1;
		}
		if ((f->flags & F_POW2) && (v & (v - 1)) != 0) {
			snprintf(msg, msz, "%" PRIu64 " is not a power of two", v);
			return -1;
		}
		u = (uint32_t)v;
		memcpy(dst, &u, sizeof(u));
		return 0;
	}
	case T_BOOL: {
		bool b;

		if (plain && strcmp(s, "true") == 0) {
			b = true;
		} else if (plain && strcmp(s, "false") == 0) {
			b = false;
		} else {
			snprintf(msg, msz, "expected true or false, got %s'%s'",
			         plain ? "" : "quoted ", s);
			return -1;
		}
		memcpy(dst, &b, sizeof(b));
		return 0;
	}
	case T_STR:
		if (check_string(f, s, len, msg, msz) < 0) {
			return -1;
		}
		memset(dst, 0, f->size);
		memcpy(dst, s, len);
		return 0;
	case T_ENUM: {
		const char *names[16];
		const char *hint;
		char all[128];
		size_t n = 0;

		for (const struct enumval *e = f->enums; e->name != NULL; e++) {
			if (strcmp(e->name, s) == 0) {
				memcpy(dst, &e->value, sizeof(e->value));
				return 0;
			}
			names[n++] = e->name;
		}
		enum_list(f->enums, all, sizeof(all));
		hint = closest(s, names, n);
		snprintf(msg, msz, "'%s' is not one of: %s%s%s%s", s, all,
		         hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
		return -1;
	}
	case T_IPV4: {
		uint32_t a;

		if (parse_ipv4(s, &a, NULL) < 0) {
			snprintf(msg, msz, "'%s' is not an IPv4 address (A.B.C.D)", s);
			return -1;
		}
		memcpy(dst, &a, sizeof(a));
		return 0;
	}
	case T_CIDR: {
		uint32_t a, plen;
		const char *p;

		if (parse_ipv4(s, &a, &p) < 0 || *p != '/') {
			snprintf(msg, msz, "'%s' is not an IPv4 address/prefix (A.B.C.D/N)", s);
			return -1;
		}
		if (parse_u64(p + 1, &v, msg, msz) < 0 || v < 1 || v > 32) {
			snprintf(msg, msz, "'%s': prefix length must be 1..32", s);
			return -1;
		}
		plen = (uint32_t)v;
		memcpy(dst, &a, sizeof(a));
		/* The prefix lives at off2; dst points at off, so step by the distance. */
		memcpy((char *)dst + ((ptrdiff_t)f->off2 - (ptrdiff_t)f->off), &plen, sizeof(plen));
		return 0;
	}
	case T_MAC: {
		uint8_t mac[6];

		for (int i = 0; i < 6; i++) {
			const char *q = s + i * 3;

			if (strlen(s) != 17 || hexval(q[0]) < 0 || hexval(q[1]) < 0 ||
			    (i < 5 && q[2] != ':')) {
				snprintf(msg, msz, "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
				         s);
				return -1;
			}
			mac[i] = (uint8_t)(hexval(q[0]) * 16 + hexval(q[1]));
		}
		if (mac[0] & 1) {
			snprintf(msg, msz, "'%s' is a multicast address; a neighbor is unicast", s);
			return -1;
		}
		memcpy(dst, mac, sizeof(mac));
		return 0;
	}
	case T_MAP:
	case T_LIST:
		break;
	}
	snprintf(msg, msz, "expected %s", type_name(f));
	return -1;
}

/* ------------------------------------------------------------------------------------ */
/* Defaults                                                                              */

static void
apply_defaults(const struct field *fields, char *base)
{
	char msg[XF_CONFIG_ERR_MSG_MAX];

	for (const struct field *f = fields; f->key != NULL; f++) {
		if (f->type == T_MAP) {
			apply_defaults(f->sub, base + f->off);
		} else if (f->type == T_LIST) {
			/* List defaults are "[]" or "[a, b]" of integers. */
			unsigned int n = 0;
			const char *p = f->def != NULL ? f->def + 1 : "]";

			while (*p != ']' && *p != '\0' && n < f->max) {
				char item[32];
				size_t k = 0;

				while (*p == ' ' || *p == ',') {
					p++;
				}
				while (*p != ',' && *p != ']' && *p != '\0' &&
				       k + 1 < sizeof(item)) {
					item[k++] = *p++;
				}
				item[k] = '\0';
				if (convert_scalar(f->sub, item, k, true,
				                   base + f->off + n * f->size, msg,
				                   sizeof(msg)) == 0) {
					n++;
				}
			}
			memcpy(base + f->off2, &n, sizeof(n));
		} else if (f->def != NULL) {
			convert_scalar(f, f->def, strlen(f->def), true, base + f->off, msg,
			               sizeof(msg));
		}
	}
}

/* ------------------------------------------------------------------------------------ */
/* Document walk                                                                         */

static yaml_node_t *
get_node(struct loader *ld, int id)
{
	return yaml_document_get_node(&ld->doc, id);
}

static const char *
node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (is_null_text((const char *)n->data.scalar.value,
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
	yaml_node_t *n = get_node(ld, id);
	int seen[32] = { 0 }; /* key node id per field */
	int npairs;

	if (n->type != YAML_MAPPING_NODE) {
		node_error(ld, id, path, "expected a mapping, got %s", node_kind(n));
		return;
	}
	npairs = (int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	for (int i = 0; i < npairs; i++) {
		yaml_node_pair_t pair = get_node(ld, id)->data.mapping.pairs.start[i];
		yaml_node_t *k = get_node(ld, pair.key);
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
			int other = get_node(ld, id)->data.mapping.pairs.start[j].key;
			yaml_node_t *o = get_node(ld, other);

			if (o->type == YAML_SCALAR_NODE &&
			    strcmp((char *)o->data.scalar.value, key) == 0) {
				unsigned int s, l, c;

				node_pos(ld, other, &s, &l, &c);
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
		f = find_field(fields, key, k->data.scalar.length);
		if (f == NULL) {
			const char *hint = closest_field(key, fields);

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
	yaml_node_t *n = get_node(ld, id);
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
			int item = get_node(ld, id)->data.sequence.items.start[i];
			char *el = arr + (size_t)i * f->size;
			char child[PATH_BUF];

			snprintf(child, sizeof(child), "%s[%d]", path, i);
			memset(el, 0, f->size);
			if (f->sub->type == T_MAP) {
				apply_defaults(f->sub->sub, el);
			}
			walk_value(ld, f->sub, item, el, child);
			stored++;
		}
		memcpy(cnt, &stored, sizeof(stored));
		return;
	}
	if (n->type != YAML_SCALAR_NODE) {
		node_error(ld, id, path, "expected %s, got %s", type_name(f), node_kind(n));
		return;
	}
	if (convert_scalar(f, (const char *)n->data.scalar.value, n->data.scalar.length,
	                   n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, dst, msg,
	                   sizeof(msg)) < 0) {
		node_error(ld, id, path, "%s", msg);
	}
}

/* ------------------------------------------------------------------------------------ */
/* Key paths: "ports[0].mtu"                                                             */

struct seg {
	char key[XF_CONFIG_NAME_MAX];
	long index;       /* -1 = none */
	unsigned int col; /* 1-based column of the key in the override, for its errors */
};

/* Split a key path; returns the number of segments or -1 (message in msg). */
static int
split_path(const char *path, size_t len, struct seg *segs, int max, char *msg, size_t msz)
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
static int
map_get(struct loader *ld, int id, const char *key, int *key_id)
{
	yaml_node_t *n = get_node(ld, id);
	int found = 0;

	if (n == NULL || n->type != YAML_MAPPING_NODE) {
		return 0;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = get_node(ld, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0) {
			found = p->value;
			if (key_id != NULL) {
				*key_id = p->key;
			}
		}
	}
	return found;
}

static int
seq_get(struct loader *ld, int id, long index)
{
	yaml_node_t *n = get_node(ld, id);

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

	if (!ld->have_doc || get_node(ld, 1) == NULL) {
		return 0;
	}
	n = split_path(path, strlen(path), segs, 8, msg, sizeof(msg));
	for (int i = 0; i < n; i++) {
		int next = map_get(ld, id, segs[i].key, NULL);

		if (next == 0) {
			return id;
		}
		id = next;
		if (segs[i].index >= 0) {
			next = seq_get(ld, id, segs[i].index);
			if (next == 0) {
				return id;
			}
			id = next;
		}
	}
	return id;
}

__attribute__((format(printf, 3, 4))) static void
path_error(struct loader *ld, const char *path, const char *fmt, ...)
{
	char msg[XF_CONFIG_ERR_MSG_MAX];
	va_list ap;
	int id = path_node(ld, path);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (id == 0) {
		add_error(ld, 0, 1, 1, path, "%s", msg);
	} else {
		node_error(ld, id, path, "%s", msg);
	}
}

/* ------------------------------------------------------------------------------------ */
/* Event pre-scan: syntax errors, anchors, aliases, tags, several documents              */

static void
syntax_error(struct loader *ld, unsigned int setno, const yaml_parser_t *p, unsigned int coloff,
             const char *key)
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
		add_error(ld, setno, line, col, "", "YAML syntax error: %s%s (%s at %lu:%lu)",
		          problem, hint, p->context, (unsigned long)p->context_mark.line + 1,
		          (unsigned long)p->context_mark.column + 1);
	} else {
		add_error(ld, setno, line, col + coloff, key, "YAML syntax error: %s%s", problem,
		          hint);
	}
}

/* Returns 0 if the text may be loaded; -1 after reporting why not. */
static int
prescan(struct loader *ld, const char *text, size_t len, unsigned int setno, unsigned int coloff,
        const char *key)
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
			syntax_error(ld, setno, &p, coloff, key);
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
				add_error(ld, setno, line, col, key,
				          "only one YAML document is allowed");
				rc = -1;
			}
			break;
		case YAML_ALIAS_EVENT:
			add_error(ld, setno, line, col, key,
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
			add_error(ld, setno, line, col, key, "anchors are not allowed (&%s)",
			          anchor);
			rc = -1;
		}
		if (tag != NULL && !implicit) {
			add_error(ld, setno, line, col, key, "tags are not allowed (%s)", tag);
			rc = -1;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

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
	get_node(ld, id)->start_mark = mark;
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
	const struct field *fields = root_fields;
	const struct field *f = NULL;

	for (int i = 0; i < n; i++) {
		const char *hint;

		if (fields == NULL) {
			add_error(ld, setno, 1, segs[i].col, path, "'%s' has no sub-keys",
			          segs[i - 1].key);
			return NULL;
		}
		f = find_field(fields, segs[i].key, strlen(segs[i].key));
		if (f == NULL) {
			hint = closest_field(segs[i].key, fields);
			add_error(ld, setno, 1, segs[i].col, path, "unknown key '%s'%s%s%s",
			          segs[i].key, hint ? " (did you mean '" : "", hint ? hint : "",
			          hint ? "'?)" : "");
			return NULL;
		}
		if (segs[i].index < 0 && f->type == T_LIST && i + 1 < n) {
			add_error(ld, setno, 1, segs[i].col, path,
			          "'%s' is a list: name an entry, as in %s[0]", segs[i].key,
			          segs[i].key);
			return NULL;
		}
		if (segs[i].index >= 0 && f->type != T_LIST) {
			add_error(ld, setno, 1, segs[i].col, path,
			          "'%s' is not a list and takes no [index]", segs[i].key);
			return NULL;
		}
		if (segs[i].index >= 0 && (uint64_t)segs[i].index >= f->max) {
			add_error(ld, setno, 1, segs[i].col, path,
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

static void
apply_set(struct loader *ld, unsigned int setno, const char *arg)
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
		add_error(ld, setno, 1, 1, "", "expected KEY.PATH=VALUE");
		return;
	}
	snprintf(path, sizeof(path), "%.*s", (int)(eq - arg), arg);
	n = split_path(arg, (size_t)(eq - arg), segs, 8, msg, sizeof(msg));
	if (n < 0) {
		add_error(ld, setno, 1, 1, path, "%s", msg);
		return;
	}
	if (check_set_path(ld, setno, segs, n, path) == NULL) {
		return;
	}
	coloff = (unsigned int)(eq - arg) + 1;
	if (prescan(ld, eq + 1, strlen(eq + 1), setno, coloff, path) < 0) {
		return;
	}
	if (!yaml_parser_initialize(&p)) {
		ld->oom = true;
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)(eq + 1), strlen(eq + 1));
	if (!yaml_parser_load(&p, &vdoc)) {
		syntax_error(ld, setno, &p, coloff, path);
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
			get_node(ld, value)->start_mark.column = coloff;
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
	if (get_node(ld, 1)->type != YAML_MAPPING_NODE) {
		return; /* the root error is reported by the validation */
	}
	for (int i = 0; i < n; i++) {
		bool last = i == n - 1;
		int key_id = 0;
		int next = map_get(ld, id, segs[i].key, &key_id);

		if (next == 0) {
			int k = add_key_node(ld, segs[i].key, setno);
			int child;

			if (segs[i].index > 0) {
				add_error(ld, setno, 1, 1, path,
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
			yaml_node_t *m = get_node(ld, id);

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
			yaml_node_t *s = get_node(ld, id);
			long count;

			if (s->type != YAML_SEQUENCE_NODE) {
				unsigned int ss, l, c;

				node_pos(ld, id, &ss, &l, &c);
				add_error(ld, setno, 1, 1, path,
				          "'%s' is not a sequence (%s:%u:%u)", segs[i].key,
				          ld->file, l, c);
				return;
			}
			count = s->data.sequence.items.top - s->data.sequence.items.start;
			if (segs[i].index > count) {
				add_error(ld, setno, 1, 1, path,
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
				get_node(ld, id)->data.sequence.items.start[segs[i].index] = value;
				return;
			} else {
				id = seq_get(ld, id, segs[i].index);
			}
		}
		if (!last && get_node(ld, id)->type != YAML_MAPPING_NODE) {
			unsigned int ss, l, c;

			node_pos(ld, id, &ss, &l, &c);
			add_error(ld, setno, 1, 1, path, "'%s' is not a mapping (%s:%u:%u)",
			          segs[i].key, ld->file, l, c);
			return;
		}
	}
}

/* ------------------------------------------------------------------------------------ */
/* Cross-field checks                                                                    */

static bool
in_subnet(uint32_t a, uint32_t net, uint32_t plen)
{
	uint32_t mask = plen == 0 ? 0 : ~0u << (32 - plen);

	return (a & mask) == (net & mask);
}

static void
fmt_ipv4(uint32_t a, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void
check_lcores(struct loader *ld, const struct xf_config *c)
{
	struct {
		uint32_t id;
		char kind; /* 'm'ain, 'r'x, 'w'orker */
		char path[48];
	} used[1 + XF_CONFIG_MAX_RX + XF_CONFIG_MAX_WORKERS];
	unsigned int n = 0;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	used[n].id = c->cores.main;
	used[n].kind = 'm';
	snprintf(used[n++].path, sizeof(used[0].path), "cores.main");
	for (unsigned int i = 0; i < c->cores.n_rx; i++) {
		used[n].id = c->cores.rx[i];
		used[n].kind = 'r';
		snprintf(used[n++].path, sizeof(used[0].path), "cores.rx[%u]", i);
	}
	for (unsigned int i = 0; i < c->cores.n_workers; i++) {
		used[n].id = c->cores.workers[i];
		used[n].kind = 'w';
		snprintf(used[n++].path, sizeof(used[0].path), "cores.workers[%u]", i);
	}
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = 0; j < i; j++) {
			/* A worker may share an RX core's lcore: combined mode (docs/ENGINE.md). */
			bool combined = used[i].kind == 'w' && used[j].kind == 'r';

			if (used[i].id == used[j].id && !combined) {
				path_error(ld, used[i].path, "lcore %u is already used by %s",
				           used[i].id, used[j].path);
				break;
			}
		}
	}
	for (unsigned int i = 0; i < c->cores.n_cpus; i++) {
		char path[48];

		snprintf(path, sizeof(path), "cores.cpus[%u]", i);
		if (ncpu > 0 && c->cores.cpus[i] >= (uint32_t)ncpu) {
			path_error(ld, path, "CPU %u does not exist (this host has %ld CPUs)",
			           c->cores.cpus[i], ncpu);
		}
		for (unsigned int j = 0; j < i; j++) {
			if (c->cores.cpus[j] == c->cores.cpus[i]) {
				path_error(ld, path, "CPU %u is listed twice (also cores.cpus[%u])",
				           c->cores.cpus[i], j);
				break;
			}
		}
	}
}

static void
check_unique_names(struct loader *ld, const char *list, const char *base, size_t stride,
                   unsigned int n, const char *what)
{
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = 0; j < i; j++) {
			const char *a = base + i * stride, *b = base + j * stride;

			if (a[0] != '\0' && strcmp(a, b) == 0) {
				char path[64];

				snprintf(path, sizeof(path), "%s[%u].%s", list, i, what);
				path_error(ld, path, "%s '%s' is already used by %s[%u]", what, a,
				           list, j);
				break;
			}
		}
	}
}

static void
check_ports(struct loader *ld, struct xf_config *c)
{
	char a[16], path[64];

	check_unique_names(ld, "ports", c->ports[0].name, sizeof(c->ports[0]), c->n_ports, "name");
	check_unique_names(ld, "ports", c->ports[0].device, sizeof(c->ports[0]), c->n_ports,
	                   "device");
	for (unsigned int i = 0; i < c->n_ports; i++) {
		const struct xf_config_port *p = &c->ports[i];

		if (!c->eal.pci && is_pci_addr(p->device)) {
			snprintf(path, sizeof(path), "ports[%u].device", i);
			path_error(ld, path, "'%s' is a PCI device but eal.pci is false",
			           p->device);
		}
		for (unsigned int j = 0; j < p->n_neighbors; j++) {
			const struct xf_config_neighbor *nb = &p->neighbors[j];

			if (!in_subnet(nb->ipv4, p->ipv4, p->prefix_len)) {
				fmt_ipv4(nb->ipv4, a, sizeof(a));
				snprintf(path, sizeof(path), "ports[%u].neighbors[%u].ipv4", i, j);
				path_error(ld, path, "%s is outside the subnet of port '%s'", a,
				           p->name);
			}
		}
	}
}

static void
check_peers(struct loader *ld, struct xf_config *c)
{
	char a[16], path[64];

	check_unique_names(ld, "peers", c->peers[0].name, sizeof(c->peers[0]), c->n_peers, "name");
	for (unsigned int i = 0; i < c->n_peers; i++) {
		struct xf_config_peer *pe = &c->peers[i];
		int found = -1;

		fmt_ipv4(pe->ipv4, a, sizeof(a));
		if (pe->port[0] != '\0') {
			for (unsigned int j = 0; j < c->n_ports; j++) {
				if (strcmp(c->ports[j].name, pe->port) == 0) {
					found = (int)j;
				}
			}
			snprintf(path, sizeof(path), "peers[%u].port", i);
			if (found < 0) {
				path_error(ld, path, "no port is named '%s'", pe->port);
				continue;
			}
			if (!in_subnet(pe->ipv4, c->ports[found].ipv4,
			               c->ports[found].prefix_len)) {
				snprintf(path, sizeof(path), "peers[%u].ipv4", i);
				path_error(ld, path, "%s is outside the subnet of port '%s'", a,
				           pe->port);
				continue;
			}
		} else {
			for (unsigned int j = 0; j < c->n_ports && found < 0; j++) {
				if (in_subnet(pe->ipv4, c->ports[j].ipv4, c->ports[j].prefix_len)) {
					found = (int)j;
				}
			}
			if (found < 0) {
				snprintf(path, sizeof(path), "peers[%u].ipv4", i);
				path_error(ld, path, "%s is not inside the subnet of any port", a);
				continue;
			}
			snprintf(pe->port, sizeof(pe->port), "%s", c->ports[found].name);
		}
		pe->port_index = (unsigned int)found;
		if (pe->ipv4 == c->ports[found].ipv4) {
			snprintf(path, sizeof(path), "peers[%u].ipv4", i);
			path_error(ld, path, "%s is the address of port '%s' itself", a,
			           c->ports[found].name);
		}
	}
}

static void
check_volumes(struct loader *ld, const struct xf_config *c)
{
	char path[64];
	struct stat st;

	check_unique_names(ld, "volumes", c->volumes[0].name, sizeof(c->volumes[0]), c->n_volumes,
	                   "name");
	for (unsigned int i = 0; i < c->n_volumes; i++) {
		const char *p = c->volumes[i].path;

		if (p[0] != '/') {
			continue; /* already reported */
		}
		snprintf(path, sizeof(path), "volumes[%u].path", i);
		if (stat(p, &st) < 0) {
			path_error(ld, path, "'%s': %s", p, strerror(errno));
		} else if (!S_ISDIR(st.st_mode)) {
			path_error(ld, path, "'%s' is not a directory", p);
		}
	}
}

static bool has_error_under(const struct loader *ld, unsigned int first, const char *prefix);

static void
check_session(struct loader *ld, const struct xf_config *c, unsigned int first)
{
	const struct loader *view = ld;
	const char *psk = c->session.psk_file;
	struct stat st;

	if (has_error_under(view, first, "session.psk_file")) {
		psk = "";
	}
	if (!has_error_under(view, first, "session.keepalive_ms") &&
	    !has_error_under(view, first, "session.timeout_ms") &&
	    c->session.keepalive_ms >= c->session.timeout_ms) {
		path_error(ld, "session.keepalive_ms",
		           "keepalive_ms (%u) must be less than timeout_ms (%u)",
		           c->session.keepalive_ms, c->session.timeout_ms);
	}
	if (psk[0] == '/') {
		if (stat(psk, &st) < 0) {
			path_error(ld, "session.psk_file", "'%s': %s", psk, strerror(errno));
		} else if (!S_ISREG(st.st_mode)) {
			path_error(ld, "session.psk_file", "'%s' is not a regular file", psk);
		} else if ((st.st_mode & 07777) != 0600) {
			path_error(ld, "session.psk_file",
			           "'%s' has mode %04o; a key file must be mode 0600 (owner-only)",
			           psk, (unsigned int)(st.st_mode & 07777));
		}
	}
	if (c->control.socket_group[0] != '\0' &&
	    !has_error_under(view, first, "control.socket_group")) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(c->control.socket_group, &gr, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			path_error(ld, "control.socket_group", "no group is named '%s'",
			           c->control.socket_group);
		}
	}
}

/*
 * Run each cross-field check unless a key it reads already has an error: a value that
 * failed to convert still holds its default, and checking it would report nonsense.
 */
static bool
has_error_under(const struct loader *ld, unsigned int first, const char *prefix)
{
	size_t n = strlen(prefix);

	for (unsigned int i = first; i < ld->errs->count; i++) {
		const char *k = ld->errs->items[i].key;

		if (strncmp(k, prefix, n) == 0 && (k[n] == '\0' || k[n] == '.' || k[n] == '[')) {
			return true;
		}
	}
	return false;
}

static void
cross_checks(struct loader *ld, struct xf_config *c, unsigned int first)
{
	if (!has_error_under(ld, first, "cores")) {
		check_lcores(ld, c);
	}
	if (!has_error_under(ld, first, "ports") && !has_error_under(ld, first, "eal.pci")) {
		check_ports(ld, c);
	}
	if (!has_error_under(ld, first, "ports") && !has_error_under(ld, first, "peers")) {
		check_peers(ld, c);
	}
	if (!has_error_under(ld, first, "volumes")) {
		check_volumes(ld, c);
	}
	check_session(ld, c, first);
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
	apply_defaults(root_fields, (char *)cfg);

	if (prescan(&ld, buf, ld.len, 0, 0, "") < 0) {
		goto done;
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = -ENOMEM;
		goto err_free_cfg;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, ld.len);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		syntax_error(&ld, 0, &parser, 0, "");
		yaml_parser_delete(&parser);
		goto done;
	}
	yaml_parser_delete(&parser);
	ld.have_doc = true;
	ld.n_file_nodes = (int)(ld.doc.nodes.top - ld.doc.nodes.start);
	root = yaml_document_get_root_node(&ld.doc);
	if (root == NULL) {
		add_error(&ld, 0, 1, 1, "",
		          "the configuration file is empty (version: 1 is required)");
		goto done;
	}
	for (unsigned int i = 0; i < nsets && !ld.oom; i++) {
		apply_set(&ld, i + 1, sets[i]);
	}
	root = yaml_document_get_root_node(&ld.doc);
	if (root->type != YAML_MAPPING_NODE) {
		node_error(&ld, 1, "", "the top level must be a mapping of keys, got %s",
		           node_kind(root));
		goto done;
	}
	{
		int vid = map_get(&ld, 1, "version", NULL);
		uint32_t version = 0;
		char msg[XF_CONFIG_ERR_MSG_MAX];

		if (vid == 0) {
			add_error(&ld, 0, 1, 1, "version",
			          "missing required key 'version' (this xferd reads version: 1)");
			goto done;
		}
		yaml_node_t *v = get_node(&ld, vid);
		if (v->type != YAML_SCALAR_NODE ||
		    convert_scalar(&(struct field){ .type = T_INT, .max = UINT32_MAX },
		                   (char *)v->data.scalar.value, v->data.scalar.length,
		                   v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, &version, msg,
		                   sizeof(msg)) < 0 ||
		    version != XF_CONFIG_VERSION) {
			node_error(
			        &ld, vid, "version",
			        "unsupported configuration version (this xferd reads version: %d)",
			        XF_CONFIG_VERSION);
			goto done;
		}
	}
	walk_map(&ld, root_fields, 1, (char *)cfg, "");
	cross_checks(&ld, cfg, first);
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
		add_error(&ld, 0, 0, 0, "", "cannot read: %s", strerror(-rc));
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
		add_error(&ld, 0, 0, 0, "", "cannot read: %s", strerror(EFBIG));
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
		fmt_ipv4(a, buf, size);
		return;
	}
	case T_CIDR: {
		uint32_t a, plen;
		char ip[16];

		memcpy(&a, src, sizeof(a));
		memcpy(&plen, src + ((ptrdiff_t)f->off2 - (ptrdiff_t)f->off), sizeof(plen));
		fmt_ipv4(a, ip, sizeof(ip));
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
	dump_map(f, root_fields, (const char *)cfg, 0, false);
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

	diff_map(&d, root_fields, (const char *)old_cfg, (const char *)new_cfg, "");
	if (needs_restart != NULL) {
		*needs_restart = d.restart;
	}
	return d.changes;
}

/* ------------------------------------------------------------------------------------ */
/* EAL arguments                                                                         */

static int push_arg(char **argv, int *argc, int max, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int
push_arg(char **argv, int *argc, int max, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (*argc + 1 >= max) {
		return -E2BIG;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return -ENOMEM;
	}
	argv[(*argc)++] = s;
	argv[*argc] = NULL;
	return 0;
}

static size_t
fmt_id_list(char *buf, size_t size, const uint32_t *ids, unsigned int n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && len < size; i++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%u", i ? "," : "", ids[i]);
	}
	return len;
}

int
xf_config_eal_args(const struct xf_config *cfg, char **argv, int max)
{
	uint32_t lcores[1 + XF_CONFIG_MAX_RX + XF_CONFIG_MAX_WORKERS];
	unsigned int n = 0;
	char list[2048], cpus[1024];
	int argc = 0, rc;

	if (max < 1) {
		return -E2BIG;
	}
	argv[0] = NULL;
	lcores[n++] = cfg->cores.main;
	for (unsigned int i = 0; i < cfg->cores.n_rx; i++) {
		lcores[n++] = cfg->cores.rx[i];
	}
	for (unsigned int i = 0; i < cfg->cores.n_workers; i++) {
		bool combined = false; /* a worker on an RX core's lcore is listed once */

		for (unsigned int j = 0; j < cfg->cores.n_rx; j++) {
			combined |= cfg->cores.rx[j] == cfg->cores.workers[i];
		}
		if (!combined) {
			lcores[n++] = cfg->cores.workers[i];
		}
	}
	/* Ascending order reads better and is what EAL prints back. */
	for (unsigned int i = 1; i < n; i++) {
		for (unsigned int j = i; j > 0 && lcores[j - 1] > lcores[j]; j--) {
			uint32_t t = lcores[j];

			lcores[j] = lcores[j - 1];
			lcores[j - 1] = t;
		}
	}
	rc = push_arg(argv, &argc, max, "xferd");
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "--file-prefix=%s", cfg->eal.file_prefix);
	}
	if (rc == 0 && cfg->cores.n_cpus == 0) {
		fmt_id_list(list, sizeof(list), lcores, n);
		rc = push_arg(argv, &argc, max, "-l");
		if (rc == 0) {
			rc = push_arg(argv, &argc, max, "%s", list);
		}
	} else if (rc == 0) {
		size_t len = 0;

		fmt_id_list(cpus, sizeof(cpus), cfg->cores.cpus, cfg->cores.n_cpus);
		for (unsigned int i = 0; i < n && len < sizeof(list); i++) {
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u@(%s)",
			                        i ? "," : "", lcores[i], cpus);
		}
		rc = push_arg(argv, &argc, max, "--lcores=%s", list);
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "--main-lcore=%u", cfg->cores.main);
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "-m");
	}
	if (rc == 0) {
		rc = push_arg(argv, &argc, max, "%u", cfg->eal.memory_mb);
	}
	if (rc == 0 && !cfg->eal.hugepages) {
		rc = push_arg(argv, &argc, max, "--no-huge");
	}
	if (rc == 0 && !cfg->eal.pci) {
		rc = push_arg(argv, &argc, max, "--no-pci");
	}
	for (unsigned int i = 0; rc == 0 && i < cfg->n_ports; i++) {
		if (is_pci_addr(cfg->ports[i].device)) {
			rc = push_arg(argv, &argc, max, "-a");
			if (rc == 0) {
				rc = push_arg(argv, &argc, max, "%s", cfg->ports[i].device);
			}
		} else {
			rc = push_arg(argv, &argc, max, "--vdev=%s", cfg->ports[i].device);
		}
	}
	for (unsigned int i = 0; rc == 0 && i < cfg->eal.n_extra_args; i++) {
		rc = push_arg(argv, &argc, max, "%s", cfg->eal.extra_args[i]);
	}
	if (rc < 0) {
		xf_config_eal_args_free(argv, argc);
		argv[0] = NULL;
		return rc;
	}
	return argc;
}

void
xf_config_eal_args_free(char **argv, int argc)
{
	for (int i = 0; i < argc; i++) {
		free(argv[i]);
		argv[i] = NULL;
	}
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
		enum_list(f->enums, buf, size);
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
		return f->sub->type == T_MAP
		               ? "list of mappings"
		               : (f->sub->type == T_STR ? "list of strings" : "list of integers");
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
	doc_fields(f, root_fields, "");
	return ferror(f) ? -EIO : 0;
}
