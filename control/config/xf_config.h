/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * xf_config: one YAML file (schema version 1, docs/CONFIG.md) becomes an immutable,
 * validated struct xf_config. Errors carry FILE:LINE:COL and the key path, all errors of
 * a run are collected, and --set KEY.PATH=VALUE overrides are applied to the parsed
 * document before validation. No EAL here: the EAL argument vector is only built.
 */
#ifndef XF_CONFIG_H
#define XF_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "xf_base.h"
#include "xf_fault.h"

#define XF_CONFIG_VERSION        1   /**< The schema version this loader reads. */
#define XF_CONFIG_NAME_MAX       64  /**< Names and identifiers: 63 characters + NUL. */
#define XF_CONFIG_KEY_B64_MAX    45  /**< base64 of a 32-byte key: 44 characters + NUL. */
#define XF_CONFIG_PATH_MAX       256 /**< Paths: 255 characters + NUL. */
#define XF_CONFIG_SOCKET_MAX     108 /**< Unix socket path: sizeof(sun_path). */
#define XF_CONFIG_LISTEN_MAX     22  /**< "255.255.255.255:65535" + NUL. */
#define XF_CONFIG_DEVICE_MAX     256 /**< Device string (PCI address or vdev). */
#define XF_CONFIG_ARG_MAX        128 /**< One extra EAL argument. */
#define XF_CONFIG_MAX_LCORE      127 /**< Highest lcore id (RTE_MAX_LCORE - 1). */
#define XF_CONFIG_MAX_RX         8   /**< RX cores: the engine's XF_ENGINE_MAX_RX. */
#define XF_CONFIG_MAX_WORKERS    16  /**< Workers: the engine's XF_ENGINE_MAX_WORKERS. */
#define XF_CONFIG_MAX_CPUS       128
#define XF_CONFIG_MAX_EXTRA_ARGS 32
#define XF_CONFIG_MAX_PORTS      4
#define XF_CONFIG_MAX_NEIGHBORS  32   /**< Static ARP entries: XF_ENGINE_MAX_NEIGH. */
#define XF_CONFIG_MAX_VOLUMES    16   /**< Volumes: the engine's XF_ENGINE_MAX_VOLUMES. */
#define XF_CONFIG_MAX_PEERS      256  /**< Peers: the engine's XF_ENGINE_MAX_PEERS. */
#define XF_CONFIG_MAX_SESSIONS   64   /**< Receive sessions the pipeline holds at once. */
#define XF_CONFIG_MAX_JOBS       64   /**< Push jobs the engine holds: XF_ENGINE_MAX_JOBS. */
#define XF_CONFIG_MTU_MAX        9000 /**< The largest IP MTU the network layer takes. */
#define XF_CONFIG_MAX_PUSH_ROOTS 16   /**< control.push_roots entries. */
#define XF_CONFIG_ERR_KEY_MAX    128
#define XF_CONFIG_ERR_MSG_MAX    320
#define XF_CONFIG_ERR_SOURCE_MAX 256

/** Highest session.max_sessions_per_peer (= XF_ENGINE_MAX_SESSIONS_PER_PEER). */
#define XF_CONFIG_MAX_SESSIONS_PER_PEER 1024

/** Congestion control of a session; the values are xf_cc.h's XF_CC_*. */
enum xf_config_congestion {
	XF_CONFIG_CC_NONE = 0, /**< none: paced at rate_mbit (0: the NIC's), window = the table. */
	XF_CONFIG_CC_BBR = 1,  /**< BBRv3: the path's rate, rate_mbit a ceiling. */
	XF_CONFIG_CC_SCAVENGER = 2, /**< LEDBAT-style: yields to other traffic. */
};

/** How an idle polling core waits (cores.idle). */
enum xf_config_idle {
	XF_CONFIG_IDLE_BACKOFF = 0, /**< Spin a bounded number of times, then sleep briefly. */
	XF_CONFIG_IDLE_POLL = 1,    /**< Poll without ever sleeping (isolated cores). */
};

