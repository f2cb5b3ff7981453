/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receive pipeline in one process: R RX cores and W workers (docs/PIPELINE.md).
 *
 *   source -> RX core r (decode, session, enumeration, reorder) -> ring(r->w) -> worker w
 *   worker w (io_uring writes, CRC64, verify) -> ring(w->r) -> RX core r (commit order)
 *   RX core r -> ring(r->0) -> commit worker 0 (rename, mkdir, symlink, fsync) -> ring(0->r)
 *
 * Every ring is SP/SC with one owning core at each end. The poll functions are the
 * core loops' bodies; they return busy (1) or idle (0). The same loop functions run on
 * plain threads (xf_pipeline_run_threads) or on EAL lcores (rte_eal_remote_launch
 * with xf_pipeline_core_loop and the argument from xf_pipeline_core_arg).
 */
#ifndef XF_PIPELINE_H
#define XF_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xf_idmap.h"
#include "xf_storage.h"

struct xf_pipeline;
struct xf_ring;
struct xf_session;

#define XF_PIPELINE_MAX_RX      8u
#define XF_PIPELINE_MAX_WORKERS 16u

/** One received frame: a UDP payload, the buffer that holds it, and who sent it. */
struct xf_frame {
	const void *buf; /**< frame bytes */
	uint32_t len;    /**< bytes */
	uint32_t addr;   /**< sender's IPv4 address (as the session was opened with) */
	uint16_t port;   /**< sender's UDP port (as the session was opened with) */
	void *owner;     /**< released through the release callback when done */
};

/**
 * Frame source of an RX core (a NIC queue on the appliance, memory here). Called on
 * the RX core. @return frames written to out (0..max).
 */
typedef unsigned int (*xf_pipeline_source_fn)(void *arg, struct xf_frame *out, unsigned int max);

/** Release a frame buffer (rte_pktmbuf_free on the appliance). Any core may call it. */
typedef void (*xf_pipeline_release_fn)(void *arg, void *owner);

/** Transmit one frame of a session. Called on the session's RX core. */
typedef void (*xf_pipeline_tx_fn)(void *arg, const void *frame, unsigned int len);

/**
 * How many more frames the session's transmit path can take now (optional). SIG frames
 * (many per DELTA file) are sent only while it says there is room, leaving room for
 * DECISION, COMMIT and DONE; without it they are sent at once. On the RX core.
 */
typedef unsigned int (*xf_pipeline_tx_room_fn)(void *tx_arg);

/** Fault hook for tests: storage result res of op on file of session slot sid. */
typedef int32_t (*xf_pipeline_fault_fn)(void *arg, unsigned int sid, uint32_t file,
                                        enum xf_storage_op op, int32_t res);

/** Durability of commits. */
enum xf_fsync_policy {
	XF_FSYNC_NONE = 0,  /**< rename only; the OS writes back when it likes */
	XF_FSYNC_FILE = 1,  /**< fsync file, rename, fsync directory, then report: per file */
	XF_FSYNC_BATCH = 2, /**< the same for up to fsync_batch files at once */
};

/** Default of xf_pipeline_conf.max_file_size: 1 TiB. */
#define XF_PIPELINE_MAX_FILE_SIZE (1ull << 40)

/**
 * Default of xf_pipeline_conf.max_paths: the longest file list a session with --delete or
 * -H takes (its path sets' reservations, xf_pathset.h: address space only, 691 MiB per
 * session slot at this bound; resident as they fill, about 16.8 bytes a path each).
 */
#define XF_PIPELINE_MAX_PATHS (1u << 24)

/** The least bound xf_pipeline_create() lowers max_paths to where the address space is
 *  limited (it halves it until the reservations fit, and logs the bound taken). */
#define XF_PIPELINE_MIN_PATHS (1u << 16)

/** Default of xf_pipeline_conf.delta_cache_mb: eight 4 MiB files per worker. */
#define XF_PIPELINE_DELTA_CACHE_MB 32

