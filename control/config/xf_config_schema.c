/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The schema: one table entry per key of docs/CONFIG.md, with its type, range, flags,
 * default and description. The loader walks the document with it, the printers walk the
 * struct with it and the docs table is generated from it, so a key exists in one place.
 * The ranges are the engine's (e2e-config-bounds starts the daemon at each bound).
 */
#include <stddef.h>

#include "xf_config_priv.h"

_Static_assert(sizeof(enum xf_config_fsync) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_config_idle) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_config_security) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_config_congestion) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum xf_log_level) == sizeof(int), "enums are stored as int");

static const struct enumval log_levels[] = {
	{ "err", XF_LOG_ERR },   { "warning", XF_LOG_WARNING }, { "notice", XF_LOG_NOTICE },
	{ "info", XF_LOG_INFO }, { "debug", XF_LOG_DEBUG },     { NULL, 0 },
};
static const struct enumval idle_modes[] = {
	{ "backoff", XF_CONFIG_IDLE_BACKOFF },
	{ "poll", XF_CONFIG_IDLE_POLL },
	{ NULL, 0 },
};
static const struct enumval security_modes[] = {
	{ "aead", XF_CONFIG_SECURITY_AEAD },
	{ "none", XF_CONFIG_SECURITY_NONE },
	{ NULL, 0 },
};
static const struct enumval congestion_modes[] = {
	{ "none", XF_CONFIG_CC_NONE },
	{ "bbr", XF_CONFIG_CC_BBR },
	{ "scavenger", XF_CONFIG_CC_SCAVENGER },
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
static const struct enumval verify_modes[] = {
	{ "fast", XF_CONFIG_VERIFY_FAST },
	{ "full", XF_CONFIG_VERIFY_FULL },
	{ NULL, 0 },
};
static const struct enumval apply_modes[] = {
	{ "auto", XF_CONFIG_APPLY_AUTO },
	{ "read_write", XF_CONFIG_APPLY_READ_WRITE },
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
static const struct enumval xattr_ns_names[] = {
	{ "security", XF_CONFIG_XATTR_SECURITY },
	{ "trusted", XF_CONFIG_XATTR_TRUSTED },
	{ NULL, 0 },
};
static const struct field el_xattr_ns = { .type = T_ENUM, .enums = xattr_ns_names };
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
	    "Percentage of sent frames the test-only reordering stage holds back, each for 8 "
	    "frames; 0 = off"),
	INT("seed", struct xf_config_fault, seed, 0, UINT32_MAX, 0, "1",
	    "Seed of the fault stage's deterministic generator (queue q uses seed + q)"),
	INT("rate_mbit", struct xf_config_fault, rate_mbit, 0, 100000, 0, "0",
	    "Emulated link on the port's transmit side (docs/RELIABILITY.md): bottleneck rate "
	    "in Mbit/s of Ethernet frame bytes; 0 = no limit"),
	INT("delay_ms", struct xf_config_fault, delay_ms, 0, 10000, 0, "0",
	    "Emulated link: one-way delay in ms (needs rate_mbit; rate x delay plus the queue "
	    "must fit the stage's preallocated slots and half the mbuf pool)"),
	INT("queue_bytes", struct xf_config_fault, queue_bytes, 0, 12000000, 0, "0",
	    "Emulated link: drop-tail queue in bytes (needs rate_mbit); 0 = one BDP of rate x "
	    "2 x delay_ms, at least 65536"),
	INT("loss_ppm", struct xf_config_fault, loss_ppm, 0, 1000000, 0, "0",
	    "Emulated link: random loss in parts per million (10000 = 1%)"),
	INT("burst_ppm", struct xf_config_fault, burst_ppm, 0, 1000000, 0, "0",
	    "Emulated link: bursty loss (Gilbert-Elliott), the chance per frame in parts per "
	    "million that a burst starts; 0 = off"),
	INT("burst_frames", struct xf_config_fault, burst_frames, 1, 1000000, 0, "4",
	    "Emulated link: mean length of a loss burst, frames"),
	INT("burst_loss_percent", struct xf_config_fault, burst_loss_percent, 0, 100, 0, "100",
	    "Emulated link: percentage of frames lost while a burst lasts"),
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
	    "UDP port xferd listens on; lane k of a push sends from udp_port + k, and flow "
	    "rules steer lanes by these ports (docs/ENGINE.md, \"Steering\")"),
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
	ENUM("verify", struct xf_config_volume, verify, verify_modes, 0, "fast",
	     "How a received file's CRC-64 is checked: fast (from the bytes written and, for "
	     "cloned ranges, the basis's block CRCs; read back only where needed) or full "
	     "(every file read back)"),
	ENUM("delta_apply", struct xf_config_volume, delta_apply, apply_modes, 0, "auto",
	     "How DELTA files reuse the old file: auto (clone its blocks where the file system "
	     "can, else copy_file_range, else read and write; probed at start) or read_write"),
	/* restart: the workers allocate and load the cache when the pipeline is made */
	INT("sig_cache_mb", struct xf_config_volume, sig_cache_mb, 0, 4096, 0, "64",
	    "Signature cache of the volume, MiB (shared out over its workers, kept in "
	    ".xferd/): the block sums and CRC-64s of each basis signed, and of each file of "
	    "64 KiB or more this receiver writes (made at its commit), so that a push that "
	    "finds it unchanged does not read it again; 0 = off"),
	/* restart: the pipeline takes it when it is made */
	BOOL("keep_owner", struct xf_config_volume, keep_owner, 0, "false",
	     "Keep the owners and groups a push sends (xferctl push -o, -g: numeric uid and "
	     "gid; needs CAP_CHOWN: an entry that cannot have them fails with status ATTR); "
	     "false = a push that asks for them is refused"),
	/* reload: a session takes the value in effect when it opens (xf_engine_params) */
	BOOL("compress", struct xf_config_volume, compress, F_RELOAD, "false",
	     "Ask every push into this volume to compress its DATA literals, as xferctl push "
	     "--compress does (its HELLO_ACK says so: docs/PROTOCOL.md 6.16), unless the push "
	     "said --no-compress; a pull served from a directory in it compresses too"),
	/* restart: the pipeline takes it when it is made */
	LIST("xattr_namespaces", struct xf_config_volume, xattr_namespaces, n_xattr_namespaces, 0,
	     &el_xattr_ns, 0, "[]",
	     "Extended attribute namespaces kept beyond user.* (always kept) when a push sends "
	     "attributes (xferctl push -X): security, trusted (setting trusted.* needs "
	     "CAP_SYS_ADMIN); attributes of the others are left out, counted in xattrs_skipped"),
	/* restart: the pipeline scans and bounds the partial files when it is made */
	INT("partial_max_files", struct xf_config_volume, partial_max_files, 0, 4096, 0, "16",
	    "Partial files kept for a resumed push, at most: the temp file of a file of 1 MiB "
	    "or more that failed or whose session ended before it was verified, kept in "
	    ".xferd/partial/ as the delta basis of the next push of the same path and version; "
	    "oldest removed first; 0 = none kept (and those there removed at start)"),
	INT("partial_max_mb", struct xf_config_volume, partial_max_mb, 0, 16777216, 0, "65536",
	    "Space the partial files of the volume take, at most, MiB (allocated blocks); "
	    "oldest removed first"),
	/* restart: each volume's pipeline is made over its workers */
	LIST("workers", struct xf_config_volume, workers, n_workers, 0, &el_lcore, 0, "[]",
	     "Worker lcores (of cores.workers, unique) that write this volume, the first "
	     "committing; [] = every worker"),
	{ .key = "fault",
	  .type = T_MAP,
	  .off = 0,
	  .sub = volume_fault_fields,
	  .doc = "Test-only fault stage of the volume (default off)" },
	END_OF_FIELDS,
};
static const struct field el_volume = { .type = T_MAP, .sub = volume_fields };