/** Protection of sessions (session.security, docs/SECURITY.md). */
enum xf_config_security {
	XF_CONFIG_SECURITY_AEAD = 0, /**< Noise IKpsk2 handshake, every frame AES-256-GCM. */
	XF_CONFIG_SECURITY_NONE = 1, /**< Lab only: frames in clear, peers known by address. */
};

/** How file I/O runs (transfer.io); the values are enum xf_storage_io's. */
enum xf_config_io {
	XF_CONFIG_IO_AUTO = 0,   /**< Inline on tmpfs and ramfs, io_uring elsewhere. */
	XF_CONFIG_IO_URING = 1,  /**< Through each worker's io_uring. */
	XF_CONFIG_IO_INLINE = 2, /**< As system calls on the worker core. */
};

/** Durability policy of a volume (volumes[].fsync). */
enum xf_config_fsync {
	XF_CONFIG_FSYNC_NONE = 0,  /**< Never fsync (tests, scratch data). */
	XF_CONFIG_FSYNC_FILE = 1,  /**< fsync each file before its rename is acknowledged. */
	XF_CONFIG_FSYNC_BATCH = 2, /**< fsync every fsync_batch files. */
};

/** How a volume checks a received file (volumes[].verify). */
/** Attribute namespaces a volume keeps beyond user.* (volumes[].xattr_namespaces). */
enum xf_config_xattr_ns {
	XF_CONFIG_XATTR_SECURITY = 1, /**< security.*: SELinux labels, file capabilities */
	XF_CONFIG_XATTR_TRUSTED = 2,  /**< trusted.*: needs CAP_SYS_ADMIN to set */
};

enum xf_config_verify {
	XF_CONFIG_VERIFY_FAST = 0, /**< CRC-64 from what was written: a read-back only where
	                                data landed out of order or a basis changed. */
	XF_CONFIG_VERIFY_FULL = 1, /**< Every file read back for its CRC-64. */
};

/** How a volume applies a DELTA file's COPY ops (volumes[].delta_apply). */
enum xf_config_apply {
	XF_CONFIG_APPLY_AUTO = 0,       /**< Clone, else copy_file_range, else read and write. */
	XF_CONFIG_APPLY_READ_WRITE = 1, /**< Always read the basis and write the temp file. */
};

/** UDP checksums a port puts on the frames it sends (ports[].udp_checksum). */
enum xf_config_udp_csum {
	XF_CONFIG_UDP_CSUM_AUTO = 0, /**< Device offload, else software; none on net_memif. */
	XF_CONFIG_UDP_CSUM_ON = 1,   /**< Always (device offload, else software). */
	XF_CONFIG_UDP_CSUM_OFF = 2,  /**< Never: 0, "no checksum" (RFC 768). */
};

/** A static ARP entry (ports[].neighbors[]). */
struct xf_config_neighbor {
	uint32_t ipv4;  /**< Address, host byte order. */
	uint8_t mac[6]; /**< Ethernet address. */
};

/** The test-only fault stage on a port's transmit side (ports[].fault). */
struct xf_config_fault {
	uint32_t reorder_percent;    /**< Percentage of sent frames held back; 0 = off. */
	uint32_t seed;               /**< Seed of the deterministic generator. */
	uint32_t rate_mbit;          /**< Emulated link rate, Mbit/s; 0 = no limit. */
	uint32_t delay_ms;           /**< One-way delay, ms (needs rate_mbit). */
	uint32_t queue_bytes;        /**< Drop-tail queue (needs rate_mbit); 0 = one BDP. */
	uint32_t loss_ppm;           /**< Random loss, parts per million. */
	uint32_t burst_ppm;          /**< Chance per frame that a loss burst starts, ppm. */
	uint32_t burst_frames;       /**< Mean length of a burst, frames. */
	uint32_t burst_loss_percent; /**< Frames lost inside a burst, percent. */
};