struct xf_pipeline_conf {
	unsigned int n_rx;                        /**< RX cores, 1..XF_PIPELINE_MAX_RX */
	unsigned int n_workers;                   /**< workers, 1..XF_PIPELINE_MAX_WORKERS */
	unsigned int rx_core[XF_PIPELINE_MAX_RX]; /**< core id of each RX core */
	unsigned int worker_core[XF_PIPELINE_MAX_WORKERS]; /**< core id of each worker */
	int root_fd;                                       /**< volume root directory */
	uint32_t window;              /**< credits: files in flight per session */
	unsigned int max_sessions;    /**< session slots */
	enum xf_fsync_policy fsync;   /**< commit durability */
	unsigned int fsync_batch;     /**< files per batch (XF_FSYNC_BATCH) */
	unsigned int ring_size;       /**< RX -> worker ring elements (0: 4096) */
	unsigned int uring_depth;     /**< io_uring entries per worker (0: 512) */
	int io;                       /**< enum xf_storage_io of the workers (0: AUTO) */
	uint32_t test_rename_hold_ms; /**< tests: the commit worker's first rename completes
	                                   this late (xf_storage_set_hold); 0 = off */
	bool named_temps;       /**< tests: every temp file gets a name in the staging directory
	                             (default: a new file's is unnamed, O_TMPFILE, when it can be) */
	bool no_staged_dirs;    /**< tests and benchmarks: no staged directories (by default, a
	                             new directory is made under a staged name, its files are
	                             put in it, and it is renamed into place whole) */
	bool eager_temps;       /**< tests and benchmarks: every temp file is created at its
	                             decision (by default, a new file's is created at its first
	                             data when its worker opens inline: docs/PIPELINE.md,
	                             "Created at the first data") */
	int delta_cache_mb;     /**< basis kept from signatures to COPY, per worker, MiB, at most
	                             256 (0: XF_PIPELINE_DELTA_CACHE_MB, negative: none) */
	uint64_t max_file_size; /**< a larger announced size is refused (XF_ST_SIZE) before
	                             anything is written (0: XF_PIPELINE_MAX_FILE_SIZE) */
	bool keep_owner;        /**< the volume keeps owners and groups (volumes[].keep_owner):
	                             without it a session with XF_HELLO_F_OWNER sets none (the
	                             engine refuses such a HELLO first, docs/PROTOCOL.md 6.17) */
	unsigned int xattr_ns;  /**< attribute namespaces the volume keeps beyond user.* and the
	                             ACLs (XF_XATTR_NS_SECURITY, XF_XATTR_NS_TRUSTED:
	                             volumes[].xattr_namespaces, docs/PROTOCOL.md 6.20) */
	bool verify_full;       /**< every file is read back for its CRC-64 at FILE_END, even
	                             where it is known from what was written (docs/DELTA.md) */
	bool no_clone;          /**< COPY ops read and write even where the volume can clone
	                             or copy_file_range (tests, benchmarks) */
	uint32_t sig_cache_mb;  /**< the signature cache of the volume, MiB, shared out over its
	                             workers and kept in XF_STAGING_DIR (0: none; docs/DELTA.md) */
	uint32_t partial_max_files; /**< partial files kept for a resumed push, at most (0: none
	                                 kept; docs/PIPELINE.md, "Partial files") */
	uint64_t partial_max_bytes; /**< and the space they take, at most, bytes */
	uint32_t max_paths; /**< paths a session's --delete and -H sets hold, at most: a longer
	                         list aborts the session; also the file table's entries,
	                         for every session (0: XF_PIPELINE_MAX_PATHS; halved
	                         at creation while the reservations do not fit, down to
	                         XF_PIPELINE_MIN_PATHS) */
	xf_pipeline_source_fn source[XF_PIPELINE_MAX_RX]; /**< frame source per RX core */
	void *source_arg[XF_PIPELINE_MAX_RX];
	xf_pipeline_release_fn release; /**< frame buffer release */
	void *release_arg;
	bool stop_when_done; /**< stop the loops once every opened session is done */
	/** Name -> id lookup of owners and groups sent by name (XF_HELLO_F_OWNER_NAMES);
	 *  NULL: getpwnam_r, getgrnam_r. Tests inject their own. Called by workers only. */
	xf_idmap_byname_fn idmap_byname;
	/** idmap_byname's argument */
	void *idmap_arg;
};

/** Counters of one RX core: every field a uint64_t, written by that core only, and only
 *  growing (xf_pipeline_rx_stats_add() reads them while it runs). */