static const struct field peer_fields[] = {
	/* reload: a peer keeps the engine's slot by name; a change of address, port or key
	 * ends its sessions (xferd_peers_reload, docs/CONTROL.md "Reload") */
	STR("name", struct xf_config_peer, name, 1, S_IDENT, F_REQUIRED | F_RELOAD, NULL,
	    "Identifier, unique among peers"),
	{ .key = "ipv4",
	  .type = T_IPV4,
	  .off = OFF(struct xf_config_peer, ipv4),
	  .flags = F_REQUIRED | F_RELOAD,
	  .doc = "Peer address, inside the subnet of a port" },
	INT("udp_port", struct xf_config_peer, udp_port, 1, 65535, F_RELOAD, "7010",
	    "Peer's UDP port; rules that steer its lanes to queues are made for the ports "
	    "configured at start"),
	STR("port", struct xf_config_peer, port, 0, S_IDENT, F_RELOAD, NULL,
	    "Name of the port that reaches it; default: the first port whose subnet holds ipv4"),
	STR("public_key", struct xf_config_peer, public_key, 0, S_KEY, F_RELOAD, "",
	    "Its X25519 public key (the output of xferd keygen on it), base64 of 32 bytes: "
	    "only its holder opens sessions from this address (session.security aead); "
	    "\"\" = none: its sessions are refused"),
	BOOL("allow_pull", struct xf_config_peer, allow_pull, F_RELOAD, "false",
	     "It may pull (xferctl pull on it): this appliance then pushes it a directory "
	     "beneath control.push_roots that it names; false: its pulls are refused"),
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
	/* Restart: the mbuf pool and every session's tables are sized from it at start. */
	INT("window_max_frames", struct xf_config, session.window_max_frames, 4096, 65536, F_POW2,
	    "4096",
	    "Most frames a session keeps in flight: its sent-frame table starts "
	    "at 4096 and grows to twice the measured bandwidth-delay product up to this, the "
	    "peer's receive window is twice this (both appliances must have the same value, or "
	    "the receiver a larger one); each frame costs one mbuf of the pool while in "
	    "flight (docs/RELIABILITY.md)"),
	INT("max_sessions", struct xf_config, session.max_sessions, 1, XF_CONFIG_MAX_SESSIONS, 0,
	    "16", "Concurrent receive sessions"),
	INT("max_sessions_per_peer", struct xf_config, session.max_sessions_per_peer, 1,
	    XF_CONFIG_MAX_SESSIONS_PER_PEER, 0, "8",
	    "Concurrent sessions one peer address may hold (HELLOs beyond are refused BUSY), "
	    "so one peer cannot take every slot"),
	/* restart: the RX cores read it from the engine's configuration */
	INT("max_jobs_per_peer", struct xf_config, session.max_jobs_per_peer, 1, XF_CONFIG_MAX_JOBS,
	    0, "8",
	    "Push jobs to one peer that run at once (more wait queued, first asked first "
	    "run); keep it at most the peer's max_sessions_per_peer"),
	INT("rate_mbit", struct xf_config, session.rate_mbit, 0, 400000, F_RELOAD, "0",
	    "Ceiling of each session's pacing rate in Mbit/s (congestion control paces below "
	    "it), 0 = none"),
	ENUM("congestion", struct xf_config, session.congestion, congestion_modes, F_RELOAD, "none",
	     "Congestion control: none (paced at rate_mbit; the default: on a loaded host bbr "
	     "still takes random loss for congestion, docs/RELIABILITY.md), "
	     "bbr (BBRv3: finds the path's rate) or scavenger "
	     "(LEDBAT-style: keeps its queueing delay under 5 ms and yields to any other traffic)"),
	INT("timeout_ms", struct xf_config, session.timeout_ms, 100, 3600000, F_RELOAD, "10000",
	    "Idle session timeout"),
	INT("keepalive_ms", struct xf_config, session.keepalive_ms, 10, 600000, F_RELOAD, "1000",
	    "Keepalive interval, must be < timeout_ms"),
	STR("psk_file", struct xf_config, session.psk_file, 0, S_OPTPATH, 0, "",
	    "Pre-shared key mixed into every handshake (xferd keygen makes one): regular, mode "
	    "0600; content never printed; both sides must have the same one, or none; "
	    "\"\" = none"),
	STR("private_key_file", struct xf_config, session.private_key_file, 0, S_OPTPATH, 0, "",
	    "This appliance's X25519 private key (xferd keygen): base64, mode 0600, owned by "
	    "xferd's user; content never printed; \"\" = none"),
	/* restart: the engine's keys and crypto managers are made at start */
	ENUM("security", struct xf_config, session.security, security_modes, 0, "aead",
	     "aead: Noise IKpsk2 handshake and AES-256-GCM on every frame; none: frames in "
	     "clear and peers trusted by address (lab only; warns at every start; a peer is "
	     "served only if it also runs none)"),
	/* restart: the engine takes them at start (tests shorten them) */
	INT("rekey_after_ms", struct xf_config, session.rekey_after_ms, 1000, 3600000, 0, "120000",
	    "A push starts a new handshake when its session's keys are this old (aead); its "
	    "message 1 goes out again, fresh, every second until answered"),
	INT("reject_after_ms", struct xf_config, session.reject_after_ms, 2000, 7200000, 0,
	    "180000",
	    "Keys this old seal and open nothing (aead): a session whose new handshake did "
	    "not finish by then stalls and times out; must be > rekey_after_ms"),
	INT("key_update_frames", struct xf_config, session.key_update_frames, 1024, 4194304, 0,
	    "4194304",
	    "Frames sealed under one key before the sender updates it (aead; AES-GCM's limit "
	    "is 2^23 per key, RFC 9001 6.6)"),
	/* restart: each RX core takes it at start */
	INT("handshake_load", struct xf_config, session.handshake_load, 1, 100000, 0, "64",
	    "HELLOs with a valid mac1 per second on one RX core from which it is under load "
	    "(aead): then an initiation without a valid mac2 gets a cookie reply and no "
	    "Diffie-Hellman work, and at most this many with a valid mac2 per second get it"),
	END_OF_FIELDS,
};