/** One DPDK port (ports[]). */
struct xf_config_port {
	char name[XF_CONFIG_NAME_MAX];        /**< Identifier, unique among ports. */
	char device[XF_CONFIG_DEVICE_MAX];    /**< PCI address DDDD:BB:DD.F or vdev string net_*. */
	uint32_t ipv4;                        /**< Own address, host byte order. */
	uint32_t prefix_len;                  /**< Subnet prefix length, 1..32. */
	uint32_t mtu;                         /**< IP MTU, 576..9000. */
	uint32_t udp_port;                    /**< UDP port xferd listens on. */
	uint32_t rx_desc;                     /**< RX ring descriptors (power of two). */
	uint32_t tx_desc;                     /**< TX ring descriptors (power of two). */
	enum xf_config_udp_csum udp_checksum; /**< UDP checksums on transmit. */
	unsigned int n_neighbors;             /**< Entries used in neighbors[]. */
	struct xf_config_neighbor neighbors[XF_CONFIG_MAX_NEIGHBORS]; /**< Static ARP. */
	struct xf_config_fault fault;                                 /**< Fault stage. */
};

/** One storage volume (volumes[]). */
struct xf_config_volume {
	char name[XF_CONFIG_NAME_MAX];    /**< Identifier, unique among volumes. */
	char path[XF_CONFIG_PATH_MAX];    /**< Absolute path of an existing directory. */
	enum xf_config_fsync fsync;       /**< Durability policy. */
	uint32_t fsync_batch;             /**< Files per fsync batch (fsync: batch). */
	uint32_t max_file_gib;            /**< Largest file a peer may announce, GiB. */
	enum xf_config_verify verify;     /**< How received files are checked. */
	enum xf_config_apply delta_apply; /**< How COPY ops reach the temp file. */
	uint32_t sig_cache_mb;            /**< Signature cache of the volume, MiB; 0 = off. */
	bool keep_owner;                  /**< Keeps the owners and groups a push sends. */
	bool compress;                    /**< Asks pushes into it to compress (HELLO_ACK). */
	unsigned int n_xattr_namespaces;  /**< Entries used in xattr_namespaces[]. */
	int xattr_namespaces[2];          /**< enum xf_config_xattr_ns: kept beyond user.*. */
	uint32_t partial_max_files;       /**< Partial files kept, at most; 0 = none. */
	uint32_t partial_max_mb;          /**< Space the partial files take, at most, MiB. */
	unsigned int n_workers;           /**< Entries used in workers[]; 0 = every worker. */
	uint32_t workers[XF_CONFIG_MAX_WORKERS]; /**< Worker lcores that write it. */
	struct {
		uint32_t rename_hold_ms; /**< Test-only: first commit rename held; 0 = off. */
	} fault;                         /**< Test-only fault stage (volumes[].fault). */
};

/** One remote appliance (peers[]). */
struct xf_config_peer {
	char name[XF_CONFIG_NAME_MAX];          /**< Identifier, unique among peers. */
	uint32_t ipv4;                          /**< Address, host byte order. */
	uint32_t udp_port;                      /**< Its UDP port. */
	char port[XF_CONFIG_NAME_MAX];          /**< Name of the port that reaches it (resolved). */
	unsigned int port_index;                /**< Index of that port in ports[] (derived). */
	char public_key[XF_CONFIG_KEY_B64_MAX]; /**< X25519 public key, base64; "" = none. */
	bool allow_pull; /**< It may pull a directory beneath control.push_roots. */
};