struct xf_pipeline_rx_stats {
	uint64_t frames;       /**< frames taken from the source */
	uint64_t bad_frames;   /**< failed to decode */
	uint64_t no_session;   /**< unknown session id */
	uint64_t proto_err;    /**< refused by the session (index beyond credit, conflicts) */
	uint64_t stalls;       /**< a frame waited for ring room */
	uint64_t data_dropped; /**< DATA for a file not expecting it (duplicates, late) */
	uint64_t dry_dropped;  /**< DATA, COPY, FILE_END of a dry run (a correct sender sends
	                        *   none) */
	uint64_t entries_dup;  /**< identical FLIST entries seen again */
	uint64_t
	        proto_aborts; /**< sessions aborted with ABORT(PROTOCOL) (or BUSY, out of memory) */
	uint64_t stale_done;  /**< worker completions of a closed or reused session, dropped */
	uint64_t links_refused;        /**< hard links refused (XF_ST_LINK, or a bad leader path):
	                                *   a leader not a regular file this session committed
	                                *   before it, or a session without XF_HELLO_F_HARDLINKS */
	uint64_t zip_refused;          /**< compressed DATA in a session that did not announce
	                                *   XF_HELLO_F_COMPRESS: dropped */
	uint64_t delete_rules_refused; /**< sessions whose HELLO's filter rules did not parse
	                                *   (XF_HELLO_F_FILTERS): they delete nothing */
	uint64_t delete_protected;     /**< entries deletions kept for the sender's filter rules
	                                *   (XF_HELLO_F_FILTERS), and directories holding one */
	uint64_t redo_stale;   /**< DATA, COPY or FILE_END of a file's first attempt that came
	                        *   after it was asked again whole (no XF_HDR_F_REDO): dropped */
	uint64_t redo_unasked; /**< DATA, COPY or FILE_END with XF_HDR_F_REDO for a file not
	                        *   asked again: dropped */
	uint64_t redo_no_room; /**< DELTA files not sent again whole because the ring to their
	                        *   worker was full at that moment: failed as without it */
	/** sessions aborted for their name tables: a table in a session without
	 *  XF_HELLO_F_OWNER_NAMES, or a second, different name for an id (6.21) */
	uint64_t names_refused;
	/** Entries refused with XF_ST_XATTR for their attribute set (docs/PROTOCOL.md 6.20),
	 *  one counter per enum xf_xattr_reason: malformed, CRC-64, a name (bounds, order,
	 *  namespace), a value over XF_XATTR_VALUE_MAX, more than XF_XATTR_COUNT_MAX, the set
	 *  over XF_XATTR_SET_MAX; and sets in FLIST entries of a session without them. */
	uint64_t xattr_malformed;
	uint64_t xattr_crc;
	uint64_t xattr_name;
	uint64_t xattr_value;
	uint64_t xattr_count;
	uint64_t xattr_total;
	/** Placeholder entries (XF_FLIST_F_GIVEUP): entries the sender gave up, too large for a
	 *  frame, refused XF_ST_TOOBIG (docs/PROTOCOL.md 6.23). */
	uint64_t entries_given_up;
	/** Sessions aborted (BUSY) because their --delete or -H path set reached its bound
	 *  (xf_pipeline_conf.max_paths) or could not split a leaf (xf_pathset.h). */
	uint64_t paths_over;
	/** Sessions aborted (BUSY) because their file table refused an entry: an index at or
	 *  above its bound (xf_pipeline_conf.max_paths) or every path chunk live
	 *  (xf_ftable.h). */
	uint64_t entries_over;
	/** Files whose one DATA frame carried their end (XF_HDR_F_END, docs/PROTOCOL.md 6.9):
	 *  taken as that DATA and its FILE_END. */
	uint64_t data_ends;
};

/**
 * Build the pipeline: rings, workers (one xf_storage each), the staging directory
 * XF_STAGING_TMP under the root (created, and emptied of a previous run's leftovers).
 * @return the pipeline, or NULL with errno set (EINVAL bad conf, ENOMEM, or the
 *         storage/staging error).
 */
struct xf_pipeline *xf_pipeline_create(const struct xf_pipeline_conf *conf);

/** Tear down (after the loops have returned). Closes what is still open. */
void xf_pipeline_destroy(struct xf_pipeline *p);

/**
 * Open a receive session on RX core rx. Call before the loops run, or on that RX core.
 * Frames reach it only if they carry its (addr, port, id): another peer that uses the
 * same id never reaches it.
 * @param addr        The peer's IPv4 address (struct xf_frame.addr of its frames).
 * @param port        The peer's UDP port (struct xf_frame.port of its frames).
 * @param id          Wire session id (nonzero).
 * @param max_payload Largest frame the peer accepts (DECISION and COMMIT frames).
 * @param flags       XF_HELLO_F_* (XF_HELLO_F_CHECKSUM: every existing regular file is
 *                    decided DELTA; the whole-file CRC64 then decides, docs/DELTA.md).
 * @return the session, or NULL with errno (EINVAL, EBUSY no free slot, ENOMEM).
 */