static const struct field transfer_fields[] = {
	BOOL("checksum", struct xf_config, transfer.checksum, F_RELOAD, "false",
	     "Quick check by whole-file checksum instead of size+mtime"),
	BOOL("compress", struct xf_config, transfer.compress, F_RELOAD, "false",
	     "Pushes compress DATA literals per frame (igzip, level 0) where it saves 1/16 or "
	     "more, unless xferctl push says --no-compress (docs/PROTOCOL.md 6.16)"),
	INT("lanes", struct xf_config, transfer.lanes, 1, 16, F_RELOAD, "1",
	    "Sessions that carry one push, unless xferctl push says --lanes N: its file list split "
	    "by bytes, each on its own UDP source port and, over net_memif, RX core "
	    "(docs/ENGINE.md, \"Lanes\")"),
	BOOL("redo", struct xf_config, transfer.redo, F_RELOAD, "true",
	     "Pushes ask the peer to have a DELTA file that fails its CRC-64 sent again whole "
	     "in the same push (XF_HELLO_F_REDO, docs/PROTOCOL.md 6.19); false for a peer "
	     "whose xferd predates it, which refuses the flag"),
	/* restart: storage contexts are made with the workers */
	ENUM("io", struct xf_config, transfer.io, io_modes, 0, "auto",
	     "File I/O: auto (inline on tmpfs, ramfs and XFS, where io_uring hands most "
	     "operations to a kernel thread; elsewhere io_uring for fsync, the rest inline), "
	     "io_uring, or inline"),
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

static const struct field metrics_fields[] = {
	/* restart: the HTTP server's socket is bound at start */
	STR("listen", struct xf_config, metrics.listen, 0, S_LISTEN, 0, "",
	    "Prometheus /metrics endpoint IPV4:PORT, served by its own thread off the dataplane "
	    "cores (docs/OPERATIONS.md, \"Metrics\"); \"\" = off"),
	END_OF_FIELDS,
};

const struct field xf_config_root_fields[] = {
	INT("version", struct xf_config, version, 1, 1, F_REQUIRED, NULL,
	    "Schema version, must be 1"),
	ROOTMAP("appliance", appliance_fields, 0, "Identity and logging"),
	ROOTMAP("eal", eal_fields, 0, "DPDK EAL arguments"),
	ROOTMAP("cores", cores_fields, 0, "Core assignment"),
	LIST("ports", struct xf_config, ports, n_ports, 1, &el_port, F_REQUIRED, NULL,
	     "DPDK ports, 1..4"),
	LIST("volumes", struct xf_config, volumes, n_volumes, 1, &el_volume, F_REQUIRED, NULL,
	     "Storage volumes, 1..16; a push names one as PEER::VOLUME/PATH, PEER:PATH is the "
	     "first"),
	LIST("peers", struct xf_config, peers, n_peers, 0, &el_peer, F_RELOAD, "[]",
	     "Remote appliances (the allowlist), 0..256"),
	ROOTMAP("session", session_fields, 0, "Session protocol"),
	ROOTMAP("transfer", transfer_fields, 0, "Transfer behaviour"),
	ROOTMAP("control", control_fields, 0, "Control socket"),
	ROOTMAP("metrics", metrics_fields, 0, "Prometheus metrics"),
	END_OF_FIELDS,
};