/** The whole validated configuration. Immutable once loaded. */
struct xf_config {
	uint32_t version; /**< Always XF_CONFIG_VERSION. */
	struct {
		char name[XF_CONFIG_NAME_MAX]; /**< Appliance name. */
		enum xf_log_level log_level;   /**< Log threshold. */
	} appliance;
	struct {
		char file_prefix[XF_CONFIG_NAME_MAX]; /**< --file-prefix. */
		bool hugepages;                       /**< false: --no-huge. */
		uint32_t memory_mb;                   /**< -m. */
		bool pci;                             /**< false: --no-pci. */
		unsigned int n_extra_args;            /**< Entries used in extra_args[]. */
		char extra_args[XF_CONFIG_MAX_EXTRA_ARGS][XF_CONFIG_ARG_MAX]; /**< Appended. */
	} eal;
	struct {
		uint32_t main;                           /**< Control lcore. */
		unsigned int n_rx;                       /**< Entries used in rx[]. */
		uint32_t rx[XF_CONFIG_MAX_RX];           /**< RX lcores. */
		unsigned int n_workers;                  /**< Entries used in workers[]. */
		uint32_t workers[XF_CONFIG_MAX_WORKERS]; /**< Worker lcores. */
		unsigned int n_cpus;               /**< Entries used in cpus[]; 0 = lcore is cpu. */
		uint32_t cpus[XF_CONFIG_MAX_CPUS]; /**< CPUs all lcores float over. */
		enum xf_config_idle idle;          /**< Idle policy of polling cores. */
	} cores;
	unsigned int n_ports;                                   /**< Entries used in ports[]. */
	struct xf_config_port ports[XF_CONFIG_MAX_PORTS];       /**< DPDK ports. */
	unsigned int n_volumes;                                 /**< Entries used in volumes[]. */
	struct xf_config_volume volumes[XF_CONFIG_MAX_VOLUMES]; /**< Volumes. */
	unsigned int n_peers;                                   /**< Entries used in peers[]. */
	struct xf_config_peer peers[XF_CONFIG_MAX_PEERS];       /**< Peers (the allowlist). */
	struct {
		uint32_t window_files;             /**< Credits (files in flight) per session. */
		uint32_t window_max_frames;        /**< Most frames in flight per session: the
		                                        sent-frame table grows to 2 x the BDP up
		                                        to this (power of two). */
		uint32_t max_sessions;             /**< Concurrent sessions. */
		uint32_t max_sessions_per_peer;    /**< Concurrent sessions of one peer. */
		uint32_t max_jobs_per_peer;        /**< Push jobs to one peer running at once. */
		uint32_t rate_mbit;                /**< Ceiling of the pacing rate, 0 = none. */
		int congestion;                    /**< enum xf_config_congestion. */
		uint32_t timeout_ms;               /**< Idle session timeout. */
		uint32_t keepalive_ms;             /**< Keepalive interval (< timeout_ms). */
		char psk_file[XF_CONFIG_PATH_MAX]; /**< Pre-shared key file path, "" = none. */
		char private_key_file[XF_CONFIG_PATH_MAX]; /**< Private key file, "" = none. */
		enum xf_config_security security;          /**< aead (default) or none. */
		uint32_t rekey_after_ms;    /**< New handshake at this key age (push side). */
		uint32_t reject_after_ms;   /**< Keys this old are refused (> rekey_after_ms). */
		uint32_t key_update_frames; /**< Frames sealed per key before a key update. */
		uint32_t handshake_load;    /**< HELLOs (mac1 valid) per second: under load. */
	} session;
	struct {
		bool checksum;  /**< Quick check by whole-file checksum instead of size+mtime. */
		bool compress;  /**< Pushes compress DATA literals by default (--compress). */
		uint32_t lanes; /**< Sessions per push by default (--lanes), 1..16. */
		bool redo;      /**< Pushes announce XF_HELLO_F_REDO (a failed DELTA sent again). */
		enum xf_config_io io; /**< How file I/O runs. */
	} transfer;
	struct {
		char socket[XF_CONFIG_SOCKET_MAX];     /**< Control socket path. */
		char socket_group[XF_CONFIG_NAME_MAX]; /**< Group allowed to connect, "" = none. */
		unsigned int n_push_roots;             /**< Entries used in push_roots[]. */
		/** Directories pushes may read (a source must resolve beneath one); none: every
		 *  push is refused. */
		char push_roots[XF_CONFIG_MAX_PUSH_ROOTS][XF_CONFIG_PATH_MAX];
	} control;
	struct {
		/** Prometheus endpoint "IPV4:PORT" (xferd_metrics.c), "" = off. */
		char listen[XF_CONFIG_LISTEN_MAX];
	} metrics;
};