struct xf_session *xf_pipeline_session_open(struct xf_pipeline *p, unsigned int rx, uint32_t addr,
                                            uint16_t port, uint32_t id, uint16_t max_payload,
                                            uint32_t flags, xf_pipeline_tx_fn tx, void *tx_arg);

/**
 * The deletion of a session opened with XF_HELLO_F_DELETE (others: no-op), before its
 * first frame: once every file is committed, what the list lacks beneath dest is deleted,
 * at most max_delete entries (docs/PIPELINE.md, "Deletion"); DONE reports the outcome.
 * @param dest     The HELLO's destination (from the wire: checked here; one that fails
 *                 the path rules deletes nothing and reports XF_DEL_ERROR). Copied.
 * @param max_delete The HELLO's limit (XF_DELETE_UNLIMITED: none).
 */
void xf_pipeline_session_set_delete(struct xf_session *s, const char *dest, size_t dest_len,
                                    uint32_t max_delete);

/**
 * The filter rules of a session opened with XF_HELLO_F_DELETE and XF_HELLO_F_FILTERS
 * (others: no-op), after xf_pipeline_session_set_delete(): its deletion keeps every entry
 * they exclude, and the directories holding one, as rsync's does (docs/PIPELINE.md,
 * "Deletion"). rules is the HELLO's: "- PAT\n" lines, from the wire, parsed here; rules
 * that fail to parse delete nothing (XF_DEL_ERROR), logged and counted in
 * pipeline_delete_rules_refused. Compiled now, on the RX core at the session's open, as
 * the destination is copied (bounded by the HELLO: at most XF_PATH_MAX bytes).
 */
void xf_pipeline_session_set_protect(struct xf_session *s, const char *rules, size_t rules_len);

/** Install the transmit-room callback of a session (before its first frame). */
void xf_pipeline_session_set_tx_room(struct xf_session *s, xf_pipeline_tx_room_fn room);

/**
 * Abort a session (the peer sent ABORT, or it timed out). On its RX core. Frames for
 * it are ignored from now on; workers drop its files and remove their temp files;
 * files already verified are discarded, not committed, unless their commit was
 * already under way. The session counts as done once every worker has let go of it.
 * Nothing is sent on the wire (ABORT frames are the session layer's), except when the
 * pipeline aborts a session itself for a protocol violation: then it sends
 * ABORT(PROTOCOL) through the session's transmit callback.
 */
void xf_session_abort(struct xf_session *s);

/**
 * Close a done session and free its slot. On its RX core, or while the loops are
 * stopped. @return 0, or -EBUSY if the session is not done yet.
 */
int xf_pipeline_session_close(struct xf_pipeline *p, struct xf_session *s);

/** True once the session sent DONE (every file settled and reported) or its abort
 *  finished, and every worker has let go of it (its file table may go). */
bool xf_session_is_done(const struct xf_session *s);

/** Files committed (index < this are settled). */
uint32_t xf_session_committed(const struct xf_session *s);

/** What a session did so far (on its RX core): the list's length (UINT32_MAX until its
 *  LAST frame), entries settled, of them the ones that wrote something, and failed. */
struct xf_session_counts {
	uint32_t total, settled, changed, failed;
};
void xf_session_counts(const struct xf_session *s, struct xf_session_counts *out);

/** Poll RX core rx once (on that core). @return 1 busy, 0 idle. */
int xf_pipeline_rx_poll(struct xf_pipeline *p, unsigned int rx);

/** Poll worker w once (on that core). @return 1 busy, 0 idle. */
int xf_pipeline_worker_poll(struct xf_pipeline *p, unsigned int w);

/**
 * Core loop for role (0 RX, 1 worker) and index, until xf_pipeline_stop(): sets the
 * core identity, polls, backs off when idle (spin, then sleep briefly). Signature of
 * lcore_function_t, so rte_eal_remote_launch can run it.
 * @param arg From xf_pipeline_core_arg().
 * @return 0.
 */
int xf_pipeline_core_loop(void *arg);

/** The loop argument of RX core (role 0) or worker (role 1) number idx. */
void *xf_pipeline_core_arg(struct xf_pipeline *p, int role, unsigned int idx);