/** One configuration error with its position. */
struct xf_config_error {
	char file[XF_CONFIG_PATH_MAX];       /**< File name, or "--set" for an override. */
	unsigned int line;                   /**< 1-based line (the override's number for --set). */
	unsigned int col;                    /**< 1-based column. */
	char key[XF_CONFIG_ERR_KEY_MAX];     /**< Key path such as ports[0].mtu, "" if none. */
	char message[XF_CONFIG_ERR_MSG_MAX]; /**< What is wrong. */
	char source[XF_CONFIG_ERR_SOURCE_MAX]; /**< The source line (or override text). */
};

/** A list of errors collected by one load. */
struct xf_config_errors {
	struct xf_config_error *items; /**< count entries. */
	unsigned int count;            /**< Errors collected. */
	unsigned int cap;              /**< Allocated entries. */
};

/**
 * Parse a listening address "A.B.C.D:PORT" (dotted decimal without leading zeros, port
 * 1..65535), as metrics.listen takes it. @return 0, or -EINVAL.
 */
int xf_config_parse_listen(const char *s, uint32_t *addr, uint16_t *port);

/**
 * The fault stage a port's ports[].fault asks for, in the stage's units (bits/s, ns,
 * probabilities); reordering holds a frame for 8 frames; max_frame is the port's MTU plus
 * the Ethernet header.
 *
 * @param port  A port of a loaded configuration.
 * @param out   Filled.
 */
void xf_config_fault_conf(const struct xf_config_port *port, struct xf_fault_conf *out);

/**
 * Load, override and validate a configuration file.
 *
 * @param path   YAML file to read.
 * @param sets   Overrides "KEY.PATH=VALUE" (VALUE is a YAML scalar or flow value), may be
 *               NULL when nsets is 0. Applied in order to the parsed document.
 * @param nsets  Number of overrides.
 * @param out    On success, a newly allocated configuration (xf_config_free()).
 * @param errs   Where errors are printed (FILE:LINE:COL: error: KEY.PATH: message, the
 *               source line and a caret); may be NULL to discard them.
 * @return 0 on success; -EINVAL if the configuration is invalid (all errors printed);
 *         -ENOENT, -EACCES, -EISDIR, ... (-errno) if the file cannot be read;
 *         -EFBIG if the file is larger than 1 MiB; -ENOMEM on allocation failure.
 */
int xf_config_load(const char *path, const char *const *sets, unsigned int nsets,
                   struct xf_config **out, FILE *errs);

/**
 * As xf_config_load(), but collect the errors into a list instead of printing them.
 *
 * @param path   YAML file to read.
 * @param sets   Overrides, as for xf_config_load().
 * @param nsets  Number of overrides.
 * @param out    On success, a newly allocated configuration.
 * @param errs   Initialised (zeroed) list; errors are appended. Free with
 *               xf_config_errors_clear(). For I/O errors one entry is appended too.
 * @return 0, -EINVAL, or -errno as for xf_config_load().
 */
int xf_config_load_errors(const char *path, const char *const *sets, unsigned int nsets,
                          struct xf_config **out, struct xf_config_errors *errs);

/**
 * As xf_config_load_errors(), but read the YAML text from memory (fuzzing, tests,
 * configurations that do not come from a file).
 *
 * @param name   Name used as FILE in error positions.
 * @param text   YAML text; need not be NUL-terminated; NUL bytes inside are errors.
 * @param len    Bytes of text.
 * @param sets   Overrides, as for xf_config_load().
 * @param nsets  Number of overrides.
 * @param out    On success, a newly allocated configuration.
 * @param errs   Initialised list; errors are appended (xf_config_errors_clear()).
 * @return 0, -EINVAL (invalid: errors listed), -EFBIG (over 1 MiB), -ENOMEM.
 */
int xf_config_load_buffer(const char *name, const char *text, size_t len, const char *const *sets,
                          unsigned int nsets, struct xf_config **out,
                          struct xf_config_errors *errs);

/**
 * Free a configuration.
 *
 * @param cfg  Configuration from xf_config_load(), or NULL.
 */
void xf_config_free(struct xf_config *cfg);

/**
 * Free the entries of an error list and zero it.
 *
 * @param errs  List to clear.
 */
void xf_config_errors_clear(struct xf_config_errors *errs);

/**
 * Print errors as text: "FILE:LINE:COL: error: KEY.PATH: message", the source line and a
 * caret under the column ("--set:N:COL: error: ..." for overrides).
 *
 * @param errs  Errors.
 * @param f     Output stream.
 * @return 0, or -EIO if writing failed.
 */
int xf_config_errors_print_text(const struct xf_config_errors *errs, FILE *f);

/**
 * Print errors as a JSON array of {"file","line","col","key","message"} objects.
 *
 * @param errs  Errors.
 * @param f     Output stream.
 * @return 0, or -EIO if writing failed.
 */
int xf_config_errors_print_json(const struct xf_config_errors *errs, FILE *f);

/**
 * Print the effective configuration as YAML with every default filled in. The output
 * loads back into an equal configuration. Secrets are printed as their path only.
 *
 * @param cfg  Configuration.
 * @param f    Output stream.
 * @return 0, or -EIO if writing failed.
 */
int xf_config_dump(const struct xf_config *cfg, FILE *f);

/**
 * List the keys that differ between two configurations, one per line:
 * "KEY.PATH: OLD -> NEW (reloadable|restart)".
 *
 * @param old_cfg        Running configuration.
 * @param new_cfg        Candidate configuration.
 * @param out            Output stream, or NULL to only count.
 * @param needs_restart  Set to true if any changed key cannot be applied by a reload;
 *                       may be NULL.
 * @return The number of changed keys (0 if equal).
 */
int xf_config_diff(const struct xf_config *old_cfg, const struct xf_config *new_cfg, FILE *out,
                   bool *needs_restart);

/**
 * Build the rte_eal_init() argument vector: argv[0] "xferd", --file-prefix, -l or
 * --lcores (lcore@(cpus) when cores.cpus is set), --main-lcore, -m, --no-huge,
 * --no-pci, --vdev for each vdev port, -a for each PCI port, then eal.extra_args.
 * Each string is allocated; free them with xf_config_eal_args_free() using a copy of the
 * vector, since rte_eal_init() may permute argv.
 *
 * @param cfg   Configuration.
 * @param argv  Array of at least max entries; argv[argc] is set to NULL.
 * @param max   Capacity of argv including the terminating NULL.
 * @return argc (> 0), -E2BIG if max is too small, or -ENOMEM.
 */
int xf_config_eal_args(const struct xf_config *cfg, char **argv, int max);

/**
 * Free the strings of an argument vector built by xf_config_eal_args().
 *
 * @param argv  Vector.
 * @param argc  Number of strings in it.
 */
void xf_config_eal_args_free(char **argv, int argc);

/**
 * Print the key reference table of docs/CONFIG.md (Markdown), generated from the schema.
 *
 * @param f  Output stream.
 * @return 0, or -EIO if writing failed.
 */
int xf_config_schema_markdown(FILE *f);

#endif /* XF_CONFIG_H */