/** Run every core loop on its own thread and wait for them all (a stop asked for before
 *  the call is cleared: a stopped pipeline may run again). @return 0 or -errno. */
int xf_pipeline_run_threads(struct xf_pipeline *p);

/** Ask every loop to return (after finishing what is in flight). Any thread. */
void xf_pipeline_stop(struct xf_pipeline *p);

/** Install a fault hook on every worker's storage (tests). Before the loops run. */
void xf_pipeline_set_fault(struct xf_pipeline *p, xf_pipeline_fault_fn fn, void *arg);

/** Call fn for every ring of the pipeline (for stats; snapshots, any thread). */
typedef void (*xf_pipeline_ring_fn)(void *arg, const struct xf_ring *ring);
void xf_pipeline_rings(const struct xf_pipeline *p, xf_pipeline_ring_fn fn, void *arg);

/** Counters of RX core rx (read after the run, or on that core). */
const struct xf_pipeline_rx_stats *xf_pipeline_rx_stats(const struct xf_pipeline *p,
                                                        unsigned int rx);

/** The counters of struct xf_pipeline_rx_stats, as uint64_t words in field order. */
#define XF_PIPELINE_RX_STATS_N (sizeof(struct xf_pipeline_rx_stats) / sizeof(uint64_t))

/** The name of each (its field's name), for stats output: xf_pipeline_rx_stats_names[i]
 *  is that of word i, i < XF_PIPELINE_RX_STATS_N. */
extern const char *const xf_pipeline_rx_stats_names[];

/**
 * Add the counters of every RX core to out, while the loops run (any thread, no lock).
 * Each counter is one aligned 64-bit word that only its RX core writes and that only
 * grows, so a read is a whole value, at most slightly old, as for the engine's own
 * counters.
 * @param out Each counter gets the sum over the RX cores added (zero it first for the
 *            pipeline's own totals; add several pipelines for theirs).
 */
void xf_pipeline_rx_stats_add(const struct xf_pipeline *p, struct xf_pipeline_rx_stats *out);

/** Stage counters and spans (CLOCK_MONOTONIC ns, first and last event) for benchmarks. */
struct xf_pipeline_times {
	uint64_t stat_items;                /**< decisions made by the workers */
	uint64_t data_items;                /**< DATA frames written (COPY: items copied) */
	uint64_t data_bytes;                /**< bytes written */
	uint64_t files_done;                /**< files verified (size, CRC64) */
	uint64_t commits;                   /**< commit items executed on disk */
	uint64_t stat_first, stat_last;     /**< span of the decisions */
	uint64_t data_first, data_last;     /**< span of the writes and verifications */
	uint64_t commit_first, commit_last; /**< span of the commits */
	double busy_commit_s;               /**< commit worker time inside commit batches */
	uint64_t data_writes;  /**< write operations for DATA (one pwritev per run of frames) */
	uint64_t stat_nodir;   /**< quick checks answered by a parent just found missing */
	uint64_t stat_lookups; /**< parent directory lookups of the quick checks */
	uint64_t copy_kept;    /**< COPY bytes taken from a basis kept since its signatures */
	uint64_t full_storage; /**< preps that found every storage slot taken (none expected:
	                        *   every step checks for room first) */
	uint64_t slow_steps;   /**< mode or mtime calls that kept a worker for a second or more */
	uint64_t sig_leased;   /**< signature arrays from the workers' rings (xf_lease.h) */
	uint64_t sig_heap;     /**< signature arrays from the heap: a ring had no room */
	uint64_t modes_at_create; /**< files whose mode was set by creating them (no fchmod) */
	uint64_t owners_set;      /**< entries given the owner or group the list says (6.17) */
	uint64_t owners_failed;   /**< entries whose owner or group could not be set
	                               (XF_ST_ATTR: without CAP_CHOWN, EPERM) */
	uint64_t owners_unmapped; /**< owners and groups sent by name that no account has
	                               here: the sender's number was set instead (6.21) */
	uint64_t xattrs_set;      /**< entries given their attribute set, read back equal (6.20) */
	uint64_t xattrs_failed;   /**< entries whose set could not be set or read back equal
	                               (XF_ST_XATTR) */
	uint64_t xattrs_skipped;  /**< attributes left out: a namespace the volume does not keep */
	uint64_t tmp_leftovers;   /**< temp files found in the way, removed and created again */
	uint64_t unnamed_temps;   /**< new files written to an unnamed (O_TMPFILE) temp file */
	uint64_t lazy_creates;    /**< temp files created at their first data, not at their
	                               decision */
	uint64_t link_taken;      /**< of those, final path taken at commit: named, renamed over */
	uint64_t staged_dirs;     /**< staged directories put in place */
	uint64_t staged_files;    /**< files written in a staged directory at their names,
	                               committed by putting it in place */
	uint64_t staged_linked;   /**< files of other workers linked (or renamed) into a staged
	                               directory, committed with it */
	uint64_t staged_failed;   /**< staged directories that could not be put in place */
	uint64_t type_changes;    /**< entries put in place of one of another kind by an
	                               exchange (docs/PIPELINE.md, "Type changes") */
	uint64_t trees_replaced;  /**< of those, directories with entries, removed step by
	                               step after */
	uint64_t readback_bytes;  /**< bytes read back from temp files for their CRC (holes
	                               are not read) */
	uint64_t copy_cloned;     /**< COPY bytes cloned from the basis (FICLONERANGE) */
	uint64_t copy_ranged;     /**< COPY bytes copied by copy_file_range */
	uint64_t crc_combined;    /**< COPY bytes whose CRC-64 came from the basis's block
	                               CRCs (xf_csum_crc64_combine), not from their data */
	uint64_t basis_changed;   /**< files whose basis changed after its signatures: read
	                               back in full (or COPY ops not cloned) */
	uint64_t sc_notes_lost;   /**< committed files' keys lost to a full ring: their
	                               signature cache entries stay pending */
	uint64_t basis_dirty;     /**< DELTA files on a cloning volume whose basis was not
	                               written back yet: its writeback started at the
	                               signature pass, its COPY ops cloned after it */
	uint64_t basis_sync_done; /**< of those, writebacks started on the storage's ring
	                               (XF_SOP_SYNC_RANGE), off the worker's lcore: completed */
	uint64_t temp_presized;   /**< DELTA temp files given their announced size while
	                               empty, so that no COPY lands past their end */
	uint64_t clone_slow;      /**< FICLONERANGE calls that kept the worker 1 ms or more */
	/* Partial files (docs/PIPELINE.md, "Partial files"). */
	uint64_t partial_kept;      /**< temp files of failed or ended files kept as partials */
	uint64_t partial_used;      /**< files whose delta basis was their partial */
	uint64_t partial_saved;     /**< COPY bytes taken from a partial: not sent again */
	uint64_t partial_evicted;   /**< partials removed, oldest first, for the bounds */
	uint64_t partial_discarded; /**< at start: partials and tagged temps that could not prove
	                                 what they are for, or a smaller copy of one */
	uint64_t partial_recovered; /**< at start: tagged temp files of a killed run kept */
	uint64_t partial_stale;     /**< partials found for another version of their path's
	                                 source (size or mtime): removed, not used */
	uint64_t partial_untagged;  /**< large files whose temp file could not be tagged (no
	                                 user xattrs on the volume): not kept if they fail */
	uint64_t redone;            /**< files whose DELTA failed its CRC-64, decided WHOLE
	                                 again to be sent whole in the same session */
	/* The signature cache (xf_sigcache.h: the counters of the same names). */
	uint64_t sc_hits, sc_misses, sc_stale, sc_stored, sc_committed, sc_evicted, sc_too_big;
	uint64_t sc_loaded, sc_corrupt, sc_saved, sc_bytes, sc_capacity;
	/* Compressed DATA frames (XF_HELLO_F_COMPRESS), inflated on the workers. */
	uint64_t zip_frames;    /**< inflated and written */
	uint64_t zip_bytes_in;  /**< their bytes as they came (compressed) */
	uint64_t zip_bytes_out; /**< their bytes inflated (raw_len) */
	uint64_t zip_bad;       /**< refused: not one valid raw DEFLATE stream; its file fails */
	uint64_t zip_long;      /**< refused: inflates past raw_len; its file fails */
	uint64_t zip_short;     /**< refused: inflates to less than raw_len; its file fails */
};

/**
 * How COPY ops reach the temp files of this volume (probed at creation, in the staging
 * directory; XF_STORAGE_CLONE_NONE with conf.no_clone).
 * @return enum xf_storage_clone.
 */
int xf_pipeline_clone_mode(const struct xf_pipeline *p);

/** Sum of the workers' counters, and the widest spans (after the run). */
void xf_pipeline_times(const struct xf_pipeline *p, struct xf_pipeline_times *t);

#endif /* XF_PIPELINE_H */
